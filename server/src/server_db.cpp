// SQLite implementation of the server's storage.
#include "alur/server/server_db.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/paths.h"
#include "alur/shared/template_table.h"

namespace alur::server {

namespace {

// The schema, step by step (server/SCHEMA.md); a released step never changes.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
  replica TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users(username),
  device_key BLOB NOT NULL,
  token_hash BLOB NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_counter INTEGER NOT NULL DEFAULT 0,
  last_hash BLOB NOT NULL DEFAULT x'');
CREATE TABLE IF NOT EXISTS changes (
  replica TEXT NOT NULL,
  counter INTEGER NOT NULL,
  hash BLOB NOT NULL,
  op TEXT NOT NULL,
  record TEXT NOT NULL,
  author TEXT NOT NULL,
  encoded BLOB NOT NULL,
  status TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  seq INTEGER,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (replica, counter));
CREATE TABLE IF NOT EXISTS log (
  seq INTEGER PRIMARY KEY,
  replica TEXT NOT NULL,
  counter INTEGER NOT NULL,
  committed_at INTEGER NOT NULL,
  log_hash BLOB NOT NULL,
  encoded BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
  id TEXT PRIMARY KEY,
  sop TEXT NOT NULL,
  period TEXT NOT NULL,
  state TEXT NOT NULL,
  body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS cases_by_period ON cases (sop, period);
CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blob_uploads (sha256 TEXT PRIMARY KEY, total INTEGER NOT NULL, data BLOB NOT NULL);
)sql";

// 2: imported SOP templates (sop.set) and the server's own quarterly schedules.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS templates (
  sop TEXT NOT NULL,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (sop, version));
CREATE TABLE IF NOT EXISTS schedules (
  sop TEXT PRIMARY KEY,
  day INTEGER NOT NULL,
  period_of TEXT NOT NULL,
  created_at INTEGER NOT NULL);
)sql";

// 3: an accepted change's encoding is kept once, in `log`; `changes.encoded` holds only a
// rejected change's (which is in no log). The table is rebuilt, as SQLite changes a
// column's NOT NULL no other way, and its accepted rows give up their copy; rebuilt, it is
// a WITHOUT ROWID table, its rows (now small) kept in the primary key's own b-tree instead
// of a table and an index, so that an insert writes one b-tree instead of two.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE changes_v3 (
  replica TEXT NOT NULL,
  counter INTEGER NOT NULL,
  hash BLOB NOT NULL,
  op TEXT NOT NULL,
  record TEXT NOT NULL,
  author TEXT NOT NULL,
  encoded BLOB,
  status TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  seq INTEGER,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (replica, counter),
  CHECK ((seq IS NULL) = (encoded IS NOT NULL))) WITHOUT ROWID;
INSERT INTO changes_v3 SELECT replica, counter, hash, op, record, author,
  CASE WHEN seq IS NULL THEN encoded END, status, code, message, seq, received_at FROM changes;
DROP TABLE changes;
ALTER TABLE changes_v3 RENAME TO changes;
)sql";

const std::vector<sql::Migration> kMigrations = {{1, kSchemaV1}, {2, kSchemaV2}, {3, kSchemaV3}};

}  // namespace

ServerDb::ServerDb(const std::string& data_dir)
    : db_(u8_string(u8_path(data_dir) / kFileName)) {
  migrate();
}

ServerDb::ServerDb(const sql::File& file) : db_(file.path) { migrate(); }

std::unique_ptr<ServerStore::Transaction> ServerDb::begin() {
  struct Tx final : ServerStore::Transaction {
    explicit Tx(ServerDb& owner) : db(owner), tx(owner.db_) { db.in_transaction_ = true; }
    ~Tx() override {
      db.in_transaction_ = false;
      db.log_tail_.reset();
    }
    void commit() override { tx.commit(); }
    ServerDb& db;
    sql::Transaction tx;
  };
  return std::make_unique<Tx>(*this);
}

