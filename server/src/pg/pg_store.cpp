// PostgreSQL implementation of the server's storage (pg_store.h; schema: server/SCHEMA.md).
#include "alur/server/pg_store.h"

#include <nlohmann/json.hpp>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"

namespace alur::server {

namespace {

// The schema, step by step, numbered like ServerDb's so that "schema version 2" names the
// same tables in both stores; a released step never changes.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
  replica TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users(username),
  device_key BYTEA NOT NULL,
  token_hash BYTEA NOT NULL,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  last_counter BIGINT NOT NULL DEFAULT 0,
  last_hash BYTEA NOT NULL DEFAULT ''::bytea);
CREATE TABLE IF NOT EXISTS changes (
  replica TEXT NOT NULL,
  counter BIGINT NOT NULL,
  hash BYTEA NOT NULL,
  op TEXT NOT NULL,
  record TEXT NOT NULL,
  author TEXT NOT NULL,
  encoded BYTEA NOT NULL,
  status TEXT NOT NULL,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  seq BIGINT,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (replica, counter));
CREATE TABLE IF NOT EXISTS log (
  seq BIGINT PRIMARY KEY,
  replica TEXT NOT NULL,
  counter BIGINT NOT NULL,
  committed_at BIGINT NOT NULL,
  log_hash BYTEA NOT NULL,
  encoded BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS log_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  log_hash BYTEA NOT NULL);
INSERT INTO log_head (id, seq, log_hash) VALUES (1, 0, ''::bytea) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS cases (
  id TEXT PRIMARY KEY,
  sop TEXT NOT NULL,
  period TEXT NOT NULL,
  state TEXT NOT NULL,
  body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS cases_by_period ON cases (sop, period);
CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, data BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS blob_uploads (sha256 TEXT PRIMARY KEY, total BIGINT NOT NULL, data BYTEA NOT NULL);
)sql";

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
  created_at BIGINT NOT NULL);
)sql";

// 3: an accepted change's encoding is kept once, in `log` (as in ServerDb's step 3).
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE changes ALTER COLUMN encoded DROP NOT NULL;
UPDATE changes SET encoded = NULL WHERE seq IS NOT NULL;
ALTER TABLE changes ADD CONSTRAINT changes_encoded_once
  CHECK ((seq IS NULL) = (encoded IS NOT NULL));
)sql";

struct Step {
  int version;
  const char* sql;
};
constexpr Step kMigrations[] = {{1, kSchemaV1}, {2, kSchemaV2}, {3, kSchemaV3}};

// Serializes migrations of nodes starting at once (pg_advisory_xact_lock's key: "alur").
constexpr std::int64_t kMigrationLock = 0x616c7572;

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

constexpr const char* kDeviceColumns =
    "replica, username, device_key, name, created_at, revoked_at, last_counter, last_hash";

Device read_device(const pg::Result& r, int row) {
  Device d;
  d.replica = r.text(row, 0);
  d.username = r.text(row, 1);
  d.device_key = r.bytes(row, 2);
  d.name = r.text(row, 3);
  d.created_at = r.int64(row, 4);
  if (!r.is_null(row, 5)) d.revoked_at = r.int64(row, 5);
  d.last_counter = static_cast<std::uint64_t>(r.int64(row, 6));
  d.last_hash = r.bytes(row, 7);
  return d;
}

}  // namespace

PgStore::PgStore(const std::string& url) : conn_(url) { migrate(); }

void PgStore::migrate() {
  pg::Transaction tx(conn_);
  conn_.query("SELECT pg_advisory_xact_lock($1::bigint)", {kMigrationLock});
  int found = 0;
  if (!conn_
           .query("SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND "
                  "tablename = 'meta'")
           .empty()) {
    auto v = conn_.query("SELECT value FROM meta WHERE key = 'schema_version'");
    if (!v.empty()) found = std::stoi(v.text(0, 0));
  }
  const int latest = std::end(kMigrations)[-1].version;
  if (found > latest)
    throw Error("schema_too_new",
                "Basis data server dibuat oleh versi alur yang lebih baru; perbarui alur-server.");
  for (const Step& s : kMigrations)
    if (s.version > found) conn_.exec(s.sql);
  if (found != latest) set_meta("schema_version", std::to_string(latest));
  tx.commit();
}

