// Thin RAII layer over the SQLite C API (in the spirit of SQLiteCpp): a Database owns its
// sqlite3*, a Statement its sqlite3_stmt*, and a Transaction rolls back in its destructor
// unless committed — writes that must be atomic take a Transaction& so that a half-applied
// batch cannot be written by accident.
//
// Threading: a Database and its Statements belong to one thread at a time.
// Errors throw alur::Error: code "disk_full" for SQLITE_FULL, "db_busy" for
// SQLITE_BUSY/LOCKED after the busy timeout, "db_corrupt" for SQLITE_CORRUPT/NOTADB,
// "db" otherwise; the message names the SQL's first words and sqlite3_errmsg.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace alur::sql {

class Database;

// A prepared statement. Bind parameters are 1-based like SQLite's. Text and blobs are
// bound by copy (SQLITE_TRANSIENT) so arguments may be temporaries; bind_text_ref and
// bind_blob_ref bind without a copy (SQLITE_STATIC), for a hot statement whose caller keeps
// the value alive and unchanged until the statement is reset.
class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind_text(int index, std::string_view value);
  Statement& bind_blob(int index, std::string_view value);
  Statement& bind_text_ref(int index, std::string_view value);
  Statement& bind_blob_ref(int index, std::string_view value);
  Statement& bind_null(int index);
  Statement& bind(int index, const std::optional<std::string>& text_or_null);

  // Steps once: true if a row is available, false when done.
  bool step();
  // Steps until done, expecting no row (INSERT/UPDATE/DELETE/DDL).
  void exec();
  // Resets for re-execution and clears bindings.
  void reset();

  bool is_null(int col) const;
  int column_count() const;
  std::int64_t get_int(int col) const;
  double get_double(int col) const;
  std::string get_text(int col) const;  // "" for NULL
  std::string get_blob(int col) const;  // "" for NULL
  std::optional<std::string> get_optional_text(int col) const;

 private:
  Statement& bind_text_as(int index, std::string_view value, bool copy);
  Statement& bind_blob_as(int index, std::string_view value, bool copy);
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };
  Database* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

// A borrowed cached Statement that is reset (its snapshot released) when the handle goes
// out of scope. Use it as a local (`auto s = db.cached(...)`) or as a temporary in one
// chained expression.
class CachedStatement {
 public:
  explicit CachedStatement(Statement& s) : s_(&s) {}
  ~CachedStatement() {
    if (s_) s_->reset();
  }
  CachedStatement(CachedStatement&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  CachedStatement& operator=(CachedStatement&&) = delete;
  CachedStatement(const CachedStatement&) = delete;

  template <class... A>
  CachedStatement& bind(A&&... a) {
    s_->bind(std::forward<A>(a)...);
    return *this;
  }
  CachedStatement& bind_text(int i, std::string_view v) {
    s_->bind_text(i, v);
    return *this;
  }
  CachedStatement& bind_blob(int i, std::string_view v) {
    s_->bind_blob(i, v);
    return *this;
  }
  CachedStatement& bind_text_ref(int i, std::string_view v) {
    s_->bind_text_ref(i, v);
    return *this;
  }
  CachedStatement& bind_blob_ref(int i, std::string_view v) {
    s_->bind_blob_ref(i, v);
    return *this;
  }
  CachedStatement& bind_null(int i) {
    s_->bind_null(i);
    return *this;
  }
  bool step() { return s_->step(); }
  void exec() { s_->exec(); }
  void reset() { s_->reset(); }
  bool is_null(int c) const { return s_->is_null(c); }
  std::int64_t get_int(int c) const { return s_->get_int(c); }
  double get_double(int c) const { return s_->get_double(c); }
  std::string get_text(int c) const { return s_->get_text(c); }
  std::string get_blob(int c) const { return s_->get_blob(c); }
  std::optional<std::string> get_optional_text(int c) const { return s_->get_optional_text(c); }

 private:
  Statement* s_;
};

// Names a database file (or a SQLite URI such as "file:/x?vfs=memdb") directly, for the
// constructors that otherwise take a folder: ServerDb(sql::File{...}), Replica(sql::File{...}).
struct File {
  std::string path;
};

// Where a fault hook runs: before a statement starts and after it has finished (for
// Database::exec, around the whole call — BEGIN and COMMIT included).
enum class FaultPoint { kBefore, kAfter };
// Tests and the simulator install one to crash a node between statements and transactions
// (it may throw; it is never called while an exception unwinds the stack).
using FaultHook = std::function<void(FaultPoint, std::string_view sql)>;

struct OpenOptions {
  bool create = true;
  bool read_only = false;
  bool wal = true;                   // journal_mode=WAL (ignored for ":memory:")
  std::string synchronous = "FULL";  // FULL: a committed transaction survives power loss
  int busy_timeout_ms = 5000;
};

class Database {
 public:
  // path may be ":memory:" or a "file:...?mode=memory" URI (SQLITE_OPEN_URI is set).
  explicit Database(const std::string& path, const OpenOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results (schema, pragmas).
  void exec(std::string_view sql);
  // A cached prepared statement for sql, with cleared bindings; cheap to call in loops.
  // The handle resets the statement when it goes out of scope: a query stepped only
  // part-way would otherwise keep its read snapshot open, hiding other connections'
  // commits and blocking this connection's next write transaction (db_busy).
  CachedStatement cached(const std::string& sql);

  std::int64_t last_insert_rowid() const;
  int changes() const;
  sqlite3* handle() const { return db_.get(); }
  const std::string& path() const { return path_; }

  // Runs PRAGMA integrity_check; returns "ok" or the first problem.
  std::string integrity_check();
  // Page limit (PRAGMA max_page_count) — lets tests simulate a full disk.
  void set_max_page_count(std::int64_t pages);
  // Copies the whole database, as of one moment, into a new file at dest_path with SQLite's
  // online backup API: other connections keep writing meanwhile (WAL readers do not block
  // writers). The copy is a standalone database file (no -wal beside it).
  void backup_to(const std::string& dest_path);

  // Installs (or, with an empty function, removes) the fault hook (see FaultHook).
  void set_fault_hook(FaultHook hook) { fault_hook_ = std::move(hook); }
  void fault_point(FaultPoint where, std::string_view sql) {
    if (fault_hook_) run_fault_hook(where, sql);
  }

  // Throws alur::Error mapped from an SQLite result code (see the file comment).
  [[noreturn]] void throw_error(int rc, std::string_view context) const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  std::unique_ptr<sqlite3, Closer> db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
  FaultHook fault_hook_;
  void run_fault_hook(FaultPoint where, std::string_view sql);
};

// BEGIN IMMEDIATE on construction (the write lock is taken up front, so a transaction
// never fails half-way on a lock upgrade); ROLLBACK in the destructor unless commit()
// was called. Not nestable.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();
  Database& db() { return db_; }

 private:
  Database& db_;
  bool done_ = false;
};

// One step of a database's schema: the SQL that brings version `version - 1` to `version`.
// A released step never changes; a new schema adds a step.
struct Migration {
  int version;
  std::string_view sql;
};

// Brings the database to the last step's version in one transaction (a crash leaves the
// old version whole), reading and writing `schema_version` in the database's
// `meta(key, value)` table, which the first step creates. A database of a version newer
// than the last step is refused with Error("schema_too_new", too_new_message). Returns the
// version found (0 for a new database).
int migrate(Database& db, const std::vector<Migration>& steps, const std::string& too_new_message);

}  // namespace alur::sql
