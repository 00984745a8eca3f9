// The rules of a case: who may do which step in which order, and what each change does.
// Reason codes are part of the contract (sync/PROTOCOL.md lists them); messages are for
// people, in Bahasa Indonesia.
#include <algorithm>
#include <functional>
#include <set>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/planted.h"
#include "alur/sync/case_state.h"
#include "alur/sync/json_parse.h"
#include "alur/sync/signing.h"
#include "alur/sync/templates.h"
#include "alur/sync/utf8.h"

namespace alur::sync {

using nlohmann::json;

namespace {

using TemplatePtr = std::shared_ptr<const Template>;

Verdict reject(std::string code, std::string message) {
  return {std::move(code), std::move(message)};
}

std::string role_label(const std::string& role, const std::optional<std::string>& bidang,
                       const Org& org) {
  return org.role_label(role, bidang);
}

bool step_done(const CaseState& c, int step) {
  bool any = false;
  for (const auto& t : c.tasks)
    if (t.step == step) {
      any = true;
      if (t.state != "done") return false;
    }
  return any;
}

// Marks pending tasks whose predecessor steps are all done as ready; closes the case when
// every task is done.
void recompute(CaseState& c, const Template& tpl, Millis now) {
  for (auto& t : c.tasks) {
    if (t.state != "pending") continue;
    const StepDef* s = tpl.step(t.step);
    bool ready = true;
    for (int p : s->after) ready = ready && step_done(c, p);
    if (ready) {
      t.state = "ready";
      t.ready_at = now;
    }
  }
  bool all_done = std::all_of(c.tasks.begin(), c.tasks.end(),
                              [](const TaskState& t) { return t.state == "done"; });
  c.state = all_done ? "completed" : "open";
}

// Steps that depend on `step`, transitively, and `step` itself.
std::set<int> descendants(const Template& tpl, int step) {
  std::set<int> out{step};
  std::function<void(int)> walk = [&](int s) {
    for (int n : tpl.successors(s))
      if (out.insert(n).second) walk(n);
  };
  walk(step);
  return out;
}

json parse_body(const Change& c) {
  if (c.body.size() > kMaxBodyBytes) throw Error("too_large", "Isi perubahan terlalu besar.");
  json j = parse_json(c.body);  // nlohmann::json::parse(c.body, nullptr, false), faster
  if (!j.is_object()) throw Error("bad_body", "Isi perubahan bukan objek JSON.");
  return j;
}

std::string str_field(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>();
}

// A record names what a change writes; its parts become keys of the case's JSON and appear
// on every screen and export. Valid UTF-8 (utf8.h) without control characters.
bool printable_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7F) return false;
      ++i;
      continue;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
    const std::size_t len = utf8_multibyte_length(p, s.size() - i);
    if (len == 0) return false;
    if (b == 0xC2 && p[1] < 0xA0) return false;  // C1 control characters
    i += len;
  }
  return true;
}

bool is_hex_sha(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char ch) {
           return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
         });
}

struct Ctx {
  StateAccess& state;
  const TemplateRegistry& templates;
  const Change& change;
  Millis now;
  const ApplyOptions& options;
  // Changes the server itself commits (org, templates, delegations, scheduled openings).
  bool from_server() const { return change.dot.replica == kServerReplica; }
};

// The time recorded for an action: the author's clock, bounded by the commit time — a
// change cannot have been made after the server committed it, so a PC whose clock runs
// days ahead cannot stamp its actions in the future. The commit time is part of the
// committed entry, so every replica records the same time (byte-identical state). A
// tentative change is applied with its own author time as commit time (no bound yet).
Millis author_time(const Ctx& x) { return std::min(HybridClock::to_ms(x.change.hlc), x.now); }

// A revision described in a body {"sha256","size","filename","media","parents"}.
Verdict read_revision(Ctx& x, const json& r, const CaseState& c, const std::string& draft, int step,
                      Revision& out) {
  if (!r.is_object()) return reject("bad_body", "Revisi draft tidak lengkap.");
  out.id = x.change.id();
  out.draft = draft;
  out.sha256 = str_field(r, "sha256");
  if (!is_hex_sha(out.sha256)) return reject("bad_body", "Hash isi revisi tidak valid.");
  out.size = r.value("size", std::uint64_t{0});
  out.filename = str_field(r, "filename");
  out.media = str_field(r, "media") == "text" ? "text" : "binary";
  out.by = x.change.author;
  out.at = author_time(x);
  out.step = step;
  if (r.contains("parents") && r["parents"].is_array())
    for (const auto& p : r["parents"]) {
      if (!p.is_string()) return reject("bad_body", "Induk revisi tidak valid.");
      out.parents.push_back(p.get<std::string>());
    }
  auto d = c.drafts.find(draft);
  for (const auto& p : out.parents)
    if (d == c.drafts.end() || !d->second.revisions.count(p))
      return reject("unknown_revision",
                    "Revisi induk " + p + " tidak dikenal pada draft " + draft + ".");
  if (x.options.check_blobs && !x.state.has_blob(out.sha256))
    return reject("blob_missing", "Berkas revisi belum diterima server; sinkronkan lagi.");
  return Verdict::accept();
}

