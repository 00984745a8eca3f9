// The rules of a case: who may do which step in which order, and what each change does.
// Reason codes are part of the contract (sync/PROTOCOL.md lists them); messages are for
// people, in Bahasa Indonesia.
#include <algorithm>
#include <functional>
#include <set>

#include "alur/shared/error.h"
#include "alur/shared/planted.h"
#include "alur/sync/case_state.h"

namespace alur::sync {

using nlohmann::json;

namespace {

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
  json j = json::parse(c.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw Error("bad_body", "Isi perubahan bukan objek JSON.");
  return j;
}

std::string str_field(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>();
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

Verdict open_case(Ctx& x, const json& body) {
  std::string case_id = x.change.case_id();
  if (case_id.empty() || case_id.size() > 64) return reject("bad_body", "Nomor kasus tidak valid.");
  std::string sop = str_field(body, "sop"), period = str_field(body, "period");
  int version = body.value("version", 0);
  const Template* tpl = x.templates.find(sop, version);
  if (!tpl)
    return reject("unknown_sop",
                  "SOP " + sop + " versi " + std::to_string(version) + " tidak dikenal.");
  try {
    check_period(period);
  } catch (const Error& e) {
    return reject(e.code(), e.what());
  }
  const Org& org = x.state.org();
  bool may_open = false;
  for (const auto& r : tpl->openers)
    may_open = may_open || org.holds(x.change.author, r, std::nullopt);
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
  x.state.save_case(c);
  return Verdict::accept();
}

// Loads the case a change refers to, and its template.
Verdict load(Ctx& x, CaseState& c, const Template*& tpl) {
  auto loaded = x.state.load_case(x.change.case_id());
  if (!loaded) return reject("unknown_case", "Kasus " + x.change.case_id() + " tidak dikenal.");
  c = std::move(*loaded);
  tpl = x.templates.find(c.sop, c.version);
  if (!tpl) return reject("unknown_sop", "Templat SOP kasus ini tidak dikenal.");
  return Verdict::accept();
}

std::string task_key_of(const Change& ch) {
  // "task/<case>/<key>" or "disp/<case>/<key>"
  auto a = ch.record.find('/');
  auto b = ch.record.find('/', a + 1);
  return b == std::string::npos ? std::string{} : ch.record.substr(b + 1);
}

// Checks that the author may act on task t now: role, round, state.
Verdict check_task(Ctx& x, const CaseState& c, const TaskState* t, int round) {
  const Org& org = x.state.org();
  if (c.state != "open") return reject("case_closed", "Kasus " + c.title + " sudah selesai.");
  if (!t) return reject("unknown_task", "Tugas tidak dikenal pada kasus ini.");
  if (!org.holds(x.change.author, t->role, t->bidang) &&
      !planted::on(planted::Defect::kRoleUnchecked))
    return reject("wrong_role", "Anda (" + x.change.author + ") tidak memegang peran " +
                                    role_label(t->role, t->bidang, org) + " untuk langkah " +
                                    std::to_string(t->step) + ".");
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
Verdict load_actionable_task(Ctx& x, const json& body, CaseState& c, const Template*& tpl,
                             TaskState*& t) {
  if (auto v = load(x, c, tpl); !v.ok()) return v;
  t = c.task(task_key_of(x.change));
  return check_task(x, c, t, body.value("round", -1));
}

Verdict complete_task(Ctx& x, const json& body) {
  CaseState c;
  const Template* tpl = nullptr;
  TaskState* t = nullptr;
  if (auto v = load_actionable_task(x, body, c, tpl, t); !v.ok()) return v;
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

  std::string correction_on;
  if (kind == "correct") {
    correction_on = str_field(body, "on_revision");
    auto d = c.drafts.find(step->draft);
    if (d == c.drafts.end() || !d->second.revisions.count(correction_on))
      return reject("unknown_revision",
                    "Koreksi harus menunjuk revisi draft " + step->draft + " yang ada.");
  }

  std::string bound_revision;
  if (kind == "initial" || kind == "sign") {
    bound_revision = str_field(body, "bind_revision");
    std::string sha = str_field(body, "bind_sha256");
    auto d = c.drafts.find(step->draft);
    if (d == c.drafts.end() || !d->second.revisions.count(bound_revision))
      return reject("unknown_revision", "Revisi yang diparaf/ditandatangani tidak dikenal.");
    auto heads = d->second.heads();
    if (heads.size() != 1 || heads[0] != bound_revision)
      return reject("stale_revision",
                    heads.size() > 1
                        ? "Draft " + step->draft +
                              " memiliki beberapa versi terakhir; gabungkan dulu sebelum " +
                              (kind == "sign" ? "menandatangani." : "memaraf.")
                        : "Revisi " + bound_revision + " bukan lagi versi terakhir draft " +
                              step->draft + "; periksa versi terbaru lalu ulangi.");
    if (d->second.revisions.at(bound_revision).sha256 != sha)
      return reject("stale_revision", "Hash isi revisi tidak cocok dengan revisi yang diparaf.");
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
         role_label(t->role, t->bidang, org), at, x.change.id()});
  }
  t->state = "done";
  t->by = x.change.author;
  t->at = at;
  t->change = x.change.id();
  t->text = text;
  t->revision = rev ? rev->id : bound_revision;
  recompute(c, *tpl, x.now);
  x.state.save_case(c);
  return Verdict::accept();
}

Verdict return_case(Ctx& x, const json& body) {
  CaseState c;
  const Template* tpl = nullptr;
  TaskState* t = nullptr;
  if (auto v = load_actionable_task(x, body, c, tpl, t); !v.ok()) return v;
  const std::string key = t->key;
  int to = body.value("to_step", 0);
  std::string reason = str_field(body, "reason");
  if (reason.empty()) return reject("bad_action", "Alasan pengembalian wajib diisi.");
  if (reason.size() > kMaxTextBytes) return reject("too_large", "Alasan terlalu panjang.");
  if (!tpl->step(to) || to >= t->step || !descendants(*tpl, to).count(t->step))
    return reject("bad_return",
                  "Langkah " + std::to_string(t->step) +
                      " hanya dapat dikembalikan ke langkah sebelumnya yang mendahuluinya.");
  std::set<int> redo = descendants(*tpl, to);
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
  }
  for (auto& a : c.approvals)
    if (redo.count(a.step)) a.superseded = true;
  c.returns.push_back({key, to, reason, x.change.author, author_time(x), x.change.id()});
  recompute(c, *tpl, x.now);
  x.state.save_case(c);
  return Verdict::accept();
}

bool acts_in(const Org& org, const std::string& user, const Template& tpl) {
  for (const auto& s : tpl.steps)
    if (org.holds(user, s.actor, std::nullopt)) return true;
  return false;
}

Verdict set_disposition(Ctx& x, const json& body) {
  CaseState c;
  const Template* tpl = nullptr;
  if (auto v = load(x, c, tpl); !v.ok()) return v;
  std::string key = task_key_of(x.change);
  auto it = c.dispositions.find(key);
  const TaskState* t = c.task(key);
  if (it == c.dispositions.end() || !t) return reject("unknown_record", "Disposisi tidak dikenal.");
  if (!x.state.org().holds(x.change.author, t->role, t->bidang))
    return reject("wrong_role", "Hanya pemegang peran " +
                                    role_label(t->role, t->bidang, x.state.org()) +
                                    " yang dapat mengubah disposisi ini.");
  std::string text = str_field(body, "text");
  if (text.empty()) return reject("bad_action", "Isi disposisi wajib diisi.");
  if (text.size() > kMaxTextBytes)
    return reject("too_large", "Teks terlalu panjang (maks. 64 KiB).");
  it->second.value.apply(x.change.dot, x.change.context, {text, x.change.author, author_time(x)});
  x.state.save_case(c);
  return Verdict::accept();
}

Verdict revise_draft(Ctx& x, const json& body) {
  CaseState c;
  const Template* tpl = nullptr;
  if (auto v = load(x, c, tpl); !v.ok()) return v;
  if (c.state != "open") return reject("case_closed", "Kasus " + c.title + " sudah selesai.");
  if (!acts_in(x.state.org(), x.change.author, *tpl))
    return reject("wrong_role", "Anda (" + x.change.author + ") tidak berperan dalam SOP ini.");
  std::string draft = task_key_of(x.change);  // "draft/<case>/<name>"
  if (draft.empty() || draft.size() > 64) return reject("bad_body", "Nama draft tidak valid.");
  Revision r;
  if (auto v = read_revision(x, body, c, draft, 0, r); !v.ok()) return v;
  auto& d = c.drafts[draft];
  d.name = draft;
  d.revisions[r.id] = std::move(r);
  x.state.save_case(c);
  return Verdict::accept();
}

Verdict add_correction(Ctx& x, const json& body) {
  CaseState c;
  const Template* tpl = nullptr;
  if (auto v = load(x, c, tpl); !v.ok()) return v;
  if (!acts_in(x.state.org(), x.change.author, *tpl))
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
  x.state.save_case(c);
  return Verdict::accept();
}

Verdict set_correction_status(Ctx& x, const json& body) {
  CaseState c;
  const Template* tpl = nullptr;
  if (auto v = load(x, c, tpl); !v.ok()) return v;
  if (!acts_in(x.state.org(), x.change.author, *tpl))
    return reject("wrong_role", "Anda (" + x.change.author + ") tidak berperan dalam SOP ini.");
  auto it = c.corrections.find(task_key_of(x.change));
  if (it == c.corrections.end()) return reject("unknown_record", "Koreksi tidak dikenal.");
  std::string status = str_field(body, "status");
  if (status != "resolved" && status != "reopened")
    return reject("bad_body", "Status koreksi harus resolved atau reopened.");
  it->second.status.apply(x.change.dot, x.change.context,
                          {status, x.change.author, author_time(x)});
  x.state.save_case(c);
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

Verdict apply_change(StateAccess& state, const TemplateRegistry& templates, const Change& change,
                     Millis commit_time, const ApplyOptions& options) {
  Ctx x{state, templates, change, commit_time, options};
  if (change.op == op::kOrgSet) {
    if (change.dot.replica != kServerReplica)
      return reject("forbidden_op", "Hanya server yang dapat mengubah data organisasi.");
    Org org;
    try {
      from_json(json::parse(change.body), org);
    } catch (const std::exception& e) {
      return reject("bad_body", std::string("Data organisasi tidak valid: ") + e.what());
    }
    state.set_org(org);
    return Verdict::accept();
  }
  if (change.op == op::kCalendarSet) return set_calendar(state, change);
  if (!state.org().is_member(change.author))
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
  } catch (const nlohmann::json::exception& e) {
    // A field of the wrong type: the rules save only at the end, so nothing was written.
    return reject("bad_body", std::string("Isi perubahan tidak valid: ") + e.what());
  }
  return reject("unknown_op", "Jenis perubahan tidak dikenal: " + change.op);
}

}  // namespace alur::sync
