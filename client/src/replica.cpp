// The client's SQLite replica: committed log, materialized cases, outbox, blobs.
#include "alur/client/replica.h"

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "alur/shared/error.h"
#include "alur/shared/paths.h"
#include "alur/shared/planted.h"
#include "alur/shared/template_table.h"
#include "alur/sync/batch_state.h"
#include "alur/sync/memory_state.h"
#include "alur/sync/signing.h"

namespace alur::client {

namespace fs = std::filesystem;
using namespace alur::sync;

namespace {

// The schema, step by step (client/SCHEMA.md); a released step never changes.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  counter INTEGER PRIMARY KEY,
  case_id TEXT NOT NULL,
  encoded BLOB NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  code TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  seq INTEGER NOT NULL DEFAULT 0,
  blob TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_by_status ON outbox (status, counter);
CREATE TABLE IF NOT EXISTS log (
  seq INTEGER PRIMARY KEY,
  committed_at INTEGER NOT NULL,
  log_hash BLOB NOT NULL,
  encoded BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
  id TEXT PRIMARY KEY,
  sop TEXT NOT NULL,
  period TEXT NOT NULL,
  state TEXT NOT NULL,
  body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL);
)sql";

// 2: SOP templates the server imported (sop.set).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS templates (
  sop TEXT NOT NULL,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (sop, version));
)sql";

// 3: the stored overlay (the tentative state of each case with tentative changes, and the
// verdicts on the ones that no longer apply), so that a local write costs the same whatever
// the backlog; the ready tasks of each case, so that the inbox reads only the cases where
// the official may have work; indexes for the cases of a period and for the tentative
// changes. A replica upgraded with pending changes has no overlay_head: its first view
// builds the overlay.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE IF NOT EXISTS overlay (
  case_id TEXT PRIMARY KEY,
  sop TEXT NOT NULL,
  period TEXT NOT NULL,
  body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS overlay_by_period ON overlay (period, sop);
CREATE TABLE IF NOT EXISTS doomed (
  counter INTEGER PRIMARY KEY,
  code TEXT NOT NULL,
  message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cases_by_period ON cases (period, sop);
CREATE INDEX IF NOT EXISTS outbox_by_seq ON outbox (status, seq);
CREATE TABLE IF NOT EXISTS ready_tasks (
  tentative INTEGER NOT NULL,
  case_id TEXT NOT NULL,
  key TEXT NOT NULL,
  sop TEXT NOT NULL,
  version INTEGER NOT NULL,
  step INTEGER NOT NULL,
  PRIMARY KEY (tentative, case_id, key));
INSERT OR REPLACE INTO ready_tasks (tentative, case_id, key, sop, version, step)
  SELECT 0, cases.id, json_extract(t.value, '$.key'), cases.sop,
         json_extract(cases.body, '$.version'), json_extract(t.value, '$.step')
  FROM cases, json_each(cases.body, '$.tasks') AS t
  WHERE json_extract(t.value, '$.state') = 'ready';
DELETE FROM meta WHERE key = 'overlay_head';
)sql";

// Version 4: a narrow index on the log, so that the COUNT(*) every open makes
// (quick_check) reads a few bytes per entry instead of the whole log table.
constexpr const char* kSchemaV4 = R"sql(
CREATE INDEX IF NOT EXISTS log_count ON log (seq);
)sql";

const std::vector<sql::Migration> kMigrations = {
    {1, kSchemaV1}, {2, kSchemaV2}, {3, kSchemaV3}, {4, kSchemaV4}};

// This device's tentative changes, in counter order: pending ones, and accepted ones not
// yet pulled (their seq is past the cursor).
constexpr const char* kTentative =
    "SELECT counter, encoded FROM outbox WHERE status = 'pending' UNION ALL "
    "SELECT counter, encoded FROM outbox WHERE status = 'accepted' AND seq > ? "
    "ORDER BY counter";

}  // namespace

std::string default_home() {
  if (auto h = env_utf8("ALUR_HOME")) return *h;
#ifdef _WIN32
  if (auto a = env_utf8("LOCALAPPDATA")) return u8_string(u8_path(*a) / "alur");
#endif
  if (auto x = env_utf8("XDG_DATA_HOME")) return u8_string(u8_path(*x) / "alur");
  if (auto home = env_utf8("HOME")) return u8_string(u8_path(*home) / ".local" / "share" / "alur");
  return ".alur";
}