// A case number goes into every record, file name and JSON document about the case: 1 to 64
// letters, digits, '.', '_' or '-' (clients and the scheduler make 16 hex digits). Any other
// byte, such as one that is not UTF-8, would make the case unprintable on every replica.
bool valid_case_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
  });
}

Verdict open_case(Ctx& x, const json& body) {
  std::string case_id = x.change.case_id();
  if (!valid_case_id(case_id))
    return reject("bad_body",
                  "Nomor kasus tidak valid: 1-64 huruf, angka, titik, garis bawah atau tanda "
                  "hubung.");
  std::string sop = str_field(body, "sop"), period = str_field(body, "period");
  int version = body.value("version", 0);
  TemplatePtr tpl = find_template(x.state, x.templates, sop, version);
  if (!tpl)
    return reject("unknown_sop",
                  "SOP " + sop + " versi " + std::to_string(version) + " tidak dikenal.");
  try {
    check_period(period);
  } catch (const Error& e) {
    return reject(e.code(), e.what());
  }
  const Org& org = x.state.org();
  // The server opens scheduled cases itself; an official needs an opener role, held or
  // delegated.
  bool may_open = x.from_server();
  for (const auto& r : tpl->openers)
    may_open = may_open || org.holds(x.change.author, r, std::nullopt) ||
               org.acting(x.change.author, r, std::nullopt, author_time(x), x.now);
  if (!may_open)
    return reject("wrong_role", "Anda (" + x.change.author + ") tidak berwenang membuka kasus " +
                                    tpl->title + ".");
  if (x.state.load_case(case_id)) return reject("case_exists", "Kasus " + case_id + " sudah ada.");
  if (auto other = x.state.case_for_period(sop, period))
    return reject("case_exists",
                  "Kasus " + tpl->case_title(period) + " sudah dibuka (" + *other + ").");

  CaseState c;
  c.id = case_id;
  c.sop = sop;
  c.version = version;
  c.period = period;
  c.title = tpl->case_title(period);
  c.opened_by = x.change.author;
  c.opened_at = author_time(x);
  for (const auto& s : tpl->steps) {
    if (s.per_bidang) {
      for (const auto& b : org.bidang) {
        TaskState t;
        t.key = std::to_string(s.no) + "." + b.code;
        t.step = s.no;
        t.bidang = b.code;
        t.role = s.actor;
        c.tasks.push_back(std::move(t));
      }
    } else {
      TaskState t;
      t.key = std::to_string(s.no);
      t.step = s.no;
      t.role = s.actor;
      c.tasks.push_back(std::move(t));
    }
  }
  recompute(c, *tpl, x.now);
  x.state.save_case(std::move(c));
  return Verdict::accept();
}

// Loads the case a change refers to, and its template.
Verdict unknown_case(const Ctx& x) {
  return reject("unknown_case", "Kasus " + x.change.case_id() + " tidak dikenal.");
}

Verdict template_of(Ctx& x, const CaseState& c, TemplatePtr& tpl) {
  tpl = find_template(x.state, x.templates, c.sop, c.version);
  if (!tpl) return reject("unknown_sop", "Templat SOP kasus ini tidak dikenal.");
  return Verdict::accept();
}

Verdict load(Ctx& x, CaseState& c, TemplatePtr& tpl) {
  auto loaded = x.state.load_case(x.change.case_id());
  if (!loaded) return unknown_case(x);
  c = std::move(*loaded);
  return template_of(x, c, tpl);
}

// A case taken for an edit (StateAccess::take_case: a batch lends its parsed case instead
// of copying it), handed back unchanged unless saved, so that a rejection or an exception
// leaves the state as it was. Only for rules that change the case after every check.
class TakenCase {
 public:
  explicit TakenCase(StateAccess& state) : state_(state) {}
  TakenCase(const TakenCase&) = delete;
  TakenCase& operator=(const TakenCase&) = delete;
  ~TakenCase() {
    if (case_) state_.return_case(std::move(*case_));
  }
  bool take(const std::string& id) {
    case_ = state_.take_case(id);
    return case_.has_value();
  }
  CaseState& operator*() { return *case_; }
  void save() {
    CaseState c = std::move(*case_);
    case_.reset();
    state_.save_case(std::move(c));
  }

 private:
  StateAccess& state_;
  std::optional<CaseState> case_;
};

Verdict take(Ctx& x, TakenCase& c, TemplatePtr& tpl) {
  if (!c.take(x.change.case_id())) return unknown_case(x);
  return template_of(x, *c, tpl);
}