std::unique_ptr<ServerStore::Transaction> PgStore::begin() {
  struct Tx final : ServerStore::Transaction {
    explicit Tx(PgStore& s) : store(s), tx(s.conn_) {
      // One writer at a time across every node: the head row's lock is held to COMMIT.
      auto head = s.conn_.query("SELECT seq, log_hash FROM log_head WHERE id = 1 FOR UPDATE");
      store.log_tail_ = LogTail{static_cast<std::uint64_t>(head.int64(0, 0)), head.bytes(0, 1)};
      store.appended_ = false;
    }
    ~Tx() override { store.log_tail_.reset(); }
    void commit() override {
      if (store.appended_) {
        store.conn_.query("UPDATE log_head SET seq = $1, log_hash = $2 WHERE id = 1",
                          {i64(store.log_tail_->seq), pg::Param::bytes(store.log_tail_->log_hash)});
        store.notify_commit();
      }
      tx.commit();
    }
    PgStore& store;
    pg::Transaction tx;
  };
  return std::make_unique<Tx>(*this);
}

// Delivered by PostgreSQL when (and only if) the transaction commits. The payload is the
// schema (one database may hold several deployments' schemas; listeners keep their own),
// the same for every append, so that the notifications of one transaction fold into one.
void PgStore::notify_commit() {
  conn_.query(std::string("SELECT pg_notify('") + kCommitChannel + "', current_schema())");
}

std::optional<std::string> PgStore::meta(const std::string& key) {
  auto r = conn_.query("SELECT value FROM meta WHERE key = $1", {key});
  if (r.empty()) return std::nullopt;
  return r.text(0, 0);
}

void PgStore::set_meta(const std::string& key, const std::string& value) {
  conn_.query(
      "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = "
      "excluded.value",
      {key, value});
}

void PgStore::upsert_user(const std::string& username, const std::string& name,
                          const std::string& password_hash) {
  conn_.query(
      "INSERT INTO users (username, name, password_hash) VALUES ($1, $2, $3) "
      "ON CONFLICT (username) DO UPDATE SET name = excluded.name, password_hash = "
      "excluded.password_hash",
      {username, name, password_hash});
}

std::optional<std::string> PgStore::password_hash(const std::string& username) {
  auto r = conn_.query("SELECT password_hash FROM users WHERE username = $1", {username});
  if (r.empty()) return std::nullopt;
  return r.text(0, 0);
}

void PgStore::add_device(const Device& d, const std::string& token_hash) {
  conn_.query(
      "INSERT INTO devices (replica, username, device_key, token_hash, name, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {d.replica, d.username, pg::Param::bytes(d.device_key), pg::Param::bytes(token_hash), d.name,
       d.created_at});
}

std::optional<Device> PgStore::device(const std::string& replica) {
  auto r = conn_.query(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE replica = $1",
                       {replica});
  if (r.empty()) return std::nullopt;
  return read_device(r, 0);
}

std::optional<std::string> PgStore::token_hash(const std::string& replica) {
  auto r = conn_.query("SELECT token_hash FROM devices WHERE replica = $1", {replica});
  if (r.empty()) return std::nullopt;
  return r.bytes(0, 0);
}

std::vector<Device> PgStore::devices() {
  auto r = conn_.query(std::string("SELECT ") + kDeviceColumns +
                       " FROM devices ORDER BY created_at, replica");
  std::vector<Device> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_device(r, i));
  return out;
}

void PgStore::revoke_device(const std::string& replica, Millis at) {
  conn_.query("UPDATE devices SET revoked_at = $1 WHERE replica = $2 AND revoked_at IS NULL",
              {at, replica});
}

void PgStore::advance_device(const std::string& replica, std::uint64_t counter,
                             const std::string& hash) {
  conn_.query("UPDATE devices SET last_counter = $1, last_hash = $2 WHERE replica = $3",
              {i64(counter), pg::Param::bytes(hash), replica});
}

