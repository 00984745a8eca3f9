// The libpq wrapper (pg.h).
#include "alur/server/pg.h"

#include <libpq-fe.h>

#include <cstdlib>

#include "alur/shared/error.h"

namespace alur::pg {

namespace {

// The first words of a statement, to name it in an error without dumping the whole SQL.
std::string head_of(std::string_view sql) {
  std::string out(sql.substr(0, 60));
  for (char& ch : out)
    if (ch == '\n') ch = ' ';
  return out;
}

std::string trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// What a failed statement's SQLSTATE means to the caller (pg.h).
std::string code_of(const std::string& sqlstate, bool connected) {
  // 08: connection exception; 57P0x: the server shutting down or ending the session
  // (pg_terminate_backend); 25006: a read-only server (a standby after a failover).
  if (!connected || sqlstate.starts_with("08") || sqlstate.starts_with("57P") ||
      sqlstate == "25006")
    return "db_unavailable";
  if (sqlstate.starts_with("53")) return "disk_full";
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") return "db_busy";
  return "db";
}

void ignore_notice(void*, const char*) {}  // "relation already exists, skipping" and the like

}  // namespace

// --- Result ------------------------------------------------------------------------------

void Result::Clear::operator()(pg_result* r) const { PQclear(r); }

int Result::rows() const { return PQntuples(r_.get()); }

bool Result::is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }

std::string Result::text(int row, int col) const {
  return std::string(PQgetvalue(r_.get(), row, col),
                     static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
}

std::int64_t Result::int64(int row, int col) const {
  if (is_null(row, col)) return 0;
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

std::string Result::bytes(int row, int col) const {
  if (is_null(row, col)) return {};
  std::size_t n = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &n);
  if (!raw) throw Error("db", "PostgreSQL: a bytea value cannot be decoded");
  std::unique_ptr<unsigned char, decltype(&PQfreemem)> owned(raw, &PQfreemem);
  return std::string(reinterpret_cast<const char*>(raw), n);
}

std::optional<std::string> Result::optional_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}

int Result::columns() const { return PQnfields(r_.get()); }

bool Result::is_bytea(int col) const {
  constexpr Oid kByteaOid = 17;  // pg_type.h, stable since PostgreSQL 7
  return PQftype(r_.get(), col) == kByteaOid;
}

std::uint64_t Result::affected() const {
  const char* n = PQcmdTuples(r_.get());
  return (n && *n) ? std::strtoull(n, nullptr, 10) : 0;
}

// --- Connection --------------------------------------------------------------------------

void Connection::Finish::operator()(pg_conn* c) const { PQfinish(c); }

Connection::Connection(const std::string& conninfo) {
  // The connection string (expanded from "dbname") may set its own connect_timeout, given
  // before it; the encoding, given after it, is fixed: times are stored as integers
  // (milliseconds), text as UTF-8, so nothing depends on the session's settings.
  const std::string timeout = std::to_string(kConnectTimeoutSeconds);
  const char* keys[] = {"connect_timeout", "dbname", "client_encoding", nullptr};
  const char* values[] = {timeout.c_str(), conninfo.c_str(), "UTF8", nullptr};
  conn_.reset(PQconnectdbParams(keys, values, 1));
  if (!conn_) throw Error("db_unavailable", "PostgreSQL: tidak ada memori untuk koneksi");
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw Error("db_unavailable",
                "Tidak dapat terhubung ke PostgreSQL: " + trimmed(PQerrorMessage(conn_.get())));
  PQsetNoticeProcessor(conn_.get(), &ignore_notice, nullptr);
}

void Connection::check(PGresult* r, std::string_view sql) {
  const ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return;
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const std::string sqlstate = state ? state : "";
  const std::string message = trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_.get()));
  PQclear(r);
  const bool connected = PQstatus(conn_.get()) == CONNECTION_OK;
  const std::string code = code_of(sqlstate, connected);
  if (code == "db_unavailable" && connected) must_reset_ = true;
  throw Error(code, "PostgreSQL: " + head_of(sql) + ": " + message);
}

void Connection::reconnect_if_lost() {
  if (PQstatus(conn_.get()) == CONNECTION_OK && !must_reset_) return;
  if (std::chrono::steady_clock::now() - last_failure_ < kReconnectPause)
    throw Error("db_unavailable", "Koneksi ke PostgreSQL terputus; mencoba lagi sebentar lagi");
  PQreset(conn_.get());  // the same parameters: every host again, in order
  prepared_.clear();     // statements die with their session
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    last_failure_ = std::chrono::steady_clock::now();
    throw Error("db_unavailable", "Koneksi ke PostgreSQL terputus dan belum tersambung lagi: " +
                                      trimmed(PQerrorMessage(conn_.get())));
  }
  must_reset_ = false;
  ++reconnects_;
}