std::string task_key_of(const Change& ch) {
  // "task/<case>/<key>" or "disp/<case>/<key>"
  auto a = ch.record.find('/');
  auto b = ch.record.find('/', a + 1);
  return b == std::string::npos ? std::string{} : ch.record.substr(b + 1);
}

// In which role, and whether as Plt./Plh., the author of a change acts on a task.
struct Authority {
  std::string role;
  std::string acting;  // "" | "plt" | "plh"
};

// The roles that may do a task: every actor of its step.
std::vector<std::string> task_roles(const Template& tpl, const TaskState& t) {
  const StepDef* s = tpl.step(t.step);
  return s && !s->actors.empty() ? s->actors : std::vector<std::string>{t.role};
}

// The author holds one of the task's roles (for its bidang), or acts in one through a
// delegation that covers the action: done while it lasted (the author's time, bounded by
// the commit time) and committed no later than kDelegationSyncGrace after it ended.
Verdict authorize(Ctx& x, const Template& tpl, const TaskState& t, Authority& out) {
  const Org& org = x.state.org();
  const auto roles = task_roles(tpl, t);
  for (const auto& r : roles)
    if (org.holds(x.change.author, r, t.bidang)) {
      out = {r, ""};
      return Verdict::accept();
    }
  Millis done = author_time(x);
  for (const auto& r : roles)
    if (const Delegation* d = org.acting(x.change.author, r, t.bidang, done, x.now)) {
      out = {r, d->kind};
      return Verdict::accept();
    }
  if (planted::on(planted::Defect::kRoleUnchecked)) {
    out = {t.role, ""};
    return Verdict::accept();
  }
  // A delegation that had begun: say plainly that it is over.
  for (const auto& d : org.delegations)
    if (d.username == x.change.author && done >= d.start_ms() &&
        std::find(roles.begin(), roles.end(), d.role) != roles.end() &&
        (!t.bidang || d.bidang == t.bidang))
      return reject(
          "delegation_ended",
          "Masa " + acting_prefix(d.kind) + " " + org.role_label(d.role, d.bidang) + " Anda (" +
              x.change.author + ") berakhir " + format_date_wib(d.end_ms() - 1) +
              (done < d.end_ms()
                   ? "; tindakan ini baru sampai di server lebih dari " +
                         std::to_string(kDelegationSyncGrace / 86'400'000) + " hari sesudahnya."
                   : "; tindakan ini dilakukan sesudahnya."));
  return reject("wrong_role", "Anda (" + x.change.author + ") tidak memegang peran " +
                                  role_label(t.role, t.bidang, org) + " untuk langkah " +
                                  std::to_string(t.step) + ".");
}

// The role label a record prints: "Kepala Dinas", "Plt. Kepala Dinas".
std::string acting_label(const Org& org, const Authority& a,
                         const std::optional<std::string>& bidang) {
  std::string label = org.role_label(a.role, bidang);
  return a.acting.empty() ? label : acting_prefix(a.acting) + " " + label;
}

// Checks that the author may act on task t now: role (held or delegated), round, state.
Verdict check_task(Ctx& x, const CaseState& c, const Template& tpl, const TaskState* t, int round,
                   Authority& who) {
  if (c.state != "open") return reject("case_closed", "Kasus " + c.title + " sudah selesai.");
  if (!t) return reject("unknown_task", "Tugas tidak dikenal pada kasus ini.");
  if (auto v = authorize(x, tpl, *t, who); !v.ok()) return v;
  if (round != t->round)
    return reject(
        "stale_round",
        "Langkah " + std::to_string(t->step) +
            " telah dikembalikan untuk diperbaiki sebelum tindakan ini diterima; lakukan lagi.");
  if (t->state == "done")
    return reject("already_done",
                  "Langkah " + std::to_string(t->step) + " sudah diselesaikan oleh " + t->by + ".");
  if (t->state != "ready" && !planted::on(planted::Defect::kPredecessorsUnchecked))
    return reject("not_ready", "Langkah " + std::to_string(t->step) +
                                   " belum dapat dikerjakan: langkah sebelumnya belum selesai.");
  return Verdict::accept();
}

// Loads the case and the task a change names, and checks that its author may act on it now.
Verdict load_actionable_task(Ctx& x, const json& body, CaseState& c, TemplatePtr& tpl,
                             TaskState*& t, Authority& who) {
  if (auto v = load(x, c, tpl); !v.ok()) return v;
  t = c.task(task_key_of(x.change));
  return check_task(x, c, *tpl, t, body.value("round", -1), who);
}