void ServerDb::migrate() {
  sql::migrate(db_, kMigrations,
               "Basis data server dibuat oleh versi alur yang lebih baru; perbarui alur-server.");
  checkpointer_ = sql::Checkpointer::if_wal(db_);
}

std::optional<std::string> ServerDb::meta(const std::string& key) {
  auto s = db_.cached("SELECT value FROM meta WHERE key = ?");
  s.bind_text(1, key);
  if (!s.step()) return std::nullopt;
  return s.get_text(0);
}

void ServerDb::set_meta(const std::string& key, const std::string& value) {
  auto s = db_.cached(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
      "excluded.value");
  s.bind_text(1, key).bind_text(2, value).exec();
}

void ServerDb::upsert_user(const std::string& username, const std::string& name,
                           const std::string& password_hash) {
  auto s = db_.cached(
      "INSERT INTO users (username, name, password_hash) VALUES (?, ?, ?) "
      "ON CONFLICT (username) DO UPDATE SET name = excluded.name, password_hash = "
      "excluded.password_hash");
  s.bind_text(1, username).bind_text(2, name).bind_text(3, password_hash).exec();
}

std::optional<std::string> ServerDb::password_hash(const std::string& username) {
  auto s = db_.cached("SELECT password_hash FROM users WHERE username = ?");
  s.bind_text(1, username);
  if (!s.step()) return std::nullopt;
  return s.get_text(0);
}

