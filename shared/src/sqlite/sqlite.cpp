// RAII wrapper over the SQLite C API (see alur/shared/sqlite.h): opening with alur's
// pragmas, statements, transactions, and the mapping of SQLite result codes to alur::Error.
#include "alur/shared/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <utility>

#include "alur/shared/error.h"

namespace alur::sql {
namespace {

// Error messages name the statement by its first words only: enough to find it in the
// code, without dumping long SQL (or bound data) into a user-facing message.
constexpr std::size_t kSqlHeadChars = 48;

std::string sql_head(std::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (out.size() >= kSqlHeadChars) {
      out += "...";
      break;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

Error make_error(int rc, std::string_view context, sqlite3* db) {
  std::string detail =
      std::string(context) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {  // primary code; extended codes are enabled on every handle
    case SQLITE_FULL:
      return Error(
          "disk_full",
          "Disk penuh: perubahan tidak disimpan; kosongkan ruang lalu coba lagi. (" + detail + ")");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error("db_busy", "Basis data sedang dipakai proses lain; coba lagi sebentar lagi. (" +
                                  detail + ")");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error("db_corrupt", "Basis data rusak: " + detail);
    default:
      return Error("db", "Kesalahan basis data: " + detail);
  }
}

// How long a backup waits for a busy source, and how often it tries again.
constexpr int kBackupWaitMs = 5000;
constexpr int kBackupRetryMs = 100;

// Pragma values cannot be bound as parameters, so the one string option that reaches SQL
// text is checked against SQLite's own vocabulary first.
bool valid_synchronous(std::string_view value) {
  std::string upper;
  for (char c : value) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper == "OFF" || upper == "NORMAL" || upper == "FULL" || upper == "EXTRA" ||
         upper == "0" || upper == "1" || upper == "2" || upper == "3";
}

// Non-null pointer for empty text/blobs: SQLite binds NULL when given a null pointer, and
// an empty std::string_view may well have data() == nullptr.
constexpr char kEmpty[] = "";

}  // namespace

// --- Statement --------------------------------------------------------------------------

void Statement::Finalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

Statement::Statement(Database& db, std::string_view sql) : db_(&db) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  stmt_.reset(raw);
  if (rc != SQLITE_OK) db.throw_error(rc, "prepare " + sql_head(sql));
  if (!stmt_) throw Error("db", "Kesalahan basis data: pernyataan SQL kosong");
  // A Statement runs exactly one statement; silently ignoring the rest of a multi-statement
  // string would drop writes. Database::exec is the way to run several.
  std::string_view rest = sql.substr(static_cast<std::size_t>(tail - sql.data()));
  bool only_separators = std::all_of(rest.begin(), rest.end(), [](char c) {
    return c == ';' || std::isspace(static_cast<unsigned char>(c));
  });
  if (!only_separators) {
    throw Error("db",
                "Kesalahan basis data: lebih dari satu pernyataan SQL dalam satu Statement: " +
                    sql_head(sql));
  }
}

Statement::~Statement() = default;

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(std::move(other.stmt_)) {}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_.get(), index, value);
  if (rc != SQLITE_OK) db_->throw_error(rc, "bind " + sql_head(sqlite3_sql(stmt_.get())));
  return *this;
}

Statement& Statement::bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_.get(), index, value);
  if (rc != SQLITE_OK) db_->throw_error(rc, "bind " + sql_head(sqlite3_sql(stmt_.get())));
  return *this;
}

namespace {
// SQLite's destructor arguments: copy the value now, or use it in place until reset.
sqlite3_destructor_type destructor(bool copy) { return copy ? SQLITE_TRANSIENT : SQLITE_STATIC; }
}  // namespace

Statement& Statement::bind_text_as(int index, std::string_view value, bool copy) {
  const char* data = value.empty() ? kEmpty : value.data();
  int rc = sqlite3_bind_text64(stmt_.get(), index, data, value.size(), destructor(copy),
                               SQLITE_UTF8);
  if (rc != SQLITE_OK) db_->throw_error(rc, "bind " + sql_head(sqlite3_sql(stmt_.get())));
  return *this;
}