// Sends case c back to step `to` from task `from`: every task of `to` and of the steps that
// follow it goes back to pending in a new round.
void send_back(Ctx& x, CaseState& c, const Template& tpl, const std::string& from, int to,
               const std::string& reason, const Authority& who, const std::string& outcome) {
  std::set<int> redo = descendants(tpl, to);
  for (auto& task : c.tasks) {
    if (!redo.count(task.step)) continue;
    // Every task to redo starts a new round, so a completion written before the return
    // (whatever state its author saw) is rejected as stale_round instead of slipping in.
    ++task.round;
    task.state = "pending";
    task.ready_at = 0;
    task.by.clear();
    task.at = 0;
    task.change.clear();
    task.text.clear();
    task.revision.clear();
    task.acting.clear();
    task.acted_as.clear();
    task.outcome.clear();
  }
  for (auto& a : c.approvals)
    if (redo.count(a.step)) a.superseded = true;
  c.returns.push_back(
      {from, to, reason, x.change.author, author_time(x), x.change.id(), who.acting, outcome});
  recompute(c, tpl, x.now);
}

// A paraf or signature binds the one head revision of the step's draft, by id and hash.
Verdict check_binding(const CaseState& c, const StepDef& step, const json& body,
                      std::string& bound_revision) {
  bound_revision = str_field(body, "bind_revision");
  std::string sha = str_field(body, "bind_sha256");
  auto d = c.drafts.find(step.draft);
  if (d == c.drafts.end() || !d->second.revisions.count(bound_revision))
    return reject("unknown_revision", "Revisi yang diparaf/ditandatangani tidak dikenal.");
  auto heads = d->second.heads();
  if (heads.size() != 1 || heads[0] != bound_revision)
    return reject("stale_revision",
                  heads.size() > 1
                      ? "Draft " + step.draft +
                            " memiliki beberapa versi terakhir; gabungkan dulu sebelum " +
                            (step.kind == "sign" ? "menandatangani." : "memaraf.")
                      : "Revisi " + bound_revision + " bukan lagi versi terakhir draft " +
                            step.draft + "; periksa versi terbaru lalu ulangi.");
  if (d->second.revisions.at(bound_revision).sha256 != sha)
    return reject("stale_revision", "Hash isi revisi tidak cocok dengan revisi yang diparaf.");
  return Verdict::accept();
}

// The statement the author of a paraf/signature change signs (signing.h). The time is the
// author's HLC time itself, which the change carries, so the statement is rebuilt exactly.
std::string approval_statement(Ctx& x, const CaseState& c, const TaskState& t,
                               const StepDef& step, const Authority& who,
                               const std::string& bound_revision) {
  const Org& org = x.state.org();
  const Person* p = org.find(x.change.author);
  SigningFacts f;
  f.kind = step.kind == "sign" ? "tanda_tangan" : "paraf";
  f.username = x.change.author;
  f.name = p ? p->name : x.change.author;
  f.role = acting_label(org, who, t.bidang);
  f.case_id = c.id;
  f.case_title = c.title;
  f.task = task_id(c.id, t.key);
  f.step = step.no;
  f.step_title = step.title;
  f.draft = step.draft;
  f.revision = bound_revision;
  f.sha256 = c.drafts.at(step.draft).revisions.at(bound_revision).sha256;
  f.at = HybridClock::to_ms(x.change.hlc);
  f.change = x.change.id();
  return signing_statement(f);
}

// The body's "signature" must be the author's Ed25519 signature of the statement with a key
// the author published (key.add); every key ever recorded for them counts.
Verdict check_signature(Ctx& x, const json& body, const std::string& statement) {
  const std::string key = str_field(body, "public_key");
  const std::string sig = str_field(body, "signature");
  if (key.empty() || sig.empty())
    return reject("bad_signature", "Paraf/tanda tangan ini tidak membawa tanda tangan pribadi.");
  if (!x.state.org().find_key(x.change.author, key))
    return reject("bad_signature", "Kunci tanda tangan ini tidak tercatat atas nama " +
                                       x.change.author + ".");
  if (!verify_b64(key, statement, sig))
    return reject("bad_signature",
                  "Tanda tangan pribadi tidak cocok dengan pernyataan yang ditandatangani.");
  return Verdict::accept();
}