void ServerDb::add_device(const Device& d, const std::string& token_hash) {
  auto s = db_.cached(
      "INSERT INTO devices (replica, username, device_key, token_hash, name, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  s.bind_text(1, d.replica).bind_text(2, d.username).bind_blob(3, d.device_key);
  s.bind_blob(4, token_hash).bind_text(5, d.name).bind(6, d.created_at).exec();
}

namespace {
Device read_device(sql::CachedStatement& s) {
  Device d;
  d.replica = s.get_text(0);
  d.username = s.get_text(1);
  d.device_key = s.get_blob(2);
  d.name = s.get_text(3);
  d.created_at = s.get_int(4);
  if (!s.is_null(5)) d.revoked_at = s.get_int(5);
  d.last_counter = static_cast<std::uint64_t>(s.get_int(6));
  d.last_hash = s.get_blob(7);
  return d;
}
constexpr const char* kDeviceColumns =
    "replica, username, device_key, name, created_at, revoked_at, last_counter, last_hash";
}  // namespace

std::optional<Device> ServerDb::device(const std::string& replica) {
  auto s = db_.cached(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE replica = ?");
  s.bind_text(1, replica);
  if (!s.step()) return std::nullopt;
  return read_device(s);
}

std::optional<std::string> ServerDb::token_hash(const std::string& replica) {
  auto s = db_.cached("SELECT token_hash FROM devices WHERE replica = ?");
  s.bind_text(1, replica);
  if (!s.step()) return std::nullopt;
  return s.get_blob(0);
}

std::vector<Device> ServerDb::devices() {
  auto s =
      db_.cached(std::string("SELECT ") + kDeviceColumns + " FROM devices ORDER BY created_at");
  std::vector<Device> out;
  while (s.step()) out.push_back(read_device(s));
  return out;
}

void ServerDb::revoke_device(const std::string& replica, Millis at) {
  auto s = db_.cached("UPDATE devices SET revoked_at = ? WHERE replica = ? AND revoked_at IS NULL");
  s.bind(1, at).bind_text(2, replica).exec();
}

void ServerDb::advance_device(const std::string& replica, std::uint64_t counter,
                              const std::string& hash) {
  auto s = db_.cached("UPDATE devices SET last_counter = ?, last_hash = ? WHERE replica = ?");
  s.bind(1, static_cast<std::int64_t>(counter)).bind_blob(2, hash).bind_text(3, replica).exec();
}

std::optional<StoredChange> ServerDb::stored_change(const std::string& replica,
                                                    std::uint64_t counter) {
  auto s = db_.cached(
      "SELECT hash, status, code, message, seq FROM changes WHERE replica = ? AND counter = ?");
  s.bind_text(1, replica).bind(2, static_cast<std::int64_t>(counter));
  if (!s.step()) return std::nullopt;
  StoredChange c{s.get_blob(0), s.get_text(1), s.get_text(2), s.get_text(3),
                 s.is_null(4) ? 0 : static_cast<std::uint64_t>(s.get_int(4))};
  return c;
}

void ServerDb::store_change(const EncodedChange& e, const std::string& status,
                            const std::string& code, const std::string& message, std::uint64_t seq,
                            Millis received_at) {
  auto s = db_.cached(
      "INSERT INTO changes (replica, counter, hash, op, record, author, encoded, status, code, "
      "message, seq, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  // Every value bound outlives s (the arguments).
  const sync::Change& c = e.change;
  s.bind_text_ref(1, c.dot.replica)
      .bind(2, static_cast<std::int64_t>(c.dot.counter))
      .bind_blob_ref(3, e.hash);
  s.bind_text_ref(4, c.op).bind_text_ref(5, c.record).bind_text_ref(6, c.author);
  s.bind_text_ref(8, status).bind_text_ref(9, code).bind_text_ref(10, message);
  if (seq) {  // accepted: the log holds its encoding (schema 3)
    s.bind_null(7).bind(11, static_cast<std::int64_t>(seq));
  } else {  // rejected: in no log, so its encoding is kept here
    s.bind_blob_ref(7, e.encoding).bind_null(11);
  }
  s.bind(12, received_at).exec();
}

std::uint64_t ServerDb::head() {
  auto s = db_.cached("SELECT COALESCE(MAX(seq), 0) FROM log");
  s.step();
  return static_cast<std::uint64_t>(s.get_int(0));
}

std::uint64_t ServerDb::append_log(const EncodedChange& e, Millis committed_at) {
  if (!log_tail_) {
    auto last = db_.cached("SELECT seq, log_hash FROM log ORDER BY seq DESC LIMIT 1");
    LogTail tail{0, {}};
    if (last.step()) tail = {static_cast<std::uint64_t>(last.get_int(0)), last.get_blob(1)};
    log_tail_ = std::move(tail);
  }
  const std::uint64_t seq = log_tail_->seq + 1;
  std::string hash = sync::log_hash(log_tail_->log_hash, seq, e.hash, committed_at);
  {
    auto s = db_.cached(
        "INSERT INTO log (seq, replica, counter, committed_at, log_hash, encoded) VALUES (?, ?, "
        "?, ?, ?, ?)");
    s.bind(1, static_cast<std::int64_t>(seq)).bind_text_ref(2, e.change.dot.replica);
    s.bind(3, static_cast<std::int64_t>(e.change.dot.counter)).bind(4, committed_at);
    s.bind_blob_ref(5, hash).bind_blob_ref(6, e.encoding).exec();
  }
  if (in_transaction_)
    log_tail_ = LogTail{seq, std::move(hash)};
  else
    log_tail_.reset();  // autocommit: another connection may append next
  return seq;
}

std::vector<LogRecord> ServerDb::log_after(std::uint64_t after, std::size_t max_count,
                                           std::size_t max_bytes) {
  auto s = db_.cached(
      "SELECT seq, replica, counter, committed_at, log_hash, encoded FROM log WHERE seq > ? "
      "ORDER BY seq LIMIT ?");
  s.bind(1, static_cast<std::int64_t>(after)).bind(2, static_cast<std::int64_t>(max_count));
  std::vector<LogRecord> out;
  std::size_t bytes = 0;
  while (s.step()) {
    std::string encoded = s.get_blob(5);
    bytes += encoded.size() + 64;
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back({static_cast<std::uint64_t>(s.get_int(0)), s.get_text(1),
                   static_cast<std::uint64_t>(s.get_int(2)), s.get_int(3), s.get_blob(4),
                   std::move(encoded)});
  }
  s.reset();
  return out;
}

bool ServerDb::has_blob(const std::string& sha256_hex) {
  auto s = db_.cached("SELECT 1 FROM blobs WHERE sha256 = ?");
  s.bind_text(1, sha256_hex);
  return s.step();
}

std::uint64_t ServerDb::blob_progress(const std::string& sha256_hex) {
  auto s = db_.cached("SELECT size FROM blobs WHERE sha256 = ?");
  s.bind_text(1, sha256_hex);
  if (s.step()) return static_cast<std::uint64_t>(s.get_int(0));
  auto u = db_.cached("SELECT length(data) FROM blob_uploads WHERE sha256 = ?");
  u.bind_text(1, sha256_hex);
  if (u.step()) return static_cast<std::uint64_t>(u.get_int(0));
  return 0;
}

bool ServerDb::put_blob_chunk(const std::string& sha256_hex, std::uint64_t offset,
                              std::uint64_t total, const std::string& data) {
  if (has_blob(sha256_hex)) return true;
  std::uint64_t have = blob_progress(sha256_hex);
  if (offset != have)
    throw Error("blob_offset", "Potongan berkas di luar urutan (server punya " +
                                   std::to_string(have) + " bita, diterima offset " +
                                   std::to_string(offset) + ").");
  if (offset + data.size() > total)
    throw Error("blob_mismatch", "Potongan berkas melebihi ukurannya.");
  std::string so_far;
  auto u = db_.cached("SELECT data FROM blob_uploads WHERE sha256 = ?");
  u.bind_text(1, sha256_hex);
  if (u.step()) so_far = u.get_blob(0);
  u.reset();
  so_far += data;
  if (so_far.size() == total) {
    if (crypto::sha256_hex(so_far) != sha256_hex) {
      db_.cached("DELETE FROM blob_uploads WHERE sha256 = ?").bind_text(1, sha256_hex).exec();
      return false;
    }
    db_.cached("INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?)")
        .bind_text(1, sha256_hex)
        .bind(2, static_cast<std::int64_t>(total))
        .bind_blob(3, so_far)
        .exec();
    db_.cached("DELETE FROM blob_uploads WHERE sha256 = ?").bind_text(1, sha256_hex).exec();
  } else {
    db_.cached(
           "INSERT INTO blob_uploads (sha256, total, data) VALUES (?, ?, ?) "
           "ON CONFLICT (sha256) DO UPDATE SET data = excluded.data")
        .bind_text(1, sha256_hex)
        .bind(2, static_cast<std::int64_t>(total))
        .bind_blob(3, so_far)
        .exec();
  }
  return true;
}

std::optional<std::string> ServerDb::blob_slice(const std::string& sha256_hex, std::uint64_t offset,
                                                std::size_t max_bytes, std::uint64_t& total) {
  auto s = db_.cached("SELECT size, substr(data, ?, ?) FROM blobs WHERE sha256 = ?");
  s.bind(1, static_cast<std::int64_t>(offset + 1)).bind(2, static_cast<std::int64_t>(max_bytes));
  s.bind_text(3, sha256_hex);
  if (!s.step()) return std::nullopt;
  total = static_cast<std::uint64_t>(s.get_int(0));
  return s.get_blob(1);
}

const Org& ServerDb::org() {
  // Another process may have written a new org: read the stored text every time.
  return org_.get(meta("org").value_or(""));
}

std::map<int, std::string> ServerDb::calendars() {
  std::map<int, std::string> out;
  auto s = db_.cached("SELECT key, value FROM meta WHERE key LIKE 'calendar/%'");
  while (s.step()) out[std::stoi(s.get_text(0).substr(9))] = s.get_text(1);
  return out;
}

void ServerDb::set_org(const Org& org) { set_meta("org", org_.set(org)); }

std::optional<sync::CaseState> ServerDb::load_case(const std::string& id) {
  auto s = db_.cached("SELECT body FROM cases WHERE id = ?");
  s.bind_text(1, id);
  if (!s.step()) return std::nullopt;
  return parsed_.parse(id, s.get_text(0));
}

void ServerDb::save_case(const sync::CaseState& c) { save_case(sync::CaseState(c)); }

void ServerDb::save_case(sync::CaseState&& c) {
  std::string text = sync::case_json_text(c);
  auto s = db_.cached(
      "INSERT INTO cases (id, sop, period, state, body) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body");
  s.bind_text(1, c.id).bind_text(2, c.sop).bind_text(3, c.period).bind_text(4, c.state);
  s.bind_text(5, text).exec();
  parsed_.keep(std::move(text), std::move(c));
}

std::optional<std::string> ServerDb::case_for_period(const std::string& sop,
                                                     const std::string& period) {
  auto s = db_.cached("SELECT id FROM cases WHERE sop = ? AND period = ?");
  s.bind_text(1, sop).bind_text(2, period);
  if (!s.step()) return std::nullopt;
  return s.get_text(0);
}

std::map<std::pair<std::string, int>, std::string> ServerDb::imported_templates() {
  return sql::read_templates(db_);
}

void ServerDb::put_template(const std::string& sop, int version, const std::string& text) {
  sql::write_template(db_, sop, version, text);
}

std::vector<Schedule> ServerDb::schedules() {
  auto s = db_.cached("SELECT sop, day, period_of, created_at FROM schedules ORDER BY sop");
  std::vector<Schedule> out;
  while (s.step())
    out.push_back({s.get_text(0), static_cast<int>(s.get_int(1)), s.get_text(2), s.get_int(3)});
  return out;
}

void ServerDb::put_schedule(const Schedule& sc) {
  db_.cached(
         "INSERT INTO schedules (sop, day, period_of, created_at) VALUES (?, ?, ?, ?) "
         "ON CONFLICT (sop) DO UPDATE SET day = excluded.day, period_of = excluded.period_of, "
         "created_at = excluded.created_at")
      .bind_text(1, sc.sop)
      .bind(2, static_cast<std::int64_t>(sc.day))
      .bind_text(3, sc.period_of)
      .bind(4, sc.created_at)
      .exec();
}

bool ServerDb::remove_schedule(const std::string& sop) {
  db_.cached("DELETE FROM schedules WHERE sop = ?").bind_text(1, sop).exec();
  return db_.changes() > 0;
}

std::string ServerDb::integrity_check() { return db_.integrity_check(); }

void ServerDb::visit_log(const std::function<bool(const LogRecord&)>& visit) {
  auto s = db_.cached(
      "SELECT seq, replica, counter, committed_at, log_hash, encoded FROM log ORDER BY seq");
  while (s.step())
    if (!visit({static_cast<std::uint64_t>(s.get_int(0)), s.get_text(1),
                static_cast<std::uint64_t>(s.get_int(2)), s.get_int(3), s.get_blob(4),
                s.get_blob(5)}))
      return;
}

void ServerDb::visit_changes(const std::function<bool(const ChangeRecord&)>& visit) {
  // An accepted change's encoding is its log entry's; empty when that entry is gone.
  auto s = db_.cached(
      "SELECT c.replica, c.counter, c.hash, COALESCE(c.encoded, l.encoded, x''), c.status, c.seq "
      "FROM changes c LEFT JOIN log l ON l.seq = c.seq ORDER BY c.replica, c.counter");
  while (s.step())
    if (!visit({s.get_text(0), static_cast<std::uint64_t>(s.get_int(1)), s.get_blob(2),
                s.get_blob(3), s.get_text(4), static_cast<std::uint64_t>(s.get_int(5))}))
      return;
}

void ServerDb::visit_cases(
    const std::function<bool(const std::string& id, const std::string& body)>& visit) {
  auto s = db_.cached("SELECT id, body FROM cases ORDER BY id");
  while (s.step())
    if (!visit(s.get_text(0), s.get_text(1))) return;
}

}  // namespace alur::server
