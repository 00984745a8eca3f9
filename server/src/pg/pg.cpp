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

// Throws for a failed result (and takes ownership of it).
void check(PGconn* conn, PGresult* r, std::string_view sql) {
  const ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return;
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  std::string sqlstate = state ? state : "";
  std::string message = trimmed(PQresultErrorMessage(r));
  PQclear(r);
  std::string code = "db";
  if (PQstatus(conn) != CONNECTION_OK || sqlstate.starts_with("08"))
    code = "db_unavailable";
  else if (sqlstate.starts_with("53"))
    code = "disk_full";
  else if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03")
    code = "db_busy";
  throw Error(code, "PostgreSQL: " + head_of(sql) + ": " + message);
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

Connection::Connection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
  if (!conn_) throw Error("db_unavailable", "PostgreSQL: tidak ada memori untuk koneksi");
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw Error("db_unavailable",
                "Tidak dapat terhubung ke PostgreSQL: " + trimmed(PQerrorMessage(conn_.get())));
  PQsetNoticeProcessor(conn_.get(), &ignore_notice, nullptr);
  // Times are stored as integers (milliseconds), text as UTF-8: nothing depends on the
  // session's time zone; the encoding must be fixed.
  exec("SET client_encoding = 'UTF8'");
}

Connection::~Connection() = default;

bool Connection::failed_transaction() const {
  return PQtransactionStatus(conn_.get()) == PQTRANS_INERROR;
}

void Connection::exec(std::string_view sql) {
  std::string s(sql);
  PGresult* r = PQexec(conn_.get(), s.c_str());
  check(conn_.get(), r, sql);  // on failure: cleared, and thrown
  PQclear(r);
}

Result Connection::query(const std::string& sql, const std::vector<Param>& params) {
  PGconn* c = conn_.get();
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    PGresult* prepared = PQprepare(c, name.c_str(), sql.c_str(), 0, nullptr);
    check(c, prepared, sql);
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
  check(c, r, sql);
  return Result(r);
}

// --- Transaction -------------------------------------------------------------------------

// READ COMMITTED whatever the database's default: each statement sees what was committed
// before it, so a writer that waited for a row lock reads its predecessor's commit.
Transaction::Transaction(Connection& c) : c_(c) { c_.exec("BEGIN ISOLATION LEVEL READ COMMITTED"); }

Transaction::~Transaction() {
  if (done_) return;
  try {
    c_.exec("ROLLBACK");
  } catch (...) {  // never throw from a destructor; a lost connection ends the transaction
  }
}

void Transaction::commit() {
  // PostgreSQL answers COMMIT of a failed transaction with a silent ROLLBACK: refuse it.
  if (c_.failed_transaction())
    throw Error("db", "PostgreSQL: transaksi sudah gagal dan dibatalkan; tidak ada yang disimpan");
  c_.exec("COMMIT");
  done_ = true;
}

}  // namespace alur::pg