Verdict complete_task(Ctx& x, const json& body) {
  CaseState c;
  TemplatePtr tpl;
  TaskState* t = nullptr;
  Authority who;
  if (auto v = load_actionable_task(x, body, c, tpl, t, who); !v.ok()) return v;
  const std::string key = t->key;
  const StepDef* step = tpl->step(t->step);
  const std::string text = str_field(body, "text");
  if (text.size() > kMaxTextBytes)
    return reject("too_large", "Teks terlalu panjang (maks. 64 KiB).");
  const Org& org = x.state.org();

  // The kind's action.
  const std::string& kind = step->kind;
  std::optional<Revision> rev;
  if (body.contains("revision")) {
    if (step->draft.empty()) return reject("bad_action", "Langkah ini tidak menghasilkan draft.");
    if (kind == "initial" || kind == "sign" || kind == "disposition")
      return reject("bad_action", "Langkah " + kind + " tidak menulis revisi draft.");
    Revision r;
    if (auto v = read_revision(x, body["revision"], c, step->draft, step->no, r); !v.ok()) return v;
    rev = std::move(r);
  }
  if ((kind == "disposition" || kind == "meeting" || kind == "correct") && text.empty())
    return reject("bad_action", kind == "meeting"   ? "Notulen rapat wajib diisi."
                                : kind == "correct" ? "Isi koreksi wajib diisi."
                                                    : "Isi disposisi wajib diisi.");
  if ((kind == "draft" || kind == "prepare") && !rev && text.empty())
    return reject("bad_action", "Langkah ini memerlukan berkas atau teks draft.");
  if (kind == "draft" && !rev) return reject("bad_action", "Langkah ini memerlukan berkas draft.");

  const DecisionOutcome* outcome = nullptr;
  if (kind == "decision") {
    outcome = step->outcome(str_field(body, "outcome"));
    if (!outcome) {
      std::string codes;
      for (const auto& o : step->outcomes) codes += (codes.empty() ? "" : ", ") + o.code;
      return reject("bad_action", "Pilih keputusan langkah ini: " + codes + ".");
    }
    if (outcome->return_to && text.empty())
      return reject("bad_action", "Alasan keputusan \"" + outcome->label + "\" wajib diisi.");
    if (outcome->return_to) {
      // The decision returns the case: like case.return from this task.
      send_back(x, c, *tpl, key, *outcome->return_to, text, who, outcome->code);
      x.state.save_case(std::move(c));
      return Verdict::accept();
    }
  } else if (body.contains("outcome")) {
    return reject("bad_action", "Langkah ini bukan langkah keputusan.");
  }

  std::string correction_on;
  if (kind == "correct") {
    correction_on = str_field(body, "on_revision");
    auto d = c.drafts.find(step->draft);
    if (d == c.drafts.end() || !d->second.revisions.count(correction_on))
      return reject("unknown_revision",
                    "Koreksi harus menunjuk revisi draft " + step->draft + " yang ada.");
  }

  std::string bound_revision;
  std::string statement;
  if (kind == "initial" || kind == "sign") {
    if (auto v = check_binding(c, *step, body, bound_revision); !v.ok()) return v;
    statement = approval_statement(x, c, *t, *step, who, bound_revision);
    if (auto v = check_signature(x, body, statement); !v.ok()) return v;
  }

  // Effects.
  Millis at = author_time(x);
  if (rev) {
    auto& d = c.drafts[step->draft];
    d.name = step->draft;
    d.revisions[rev->id] = *rev;
  }
  if (kind == "disposition") {
    auto& disp = c.dispositions[key];
    disp.task = key;
    // Decided by the server: the new instruction (a redo after a return) replaces the old.
    VersionVector seen = disp.value.vv();
    disp.value.apply(x.change.dot, seen, {text, x.change.author, at});
  }
  if (kind == "correct") {
    Correction corr;
    corr.id = x.change.id();
    corr.draft = step->draft;
    corr.revision = correction_on;
    corr.text = text;
    corr.by = x.change.author;
    corr.at = at;
    c.corrections[corr.id] = std::move(corr);
  }
  if (kind == "initial" || kind == "sign") {
    c.approvals.push_back(
        {kind == "sign" ? "tanda_tangan" : "paraf", key, step->no, step->draft, bound_revision,
         c.drafts[step->draft].revisions.at(bound_revision).sha256, x.change.author,
         acting_label(org, who, t->bidang), at, x.change.id(), false, who.acting, statement,
         str_field(body, "public_key"), str_field(body, "signature")});
  }
  t->state = "done";
  t->by = x.change.author;
  t->at = at;
  t->change = x.change.id();
  t->text = text;
  t->revision = rev ? rev->id : bound_revision;
  t->acting = who.acting;
  t->acted_as = step->actors.size() > 1 ? who.role : "";
  t->outcome = outcome ? outcome->code : "";
  recompute(c, *tpl, x.now);
  x.state.save_case(std::move(c));
  return Verdict::accept();
}

// key.add: record "key/<author>/<key id>", body {"public_key","proof"}: a person publishes
// a personal signing key; the proof is the key's own signature of key_proof_message, so a
// key is recorded only for the user it names, by that user (the server checks that the
// author is the session's user). Keys are never removed: old signatures stay verifiable.
Verdict add_key(Ctx& x, const json& body) {
  const std::string key = str_field(body, "public_key");
  std::string raw;
  try {
    raw = crypto::base64_decode(key);
  } catch (const Error&) {
  }
  if (raw.size() != 32) return reject("bad_body", "Kunci publik bukan kunci Ed25519.");
  if (x.change.record != "key/" + x.change.author + "/" + personal_key_id(key))
    return reject("bad_body", "Rekaman kunci harus key/" + x.change.author + "/" +
                                  personal_key_id(key) + ".");
  if (!verify_b64(key, key_proof_message(x.change.author, key), str_field(body, "proof")))
    return reject("bad_signature", "Bukti kepemilikan kunci tidak sah.");
  Org org = x.state.org();
  if (org.find_key(x.change.author, key))
    return reject("key_exists", "Kunci ini sudah tercatat atas nama " + x.change.author + ".");
  org.keys.push_back({x.change.author, key, author_time(x), x.change.id()});
  x.state.set_org(org);
  return Verdict::accept();
}

