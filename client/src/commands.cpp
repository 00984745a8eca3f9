// The alur CLI's commands.
#include "alur/client/commands.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "alur/client/sync_client.h"
#include "alur/shared/error.h"
#include "alur/sync/text_merge.h"

namespace alur::client {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace alur::sync;

namespace {

const TemplateRegistry& templates() { return TemplateRegistry::builtin(); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("io", "Tidak dapat membaca berkas " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool looks_like_text(const std::string& s) {
  if (s.find('\0') != std::string::npos) return false;
  // Valid UTF-8?
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (int k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n;
  }
  return true;
}

json revision_body(const std::string& content, const std::string& filename,
                   const std::vector<std::string>& parents) {
  return {{"sha256", crypto::sha256_hex(content)},
          {"size", content.size()},
          {"filename", fs::path(filename).filename().string()},
          {"media", looks_like_text(content) ? "text" : "binary"},
          {"parents", parents}};
}

json time_or_null(Millis ms) { return ms ? json(format_time_utc(ms)) : json(); }

const char* state_label(const std::string& s) {
  if (s == "done") return "selesai";
  if (s == "ready") return "siap";
  return "menunggu";
}

std::string due_date(const TaskState& t, const Template& tpl) {
  const StepDef* s = tpl.step(t.step);
  if (!t.ready_at || !s) return "";
  return add_working_days_wib(t.ready_at, s->days);
}

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

}  // namespace

Commands::Commands(Options options) : options_(std::move(options)) {
  if (options_.home.empty()) options_.home = default_home();
}

Replica& Commands::replica() {
  if (!replica_) replica_ = std::make_unique<Replica>(options_.home);
  return *replica_;
}

int Commands::fail(const std::string& code, const std::string& message) {
  std::cerr << "alur: " << message << " [" << code << "]" << std::endl;
  if (options_.json) std::cout << json{{"error", {{"code", code}, {"message", message}}}}.dump() << std::endl;
  return 1;
}

std::string Commands::resolve_case(View& v, const std::string& ref) {
  std::vector<std::string> matches;
  for (const auto& id : v.case_ids()) {
    if (id == ref) return id;
    if (id.rfind(ref, 0) == 0) matches.push_back(id);
  }
  if (matches.size() == 1) return matches[0];
  if (matches.empty()) throw Error("unknown_case", "Kasus \"" + ref + "\" tidak ditemukan di data lokal; sudah sinkron?");
  throw Error("ambiguous_case", "Awalan \"" + ref + "\" cocok dengan beberapa kasus; tulis lebih panjang.");
}

void Commands::write(const std::string& record, const std::string& op_name, const std::string& body,
                     const VersionVector& context, const std::optional<std::string>& attachment) {
  Change c = replica().next_change(record, op_name, body, context, Clock::system());
  if (record.empty()) c.record = "corr/" + json::parse(body).value("case", "") + "/" + c.dot.str();
  replica().write(c, templates(), attachment);
  last_written_ = c;
}

void Commands::print_written(const std::string& what) {
  if (options_.json)
    std::cout << json{{"change", last_written_.id()}, {"state", "tentative"}}.dump() << std::endl;
  else
    std::cout << what << " (perubahan " << last_written_.id().substr(0, 8) << "…:" << last_written_.dot.counter
              << ", menunggu sinkronisasi)" << std::endl;
}

// --- enroll / sync / status ----------------------------------------------------------

int Commands::enroll(const std::string& server, const std::string& username, const std::string& password,
                     const std::string& fingerprint) {
  Enrolled e = client::enroll(replica(), server, fingerprint, username, password);
  SyncReport r;
  try {
    SyncClient sc(replica(), templates());
    sc.connect();
    r = sc.sync_once();
  } catch (const Error&) {
    // Enrolled; the first sync can happen later.
  }
  if (options_.json)
    std::cout << json{{"replica", e.replica}, {"username", e.username}, {"name", e.name}, {"unit", e.unit}}.dump()
              << std::endl;
  else
    std::cout << "Terdaftar sebagai " << e.name << " (" << e.username << ") di " << e.unit << ".\n"
              << "Data lokal: " << options_.home << std::endl;
  return 0;
}

int Commands::sync(bool watch) {
  replica().require_meta("replica");
  SyncClient sc(replica(), templates());
  if (watch) {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    sc.watch(g_stop, [&](const std::string& line) {
      if (options_.json)
        std::cout << json{{"event", line}, {"at", format_time_utc(Clock::system().now_ms())}}.dump() << std::endl;
      else
        std::cout << "[" << format_time_utc(Clock::system().now_ms()) << "] " << line << std::endl;
    });
    return 0;
  }
  sc.connect();
  SyncReport r = sc.sync_once();
  if (options_.json) {
    json rej = json::array();
    for (const auto& x : r.rejections)
      rej.push_back({{"change", replica().require_meta("replica") + ":" + std::to_string(x.counter)},
                     {"code", x.code}, {"message", x.message}});
    std::cout << json{{"pushed", r.pushed}, {"accepted", r.accepted}, {"rejected", r.rejected},
                      {"pulled", r.pulled}, {"rejections", rej}}.dump()
              << std::endl;
  } else {
    std::cout << "Sinkron: dikirim " << r.pushed << " (diterima " << r.accepted << ", ditolak " << r.rejected
              << "), ditarik " << r.pulled << " perubahan." << std::endl;
    for (const auto& x : r.rejections)
      std::cout << "  DITOLAK perubahan #" << x.counter << " [" << x.code << "]: " << x.message << std::endl;
  }
  return 0;
}

int Commands::status() {
  Replica& r = replica();
  r.require_meta("replica");
  View v = r.view(templates());
  auto rows = r.outbox();
  std::size_t tentative = 0;
  json rejected = json::array();
  for (const auto& row : rows) {
    if (row.status == "pending") ++tentative;
    if (row.status == "rejected")
      rejected.push_back({{"change", row.change.id()}, {"code", row.code}, {"message", row.message},
                          {"op", row.change.op}, {"record", row.change.record}});
  }
  auto last = r.meta("last_sync");
  if (options_.json) {
    json doomed = json::array();
    for (const auto& [counter, verdict] : v.doomed())
      doomed.push_back({{"counter", counter}, {"code", verdict.code}, {"message", verdict.message}});
    std::cout << json{{"tentative", tentative}, {"rejected", rejected},
                      {"last_sync", last ? json(format_time_utc(std::stoll(*last))) : json()},
                      {"cursor", r.cursor()}, {"conflicting", doomed},
                      {"username", r.require_meta("username")}}.dump()
              << std::endl;
    return 0;
  }
  std::cout << "Pengguna: " << r.require_meta("name") << " (" << r.require_meta("username") << ")\n"
            << "Sinkron terakhir: " << (last ? format_time_utc(std::stoll(*last)) : "belum pernah") << "\n"
            << "Menunggu sinkronisasi: " << tentative << " perubahan\n";
  for (const auto& row : rows)
    if (row.status == "pending") std::cout << "  • " << row.change.op << " " << row.change.record << "\n";
  for (const auto& [counter, verdict] : v.doomed())
    std::cout << "  ! perubahan #" << counter << " kemungkinan ditolak: " << verdict.message << "\n";
  std::cout << "Ditolak server: " << rejected.size() << "\n";
  for (const auto& x : rejected)
    std::cout << "  ✗ " << x["op"].get<std::string>() << " " << x["record"].get<std::string>() << " ["
              << x["code"].get<std::string>() << "]: " << x["message"].get<std::string>() << "\n";
  return 0;
}

// --- cases -----------------------------------------------------------------------------

int Commands::case_open(const std::string& sop, const std::string& period) {
  check_period(period);
  const Template* tpl = templates().latest(sop);
  if (!tpl) throw Error("unknown_sop", "SOP \"" + sop + "\" tidak dikenal.");
  std::string id = crypto::to_hex(crypto::random_bytes(8));
  write("case/" + id, op::kCaseOpen, json{{"sop", sop}, {"version", tpl->version}, {"period", period}}.dump());
  if (options_.json)
    std::cout << json{{"case", id}, {"title", tpl->case_title(period)}}.dump() << std::endl;
  else
    std::cout << id << "\n" << tpl->case_title(period) << " dibuka (menunggu sinkronisasi)." << std::endl;
  return 0;
}

int Commands::case_list() {
  View v = replica().view(templates());
  json arr = json::array();
  for (const auto& id : v.case_ids()) {
    auto c = v.load_case(id);
    arr.push_back({{"case", id}, {"title", c->title}, {"state", c->state}, {"sop", c->sop}, {"period", c->period}});
    if (!options_.json) std::cout << id << "  " << c->title << "  [" << (c->state == "open" ? "berjalan" : "selesai") << "]\n";
  }
  if (options_.json) std::cout << arr.dump() << std::endl;
  return 0;
}

int Commands::case_show(const std::string& ref) {
  Replica& r = replica();
  View v = r.view(templates());
  std::string id = resolve_case(v, ref);
  CaseState c = *v.load_case(id);
  auto committed = r.load_case(id);
  const Template* tpl = templates().find(c.sop, c.version);
  const Org& org = v.org();
  auto name_of = [&](const std::string& u) {
    const Person* p = org.find(u);
    return p ? p->name : u;
  };
  json steps = json::array();
  for (const auto& s : tpl->steps) {
    json tasks = json::array();
    for (const auto& t : c.tasks) {
      if (t.step != s.no) continue;
      const TaskState* ct = committed ? committed->task(t.key) : nullptr;
      bool tentative = !ct || ct->state != t.state || ct->change != t.change;
      tasks.push_back({{"task", task_id(id, t.key)}, {"role", t.role},
                       {"bidang", t.bidang ? json(*t.bidang) : json()}, {"state", t.state},
                       {"by", t.by.empty() ? json() : json(t.by)}, {"at", time_or_null(t.at)},
                       {"round", t.round}, {"due", due_date(t, *tpl)}, {"text", t.text},
                       {"revision", t.revision}, {"tentative", tentative}});
    }
    steps.push_back({{"step", s.no}, {"title", s.title}, {"kind", s.kind}, {"role", s.actor},
                     {"days", s.days}, {"output", s.output}, {"tasks", tasks}});
  }
  json drafts = json::array();
  for (const auto& [name, d] : c.drafts) drafts.push_back({{"name", name}, {"heads", d.heads()}, {"revisions", d.revisions.size()}});
  json conflicts = json::array();
  for (const auto& [key, d] : c.dispositions)
    if (d.value.in_conflict()) {
      json values = json::array();
      for (const auto& s : d.value.siblings()) values.push_back({{"text", s.value.text}, {"by", s.value.by}});
      conflicts.push_back({{"kind", "disposition"}, {"task", task_id(id, key)}, {"values", values}});
    }
  for (const auto& [name, d] : c.drafts)
    if (d.heads().size() > 1) conflicts.push_back({{"kind", "draft"}, {"name", name}, {"heads", d.heads()}});
  json corrections = json::array();
  for (const auto& [cid, k] : c.corrections)
    corrections.push_back({{"id", cid}, {"draft", k.draft}, {"revision", k.revision}, {"text", k.text},
                           {"by", k.by}, {"state", k.state()}});
  json approvals = json::array();
  for (const auto& a : c.approvals)
    approvals.push_back({{"kind", a.kind}, {"step", a.step}, {"by", a.by}, {"role", a.role},
                         {"revision", a.revision}, {"sha256", a.sha256}, {"at", time_or_null(a.at)}});
  json returns = json::array();
  for (const auto& x : c.returns)
    returns.push_back({{"from_task", task_id(id, x.from_task)}, {"to_step", x.to_step}, {"reason", x.reason},
                       {"by", x.by}, {"at", time_or_null(x.at)}});
  if (options_.json) {
    std::cout << json{{"case", id}, {"title", c.title}, {"sop", c.sop}, {"period", c.period}, {"state", c.state},
                      {"steps", steps}, {"drafts", drafts}, {"conflicts", conflicts},
                      {"corrections", corrections}, {"approvals", approvals}, {"returns", returns}}.dump()
              << std::endl;
    return 0;
  }
  std::cout << c.title << "  [" << (c.state == "open" ? "berjalan" : "selesai") << "]\nKasus " << id << "\n\n";
  std::cout << std::left << std::setw(4) << "No" << std::setw(42) << "Langkah" << std::setw(30) << "Pelaksana"
            << std::setw(11) << "Status" << "Oleh / waktu\n";
  for (const auto& s : steps)
    for (const auto& t : s["tasks"]) {
      std::string actor = t["bidang"].is_null() ? role_short(t["role"])
                                                 : org.role_label(t["role"], t["bidang"].get<std::string>());
      std::string who = t["by"].is_null() ? (t["due"].get<std::string>().empty() ? "" : "tenggat " + t["due"].get<std::string>())
                                          : name_of(t["by"]) + " " + t["at"].get<std::string>();
      std::string title = s["title"].get<std::string>();
      if (title.size() > 40) title = title.substr(0, 39) + "…";
      std::cout << std::setw(4) << s["step"].get<int>() << std::setw(42) << title << std::setw(30) << actor.substr(0, 29)
                << std::setw(11) << (std::string(state_label(t["state"])) + (t["tentative"].get<bool>() ? "*" : ""))
                << who << "\n";
    }
  if (!drafts.empty()) std::cout << "\nDraft:\n";
  for (const auto& d : drafts)
    std::cout << "  " << d["name"].get<std::string>() << ": " << d["revisions"] << " revisi, versi terakhir "
              << d["heads"].dump() << "\n";
  for (const auto& x : conflicts) std::cout << "  KONFLIK " << x.dump() << "\n";
  for (const auto& x : returns)
    std::cout << "  Dikembalikan ke langkah " << x["to_step"] << " oleh " << name_of(x["by"]) << ": "
              << x["reason"].get<std::string>() << "\n";
  for (const auto& a : approvals)
    std::cout << "  " << (a["kind"] == "paraf" ? "Paraf" : "Tanda tangan") << " " << a["role"].get<std::string>()
              << " (" << name_of(a["by"]) << ") atas revisi " << a["revision"].get<std::string>() << " sha256 "
              << a["sha256"].get<std::string>().substr(0, 16) << "…\n";
  bool any_tentative = false;
  for (const auto& s : steps)
    for (const auto& t : s["tasks"]) any_tentative = any_tentative || t["tentative"].get<bool>();
  if (any_tentative) std::cout << "\n* menunggu sinkronisasi\n";
  std::cout << std::flush;
  return 0;
}

int Commands::inbox() {
  Replica& r = replica();
  std::string me = r.require_meta("username");
  View v = r.view(templates());
  const Org& org = v.org();
  std::string today = format_date_wib(Clock::system().now_ms());
  json items = json::array();
  for (const auto& id : v.case_ids()) {
    CaseState c = *v.load_case(id);
    const Template* tpl = templates().find(c.sop, c.version);
    for (const auto& t : c.tasks) {
      if (t.state != "ready" || !org.holds(me, t.role, t.bidang)) continue;
      const StepDef* s = tpl->step(t.step);
      std::string due = due_date(t, *tpl);
      int remaining = due.empty() ? 0 : working_days_between(today, due);
      items.push_back({{"task", task_id(id, t.key)}, {"case", id}, {"step", t.step}, {"kind", s->kind},
                       {"role", t.role}, {"bidang", t.bidang ? json(*t.bidang) : json()}, {"due", due},
                       {"title", c.title}, {"what", s->title}, {"description", s->description},
                       {"inputs", s->inputs}, {"remaining_days", remaining}, {"overdue", remaining < 0},
                       {"round", t.round}});
    }
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return a["due"].get<std::string>() < b["due"].get<std::string>();
  });
  if (options_.json) {
    std::cout << items.dump() << std::endl;
    return 0;
  }
  if (items.empty()) std::cout << "Kotak masuk kosong: tidak ada tugas yang siap untuk Anda.\n";
  for (const auto& i : items) {
    std::cout << (i["overdue"].get<bool>() ? "TERLAMBAT " : "") << i["task"].get<std::string>() << "\n  "
              << i["title"].get<std::string>() << " — langkah " << i["step"] << ": " << i["what"].get<std::string>()
              << "\n  Tenggat " << i["due"].get<std::string>() << " (" << i["remaining_days"] << " hari kerja lagi)"
              << "; kelengkapan: ";
    for (std::size_t k = 0; k < i["inputs"].size(); ++k) std::cout << (k ? ", " : "") << i["inputs"][k].get<std::string>();
    std::cout << "\n";
  }
  return 0;
}

int Commands::act(const std::string& task, const std::string& text, const std::string& file) {
  Replica& r = replica();
  View v = r.view(templates());
  auto [case_ref, key] = split_task_id(task);
  std::string id = resolve_case(v, case_ref);
  CaseState c = *v.load_case(id);
  const TaskState* t = c.task(key);
  if (!t) throw Error("unknown_task", "Tugas " + task + " tidak ada pada kasus ini.");
  const Template* tpl = templates().find(c.sop, c.version);
  const StepDef* s = tpl->step(t->step);
  json body{{"round", t->round}};
  if (!text.empty()) body["text"] = text;
  std::optional<std::string> attachment;
  auto heads = [&]() {
    auto d = c.drafts.find(s->draft);
    return d == c.drafts.end() ? std::vector<std::string>{} : d->second.heads();
  };
  if (!file.empty()) {
    if (s->draft.empty() || s->kind == "initial" || s->kind == "sign" || s->kind == "disposition")
      throw Error("bad_action", "Langkah " + std::to_string(s->no) + " (" + s->kind + ") tidak menerima berkas.");
    attachment = read_file(file);
    body["revision"] = revision_body(*attachment, file, heads());
  }
  if (s->kind == "draft" && file.empty())
    throw Error("bad_action", "Langkah ini memerlukan berkas draft: --file BERKAS.");
  if (s->kind == "correct") {
    auto hs = heads();
    if (hs.empty()) throw Error("unknown_revision", "Belum ada revisi draft " + s->draft + " untuk dikoreksi.");
    body["on_revision"] = hs.back();
  }
  if (s->kind == "initial" || s->kind == "sign") {
    auto hs = heads();
    if (hs.size() != 1)
      throw Error("stale_revision", hs.empty() ? "Belum ada revisi draft " + s->draft + "."
                                               : "Draft " + s->draft + " memiliki beberapa versi terakhir; gabungkan dulu.");
    body["bind_revision"] = hs[0];
    body["bind_sha256"] = c.drafts.at(s->draft).revisions.at(hs[0]).sha256;
  }
  write("task/" + id + "/" + key, op::kTaskComplete, body.dump(), {}, attachment);
  print_written("Langkah " + std::to_string(s->no) + " (" + s->title + ") diselesaikan");
  return 0;
}

int Commands::return_task(const std::string& task, int to_step, const std::string& reason) {
  View v = replica().view(templates());
  auto [case_ref, key] = split_task_id(task);
  std::string id = resolve_case(v, case_ref);
  CaseState c = *v.load_case(id);
  const TaskState* t = c.task(key);
  if (!t) throw Error("unknown_task", "Tugas " + task + " tidak ada pada kasus ini.");
  write("task/" + id + "/" + key, op::kCaseReturn,
        json{{"round", t->round}, {"to_step", to_step}, {"reason", reason}}.dump());
  print_written("Kasus dikembalikan ke langkah " + std::to_string(to_step));
  return 0;
}

// --- drafts, dispositions, corrections ------------------------------------------------------

int Commands::draft_put(const std::string& case_ref, const std::string& name, const std::string& file) {
  View v = replica().view(templates());
  std::string id = resolve_case(v, case_ref);
  CaseState c = *v.load_case(id);
  std::vector<std::string> parents;
  if (auto d = c.drafts.find(name); d != c.drafts.end()) parents = d->second.heads();
  std::string content = read_file(file);
  write("draft/" + id + "/" + name, op::kDraftRevise, revision_body(content, file, parents).dump(), {}, content);
  print_written("Revisi baru draft " + name + (parents.size() > 1 ? " (menggabungkan " + std::to_string(parents.size()) + " versi)" : ""));
  return 0;
}

int Commands::draft_show(const std::string& case_ref, const std::string& name) {
  View v = replica().view(templates());
  std::string id = resolve_case(v, case_ref);
  CaseState c = *v.load_case(id);
  auto d = c.drafts.find(name);
  if (d == c.drafts.end()) throw Error("unknown_draft", "Draft \"" + name + "\" belum ada pada kasus ini.");
  std::vector<const Revision*> revs;
  for (const auto& [rid, rv] : d->second.revisions) revs.push_back(&rv);
  std::sort(revs.begin(), revs.end(), [](auto* a, auto* b) { return a->at != b->at ? a->at < b->at : a->id < b->id; });
  json arr = json::array();
  for (const auto* rv : revs)
    arr.push_back({{"rev", rv->id}, {"parents", rv->parents}, {"by", rv->by}, {"sha256", rv->sha256},
                   {"at", time_or_null(rv->at)}, {"size", rv->size}, {"filename", rv->filename},
                   {"media", rv->media}, {"step", rv->step}});
  auto heads = d->second.heads();
  if (options_.json) {
    std::cout << json{{"name", name}, {"heads", heads}, {"revisions", arr}}.dump() << std::endl;
    return 0;
  }
  std::cout << "Draft " << name << ": " << arr.size() << " revisi; versi terakhir: " << json(heads).dump() << "\n";
  for (const auto& x : arr)
    std::cout << "  " << x["rev"].get<std::string>() << "  " << x["by"].get<std::string>() << "  "
              << x["at"].get<std::string>() << "  " << x["filename"].get<std::string>() << "  sha256 "
              << x["sha256"].get<std::string>().substr(0, 16) << "…  induk " << x["parents"].dump() << "\n";
  return 0;
}

int Commands::draft_get(const std::string& case_ref, const std::string& name, const std::string& rev,
                        const std::string& out) {
  View v = replica().view(templates());
  std::string id = resolve_case(v, case_ref);
  CaseState c = *v.load_case(id);
  auto d = c.drafts.find(name);
  if (d == c.drafts.end()) throw Error("unknown_draft", "Draft \"" + name + "\" belum ada pada kasus ini.");
  std::string rid = rev;
  if (rid.empty()) {
    auto hs = d->second.heads();
    rid = hs.back();
  }
  auto it = d->second.revisions.find(rid);
  if (it == d->second.revisions.end()) throw Error("unknown_revision", "Revisi " + rid + " tidak ada.");
  auto data = replica().blob(it->second.sha256);
  if (!data) throw Error("blob_missing", "Isi revisi belum diunduh; jalankan alur sync.");
  std::ofstream o(out, std::ios::binary);
  o << *data;
  if (!o.flush()) throw Error("io", "Gagal menulis " + out);
  if (options_.json) std::cout << json{{"rev", rid}, {"out", out}, {"sha256", it->second.sha256}}.dump() << std::endl;
  else std::cout << "Revisi " << rid << " disimpan ke " << out << std::endl;
  return 0;
}

int Commands::draft_merge(const std::string& case_ref, const std::string& name) {
  View v = replica().view(templates());
  std::string id = resolve_case(v, case_ref);
  CaseState c = *v.load_case(id);
  auto d = c.drafts.find(name);
  if (d == c.drafts.end()) throw Error("unknown_draft", "Draft \"" + name + "\" belum ada pada kasus ini.");
  auto heads = d->second.heads();
  if (heads.size() != 2) throw Error("nothing_to_merge", "Draft " + name + " memiliki " + std::to_string(heads.size()) + " versi terakhir; penggabungan otomatis butuh tepat 2.");
  const auto& revs = d->second.revisions;
  auto ancestors = [&](const std::string& start) {
    std::set<std::string> seen;
    std::vector<std::string> stack{start};
    while (!stack.empty()) {
      std::string x = stack.back();
      stack.pop_back();
      if (!seen.insert(x).second) continue;
      for (const auto& p : revs.at(x).parents) stack.push_back(p);
    }
    return seen;
  };
  auto a = ancestors(heads[0]), b = ancestors(heads[1]);
  const Revision* base = nullptr;
  for (const auto& x : a)
    if (b.count(x) && (!base || revs.at(x).at > base->at)) base = &revs.at(x);
  auto content = [&](const Revision& rv) {
    if (rv.media != "text") throw Error("not_text", "Revisi " + rv.id + " bukan teks; gabungkan secara manual dengan draft put.");
    auto data = replica().blob(rv.sha256);
    if (!data) throw Error("blob_missing", "Isi revisi " + rv.id + " belum diunduh; jalankan alur sync.");
    return *data;
  };
  std::string base_text = base ? content(*base) : "";
  MergeResult m = merge3(base_text, content(revs.at(heads[0])), content(revs.at(heads[1])), heads[0], heads[1]);
  if (!m.clean)
    throw Error("merge_conflict", "Perubahan kedua versi bertumpuk di " + std::to_string(m.conflicts) +
                                      " tempat; gabungkan secara manual (draft get, sunting, draft put).");
  json body = revision_body(m.text, revs.at(heads.back()).filename, heads);
  body["media"] = "text";
  write("draft/" + id + "/" + name, op::kDraftRevise, body.dump(), {}, m.text);
  print_written("Draft " + name + " digabung otomatis");
  return 0;
}

int Commands::disposition_set(const std::string& task, const std::string& text) {
  View v = replica().view(templates());
  auto [case_ref, key] = split_task_id(task);
  std::string id = resolve_case(v, case_ref);
  CaseState c = *v.load_case(id);
  auto it = c.dispositions.find(key);
  if (it == c.dispositions.end()) throw Error("unknown_record", "Tugas ini belum memiliki disposisi.");
  write("disp/" + id + "/" + key, op::kDispositionSet, json{{"text", text}}.dump(), it->second.value.vv());
  print_written("Disposisi diperbarui");
  return 0;
}

int Commands::correction_add(const std::string& case_ref, const std::string& name, const std::string& text) {
  View v = replica().view(templates());
  std::string id = resolve_case(v, case_ref);
  CaseState c = *v.load_case(id);
  auto d = c.drafts.find(name);
  if (d == c.drafts.end()) throw Error("unknown_draft", "Draft \"" + name + "\" belum ada pada kasus ini.");
  write("", op::kCorrectionAdd,
        json{{"case", id}, {"draft", name}, {"revision", d->second.heads().back()}, {"text", text}}.dump());
  print_written("Koreksi " + last_written_.id() + " ditambahkan");
  return 0;
}

int Commands::correction_status(const std::string& case_ref, const std::string& cid, const std::string& status) {
  View v = replica().view(templates());
  std::string id = resolve_case(v, case_ref);
  CaseState c = *v.load_case(id);
  auto it = c.corrections.find(cid);
  if (it == c.corrections.end()) throw Error("unknown_record", "Koreksi " + cid + " tidak ada.");
  write("corr/" + id + "/" + cid, op::kCorrectionStatus, json{{"status", status}}.dump(), it->second.status.vv());
  print_written(status == "resolved" ? "Koreksi ditandai selesai" : "Koreksi dibuka kembali");
  return 0;
}

}  // namespace alur::client