namespace {
std::string prepare_home(const std::string& home) {
  std::error_code ec;
  fs::create_directories(u8_path(home), ec);
  if (ec) throw Error("io", "Tidak dapat membuat folder data " + home + ": " + ec.message());
  fs::permissions(u8_path(home), fs::perms::owner_all, fs::perm_options::replace, ec);
  return u8_string(u8_path(home) / Replica::kFileName);
}
}  // namespace

Replica::Replica(const std::string& home) : db_(prepare_home(home)) { migrate(); }

Replica::Replica(const sql::File& file) : db_(file.path) { migrate(); }

void Replica::migrate() {
  sql::migrate(db_, kMigrations,
               "Data lokal dibuat oleh versi alur yang lebih baru; perbarui aplikasi.");
}

std::optional<std::string> Replica::meta(const std::string& key) {
  auto s = db_.cached("SELECT value FROM meta WHERE key = ?");
  s.bind_text(1, key);
  if (!s.step()) return std::nullopt;
  return s.get_text(0);
}

void Replica::set_meta(const std::string& key, const std::string& value) {
  db_.cached(
         "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
         "excluded.value")
      .bind_text(1, key)
      .bind_text(2, value)
      .exec();
}

std::string Replica::require_meta(const std::string& key) {
  auto v = meta(key);
  if (!v)
    throw Error(
        "not_enrolled",
        "Perangkat ini belum didaftarkan; jalankan dulu: alur enroll --server ... --username ...");
  return *v;
}

bool Replica::enrolled() { return meta("replica").has_value(); }

crypto::Ed25519Key Replica::device_key() {
  return crypto::Ed25519Key::from_private(crypto::from_hex(require_meta("device_key")));
}

// --- committed state ---------------------------------------------------------------

const Org& Replica::org() {
  // Another process may have written a new org: read the stored text every time.
  return org_.get(meta("org").value_or(""));
}

void Replica::set_org(const Org& org) { set_meta("org", org_.set(org)); }

void Replica::set_calendar(int year, const std::string& canonical_json) {
  set_meta("calendar/" + std::to_string(year), canonical_json);
}

WorkCalendar Replica::calendar() {
  WorkCalendar cal = WorkCalendar::builtin();
  auto s = db_.cached("SELECT value FROM meta WHERE key LIKE 'calendar/%'");
  while (s.step()) cal.set(parse_calendar(s.get_text(0)));
  return cal;
}

std::optional<CaseState> Replica::load_case(const std::string& id) {
  auto s = db_.cached("SELECT body FROM cases WHERE id = ?");
  s.bind_text(1, id);
  if (!s.step()) return std::nullopt;
  return parsed_.parse(id, s.get_text(0));
}

void Replica::save_case(const CaseState& c) {
  db_.cached(
         "INSERT INTO cases (id, sop, period, state, body) VALUES (?, ?, ?, ?, ?) "
         "ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body")
      .bind_text(1, c.id)
      .bind_text(2, c.sop)
      .bind_text(3, c.period)
      .bind_text(4, c.state)
      .bind_text(5, case_json_text(c))
      .exec();
  store_ready_tasks(c, false);
}

void Replica::store_ready_tasks(const CaseState& c, bool tentative) {
  db_.cached("DELETE FROM ready_tasks WHERE tentative = ? AND case_id = ?")
      .bind(1, tentative ? 1 : 0)
      .bind_text(2, c.id)
      .exec();
  for (const auto& t : c.tasks)
    if (t.state == "ready")
      db_.cached(
             "INSERT INTO ready_tasks (tentative, case_id, key, sop, version, step) "
             "VALUES (?, ?, ?, ?, ?, ?)")
          .bind(1, tentative ? 1 : 0)
          .bind_text(2, c.id)
          .bind_text(3, t.key)
          .bind_text(4, c.sop)
          .bind(5, c.version)
          .bind(6, t.step)
          .exec();
}

std::optional<std::string> Replica::case_for_period(const std::string& sop,
                                                    const std::string& period) {
  auto s = db_.cached("SELECT id FROM cases WHERE sop = ? AND period = ?");
  s.bind_text(1, sop).bind_text(2, period);
  if (!s.step()) return std::nullopt;
  std::string id = s.get_text(0);
  s.reset();
  return id;
}

std::map<std::pair<std::string, int>, std::string> Replica::imported_templates() {
  return sql::read_templates(db_);
}

void Replica::put_template(const std::string& sop, int version, const std::string& text) {
  sql::write_template(db_, sop, version, text);
}