Statement& Statement::bind_blob_as(int index, std::string_view value, bool copy) {
  const char* data = value.empty() ? kEmpty : value.data();
  int rc = sqlite3_bind_blob64(stmt_.get(), index, data, value.size(), destructor(copy));
  if (rc != SQLITE_OK) db_->throw_error(rc, "bind " + sql_head(sqlite3_sql(stmt_.get())));
  return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
  return bind_text_as(index, value, true);
}
Statement& Statement::bind_blob(int index, std::string_view value) {
  return bind_blob_as(index, value, true);
}
Statement& Statement::bind_text_ref(int index, std::string_view value) {
  return bind_text_as(index, value, false);
}
Statement& Statement::bind_blob_ref(int index, std::string_view value) {
  return bind_blob_as(index, value, false);
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_.get(), index);
  if (rc != SQLITE_OK) db_->throw_error(rc, "bind " + sql_head(sqlite3_sql(stmt_.get())));
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& text_or_null) {
  return text_or_null ? bind_text(index, *text_or_null) : bind_null(index);
}

bool Statement::step() {
  if (sqlite3_stmt_busy(stmt_.get()) == 0) db_->fault_point(FaultPoint::kBefore, sqlite3_sql(stmt_.get()));
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    db_->fault_point(FaultPoint::kAfter, sqlite3_sql(stmt_.get()));
    return false;
  }
  // Build the error before resetting: the reset may change the connection's errmsg. The
  // reset ends the failed statement so it does not pin a read snapshot or block ROLLBACK.
  Error error = make_error(rc, sql_head(sqlite3_sql(stmt_.get())), db_->handle());
  sqlite3_reset(stmt_.get());
  throw error;
}

void Statement::exec() {
  // Rows (e.g. from a pragma or RETURNING) are drained rather than rejected: the caller
  // asked for the side effect.
  while (step()) {
  }
}

void Statement::reset() {
  // sqlite3_reset repeats the last step's error, which step() has already thrown.
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

int Statement::column_count() const { return sqlite3_column_count(stmt_.get()); }

bool Statement::is_null(int col) const {
  return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL;
}

std::int64_t Statement::get_int(int col) const { return sqlite3_column_int64(stmt_.get(), col); }

double Statement::get_double(int col) const { return sqlite3_column_double(stmt_.get(), col); }

std::string Statement::get_text(int col) const {
  // Pointer first, then the byte count of that representation (SQLite's documented order);
  // the count keeps embedded NULs.
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), col));
  if (text == nullptr) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col)));
}

std::string Statement::get_blob(int col) const {
  const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt_.get(), col));
  if (blob == nullptr) return {};  // NULL or a zero-length blob
  return std::string(blob, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col)));
}

std::optional<std::string> Statement::get_optional_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return get_text(col);
}

// --- Database ---------------------------------------------------------------------------

void Database::Closer::operator()(sqlite3* db) const {
  // close_v2: should a Statement outlive its Database by mistake, the handle is closed when
  // that statement is finalized instead of leaking (sqlite3_close would return BUSY).
  sqlite3_close_v2(db);
}

Database::Database(const std::string& path, const OpenOptions& options) : path_(path) {
  int flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;  // one thread at a time (see header)
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // owned even on failure: a failed open still allocates the handle
  if (rc != SQLITE_OK) throw_error(rc, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);

  if (!valid_synchronous(options.synchronous)) {
    throw Error("db",
                "Kesalahan basis data: nilai synchronous tidak dikenal: " + options.synchronous);
  }
  exec("PRAGMA foreign_keys = ON");
  // An empty filename means an in-memory or temporary database, whichever way it was named
  // (":memory:", "", "file:x?mode=memory"); WAL does not apply there. A read-only handle
  // cannot switch modes, so it uses whatever mode the file already has.
  const char* file = sqlite3_db_filename(raw, "main");
  bool in_memory = file == nullptr || file[0] == '\0';
  if (options.wal && !in_memory && !options.read_only) exec("PRAGMA journal_mode = WAL");
  exec("PRAGMA synchronous = " + options.synchronous);
}