Verdict return_case(Ctx& x, const json& body) {
  CaseState c;
  TemplatePtr tpl;
  TaskState* t = nullptr;
  Authority who;
  if (auto v = load_actionable_task(x, body, c, tpl, t, who); !v.ok()) return v;
  const std::string key = t->key;
  int to = body.value("to_step", 0);
  std::string reason = str_field(body, "reason");
  if (reason.empty()) return reject("bad_action", "Alasan pengembalian wajib diisi.");
  if (reason.size() > kMaxTextBytes) return reject("too_large", "Alasan terlalu panjang.");
  if (!tpl->step(to) || to >= t->step || !descendants(*tpl, to).count(t->step))
    return reject("bad_return",
                  "Langkah " + std::to_string(t->step) +
                      " hanya dapat dikembalikan ke langkah sebelumnya yang mendahuluinya.");
  send_back(x, c, *tpl, key, to, reason, who, "");
  x.state.save_case(std::move(c));
  return Verdict::accept();
}

// The author acts in some step of the SOP: holds one of its roles, or is delegated one for
// the time of the change.
bool acts_in(const Ctx& x, const Template& tpl) {
  const Org& org = x.state.org();
  for (const auto& s : tpl.steps)
    for (const auto& r : s.actors)
      if (org.holds(x.change.author, r, std::nullopt) ||
          org.acting(x.change.author, r, std::nullopt, author_time(x), x.now))
        return true;
  return false;
}

Verdict set_disposition(Ctx& x, const json& body) {
  CaseState c;
  TemplatePtr tpl;
  if (auto v = load(x, c, tpl); !v.ok()) return v;
  std::string key = task_key_of(x.change);
  auto it = c.dispositions.find(key);
  const TaskState* t = c.task(key);
  if (it == c.dispositions.end() || !t) return reject("unknown_record", "Disposisi tidak dikenal.");
  Authority who;
  if (!authorize(x, *tpl, *t, who).ok())
    return reject("wrong_role", "Hanya pemegang peran " +
                                    role_label(t->role, t->bidang, x.state.org()) +
                                    " yang dapat mengubah disposisi ini.");
  std::string text = str_field(body, "text");
  if (text.empty()) return reject("bad_action", "Isi disposisi wajib diisi.");
  if (text.size() > kMaxTextBytes)
    return reject("too_large", "Teks terlalu panjang (maks. 64 KiB).");
  it->second.value.apply(x.change.dot, x.change.context, {text, x.change.author, author_time(x)});
  x.state.save_case(std::move(c));
  return Verdict::accept();
}

Verdict revise_draft(Ctx& x, const json& body) {
  TakenCase taken(x.state);  // every check below comes before the one edit at the end
  TemplatePtr tpl;
  if (auto v = take(x, taken, tpl); !v.ok()) return v;
  CaseState& c = *taken;
  if (c.state != "open") return reject("case_closed", "Kasus " + c.title + " sudah selesai.");
  if (!acts_in(x, *tpl))
    return reject("wrong_role", "Anda (" + x.change.author + ") tidak berperan dalam SOP ini.");
  std::string draft = task_key_of(x.change);  // "draft/<case>/<name>"
  if (draft.empty() || draft.size() > 64) return reject("bad_body", "Nama draft tidak valid.");
  Revision r;
  if (auto v = read_revision(x, body, c, draft, 0, r); !v.ok()) return v;
  auto& d = c.drafts[draft];
  d.name = draft;
  d.revisions[r.id] = std::move(r);
  taken.save();
  return Verdict::accept();
}

Verdict add_correction(Ctx& x, const json& body) {
  TakenCase taken(x.state);  // every check below comes before the one edit at the end
  TemplatePtr tpl;
  if (auto v = take(x, taken, tpl); !v.ok()) return v;
  CaseState& c = *taken;
  if (!acts_in(x, *tpl))
    return reject("wrong_role", "Anda (" + x.change.author + ") tidak berperan dalam SOP ini.");
  std::string id = task_key_of(x.change);
  if (id != x.change.id())
    return reject("bad_body", "Nomor koreksi harus sama dengan nomor perubahan.");
  Correction corr;
  corr.id = id;
  corr.draft = str_field(body, "draft");
  corr.revision = str_field(body, "revision");
  corr.text = str_field(body, "text");
  corr.by = x.change.author;
  corr.at = author_time(x);
  auto d = c.drafts.find(corr.draft);
  if (d == c.drafts.end() || !d->second.revisions.count(corr.revision))
    return reject("unknown_revision", "Koreksi harus menunjuk revisi draft yang ada.");
  if (corr.text.empty()) return reject("bad_action", "Isi koreksi wajib diisi.");
  if (corr.text.size() > kMaxTextBytes)
    return reject("too_large", "Teks terlalu panjang (maks. 64 KiB).");
  c.corrections[id] = std::move(corr);
  taken.save();
  return Verdict::accept();
}