// --- view --------------------------------------------------------------------------

std::optional<CaseState> View::load_case(const std::string& id) {
  auto it = cases_.find(id);
  if (it == cases_.end()) {
    std::optional<CaseState> c;
    if (!committed_only_) c = replica_->load_overlay_case(id);
    if (!c) c = replica_->load_case(id);
    it = cases_.emplace(id, std::move(c)).first;
  }
  return it->second;
}

void View::save_case(const CaseState& c) {
  auto& slot = cases_[c.id];
  if (std::find(saved_.begin(), saved_.end(), c.id) == saved_.end()) saved_.push_back(c.id);
  slot = c;
}

std::optional<std::string> View::case_for_period(const std::string& sop,
                                                 const std::string& period) {
  for (const auto& [id, c] : cases_)
    if (c && c->sop == sop && c->period == period) return id;
  // A case's SOP and period never change and a case is never removed: any stored match holds.
  if (!committed_only_) {
    auto s = replica_->db_.cached("SELECT case_id FROM overlay WHERE sop = ? AND period = ?");
    s.bind_text(1, sop).bind_text(2, period);
    if (s.step()) {
      std::string id = s.get_text(0);
      s.reset();
      return id;
    }
  }
  return replica_->case_for_period(sop, period);
}

namespace {
// Adds the ids (first column) that a query returns.
void add_stored_ids(sql::Database& db, std::set<std::string>& ids, const char* query,
                    const std::function<void(sql::CachedStatement&)>& bind) {
  auto s = db.cached(query);
  bind(s);
  while (s.step()) ids.insert(s.get_text(0));
}
}  // namespace