Database::~Database() = default;  // cache_ is declared after db_, so statements go first

void Database::exec(std::string_view sql) {
  // sqlite3_exec needs a NUL-terminated string.
  std::string text(sql);
  fault_point(FaultPoint::kBefore, sql);
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw_error(rc, sql_head(sql));
  fault_point(FaultPoint::kAfter, sql);
}

void Database::run_fault_hook(FaultPoint where, std::string_view sql) {
  if (std::uncaught_exceptions() > 0) return;  // a crash is already on its way up
  fault_hook_(where, sql);
}

CachedStatement Database::cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    it = cache_.emplace(sql, std::make_unique<Statement>(*this, sql)).first;
  } else {
    it->second->reset();
  }
  return CachedStatement(*it->second);
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

int Database::changes() const { return sqlite3_changes(db_.get()); }

std::string Database::integrity_check() {
  Statement check(*this, "PRAGMA integrity_check");
  if (!check.step()) return "ok";  // not expected: the pragma always answers
  return check.get_text(0);
}

void Database::set_max_page_count(std::int64_t pages) {
  exec("PRAGMA max_page_count = " + std::to_string(pages));
}

void Database::backup_to(const std::string& dest_path) {
  Database dest(dest_path, OpenOptions{.create = true, .wal = false});
  struct Finisher {
    void operator()(sqlite3_backup* b) const { sqlite3_backup_finish(b); }
  };
  std::unique_ptr<sqlite3_backup, Finisher> backup(
      sqlite3_backup_init(dest.handle(), "main", db_.get(), "main"));
  if (!backup) dest.throw_error(sqlite3_errcode(dest.handle()), "backup " + dest_path);
  // One step of every page: the copy is one read snapshot of the source. A busy source
  // (another connection's checkpoint or recovery) is waited for, as long as a statement would.
  int rc = SQLITE_OK;
  for (int waited_ms = 0;; waited_ms += kBackupRetryMs) {
    rc = sqlite3_backup_step(backup.get(), -1);
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited_ms >= kBackupWaitMs) break;
    sqlite3_sleep(kBackupRetryMs);
  }
  rc = rc == SQLITE_DONE ? sqlite3_backup_finish(backup.release()) : rc;
  if (rc != SQLITE_OK) throw make_error(rc, "backup " + dest_path, nullptr);
  // A standalone file: opened later (even read-only) without a -wal or -shm beside it.
  dest.exec("PRAGMA journal_mode = DELETE");
}

void Database::throw_error(int rc, std::string_view context) const {
  throw make_error(rc, context, db_.get());
}

// --- Transaction ------------------------------------------------------------------------

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (done_) return;
  // Never throw from here. SQLite may already have rolled back on its own (e.g. after
  // SQLITE_FULL), in which case there is no transaction left to end.
  sqlite3* handle = db_.handle();
  if (sqlite3_get_autocommit(handle) == 0)
    sqlite3_exec(handle, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  // done_ only after success: if COMMIT fails the transaction is still open (or already
  // rolled back by SQLite) and the destructor cleans up.
  db_.exec("COMMIT");
  done_ = true;
}

// --- migrations ------------------------------------------------------------------------

int migrate(Database& db, const std::vector<Migration>& steps, const std::string& too_new_message) {
  Transaction tx(db);
  int found = 0;
  {
    Statement has_meta(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    if (has_meta.step()) {
      Statement v(db, "SELECT value FROM meta WHERE key = 'schema_version'");
      if (v.step()) found = static_cast<int>(std::stoll(v.get_text(0)));
    }
  }
  const int latest = steps.empty() ? 0 : steps.back().version;
  if (found > latest) throw Error("schema_too_new", too_new_message);
  for (const Migration& m : steps)
    if (m.version > found) db.exec(m.sql);
  if (found != latest) {
    Statement set(db,
                  "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    set.bind_text(1, std::to_string(latest)).exec();
  }
  tx.commit();
  return found;
}

}  // namespace alur::sql