Verdict set_correction_status(Ctx& x, const json& body) {
  TakenCase taken(x.state);  // every check below comes before the one edit at the end
  TemplatePtr tpl;
  if (auto v = take(x, taken, tpl); !v.ok()) return v;
  CaseState& c = *taken;
  if (!acts_in(x, *tpl))
    return reject("wrong_role", "Anda (" + x.change.author + ") tidak berperan dalam SOP ini.");
  auto it = c.corrections.find(task_key_of(x.change));
  if (it == c.corrections.end()) return reject("unknown_record", "Koreksi tidak dikenal.");
  std::string status = str_field(body, "status");
  if (status != "resolved" && status != "reopened")
    return reject("bad_body", "Status koreksi harus resolved atau reopened.");
  it->second.status.apply(x.change.dot, x.change.context,
                          {status, x.change.author, author_time(x)});
  taken.save();
  return Verdict::accept();
}

// sop.set: the server imports a template version; record "sop/<code>/<version>", body the
// template's JSON text. A version never changes once known.
Verdict set_template(Ctx& x) {
  Template t;
  try {
    t = parse_template(x.change.body);
  } catch (const Error& e) {
    return reject("bad_body", e.what());
  }
  if (x.change.record != "sop/" + t.sop + "/" + std::to_string(t.version))
    return reject("bad_body",
                  "Rekaman templat harus sop/" + t.sop + "/" + std::to_string(t.version) + ".");
  if (x.templates.find(t.sop, t.version))
    return reject("template_exists", "SOP " + t.sop + " versi " + std::to_string(t.version) +
                                         " sudah ada di aplikasi; impor sebagai versi baru.");
  auto imported = x.state.imported_templates();
  if (auto it = imported.find({t.sop, t.version});
      it != imported.end() && it->second != x.change.body)
    return reject("template_exists", "SOP " + t.sop + " versi " + std::to_string(t.version) +
                                         " sudah diimpor dengan isi lain; impor sebagai versi "
                                         "baru (versi yang berjalan tidak boleh berubah).");
  x.state.put_template(t.sop, t.version, x.change.body);
  return Verdict::accept();
}

// delegation.set: record "delegation/<id>"; body a Delegation (shared/org.h) without
// ended_at. Replaces a delegation of the same id.
Verdict set_delegation(Ctx& x) {
  json body = parse_body(x.change);
  Delegation d = delegation_from_json(body);
  d.ended_at = 0;
  const Org& current = x.state.org();
  if (d.id.empty() || x.change.record != "delegation/" + d.id)
    return reject("bad_body", "Rekaman Plt./Plh. harus delegation/<id>.");
  const Person* p = current.find(d.username);
  if (!p || !p->active)
    return reject("unknown_user", "Pengguna " + d.username + " tidak terdaftar atau tidak aktif.");
  if (!is_known_role(d.role)) return reject("bad_body", "Peran tidak dikenal: " + d.role + ".");
  if (is_bidang_role(d.role) != d.bidang.has_value() ||
      (d.bidang && !current.find_bidang(*d.bidang)))
    return reject("bad_body", is_bidang_role(d.role)
                                  ? "Peran " + d.role + " harus menyebut bidang yang ada."
                                  : "Peran " + d.role + " tidak per bidang.");
  if (d.kind != "plt" && d.kind != "plh") return reject("bad_body", "Jenis harus plt atau plh.");
  try {
    if (wib_day_start(d.from) > wib_day_start(d.until))
      return reject("bad_body", "Tanggal mulai sesudah tanggal selesai.");
  } catch (const Error& e) {
    return reject("bad_body", e.what());
  }
  Org org = current;
  auto it = std::find_if(org.delegations.begin(), org.delegations.end(),
                         [&](const Delegation& o) { return o.id == d.id; });
  if (it == org.delegations.end())
    org.delegations.push_back(std::move(d));
  else
    *it = std::move(d);
  x.state.set_org(org);
  return Verdict::accept();
}

// delegation.end: record "delegation/<id>"; ends the delegation at the commit time.
Verdict end_delegation(Ctx& x) {
  std::string id = x.change.record.rfind("delegation/", 0) == 0 ? x.change.record.substr(11) : "";
  Org org = x.state.org();
  auto it = std::find_if(org.delegations.begin(), org.delegations.end(),
                         [&](const Delegation& o) { return o.id == id; });
  if (it == org.delegations.end())
    return reject("unknown_record", "Plt./Plh. " + id + " tidak dikenal.");
  if (it->end_ms() <= x.now) return reject("bad_action", "Plt./Plh. " + id + " sudah berakhir.");
  it->ended_at = x.now;
  x.state.set_org(org);
  return Verdict::accept();
}