std::optional<StoredChange> PgStore::stored_change(const std::string& replica,
                                                   std::uint64_t counter) {
  auto r = conn_.query(
      "SELECT hash, status, code, message, seq FROM changes WHERE replica = $1 AND counter = $2",
      {replica, i64(counter)});
  if (r.empty()) return std::nullopt;
  return StoredChange{r.bytes(0, 0), r.text(0, 1), r.text(0, 2), r.text(0, 3),
                      static_cast<std::uint64_t>(r.int64(0, 4))};
}

void PgStore::store_change(const EncodedChange& e, const std::string& status,
                           const std::string& code, const std::string& message, std::uint64_t seq,
                           Millis received_at) {
  const sync::Change& c = e.change;
  // Accepted: the log holds its encoding (schema 3). Rejected: in no log, so it is kept here.
  const bool accepted = seq != 0;
  conn_.query(
      "INSERT INTO changes (replica, counter, hash, op, record, author, encoded, status, code, "
      "message, seq, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
      {c.dot.replica, i64(c.dot.counter), pg::Param::bytes(e.hash), c.op, c.record, c.author,
       accepted ? pg::Param::null() : pg::Param::bytes(e.encoding), status, code, message,
       accepted ? pg::Param(i64(seq)) : pg::Param::null(), received_at});
}

std::uint64_t PgStore::head() {
  if (log_tail_) return log_tail_->seq;  // in begin()'s transaction: log_head is written at COMMIT
  auto r = conn_.query("SELECT seq FROM log_head WHERE id = 1");
  return static_cast<std::uint64_t>(r.int64(0, 0));
}

std::uint64_t PgStore::append_log(const EncodedChange& e, Millis committed_at) {
  // In begin()'s transaction the tail was read with log_head's lock and advances here;
  // log_head is written once, before the COMMIT. A call outside begin() locks, reads and
  // writes it itself (a statement of its own each).
  const bool in_transaction = log_tail_.has_value();
  std::optional<LogTail> unlocked;
  if (!in_transaction) {
    auto last = conn_.query("SELECT seq, log_hash FROM log_head WHERE id = 1 FOR UPDATE");
    unlocked = LogTail{static_cast<std::uint64_t>(last.int64(0, 0)), last.bytes(0, 1)};
  }
  const LogTail& tail = in_transaction ? *log_tail_ : *unlocked;
  const std::uint64_t seq = tail.seq + 1;
  std::string hash = sync::log_hash(tail.log_hash, seq, e.hash, committed_at);
  conn_.query(
      "INSERT INTO log (seq, replica, counter, committed_at, log_hash, encoded) VALUES ($1, $2, "
      "$3, $4, $5, $6)",
      {i64(seq), e.change.dot.replica, i64(e.change.dot.counter), committed_at,
       pg::Param::bytes(hash), pg::Param::bytes(e.encoding)});
  if (in_transaction) {
    log_tail_ = LogTail{seq, std::move(hash)};
    appended_ = true;
  } else {
    conn_.query("UPDATE log_head SET seq = $1, log_hash = $2 WHERE id = 1",
                {i64(seq), pg::Param::bytes(hash)});
    notify_commit();  // a statement of its own: committed already
  }
  return seq;
}

std::vector<LogRecord> PgStore::log_after(std::uint64_t after, std::size_t max_count,
                                          std::size_t max_bytes) {
  auto r = conn_.query(
      "SELECT seq, replica, counter, committed_at, log_hash, encoded FROM log WHERE seq > $1 "
      "ORDER BY seq LIMIT $2",
      {i64(after), i64(max_count)});
  std::vector<LogRecord> out;
  std::size_t bytes = 0;
  for (int i = 0; i < r.rows(); ++i) {
    std::string encoded = r.bytes(i, 5);
    bytes += encoded.size() + 64;
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back({static_cast<std::uint64_t>(r.int64(i, 0)), r.text(i, 1),
                   static_cast<std::uint64_t>(r.int64(i, 2)), r.int64(i, 3), r.bytes(i, 4),
                   std::move(encoded)});
  }
  return out;
}

