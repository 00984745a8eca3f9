// The official's operations on their replica, as JSON (shared by the CLI and the web app).
#include "alur/client/api.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "alur/client/repair.h"
#include "alur/client/sync_client.h"
#include "alur/shared/error.h"
#include "alur/shared/paths.h"
#include "alur/sync/templates.h"
#include "alur/sync/text_merge.h"
#include "deadline.h"
#include "signing_key.h"

namespace alur::client {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace alur::sync;

namespace {

const TemplateRegistry& templates() { return TemplateRegistry::builtin(); }

// The template of a case: built in, or imported by the server and replicated.
std::shared_ptr<const Template> case_template(StateAccess& v, const CaseState& c) {
  auto tpl = find_template(v, templates(), c.sop, c.version);
  if (!tpl)
    throw Error("unknown_sop", "Templat SOP " + c.sop + " versi " + std::to_string(c.version) +
                                   " belum dikenal perangkat ini; sinkronkan dulu.");
  return tpl;
}

// How a task's doer reads in the record: "Plt. Kepala Dinas", "Kasubag ...".
std::string done_as(const Org& org, const TaskState& t) {
  std::string label = org.role_label(t.acted_as.empty() ? t.role : t.acted_as, t.bidang);
  return t.acting.empty() ? label : acting_prefix(t.acting) + " " + label;
}

// Cases of the same period whose SOP this case's template names among its related SOPs
// (keterkaitan), or whose template names this case's SOP.
json related_cases(View& v, const CaseState& c, const Template& tpl) {
  json out = json::array();
  for (const auto& other_id : v.case_ids_in_period(c.period)) {
    if (other_id == c.id) continue;
    auto other = v.load_case(other_id);
    if (!other || other->period != c.period || other->sop == c.sop) continue;
    auto other_tpl = find_template(v, templates(), other->sop, other->version);
    bool linked = tpl.relates_to(other->sop) || (other_tpl && other_tpl->relates_to(c.sop));
    if (!linked) continue;
    out.push_back({{"case", other_id},
                   {"sop", other->sop},
                   {"title", other->title},
                   {"state", other->state},
                   {"period", other->period}});
  }
  return out;
}

// Whether `me` may be an actor of a step: holds, or has ever been delegated, one of its
// roles. Wider than the inbox's own test (bidang, the day's delegations), which still
// decides; it only spares reading the cases where `me` has nothing to do.
View::ReadyStepFilter may_act_in(View& v, const std::string& me) {
  std::set<std::string> roles;
  if (const Person* p = v.org().find(me))
    for (const auto& g : p->roles) roles.insert(g.role);
  for (const auto& d : v.org().delegations)
    if (d.username == me) roles.insert(d.role);
  auto steps = std::make_shared<std::map<std::tuple<std::string, int, int>, bool>>();
  return [&v, roles, steps](const std::string& sop, int version, int step) {
    auto [it, fresh] = steps->try_emplace({sop, version, step}, true);
    if (fresh) {
      auto tpl = find_template(v, templates(), sop, version);
      const StepDef* s = tpl ? tpl->step(step) : nullptr;
      // An unknown template or step: read the case, so that the inbox reports it as before.
      if (s)
        it->second = std::any_of(s->actors.begin(), s->actors.end(),
                                 [&](const std::string& r) { return roles.count(r) > 0; });
    }
    return it->second;
  };
}

bool looks_like_text(const std::string& s) {
  if (s.find('\0') != std::string::npos) return false;
  for (std::size_t i = 0; i < s.size();) {  // valid UTF-8?
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
          {"filename", u8_string(u8_path(filename).filename())},
          {"media", looks_like_text(content) ? "text" : "binary"},
          {"parents", parents}};
}

json time_or_null(Millis ms) { return ms ? json(format_time_utc(ms)) : json(); }

const Draft& find_draft(const CaseState& c, const std::string& name) {
  auto d = c.drafts.find(name);
  if (d == c.drafts.end())
    throw Error("unknown_draft", "Draft \"" + name + "\" belum ada pada kasus ini.");
  return d->second;
}

}  // namespace

Api::Api(std::string home, const Clock& clock, Connector connector)
    : home_(std::move(home)), clock_(clock), connector_(std::move(connector)) {
  if (home_.empty()) home_ = default_home();
}

Api::Api(std::unique_ptr<Replica> replica, const Clock& clock, Connector connector)
    : home_(replica->db().path()),
      clock_(clock),
      connector_(std::move(connector)),
      replica_(std::move(replica)) {}

namespace {
// Written at enrolment, beside the replica: what device this folder was enrolled as (no
// secrets). It tells a deleted replica from a folder that was never enrolled.
constexpr const char* kEnrolmentMarker = "enrolment.json";
}  // namespace

Replica& Api::replica() { return open_replica(false); }

bool Api::has_replica() const {
  return replica_ || fs::exists(u8_path(home_) / Replica::kFileName);
}

Replica& Api::open_replica(bool allow_deleted) {
  if (replica_) return *replica_;
  fs::path file = u8_path(home_) / Replica::kFileName;
  if (!allow_deleted && !fs::exists(file) && fs::exists(u8_path(home_) / kEnrolmentMarker))
    throw Error("replica_deleted",
                "Data lokal " + u8_string(file) +
                    " terhapus. Kunci perangkat ikut hilang, jadi perangkat ini harus didaftarkan "
                    "ulang: alur enroll --server ... --username ... . Perubahan yang sudah "
                    "tersinkron aman di server; yang belum tersinkron dari perangkat ini tidak "
                    "dapat diselamatkan.");
  auto r = std::make_unique<Replica>(home_);
  if (auto problems = r->quick_check(); !problems.empty()) {
    std::string list;
    for (const auto& p : problems) list += (list.empty() ? "" : "; ") + p;
    throw Error("replica_damaged",
                "Data lokal rusak (" + list +
                    "). Jalankan: alur repair — perubahan yang belum "
                    "terkirim diselamatkan dan data dibangun ulang dari server.");
  }
  replica_ = std::move(r);
  return *replica_;
}

std::string Api::resolve_case(View& v, const std::string& ref) {
  // Sorted, so that an id equal to ref comes first.
  std::vector<std::string> matches = v.case_ids_with_prefix(ref, 2);
  if (!matches.empty() && matches[0] == ref) return ref;
  if (matches.size() == 1) return matches[0];
  if (matches.empty() || ref.empty())
    throw Error("unknown_case",
                "Kasus \"" + ref + "\" tidak ditemukan di data lokal; sudah sinkron?");
  throw Error("ambiguous_case",
              "Awalan \"" + ref + "\" cocok dengan beberapa kasus; tulis lebih panjang.");
}

std::pair<std::string, CaseState> Api::open_case(const std::string& ref) {
  View v = replica().view(templates());
  std::string id = resolve_case(v, ref);
  return {id, *v.load_case(id)};
}

json Api::write(const std::string& record, const std::string& op_name, const json& body,
                const VersionVector& context, const std::optional<std::string>& attachment,
                const Replica::BodyFinisher& finish) {
  Change c = replica().append(record, op_name, body.dump(), context, clock_, templates(),
                              attachment, finish);
  return {{"change", c.id()}, {"record", c.record}, {"state", "tentative"}};
}

// --- enrolment and sync -------------------------------------------------------------------

json Api::enroll(const std::string& server, const std::string& username,
                 const std::string& password, const std::string& fingerprint,
                 const std::optional<std::string>& passphrase,
                 const std::optional<std::string>& imported_key) {
  // The key first: a weak passphrase or a foreign key file stops before anything is written.
  std::optional<crypto::Ed25519Key> key;
  if (imported_key && !passphrase)
    throw Error("passphrase_required", "Kunci yang diimpor memerlukan frasa sandinya.");
  if (passphrase) key = imported_key ? import_signing_key(*imported_key, username, *passphrase)
                                     : new_signing_key(username, *passphrase);
  Enrolled e =
      client::enroll(open_replica(true), server, fingerprint, username, password, connector_);
  json out{{"replica", e.replica}, {"username", e.username}, {"name", e.name}, {"unit", e.unit}};
  {
    std::ofstream marker(u8_path(home_) / kEnrolmentMarker);
    marker << json{{"replica", e.replica}, {"username", e.username}, {"server", server}}.dump()
           << "\n";
  }
  if (key) store_signing_key(*key, *passphrase);
  try {  // the first sync brings the organisation and open cases; then the key is published
    SyncClient sc(replica(), templates(), connector_);
    sc.set_clock(clock_);
    sc.connect();
    sc.sync_once();
    if (key && publish_signing_key(*key)) sc.sync_once();
    out["synced"] = true;
  } catch (const Error& err) {
    out["synced"] = false;
    out["sync_error"] = err.what();
  }
  return out;
}

json Api::sync() {
  std::string me = replica().require_meta("replica");
  SyncClient sc(replica(), templates(), connector_);
  sc.set_clock(clock_);
  SyncReport r;
  try {
    sc.connect();
    r = sc.sync_once();
  } catch (const Error& e) {
    // Kept for `alur status`, so that the official can see later what went wrong (e.g. the
    // server's disk is full: nothing was sent, everything waits in the outbox).
    try {
      sql::Transaction tx(replica().db());
      replica().set_meta(
          "last_sync_error",
          json{{"code", e.code()}, {"message", e.what()}, {"at", clock_.now_ms()}}.dump());
      sc.store_clock_skew();
      tx.commit();
    } catch (const Error&) {  // a full local disk: the error itself is still reported
    }
    throw;
  }
  replica().db().cached("DELETE FROM meta WHERE key = 'last_sync_error'").exec();
  json rej = json::array(), warn = json::array();
  for (const auto& x : r.rejections)
    rej.push_back({{"change", me + ":" + std::to_string(x.counter)},
                   {"code", x.code},
                   {"message", x.message}});
  for (const auto& x : r.warnings)
    warn.push_back({{"change", me + ":" + std::to_string(x.counter)},
                    {"code", x.code},
                    {"message", x.message}});
  json out{{"pushed", r.pushed},
           {"accepted", r.accepted},
           {"rejected", r.rejected},
           {"pulled", r.pulled},
           {"rejections", rej},
           {"warnings", warn},
           {"clock_skew_ms", sc.clock_skew_ms()},
           {"compressed", sc.compressed()}};
  if (auto w = clock_skew_warning(sc.clock_skew_ms()); !w.empty()) out["clock_warning"] = w;
  if (const auto& renewed = sc.certificate_renewed())
    out["certificate_renewed"] = {{"from", renewed->first}, {"to", renewed->second}};
  return out;
}

void Api::watch(const std::atomic<bool>& stop,
                const std::function<void(const std::string&)>& event) {
  replica().require_meta("replica");
  SyncClient sc(replica(), templates(), connector_);
  sc.set_clock(clock_);
  sc.watch(stop, event);
}

json Api::status() {
  Replica& r = replica();
  r.require_meta("replica");
  View v = r.view(templates());
  json pending = json::array(), rejected = json::array();
  for (const auto& row : r.outbox()) {
    json item{{"change", row.change.id()},
              {"op", row.change.op},
              {"record", row.change.record},
              {"at", time_or_null(HybridClock::to_ms(row.change.hlc))}};
    if (row.status == "pending") pending.push_back(item);
    if (row.status == "rejected") {
      item["code"] = row.code;
      item["message"] = row.message;
      rejected.push_back(item);
    }
  }
  json doomed = json::array();
  for (const auto& [counter, verdict] : v.doomed())
    doomed.push_back({{"counter", counter}, {"code", verdict.code}, {"message", verdict.message}});
  auto last = r.meta("last_sync");
  json last_error;
  if (auto e = r.meta("last_sync_error")) {
    last_error = json::parse(*e);
    last_error["at"] = format_time_utc(last_error["at"].get<Millis>());
  }
  std::int64_t skew = std::stoll(r.meta("clock_skew_ms").value_or("0"));
  json clock_warning;
  if (auto w = clock_skew_warning(skew); !w.empty()) clock_warning = w;
  return {{"tentative", pending.size()},
          {"last_sync_error", last_error},
          {"clock_skew_ms", skew},
          {"clock_warning", clock_warning},
          {"pending", pending},
          {"rejected", rejected},
          {"conflicting", doomed},
          {"cursor", r.cursor()},
          {"last_sync", last ? json(format_time_utc(std::stoll(*last))) : json()},
          {"username", r.require_meta("username")},
          {"name", r.meta("name").value_or("")},
          {"server", r.meta("server").value_or("")}};
}

// --- repair ------------------------------------------------------------------------------

namespace {

json change_summary(const Change& c) {
  return {{"change", c.id()},
          {"op", c.op},
          {"record", c.record},
          {"at", time_or_null(HybridClock::to_ms(c.hlc))},
          {"body", c.body}};
}

// "20260930T081500Z": a timestamp that is a valid file name everywhere.
std::string file_stamp(Millis ms) {
  std::string t = format_time_utc(ms), out;
  for (char ch : t)
    if (ch != ':' && ch != '-') out += ch;
  return out;
}

// Moves FILE (and its -wal and -shm) to FILE.rusak-<stamp>; returns the new name.
std::string move_aside(const fs::path& file, Millis now) {
  std::string aside = u8_string(file) + ".rusak-" + file_stamp(now);
  for (const char* suffix : {"-wal", "-shm", ""}) {
    fs::path from = u8_path(u8_string(file) + suffix);
    if (fs::exists(from)) fs::rename(from, u8_path(aside + suffix));
  }
  return aside;
}

}  // namespace

json Api::verify() {
  fs::path file = u8_path(home_) / Replica::kFileName;
  if (!fs::exists(file))
    throw Error("not_enrolled", "Tidak ada data lokal di " + home_ + " untuk diperiksa.");
  std::vector<std::string> problems;
  std::uint64_t entries = 0;
  try {
    Replica r(home_);
    problems = r.full_check();
    if (problems.empty()) problems = r.replay_check(templates());
    entries = r.cursor();
  } catch (const Error& e) {
    problems.push_back(e.what());
  }
  return {{"ok", problems.empty()}, {"problems", problems}, {"entries", entries}};
}

json Api::repair(bool force) {
  fs::path file = u8_path(home_) / Replica::kFileName;
  replica_.reset();
  if (!fs::exists(file))
    throw Error(fs::exists(u8_path(home_) / kEnrolmentMarker) ? "replica_deleted" : "not_enrolled",
                "Tidak ada data lokal di " + home_ +
                    ": tidak ada yang dapat diperbaiki. Bila berkas itu terhapus, kunci perangkat "
                    "ikut hilang: daftarkan ulang perangkat ini dengan alur enroll. Perubahan yang "
                    "sudah tersinkron aman di server; yang belum tersinkron tidak dapat "
                    "diselamatkan.");
  json out{{"file", u8_string(file)}};
  // 1. The full check (integrity_check, both hash chains).
  std::vector<std::string> problems;
  try {
    Replica r(home_);
    problems = r.full_check();
  } catch (const Error& e) {
    problems.push_back(e.what());
  }
  out["problems"] = problems;
  if (problems.empty() && !force) {
    out["repaired"] = false;
    return out;
  }
  // 2. Salvage from a copy of the damaged file.
  Salvage salvaged = salvage_replica(u8_string(file));
  out["salvage_notes"] = salvaged.notes;
  const Millis now = clock_.now_ms();
  std::vector<std::string> missing;
  for (const char* key : kEnrolmentKeys)
    if (!salvaged.meta.count(key)) missing.push_back(key);
  if (!missing.empty()) {
    // Without its key and token this device cannot speak for its changes any more: keep the
    // evidence, write down the unsent changes that could be read, and say so plainly.
    std::string aside = move_aside(file, now);
    json unsent = json::array();
    for (const auto& [counter, r] : salvaged.rows)
      if (r.row.status == "pending") unsent.push_back(change_summary(r.row.change));
    std::string report = u8_string(u8_path(home_) / ("perbaikan-" + file_stamp(now) + ".json"));
    std::ofstream(u8_path(report))
        << json{{"damaged_file", aside}, {"unsent_not_saved", unsent}, {"notes", salvaged.notes}}
               .dump(2)
        << "\n";
    fs::remove(u8_path(home_) / kEnrolmentMarker);
    throw Error(
        "reenroll_needed",
        "Data lokal rusak sampai pengaturan pendaftaran (kunci perangkat/token) tidak "
        "terbaca; berkas rusak disimpan sebagai " +
            aside +
            ". Perangkat ini harus didaftarkan ulang: alur enroll --server ... "
            "--username ... . " +
            (unsent.empty() ? std::string("Tidak ada perubahan belum terkirim yang terbaca.")
                            : std::to_string(unsent.size()) +
                                  " perubahan yang belum terkirim tidak dapat dikirim; isinya "
                                  "dicatat di " +
                                  report + " untuk dikerjakan ulang."));
  }
  // 3. A fresh replica beside the damaged one, rebuilt from the server's whole log.
  fs::path work = u8_path(home_) / "perbaikan";
  fs::remove_all(work);  // what an interrupted repair left: only a rebuild, never evidence
  RequeuePlan plan;
  std::size_t pulled = 0;
  {
    Replica fresh(u8_string(work));
    {
      sql::Transaction tx(fresh.db());
      for (const char* key :
           {"server", "fingerprint", "replica", "username", "name", "unit", "token", "device_key",
            "personal_key"})
        if (auto it = salvaged.meta.find(key); it != salvaged.meta.end())
          fresh.set_meta(key, it->second);
      tx.commit();
    }
    SyncClient sc(fresh, templates(), connector_);
    sc.set_clock(clock_);
    sc.connect();  // throws when the server cannot be reached: nothing has been moved yet
    pulled = sc.pull_all();
    std::optional<std::uint64_t> local_head;
    if (auto it = salvaged.meta.find("counter"); it != salvaged.meta.end())
      local_head = std::stoull(it->second);
    plan = plan_requeue(salvaged, sc.welcome().highest_counter, sc.welcome().last_hash, local_head);
    // 4. Re-queue: the stored bytes as they were, so that their hashes (and the chain) hold.
    sql::Transaction tx(fresh.db());
    std::uint64_t hlc = std::stoull(fresh.meta("hlc").value_or("0"));
    if (auto it = salvaged.meta.find("hlc"); it != salvaged.meta.end())
      hlc = std::max<std::uint64_t>(hlc, std::stoull(it->second));
    for (auto& r : plan.keep) {
      // Beyond what the server has received, nothing can be accepted: a server restored
      // from an older backup lost those outcomes, so the changes are sent again.
      if (r.row.counter > sc.welcome().highest_counter && r.row.status != "pending") {
        r.row.status = "pending";
        r.row.code.clear();
        r.row.message.clear();
        r.row.seq = 0;
      }
      fresh.db()
          .cached(
              "INSERT INTO outbox (counter, case_id, encoded, status, code, message, seq, blob, "
              "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .bind(1, static_cast<std::int64_t>(r.row.counter))
          .bind_text(2, r.row.change.case_id())
          .bind_blob(3, r.encoded)
          .bind_text(4, r.row.status)
          .bind_text(5, r.row.code)
          .bind_text(6, r.row.message)
          .bind(7, static_cast<std::int64_t>(r.row.seq))
          .bind_text(8, r.row.blob)
          .bind(9, r.created_at)
          .exec();
      if (auto b = salvaged.blobs.find(r.row.blob); b != salvaged.blobs.end())
        fresh.put_blob(b->second);
      hlc = std::max(hlc, r.row.change.hlc);
    }
    fresh.set_meta("counter", std::to_string(plan.head_counter));
    fresh.set_meta("last_hash", crypto::to_hex(plan.head_hash));
    fresh.set_meta("hlc", std::to_string(hlc));
    sc.store_clock_skew();
    tx.commit();
  }  // closed: checkpointed into one file
  // 5. The damaged file aside (evidence), the rebuilt one in its place.
  std::string aside = move_aside(file, now);
  fs::rename(work / Replica::kFileName, file);
  fs::remove_all(work);

  json saved = json::array(), lost = json::array();
  for (const auto& r : plan.keep)
    if (r.row.status == "pending") saved.push_back(change_summary(r.row.change));
  for (std::uint64_t c : plan.lost) {
    auto it = plan.lost_known.find(c);
    lost.push_back(it != plan.lost_known.end()
                       ? change_summary(it->second)
                       : json{{"change", salvaged.meta["replica"] + ":" + std::to_string(c)},
                              {"op", nullptr},
                              {"record", nullptr}});
  }
  out["repaired"] = true;
  out["damaged_file"] = aside;
  out["pulled"] = pulled;
  out["saved"] = saved;
  out["lost"] = lost;
  // 6. Send the saved changes now; if that fails they wait in the outbox as usual.
  try {
    out["sync"] = sync();
  } catch (const Error& e) {
    out["sync_error"] = json{{"code", e.code()}, {"message", e.what()}};
  }
  std::ofstream(u8_path(home_) / ("perbaikan-" + file_stamp(now) + ".json")) << out.dump(2) << "\n";
  return out;
}

// --- cases ---------------------------------------------------------------------------------

json Api::case_open(const std::string& sop, const std::string& period) {
  check_period(period);
  View v = replica().view(templates());
  auto tpl = latest_template(v, templates(), sop);
  if (!tpl) throw Error("unknown_sop", "SOP \"" + sop + "\" tidak dikenal.");
  std::string id = crypto::to_hex(crypto::random_bytes(8));
  json out = write("case/" + id, op::kCaseOpen,
                   {{"sop", sop}, {"version", tpl->version}, {"period", period}});
  out["case"] = id;
  out["title"] = tpl->case_title(period);
  return out;
}

json Api::case_list() {
  View v = replica().view(templates());
  json arr = json::array();
  for (const auto& c : v.case_summaries())
    arr.push_back({{"case", c.id},
                   {"title", c.title},
                   {"state", c.state},
                   {"sop", c.sop},
                   {"period", c.period}});
  return arr;
}

json Api::case_show(const std::string& ref) {
  Replica& r = replica();
  View v = r.view(templates());
  std::string id = resolve_case(v, ref);
  CaseState c = *v.load_case(id);
  auto committed = r.load_case(id);
  auto tpl = case_template(v, c);
  const Org& org = v.org();
  const WorkCalendar cal = r.calendar();
  const Millis now = clock_.now_ms();
  json steps = json::array();
  for (const auto& s : tpl->steps) {
    json tasks = json::array();
    for (const auto& t : c.tasks) {
      if (t.step != s.no) continue;
      const TaskState* ct = committed ? committed->task(t.key) : nullptr;
      bool tentative = !ct || ct->state != t.state || ct->change != t.change;
      json task = {{"task", task_id(id, t.key)},
                   {"role", t.role},
                   {"bidang", t.bidang ? json(*t.bidang) : json()},
                   {"actor", org.role_label(t.role, t.bidang)},
                   {"state", t.state},
                   {"by", t.by.empty() ? json() : json(t.by)},
                   {"at", time_or_null(t.at)},
                   {"round", t.round},
                   {"ready_at", time_or_null(t.ready_at)},
                   {"text", t.text},
                   {"revision", t.revision},
                   {"tentative", tentative}};
      task.update(timing_json(task_timing(t, &s, cal, now)));
      if (t.state == "done") {
        task["as"] = done_as(org, t);  // "Plt. Kepala Dinas"
        task["acting"] = t.acting.empty() ? json() : json(t.acting);
        if (!t.outcome.empty()) task["outcome"] = t.outcome;
      }
      tasks.push_back(std::move(task));
    }
    steps.push_back({{"step", s.no},
                     {"title", s.title},
                     {"kind", s.kind},
                     {"role", s.actor},
                     {"roles", s.actors},
                     {"days", s.days},
                     {"output", s.output},
                     {"inputs", s.inputs},
                     {"tasks", tasks}});
    // The draft the step writes or binds to, and a decision step's choices: what the web
    // app's action form needs.
    if (!s.draft.empty()) steps.back()["draft"] = s.draft;
    if (!s.outcomes.empty()) {
      json outcomes = json::array();
      for (const auto& o : s.outcomes)
        outcomes.push_back({{"code", o.code},
                            {"label", o.label},
                            {"return_to", o.return_to ? json(*o.return_to) : json()}});
      steps.back()["outcomes"] = outcomes;
    }
  }
  json drafts = json::array(), conflicts = json::array();
  for (const auto& [name, d] : c.drafts) {
    auto heads = d.heads();
    drafts.push_back({{"name", name}, {"heads", heads}, {"revisions", d.revisions.size()}});
    if (heads.size() > 1)
      conflicts.push_back({{"kind", "draft"}, {"name", name}, {"heads", heads}});
  }
  for (const auto& [key, d] : c.dispositions)
    if (d.value.in_conflict()) {
      json values = json::array();
      for (const auto& s : d.value.siblings())
        values.push_back({{"text", s.value.text}, {"by", s.value.by}});
      conflicts.push_back(
          {{"kind", "disposition"}, {"task", task_id(id, key)}, {"values", values}});
    }
  json corrections = json::array();
  for (const auto& [cid, k] : c.corrections)
    corrections.push_back({{"id", cid},
                           {"draft", k.draft},
                           {"revision", k.revision},
                           {"text", k.text},
                           {"by", k.by},
                           {"at", time_or_null(k.at)},
                           {"state", k.state()}});
  json approvals = json::array();
  for (const auto& a : c.approvals)
    approvals.push_back({{"kind", a.kind},
                         {"step", a.step},
                         {"by", a.by},
                         {"role", a.role},
                         {"draft", a.draft},
                         {"revision", a.revision},
                         {"sha256", a.sha256},
                         {"at", time_or_null(a.at)},
                         {"superseded", a.superseded},
                         {"acting", a.acting.empty() ? json() : json(a.acting)}});
  json returns = json::array();
  for (const auto& x : c.returns)
    returns.push_back({{"from_task", task_id(id, x.from_task)},
                       {"to_step", x.to_step},
                       {"reason", x.reason},
                       {"by", x.by},
                       {"at", time_or_null(x.at)},
                       {"acting", x.acting.empty() ? json() : json(x.acting)},
                       {"outcome", x.outcome.empty() ? json() : json(x.outcome)}});
  json people = json::object();
  for (const auto& p : org.people) people[p.username] = p.name;
  return {{"case", id},
          {"title", c.title},
          {"sop", c.sop},
          {"period", c.period},
          {"state", c.state},
          {"opened_by", c.opened_by},
          {"version", c.version},
          {"related", related_cases(v, c, *tpl)},
          {"steps", steps},
          {"drafts", drafts},
          {"conflicts", conflicts},
          {"corrections", corrections},
          {"approvals", approvals},
          {"returns", returns},
          {"people", people}};
}

json Api::inbox() {
  Replica& r = replica();
  std::string me = r.require_meta("username");
  View v = r.view(templates());
  const Org& org = v.org();
  const WorkCalendar cal = r.calendar();
  const Millis now = clock_.now_ms();
  json items = json::array();
  for (const auto& id : v.cases_with_ready_tasks(may_act_in(v, me))) {
    CaseState c = *v.load_case(id);
    auto tpl = case_template(v, c);
    for (const auto& t : c.tasks) {
      if (t.state != "ready") continue;
      const StepDef* s = tpl->step(t.step);
      // Mine if I hold one of the step's roles, or act in one as Plt./Plh. today.
      std::string as;
      for (const auto& role : s->actors) {
        if (org.holds(me, role, t.bidang)) {
          as = org.role_label(role, t.bidang);
          break;
        }
        if (const Delegation* d = org.acting(me, role, t.bidang, clock_.now_ms(), clock_.now_ms()))
          as = acting_prefix(d->kind) + " " + org.role_label(role, t.bidang);
      }
      if (as.empty()) continue;
      TaskTiming timing = task_timing(t, s, cal, now);
      items.push_back(
          {{"task", task_id(id, t.key)},
           {"case", id},
           {"step", t.step},
           {"kind", s->kind},
           {"role", t.role},
           {"bidang", t.bidang ? json(*t.bidang) : json()},
           {"due", timing.due},
           {"due_certain", timing.due_certain},
           {"due_note", timing.due_certain ? json() : json(uncertain_note(timing.missing_years))},
           {"days", s->days},
           {"ready_at", time_or_null(t.ready_at)},
           {"title", c.title},
           {"what", s->title},
           {"description", s->description},
           {"inputs", s->inputs},
           {"remaining_days", timing.remaining_days.value_or(0)},
           {"overdue", timing.overdue},
           {"round", t.round},
           {"as", as}});
    }
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return a["due"].get<std::string>() < b["due"].get<std::string>();
  });
  return items;
}

// --- acting ----------------------------------------------------------------------------------

json Api::act(const std::string& task, const std::string& text,
              const std::optional<Attachment>& file, const std::string& outcome,
              const std::optional<std::string>& passphrase) {
  auto [case_ref, key] = split_task_id(task);
  auto [id, c] = open_case(case_ref);
  const TaskState* t = c.task(key);
  if (!t) throw Error("unknown_task", "Tugas " + task + " tidak ada pada kasus ini.");
  View v = replica().view(templates());
  auto tpl = case_template(v, c);
  const StepDef* s = tpl->step(t->step);
  json body{{"round", t->round}};
  if (!text.empty()) body["text"] = text;
  if (s->kind == "decision") {
    std::string codes;
    for (const auto& o : s->outcomes) codes += (codes.empty() ? "" : ", ") + o.code;
    if (!s->outcome(outcome))
      throw Error("bad_action", "Langkah ini meminta keputusan: --outcome " + codes + ".");
    body["outcome"] = outcome;
  } else if (!outcome.empty()) {
    throw Error("bad_action", "Langkah " + std::to_string(s->no) + " bukan langkah keputusan.");
  }
  std::optional<std::string> attachment;
  // Names the case through an init-capture: clang 14 cannot capture a structured binding.
  auto heads = [&, &drafts = c.drafts] {
    auto d = drafts.find(s->draft);
    return d == drafts.end() ? std::vector<std::string>{} : d->second.heads();
  };
  if (file) {
    if (s->draft.empty() || s->kind == "initial" || s->kind == "sign" || s->kind == "disposition")
      throw Error("bad_action",
                  "Langkah " + std::to_string(s->no) + " (" + s->kind + ") tidak menerima berkas.");
    attachment = file->content;
    body["revision"] = revision_body(file->content, file->filename, heads());
  }
  if (s->kind == "draft" && !file)
    throw Error("bad_action", "Langkah ini memerlukan berkas draft: --file BERKAS.");
  if (s->kind == "correct") {
    auto hs = heads();
    if (hs.empty())
      throw Error("unknown_revision", "Belum ada revisi draft " + s->draft + " untuk dikoreksi.");
    body["on_revision"] = hs.back();
  }
  if (s->kind == "initial" || s->kind == "sign") {
    auto hs = heads();
    if (hs.size() != 1)
      throw Error("stale_revision",
                  hs.empty()
                      ? "Belum ada revisi draft " + s->draft + "."
                      : "Draft " + s->draft + " memiliki beberapa versi terakhir; gabungkan dulu.");
    body["bind_revision"] = hs[0];
    body["bind_sha256"] = c.drafts.at(s->draft).revisions.at(hs[0]).sha256;
  }
  Replica::BodyFinisher sign;
  if (s->kind == "initial" || s->kind == "sign") sign = signer(passphrase);
  json out = write("task/" + id + "/" + key, op::kTaskComplete, body, {}, attachment, sign);
  out["task"] = task_id(id, key);
  out["message"] = "Langkah " + std::to_string(s->no) + " (" + s->title + ") diselesaikan";
  return out;
}

json Api::return_task(const std::string& task, int to_step, const std::string& reason) {
  auto [case_ref, key] = split_task_id(task);
  auto [id, c] = open_case(case_ref);
  const TaskState* t = c.task(key);
  if (!t) throw Error("unknown_task", "Tugas " + task + " tidak ada pada kasus ini.");
  json out = write("task/" + id + "/" + key, op::kCaseReturn,
                   {{"round", t->round}, {"to_step", to_step}, {"reason", reason}});
  out["message"] = "Kasus dikembalikan ke langkah " + std::to_string(to_step);
  return out;
}

// --- drafts, dispositions, corrections ----------------------------------------------------------

json Api::draft_put(const std::string& case_ref, const std::string& name, const Attachment& file) {
  auto [id, c] = open_case(case_ref);
  std::vector<std::string> parents;
  if (auto d = c.drafts.find(name); d != c.drafts.end()) parents = d->second.heads();
  json out = write("draft/" + id + "/" + name, op::kDraftRevise,
                   revision_body(file.content, file.filename, parents), {}, file.content);
  out["rev"] = out["change"];
  out["parents"] = parents;
  out["message"] =
      "Revisi baru draft " + name +
      (parents.size() > 1 ? " (menggabungkan " + std::to_string(parents.size()) + " versi)" : "");
  return out;
}

json Api::draft_show(const std::string& case_ref, const std::string& name) {
  auto [id, c] = open_case(case_ref);
  const Draft& d = find_draft(c, name);
  std::vector<const Revision*> revs;
  for (const auto& [rid, rv] : d.revisions) revs.push_back(&rv);
  std::sort(revs.begin(), revs.end(),
            [](auto* a, auto* b) { return a->at != b->at ? a->at < b->at : a->id < b->id; });
  json arr = json::array();
  for (const auto* rv : revs)
    arr.push_back({{"rev", rv->id},
                   {"parents", rv->parents},
                   {"by", rv->by},
                   {"sha256", rv->sha256},
                   {"at", time_or_null(rv->at)},
                   {"size", rv->size},
                   {"filename", rv->filename},
                   {"media", rv->media},
                   {"step", rv->step},
                   {"downloaded", replica().has_blob(rv->sha256)}});
  return {{"name", name}, {"heads", d.heads()}, {"revisions", arr}};
}

std::pair<json, std::string> Api::draft_get(const std::string& case_ref, const std::string& name,
                                            const std::string& rev) {
  auto [id, c] = open_case(case_ref);
  const Draft& d = find_draft(c, name);
  std::string rid = rev.empty() ? d.heads().back() : rev;
  auto it = d.revisions.find(rid);
  if (it == d.revisions.end()) throw Error("unknown_revision", "Revisi " + rid + " tidak ada.");
  auto data = replica().blob(it->second.sha256);
  if (!data) throw Error("blob_missing", "Isi revisi belum diunduh; jalankan alur sync.");
  return {{{"rev", rid}, {"sha256", it->second.sha256}, {"filename", it->second.filename}},
          std::move(*data)};
}

json Api::draft_merge(const std::string& case_ref, const std::string& name) {
  auto [id, c] = open_case(case_ref);
  const Draft& d = find_draft(c, name);
  auto heads = d.heads();
  if (heads.size() != 2)
    throw Error("nothing_to_merge", "Draft " + name + " memiliki " + std::to_string(heads.size()) +
                                        " versi terakhir; penggabungan otomatis butuh tepat 2.");
  const auto& revs = d.revisions;
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
  // The base of the 3-way merge: the newest common ancestor.
  auto a = ancestors(heads[0]), b = ancestors(heads[1]);
  const Revision* base = nullptr;
  for (const auto& x : a)
    if (b.count(x) && (!base || revs.at(x).at > base->at)) base = &revs.at(x);
  auto content = [&](const Revision& rv) {
    if (rv.media != "text")
      throw Error("not_text",
                  "Revisi " + rv.id + " bukan teks; gabungkan secara manual dengan draft put.");
    auto data = replica().blob(rv.sha256);
    if (!data)
      throw Error("blob_missing", "Isi revisi " + rv.id + " belum diunduh; jalankan alur sync.");
    return *data;
  };
  MergeResult m = merge3(base ? content(*base) : "", content(revs.at(heads[0])),
                         content(revs.at(heads[1])), heads[0], heads[1]);
  if (!m.clean)
    throw Error("merge_conflict",
                "Perubahan kedua versi bertumpuk di " + std::to_string(m.conflicts) +
                    " tempat; gabungkan secara manual (draft get, sunting, draft put).");
  json body = revision_body(m.text, revs.at(heads.back()).filename, heads);
  body["media"] = "text";
  json out = write("draft/" + id + "/" + name, op::kDraftRevise, body, {}, m.text);
  out["rev"] = out["change"];
  out["parents"] = heads;
  out["message"] = "Draft " + name + " digabung otomatis";
  return out;
}

json Api::disposition_set(const std::string& task, const std::string& text) {
  auto [case_ref, key] = split_task_id(task);
  auto [id, c] = open_case(case_ref);
  auto it = c.dispositions.find(key);
  if (it == c.dispositions.end())
    throw Error("unknown_record", "Tugas ini belum memiliki disposisi.");
  json out =
      write("disp/" + id + "/" + key, op::kDispositionSet, {{"text", text}}, it->second.value.vv());
  out["message"] = "Disposisi diperbarui";
  return out;
}

json Api::correction_add(const std::string& case_ref, const std::string& name,
                         const std::string& text) {
  auto [id, c] = open_case(case_ref);
  const Draft& d = find_draft(c, name);
  json out = write("corr/" + id + "/", op::kCorrectionAdd,
                   {{"draft", name}, {"revision", d.heads().back()}, {"text", text}});
  out["correction"] = out["change"];
  out["message"] = "Koreksi " + out["change"].get<std::string>() + " ditambahkan";
  return out;
}

json Api::correction_status(const std::string& case_ref, const std::string& cid,
                            const std::string& status) {
  auto [id, c] = open_case(case_ref);
  auto it = c.corrections.find(cid);
  if (it == c.corrections.end()) throw Error("unknown_record", "Koreksi " + cid + " tidak ada.");
  json out = write("corr/" + id + "/" + cid, op::kCorrectionStatus, {{"status", status}},
                   it->second.status.vv());
  out["message"] = status == "resolved" ? "Koreksi ditandai selesai" : "Koreksi dibuka kembali";
  return out;
}

}  // namespace alur::client