int Connection::socket() const {
  const int fd = PQsocket(conn_.get());
  if (fd < 0 || PQstatus(conn_.get()) != CONNECTION_OK)
    throw Error("db_unavailable", "Koneksi ke PostgreSQL terputus");
  return fd;
}

std::size_t Connection::take_notifications(const std::string& payload) {
  if (PQconsumeInput(conn_.get()) == 0 || PQstatus(conn_.get()) != CONNECTION_OK)
    throw Error("db_unavailable",
                "Koneksi ke PostgreSQL terputus: " + trimmed(PQerrorMessage(conn_.get())));
  std::size_t n = 0;
  while (PGnotify* note = PQnotifies(conn_.get())) {
    if (payload == (note->extra ? note->extra : "")) ++n;
    PQfreemem(note);
  }
  return n;
}

Connection::~Connection() = default;

bool Connection::failed_transaction() const {
  return PQtransactionStatus(conn_.get()) == PQTRANS_INERROR;
}

void Connection::exec(std::string_view sql) {
  if (!in_transaction_) reconnect_if_lost();
  std::string s(sql);
  PGresult* r = PQexec(conn_.get(), s.c_str());
  check(r, sql);  // on failure: cleared, and thrown
  PQclear(r);
}

// A connection lost while idle (the session terminated, the server restarted) is found
// out by the next statement. Outside a transaction, a read or a BEGIN has done nothing
// yet: it runs again once on a new connection, so that the request does not fail for it.
// (Only when this statement is the one to find out: a connection already known to be lost
// is made again by run() itself.)
template <typename Run>
auto Connection::repeatable(std::string_view sql, Run run) {
  const bool believed_up = PQstatus(conn_.get()) == CONNECTION_OK && !must_reset_;
  if (in_transaction_ || !believed_up || !(sql.starts_with("SELECT") || sql.starts_with("BEGIN")))
    return run();
  try {
    return run();
  } catch (const Error& e) {
    if (e.code() != "db_unavailable" || in_transaction_) throw;
    must_reset_ = true;
    return run();
  }
}

void Connection::begin(std::string_view sql) {
  repeatable(sql, [&] { exec(sql); });
}

Result Connection::query(const std::string& sql, const std::vector<Param>& params) {
  return repeatable(sql, [&] { return run(sql, params); });
}

Result Connection::run(const std::string& sql, const std::vector<Param>& params) {
  if (!in_transaction_) reconnect_if_lost();
  PGconn* c = conn_.get();
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    PGresult* prepared = PQprepare(c, name.c_str(), sql.c_str(), 0, nullptr);
    check(prepared, sql);
    PQclear(prepared);
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const Param& p : params) {
    values.push_back(p.value ? p.value->data() : nullptr);
    lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
    formats.push_back(p.binary ? 1 : 0);
  }
  PGresult* r = PQexecPrepared(c, it->second.c_str(), static_cast<int>(params.size()),
                               values.data(), lengths.data(), formats.data(), 0);
  check(r, sql);
  return Result(r);
}

// --- Transaction -------------------------------------------------------------------------

// READ COMMITTED whatever the database's default: each statement sees what was committed
// before it, so a writer that waited for a row lock reads its predecessor's commit.
// A lost connection is made again here, before BEGIN, and never after it (pg.h).
Transaction::Transaction(Connection& c) : c_(c) {
  c_.begin("BEGIN ISOLATION LEVEL READ COMMITTED");
  c_.in_transaction_ = true;
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    c_.exec("ROLLBACK");
  } catch (...) {  // never throw from a destructor; a lost connection ends the transaction
  }
  c_.in_transaction_ = false;
}

void Transaction::commit() {
  // PostgreSQL answers COMMIT of a failed transaction with a silent ROLLBACK: refuse it.
  if (c_.failed_transaction())
    throw Error("db", "PostgreSQL: transaksi sudah gagal dan dibatalkan; tidak ada yang disimpan");
  c_.exec("COMMIT");  // if the connection is lost here, the outcome is the server's to know:
  done_ = true;       // a resent push finds its changes stored (duplicate) or not (accepted)
  c_.in_transaction_ = false;
}

}  // namespace alur::pg