std::vector<std::string> View::case_ids_with_prefix(const std::string& prefix,
                                                    std::size_t limit) {
  std::set<std::string> ids;
  for (const auto& [id, c] : cases_)
    if (c && id.rfind(prefix, 0) == 0) ids.insert(id);
  // An index range: "\xff" never occurs in UTF-8 text, so it sorts after every id with the
  // prefix.
  add_stored_ids(replica_->db(), ids,
                 committed_only_
                     ? "SELECT id FROM cases WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3"
                     : "SELECT id FROM cases WHERE id >= ?1 AND id < ?2 UNION "
                       "SELECT case_id FROM overlay WHERE case_id >= ?1 AND case_id < ?2 "
                       "ORDER BY 1 LIMIT ?3",
                 [&](sql::CachedStatement& s) {
                   s.bind_text(1, prefix).bind_text(2, prefix + "\xff");
                   s.bind(3, static_cast<std::int64_t>(limit));
                 });
  std::vector<std::string> out(ids.begin(), ids.end());
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::vector<std::string> View::case_ids_in_period(const std::string& period) {
  std::set<std::string> ids;
  for (const auto& [id, c] : cases_)
    if (c && c->period == period) ids.insert(id);
  add_stored_ids(replica_->db(), ids,
                 committed_only_ ? "SELECT id FROM cases WHERE period = ?1"
                                 : "SELECT id FROM cases WHERE period = ?1 UNION "
                                   "SELECT case_id FROM overlay WHERE period = ?1",
                 [&](sql::CachedStatement& s) { s.bind_text(1, period); });
  return {ids.begin(), ids.end()};
}

std::vector<std::string> View::cases_with_ready_tasks(const ReadyStepFilter& wanted) {
  std::set<std::string> ids;
  for (const auto& [id, c] : cases_)
    if (c)
      for (const auto& t : c->tasks)
        if (t.state == "ready" && wanted(c->sop, c->version, t.step)) ids.insert(id);
  // The stored ready tasks of every other case: its overlay's, else its committed state's.
  const char* sql = committed_only_
                        ? "SELECT case_id, sop, version, step FROM ready_tasks WHERE tentative = 0"
                        : "SELECT case_id, sop, version, step FROM ready_tasks r WHERE "
                          "tentative = 1 OR NOT EXISTS "
                          "(SELECT 1 FROM overlay o WHERE o.case_id = r.case_id)";
  auto s = replica_->db_.cached(sql);
  while (s.step()) {
    std::string id = s.get_text(0);
    if (!cases_.count(id) && wanted(s.get_text(1), static_cast<int>(s.get_int(2)),
                                    static_cast<int>(s.get_int(3))))
      ids.insert(std::move(id));
  }
  return {ids.begin(), ids.end()};
}

std::vector<View::CaseSummary> View::case_summaries() {
  std::map<std::string, CaseSummary> out;
  auto read = [&](const char* query) {
    auto s = replica_->db_.cached(query);
    while (s.step()) {
      std::string id = s.get_text(0);
      out[id] = {id, s.get_text(1), s.get_text(2), s.get_text(3), s.get_text(4)};
    }
  };
  read("SELECT id, json_extract(body, '$.title'), state, sop, period FROM cases");
  if (!committed_only_)  // the tentative state wins over the committed one
    read("SELECT case_id, json_extract(body, '$.title'), json_extract(body, '$.state'), sop, "
         "period FROM overlay");
  for (const auto& [id, c] : cases_)
    if (c) out[id] = {id, c->title, c->state, c->sop, c->period};
  std::vector<CaseSummary> list;
  list.reserve(out.size());
  for (auto& [id, summary] : out) list.push_back(std::move(summary));
  return list;
}

std::vector<std::string> View::case_ids() {
  return case_ids_with_prefix("", std::numeric_limits<std::int64_t>::max());
}

View Replica::replayed_view(const TemplateRegistry& templates) {
  View v(*this, true);
  v.org_ = org();
  v.templates_ = imported_templates();
  auto s = db_.cached(kTentative);
  s.bind(1, static_cast<std::int64_t>(cursor()));
  while (s.step()) {
    Change c = decode_change(s.get_blob(1));
    Verdict verdict =
        apply_change(v, templates, c, HybridClock::to_ms(c.hlc), {.check_blobs = false});
    if (!verdict.ok()) v.doomed_[c.dot.counter] = verdict;
  }
  return v;
}

View Replica::view(const TemplateRegistry& templates) {
  if (!overlay_fresh()) {
    if (sqlite3_get_autocommit(db_.handle()) == 0) return rebuild_overlay(templates);
    try {
      sql::Transaction tx(db_);
      View v = rebuild_overlay(templates);
      tx.commit();
      return v;
    } catch (const Error& e) {
      // The replica cannot be written (a full disk): show the replay all the same.
      if (e.code() == "db_corrupt") throw;
      return replayed_view(templates);
    }
  }
  View v(*this, false);
  auto tentative_org = meta("overlay_org");  // a key.add not yet pulled
  v.org_ = tentative_org ? overlay_org_.get(*tentative_org) : org();
  v.templates_ = imported_templates();
  auto s = db_.cached("SELECT counter, code, message FROM doomed ORDER BY counter");
  while (s.step())
    v.doomed_[static_cast<std::uint64_t>(s.get_int(0))] = {s.get_text(1), s.get_text(2)};
  return v;
}

std::string Replica::outbox_head() {
  auto s = db_.cached("SELECT COALESCE(MAX(counter), 0) FROM outbox");
  s.step();
  std::string head = std::to_string(s.get_int(0));
  s.reset();
  return head;
}

bool Replica::overlay_fresh() { return meta("overlay_head") == outbox_head(); }

void Replica::mark_overlay_stale() { db_.cached("DELETE FROM meta WHERE key = 'overlay_head'").exec(); }

std::optional<CaseState> Replica::load_overlay_case(const std::string& id) {
  auto s = db_.cached("SELECT body FROM overlay WHERE case_id = ?");
  s.bind_text(1, id);
  if (!s.step()) return std::nullopt;
  return parsed_overlay_.parse(id, s.get_text(0));
}

void Replica::store_overlay(const View& v) {
  for (const auto& id : v.saved_) {
    const CaseState& c = *v.cases_.at(id);
    std::string body = case_json_text(c);
    db_.cached(
           "INSERT INTO overlay (case_id, sop, period, body) VALUES (?, ?, ?, ?) "
           "ON CONFLICT (case_id) DO UPDATE SET body = excluded.body")
        .bind_text(1, c.id)
        .bind_text(2, c.sop)
        .bind_text(3, c.period)
        .bind_text(4, body)
        .exec();
    store_ready_tasks(c, true);
    parsed_overlay_.keep(std::move(body), c);
  }
  if (v.org_changed_) set_meta("overlay_org", overlay_org_.set(v.org_));
}

View Replica::rebuild_overlay(const TemplateRegistry& templates) {
  db_.exec(
      "DELETE FROM overlay; DELETE FROM doomed; DELETE FROM ready_tasks WHERE tentative = 1; "
      "DELETE FROM meta WHERE key = 'overlay_org'");
  parsed_overlay_.clear();
  View v = replayed_view(templates);
  store_overlay(v);
  for (const auto& [counter, verdict] : v.doomed_)
    db_.cached("INSERT INTO doomed (counter, code, message) VALUES (?, ?, ?)")
        .bind(1, static_cast<std::int64_t>(counter))
        .bind_text(2, verdict.code)
        .bind_text(3, verdict.message)
        .exec();
  set_meta("overlay_head", outbox_head());
  // Every case it did not save is committed, so that the view over the overlay reads the same.
  v.committed_only_ = false;
  return v;
}

// --- writing -----------------------------------------------------------------------

Change Replica::next_change(const std::string& record, const std::string& op_name,
                            const std::string& body, const VersionVector& context,
                            const Clock& clock) {
  Change c;
  c.record = record;
  c.op = op_name;
  c.dot = {require_meta("replica"), std::stoull(meta("counter").value_or("0")) + 1};
  c.context = context;
  c.author = require_meta("username");
  HybridClock hlc(clock, std::stoull(meta("hlc").value_or("0")));
  c.hlc = hlc.now();
  c.body = body;
  c.prev = crypto::from_hex(meta("last_hash").value_or(""));
  return c;
}

void Replica::write(const Change& change, const TemplateRegistry& templates,
                    const std::optional<std::string>& attachment) {
  sql::Transaction tx(db_);
  write_in(tx, change, templates, attachment);
  tx.commit();
}

Change Replica::append(const std::string& record, const std::string& op_name,
                       const std::string& body, const VersionVector& context, const Clock& clock,
                       const TemplateRegistry& templates,
                       const std::optional<std::string>& attachment, const BodyFinisher& finish) {
  sql::Transaction tx(db_);
  Change c = next_change(record, op_name, body, context, clock);
  if (!record.empty() && record.back() == '/') c.record += c.dot.str();
  if (finish) {
    View v = view(templates);
    c.body = finish(c, v);
  }
  write_in(tx, c, templates, attachment);
  tx.commit();
  return c;
}

void Replica::write_in(sql::Transaction&, const Change& change, const TemplateRegistry& templates,
                       const std::optional<std::string>& attachment) {
  {
    // Applied to the overlay alone: the cases it touches, not the backlog.
    View v = view(templates);
    Verdict verdict =
        apply_change(v, templates, change, HybridClock::to_ms(change.hlc), {.check_blobs = false});
    if (!verdict.ok()) throw Error(verdict.code, verdict.message);
    store_overlay(v);
  }
  std::string blob_sha;
  if (attachment) {
    put_blob(*attachment);
    blob_sha = crypto::sha256_hex(*attachment);
  }
  db_.cached(
         "INSERT INTO outbox (counter, case_id, encoded, blob, created_at) VALUES (?, ?, ?, ?, ?)")
      .bind(1, static_cast<std::int64_t>(change.dot.counter))
      .bind_text(2, change.case_id())
      .bind_blob(3, encode_change(change))
      .bind_text(4, blob_sha)
      .bind(5, HybridClock::to_ms(change.hlc))
      .exec();
  set_meta("counter", std::to_string(change.dot.counter));
  set_meta("last_hash", crypto::to_hex(change.hash()));
  set_meta("hlc", std::to_string(change.hlc));
  set_meta("overlay_head", std::to_string(change.dot.counter));
}

// --- sync --------------------------------------------------------------------------

std::vector<OutboxRow> Replica::outbox(const std::string& status_filter) {
  auto s = db_.cached(
      "SELECT counter, encoded, status, code, message, seq, blob FROM outbox "
      "WHERE ? = '' OR status = ? ORDER BY counter");
  s.bind_text(1, status_filter).bind_text(2, status_filter);
  std::vector<OutboxRow> out;
  while (s.step()) {
    OutboxRow r;
    r.counter = static_cast<std::uint64_t>(s.get_int(0));
    r.change = decode_change(s.get_blob(1));
    r.status = s.get_text(2);
    r.code = s.get_text(3);
    r.message = s.get_text(4);
    r.seq = static_cast<std::uint64_t>(s.get_int(5));
    r.blob = s.get_text(6);
    out.push_back(std::move(r));
  }
  return out;
}

std::size_t Replica::count_pending() {
  auto s = db_.cached("SELECT COUNT(*) FROM outbox WHERE status = 'pending'");
  s.step();
  auto n = static_cast<std::size_t>(s.get_int(0));
  s.reset();
  return n;
}

void Replica::record_results(const std::vector<ChangeResult>& results) {
  sql::Transaction tx(db_);
  const std::uint64_t cur = cursor();
  bool stale = false;
  for (const auto& r : results) {
    bool accepted = r.outcome != Outcome::kRejected;
    // Leaves the tentative set: the overlay must be replayed without it.
    stale = stale || !accepted || r.seq <= cur;
    db_.cached(
           "UPDATE outbox SET status = ?, code = ?, message = ?, seq = ? WHERE counter = ? AND "
           "status = 'pending'")
        .bind_text(1, accepted ? "accepted" : "rejected")
        .bind_text(2, r.code)
        .bind_text(3, r.message)
        .bind(4, static_cast<std::int64_t>(r.seq))
        .bind(5, static_cast<std::int64_t>(r.counter))
        .exec();
  }
  if (stale) mark_overlay_stale();
  tx.commit();
}

std::uint64_t Replica::cursor() { return std::stoull(meta("cursor").value_or("0")); }

bool Replica::adopt_chain_head(std::uint64_t highest_counter, const std::string& last_hash) {
  sql::Transaction tx(db_);
  if (std::stoull(meta("counter").value_or("0")) >= highest_counter) return false;
  set_meta("counter", std::to_string(highest_counter));
  set_meta("last_hash", crypto::to_hex(last_hash));
  tx.commit();
  return true;
}

std::vector<std::string> Replica::quick_check() {
  // One read transaction, so that another process's commit between two reads cannot look
  // like damage.
  db_.exec("BEGIN");
  struct End {
    sql::Database& db;
    ~End() { sqlite3_end(db); }
    static void sqlite3_end(sql::Database& d) {
      try {
        d.exec("COMMIT");
      } catch (...) {
      }
    }
  } end{db_};
  std::vector<std::string> problems;
  std::uint64_t cur = cursor();
  {
    auto s = db_.cached("SELECT seq, log_hash FROM log ORDER BY seq DESC LIMIT 1");
    std::uint64_t last = 0;
    std::string hash;
    if (s.step()) {
      last = static_cast<std::uint64_t>(s.get_int(0));
      hash = s.get_blob(1);
    }
    if (last != cur)
      problems.push_back("log berakhir di #" + std::to_string(last) + ", kursor #" +
                         std::to_string(cur));
    else if (cur > 0 && crypto::to_hex(hash) != meta("last_log_hash").value_or(""))
      problems.push_back("hash log terakhir tidak cocok");
  }
  {
    auto s = db_.cached("SELECT COUNT(*) FROM log");
    s.step();
    if (static_cast<std::uint64_t>(s.get_int(0)) != cur)
      problems.push_back("log berisi " + std::to_string(s.get_int(0)) + " entri, seharusnya " +
                         std::to_string(cur));
  }
  {
    auto s = db_.cached("SELECT counter, encoded FROM outbox ORDER BY counter DESC LIMIT 1");
    if (s.step()) {
      auto counter = static_cast<std::uint64_t>(s.get_int(0));
      std::string encoded = s.get_blob(1);
      s.reset();
      std::uint64_t head = std::stoull(meta("counter").value_or("0"));
      // The head may be past the outbox (adopted from the server), never before it.
      if (counter > head)
        problems.push_back("kotak keluar melewati kepala rantai #" + std::to_string(head));
      else if (counter == head) {
        try {
          if (crypto::to_hex(decode_change(encoded).hash()) != meta("last_hash").value_or(""))
            problems.push_back("perubahan terakhir di kotak keluar tidak cocok dengan rantainya");
        } catch (const Error&) {
          problems.push_back("perubahan #" + std::to_string(counter) + " tidak terbaca");
        }
      }
    }
  }
  return problems;
}

std::vector<std::string> Replica::replay_check(const TemplateRegistry& templates) {
  std::vector<std::string> problems;
  sync::MemoryState replay;
  {
    auto s = db_.cached("SELECT seq, committed_at, encoded FROM log ORDER BY seq");
    while (s.step()) {
      const std::string at = "entri log #" + std::to_string(s.get_int(0));
      try {
        Verdict v = apply_change(replay, templates, decode_change(s.get_blob(2)), s.get_int(1),
                                 {.check_blobs = false});
        if (!v.ok()) {
          problems.push_back(at + " tidak dapat diterapkan ulang: " + v.message);
          return problems;
        }
      } catch (const Error& e) {
        problems.push_back(at + " tidak terbaca: " + e.what());
        return problems;
      }
    }
  }
  std::size_t stored = 0;
  auto s = db_.cached("SELECT id, body FROM cases ORDER BY id");
  while (s.step()) {
    ++stored;
    const std::string id = s.get_text(0);
    auto it = replay.cases().find(id);
    // Each signature on its own, against the keys the log recorded: names the approval.
    sync::StoredCaseCheck check = sync::check_stored_case(
        s.get_text(1), it == replay.cases().end() ? nullptr : &it->second, replay.org());
    for (auto& p : check.signatures) problems.push_back(std::move(p));
    if (!check.readable) problems.push_back("kasus " + id + " tidak terbaca: " + check.unreadable);
    if (!check.same)
      problems.push_back("kasus " + id + " tidak sesuai dengan log yang diterima dari server");
  }
  if (nlohmann::json(org()) != nlohmann::json(replay.org()))
    problems.push_back("data organisasi (orang, peran, kunci tanda tangan) tidak sesuai dengan log");
  if (stored != replay.cases().size())
    problems.push_back("jumlah kasus tersimpan (" + std::to_string(stored) +
                       ") tidak sesuai dengan log (" + std::to_string(replay.cases().size()) + ")");
  return problems;
}

std::vector<std::string> Replica::full_check() {
  std::vector<std::string> problems;
  if (std::string ic = db_.integrity_check(); ic != "ok") problems.push_back("SQLite: " + ic);
  std::string prev_log;
  std::uint64_t expect_seq = 1;
  {
    auto s = db_.cached("SELECT seq, committed_at, log_hash, encoded FROM log ORDER BY seq");
    while (s.step()) {
      auto seq = static_cast<std::uint64_t>(s.get_int(0));
      if (seq != expect_seq) {
        problems.push_back("log melompat dari #" + std::to_string(expect_seq - 1) + " ke #" +
                           std::to_string(seq));
        break;
      }
      std::string h;
      try {
        h = decode_change(s.get_blob(3)).hash();
      } catch (const Error&) {
        problems.push_back("entri log #" + std::to_string(seq) + " tidak terbaca");
        break;
      }
      std::string lh = s.get_blob(2);
      if (log_hash(prev_log, seq, h, s.get_int(1)) != lh) {
        problems.push_back("rantai hash log putus pada #" + std::to_string(seq));
        break;
      }
      prev_log = lh;
      ++expect_seq;
    }
  }
  if (expect_seq - 1 != cursor() && problems.empty())
    problems.push_back("log berakhir di #" + std::to_string(expect_seq - 1) + ", kursor #" +
                       std::to_string(cursor()));
  std::optional<Change> before;
  for (auto& p : quick_check())
    if (std::find(problems.begin(), problems.end(), p) == problems.end()) problems.push_back(p);
  auto s = db_.cached("SELECT counter, encoded FROM outbox ORDER BY counter");
  while (s.step()) {
    auto counter = static_cast<std::uint64_t>(s.get_int(0));
    Change c;
    try {
      c = decode_change(s.get_blob(1));
    } catch (const Error&) {
      problems.push_back("perubahan #" + std::to_string(counter) + " tidak terbaca");
      before.reset();
      continue;
    }
    if (c.dot.counter != counter ||
        (before && before->dot.counter + 1 == counter && c.prev != before->hash()))
      problems.push_back("rantai perubahan putus pada #" + std::to_string(counter));
    before = std::move(c);
  }
  return problems;
}

std::size_t Replica::apply_entries(const std::vector<CommittedEntry>& entries,
                                   const TemplateRegistry& templates,
                                   const sync::EntryLinks* links) {
  sync::EntryLinks own;
  if (!links || links->encodings.size() != entries.size() ||
      links->linked.size() != entries.size()) {
    own = sync::link_entries(entries);
    links = &own;
  }
  std::optional<std::uint64_t> planted_cur;
  if (planted::on(planted::Defect::kCursorOutsideTransaction) && !entries.empty() &&
      entries.back().seq > cursor()) {
    // The planted defect: the cursor moves in a transaction of its own, before the
    // entries it covers are applied; a crash in between skips them for good.
    planted_cur = cursor();
    sql::Transaction early(db_);
    set_meta("cursor", std::to_string(entries.back().seq));
    early.commit();
  }
  sql::Transaction tx(db_);
  std::uint64_t cur = planted_cur.value_or(cursor());
  std::string prev_log = crypto::from_hex(meta("last_log_hash").value_or(""));
  std::string me = meta("replica").value_or("");
  std::size_t applied = 0;
  // The batch's cases stay parsed while it applies and are written once, before the commit.
  BatchState state(*this);
  HybridClock hlc(Clock::system(), std::stoull(meta("hlc").value_or("0")));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const CommittedEntry& e = entries[i];
    if (e.seq <= cur) continue;  // already applied (a resent batch)
    if (e.seq != cur + 1)
      throw Error("log_gap", "Log server melompat dari " + std::to_string(cur) + " ke " +
                                 std::to_string(e.seq) + ".");
    const std::string& encoded = links->encodings[i];
    // Linked to the entry before it, which is the one last applied: the check is done.
    const bool linked = links->linked[i] && entries[i - 1].log_hash == prev_log;
    if (!linked && log_hash(prev_log, e.seq, change_hash_of(encoded), e.committed_at) != e.log_hash)
      throw Error("log_mismatch", "Rantai hash log server tidak cocok pada #" +
                                      std::to_string(e.seq) +
                                      "; riwayat server berubah. Hubungi admin TI.");
    Verdict v = apply_change(state, templates, e.change, e.committed_at, {.check_blobs = false});
    if (!v.ok())
      throw Error("replay_failed", "Perubahan #" + std::to_string(e.seq) +
                                       " dari server tidak dapat diterapkan: " + v.message);
    db_.cached("INSERT INTO log (seq, committed_at, log_hash, encoded) VALUES (?, ?, ?, ?)")
        .bind(1, static_cast<std::int64_t>(e.seq))
        .bind(2, e.committed_at)
        .bind_blob_ref(3, e.log_hash)
        .bind_blob_ref(4, encoded)
        .exec();
    if (e.change.dot.replica == me)
      db_.cached(
             "UPDATE outbox SET status = 'accepted', seq = ?, code = '', message = '' WHERE "
             "counter = ?")
          .bind(1, static_cast<std::int64_t>(e.seq))
          .bind(2, static_cast<std::int64_t>(e.change.dot.counter))
          .exec();
    // Observed as the rules record it: bounded by the commit time, so that one PC whose
    // clock runs days ahead does not drag every other replica's clock into the future.
    // Causality holds for the recorded times: whatever this device writes next is stamped
    // at least at the commit time of everything it has seen.
    hlc.observe(std::min(e.change.hlc, HybridClock::from_ms(e.committed_at)));
    cur = e.seq;
    prev_log = e.log_hash;
    ++applied;
  }
  state.flush();
  // The committed state under the overlay changed (and maybe which changes are tentative).
  if (applied > 0) mark_overlay_stale();
  set_meta("hlc", std::to_string(hlc.last()));
  set_meta("cursor", std::to_string(cur));
  set_meta("last_log_hash", crypto::to_hex(prev_log));
  tx.commit();
  return applied;
}