bool PgStore::has_blob(const std::string& sha256_hex) {
  return !conn_.query("SELECT 1 FROM blobs WHERE sha256 = $1", {sha256_hex}).empty();
}

std::uint64_t PgStore::blob_progress(const std::string& sha256_hex) {
  auto b = conn_.query("SELECT size FROM blobs WHERE sha256 = $1", {sha256_hex});
  if (!b.empty()) return static_cast<std::uint64_t>(b.int64(0, 0));
  auto u = conn_.query("SELECT length(data) FROM blob_uploads WHERE sha256 = $1", {sha256_hex});
  if (!u.empty()) return static_cast<std::uint64_t>(u.int64(0, 0));
  return 0;
}

bool PgStore::put_blob_chunk(const std::string& sha256_hex, std::uint64_t offset,
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
  if (auto u = conn_.query("SELECT data FROM blob_uploads WHERE sha256 = $1", {sha256_hex});
      !u.empty())
    so_far = u.bytes(0, 0);
  so_far += data;
  if (so_far.size() == total) {
    conn_.query("DELETE FROM blob_uploads WHERE sha256 = $1", {sha256_hex});
    if (crypto::sha256_hex(so_far) != sha256_hex) return false;
    conn_.query("INSERT INTO blobs (sha256, size, data) VALUES ($1, $2, $3)",
                {sha256_hex, i64(total), pg::Param::bytes(so_far)});
  } else {
    conn_.query(
        "INSERT INTO blob_uploads (sha256, total, data) VALUES ($1, $2, $3) "
        "ON CONFLICT (sha256) DO UPDATE SET data = excluded.data",
        {sha256_hex, i64(total), pg::Param::bytes(so_far)});
  }
  return true;
}

std::optional<std::string> PgStore::blob_slice(const std::string& sha256_hex, std::uint64_t offset,
                                               std::size_t max_bytes, std::uint64_t& total) {
  auto r = conn_.query(
      "SELECT size, substring(data FROM $1::bigint::int FOR $2::bigint::int) FROM blobs "
      "WHERE sha256 = $3",
      {i64(offset + 1), i64(max_bytes), sha256_hex});
  if (r.empty()) return std::nullopt;
  total = static_cast<std::uint64_t>(r.int64(0, 0));
  return r.bytes(0, 1);
}

const Org& PgStore::org() {
  // Another process may have written a new org: read the stored text every time.
  return org_.get(meta("org").value_or(""));
}

void PgStore::set_org(const Org& org) { set_meta("org", org_.set(org)); }

std::optional<sync::CaseState> PgStore::load_case(const std::string& id) {
  auto r = conn_.query("SELECT body FROM cases WHERE id = $1", {id});
  if (r.empty()) return std::nullopt;
  return sync::case_from_json(nlohmann::json::parse(r.text(0, 0)));
}

void PgStore::save_case(const sync::CaseState& c) {
  conn_.query(
      "INSERT INTO cases (id, sop, period, state, body) VALUES ($1, $2, $3, $4, $5) "
      "ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body",
      {c.id, c.sop, c.period, c.state, sync::case_json_text(c)});
}

std::optional<std::string> PgStore::case_for_period(const std::string& sop,
                                                    const std::string& period) {
  auto r = conn_.query("SELECT id FROM cases WHERE sop = $1 AND period = $2", {sop, period});
  if (r.empty()) return std::nullopt;
  return r.text(0, 0);
}

std::map<std::pair<std::string, int>, std::string> PgStore::imported_templates() {
  auto r = conn_.query("SELECT sop, version, body FROM templates");
  std::map<std::pair<std::string, int>, std::string> out;
  for (int i = 0; i < r.rows(); ++i)
    out[{r.text(i, 0), static_cast<int>(r.int64(i, 1))}] = r.text(i, 2);
  return out;
}

void PgStore::put_template(const std::string& sop, int version, const std::string& text) {
  conn_.query(
      "INSERT INTO templates (sop, version, body) VALUES ($1, $2, $3) "
      "ON CONFLICT (sop, version) DO UPDATE SET body = excluded.body",
      {sop, version, text});
}