// calendar.set: a year's working-day calendar, from the server only. The body is parsed
// and validated the same way on every replica and stored in canonical form, so every
// replica counts working days with the same list.
Verdict set_calendar(StateAccess& state, const Change& change) {
  if (change.dot.replica != kServerReplica)
    return reject("forbidden_op", "Hanya server yang dapat mengubah kalender hari kerja.");
  CalendarYear cal;
  try {
    cal = parse_calendar(change.body);
  } catch (const Error& e) {
    return reject("bad_body", e.what());
  }
  if (change.record != "calendar/" + std::to_string(cal.year))
    return reject("bad_body", "Record " + change.record + " tidak sesuai dengan tahun kalender " +
                                  std::to_string(cal.year) + ".");
  state.set_calendar(cal.year, calendar_to_json(cal).dump());
  return Verdict::accept();
}

}  // namespace

std::string statement_to_sign(StateAccess& state, const TemplateRegistry& templates,
                              const Change& change) {
  const ApplyOptions options{.check_blobs = false};
  Ctx x{state, templates, change, HybridClock::to_ms(change.hlc), options};
  json body = parse_body(change);
  CaseState c;
  TemplatePtr tpl;
  TaskState* t = nullptr;
  Authority who;
  std::string bound;
  try {
    Verdict v = load_actionable_task(x, body, c, tpl, t, who);
    const StepDef* step = v.ok() ? tpl->step(t->step) : nullptr;
    if (v.ok() && step->kind != "initial" && step->kind != "sign")
      v = reject("bad_action", "Langkah ini bukan paraf atau tanda tangan.");
    if (v.ok()) v = check_binding(c, *step, body, bound);
    if (!v.ok()) throw Error(v.code, v.message);
    return approval_statement(x, c, *t, *step, who, bound);
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong type, as apply_change
    throw Error("bad_body", std::string("Isi perubahan tidak valid: ") + e.what());
  }
}

Verdict apply_change(StateAccess& state, const TemplateRegistry& templates, const Change& change,
                     Millis commit_time, const ApplyOptions& options) {
  Ctx x{state, templates, change, commit_time, options};
  if (!printable_utf8(change.record))
    return reject("bad_body", "Nama record tidak valid: harus teks UTF-8 tanpa karakter kendali.");
  if (change.op == op::kOrgSet) {
    if (change.dot.replica != kServerReplica)
      return reject("forbidden_op", "Hanya server yang dapat mengubah data organisasi.");
    Org org;
    try {
      json j = json::parse(change.body);
      from_json(j, org);
      // An org import names people and roles; the delegations in force stay.
      if (!j.contains("delegations")) org.delegations = state.org().delegations;
      org.keys = state.org().keys;  // keys come only from their owners' key.add
    } catch (const std::exception& e) {
      return reject("bad_body", std::string("Data organisasi tidak valid: ") + e.what());
    }
    state.set_org(org);
    return Verdict::accept();
  }
  if (change.op == op::kCalendarSet) return set_calendar(state, change);
  if (change.op == op::kSopSet || change.op == op::kDelegationSet ||
      change.op == op::kDelegationEnd) {
    if (change.dot.replica != kServerReplica)
      return reject("forbidden_op", "Hanya server yang dapat mengubah templat SOP dan Plt./Plh.");
    try {
      if (change.op == op::kSopSet) return set_template(x);
      if (change.op == op::kDelegationSet) return set_delegation(x);
      return end_delegation(x);
    } catch (const nlohmann::json::exception& e) {
      return reject("bad_body", std::string("Isi perubahan tidak valid: ") + e.what());
    } catch (const Error& e) {
      return reject(e.code(), e.what());
    }
  }
  if (!state.org().is_member(change.author) && !(x.from_server() && change.op == op::kCaseOpen))
    return reject("unknown_user",
                  "Pengguna " + change.author + " tidak terdaftar atau tidak aktif.");
  json body;
  try {
    body = parse_body(change);
  } catch (const Error& e) {
    return reject(e.code(), e.what());
  }
  try {
    if (change.op == op::kCaseOpen) return open_case(x, body);
    if (change.op == op::kTaskComplete) return complete_task(x, body);
    if (change.op == op::kCaseReturn) return return_case(x, body);
    if (change.op == op::kDispositionSet) return set_disposition(x, body);
    if (change.op == op::kDraftRevise) return revise_draft(x, body);
    if (change.op == op::kCorrectionAdd) return add_correction(x, body);
    if (change.op == op::kCorrectionStatus) return set_correction_status(x, body);
    if (change.op == op::kKeyAdd) return add_key(x, body);
  } catch (const nlohmann::json::exception& e) {
    // A field of the wrong type: the rules save only at the end, so nothing was written.
    return reject("bad_body", std::string("Isi perubahan tidak valid: ") + e.what());
  }
  return reject("unknown_op", "Jenis perubahan tidak dikenal: " + change.op);
}

}  // namespace alur::sync