bool Replica::has_blob(const std::string& sha256_hex) {
  auto s = db_.cached("SELECT 1 FROM blobs WHERE sha256 = ?");
  s.bind_text(1, sha256_hex);
  bool found = s.step();
  s.reset();
  return found;
}

void Replica::put_blob(const std::string& data) {
  db_.cached(
         "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING")
      .bind_text(1, crypto::sha256_hex(data))
      .bind(2, static_cast<std::int64_t>(data.size()))
      .bind_blob(3, data)
      .exec();
}

std::optional<std::string> Replica::blob(const std::string& sha256_hex) {
  auto s = db_.cached("SELECT data FROM blobs WHERE sha256 = ?");
  s.bind_text(1, sha256_hex);
  if (!s.step()) return std::nullopt;
  std::string d = s.get_blob(0);
  s.reset();
  return d;
}

std::vector<std::string> Replica::missing_blobs() {
  // Read straight from the stored JSON (SQLite's JSON functions): parsing every case into
  // a CaseState cost a bootstrap of 10,000 changes a tenth of its time.
  auto s = db_.cached(
      "SELECT DISTINCT json_extract(r.value, '$.sha256') AS sha FROM cases, "
      "json_each(cases.body, '$.drafts') AS d, json_each(d.value) AS r "
      "WHERE sha NOT IN (SELECT sha256 FROM blobs) ORDER BY sha");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.get_text(0));
  return out;
}

}  // namespace alur::client