std::vector<Schedule> PgStore::schedules() {
  auto r = conn_.query("SELECT sop, day, period_of, created_at FROM schedules ORDER BY sop");
  std::vector<Schedule> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({r.text(i, 0), static_cast<int>(r.int64(i, 1)), r.text(i, 2), r.int64(i, 3)});
  return out;
}

void PgStore::put_schedule(const Schedule& sc) {
  conn_.query(
      "INSERT INTO schedules (sop, day, period_of, created_at) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (sop) DO UPDATE SET day = excluded.day, period_of = excluded.period_of, "
      "created_at = excluded.created_at",
      {sc.sop, sc.day, sc.period_of, sc.created_at});
}

bool PgStore::remove_schedule(const std::string& sop) {
  return conn_.query("DELETE FROM schedules WHERE sop = $1", {sop}).affected() > 0;
}

std::map<int, std::string> PgStore::calendars() {
  auto r = conn_.query("SELECT key, value FROM meta WHERE key LIKE 'calendar/%'");
  std::map<int, std::string> out;
  for (int i = 0; i < r.rows(); ++i) out[std::stoi(r.text(i, 0).substr(9))] = r.text(i, 1);
  return out;
}

// PostgreSQL checks its pages itself (checksums, WAL); what verify adds is the record's own
// consistency, which the visits below feed. amcheck would need an extension installed.
std::string PgStore::integrity_check() { return "ok"; }

// The visits read in pages (kVisitPage rows), keyset by the order's key, so that a large
// log never sits in memory at once.
namespace {
constexpr int kVisitPage = 1000;
}

void PgStore::visit_log(const std::function<bool(const LogRecord&)>& visit) {
  std::int64_t after = 0;
  for (;;) {
    auto r = conn_.query(
        "SELECT seq, replica, counter, committed_at, log_hash, encoded FROM log WHERE seq > $1 "
        "ORDER BY seq LIMIT $2",
        {after, kVisitPage});
    for (int i = 0; i < r.rows(); ++i) {
      after = r.int64(i, 0);
      if (!visit({static_cast<std::uint64_t>(after), r.text(i, 1),
                  static_cast<std::uint64_t>(r.int64(i, 2)), r.int64(i, 3), r.bytes(i, 4),
                  r.bytes(i, 5)}))
        return;
    }
    if (r.rows() < kVisitPage) return;
  }
}

void PgStore::visit_changes(const std::function<bool(const ChangeRecord&)>& visit) {
  std::string replica;
  std::int64_t counter = -1;
  for (;;) {
    auto r = conn_.query(
        "SELECT c.replica, c.counter, c.hash, COALESCE(c.encoded, l.encoded, ''::bytea), "
        "c.status, c.seq FROM changes c LEFT JOIN log l ON l.seq = c.seq "
        "WHERE (c.replica, c.counter) > ($1, $2) ORDER BY c.replica, c.counter LIMIT $3",
        {replica, counter, kVisitPage});
    for (int i = 0; i < r.rows(); ++i) {
      replica = r.text(i, 0);
      counter = r.int64(i, 1);
      if (!visit({replica, static_cast<std::uint64_t>(counter), r.bytes(i, 2), r.bytes(i, 3),
                  r.text(i, 4), static_cast<std::uint64_t>(r.int64(i, 5))}))
        return;
    }
    if (r.rows() < kVisitPage) return;
  }
}

void PgStore::visit_cases(
    const std::function<bool(const std::string& id, const std::string& body)>& visit) {
  std::string after;
  for (;;) {
    auto r = conn_.query("SELECT id, body FROM cases WHERE id > $1 ORDER BY id LIMIT $2",
                         {after, kVisitPage});
    for (int i = 0; i < r.rows(); ++i) {
      after = r.text(i, 0);
      if (!visit(after, r.text(i, 1))) return;
    }
    if (r.rows() < kVisitPage) return;
  }
}

}  // namespace alur::server
