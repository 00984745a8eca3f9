// Thin RAII layer over libpq, the PostgreSQL C client: a Connection owns its PGconn* and
// caches one prepared statement per SQL text, a Result owns its PGresult*, and a
// Transaction rolls back in its destructor unless committed. Parameters are always bound
// ($1, $2, ...): text, integers and NULL in text format, bytes in binary format (bytea).
//
// (libpqxx 6.4 in Debian 12 predates C++20 and passes bytea through its own string type;
// libpq itself is small enough to wrap in the shape of alur/shared/sqlite.h.)
//
// Threading: a Connection and its Results belong to one thread at a time.
// Errors throw alur::Error: "disk_full" (SQLSTATE class 53), "db_busy" (serialization
// failure, deadlock, lock timeout), "db_unavailable" (no connection, the server shutting
// down or terminating the session, or a read-only server such as a standby after a
// failover), "db" otherwise; the message names the SQL's first words and the server's.
//
// A lost connection (PostgreSQL restarted, the session terminated, a failover) is made
// again by the next statement outside a transaction (after a failed attempt, not again
// before kReconnectPause has passed), with
// the same connection string, so that libpq's own failover options (several hosts,
// target_session_attrs=read-write) find the new primary. Inside a transaction it never is:
// the statements after a lost connection would run outside the transaction that the server
// has already rolled back, so they fail with db_unavailable until the transaction ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace alur::pg {

// One bound parameter.
struct Param {
  std::optional<std::string> value;  // nullopt: NULL
  bool binary = false;               // bytea

  Param(std::string_view text) : value(std::string(text)) {}  // NOLINT: implicit by design
  Param(const std::string& text) : value(text) {}             // NOLINT
  Param(const char* text) : value(std::string(text)) {}       // NOLINT
  Param(std::int64_t v) : value(std::to_string(v)) {}         // NOLINT
  Param(int v) : value(std::to_string(v)) {}                  // NOLINT
  Param(std::uint64_t v) : value(std::to_string(v)) {}        // NOLINT
  static Param bytes(std::string_view b) {
    Param p{b};
    p.binary = true;
    return p;
  }
  static Param null() {
    Param p{""};
    p.value.reset();
    return p;
  }
};

// The rows of one statement (text format; bytea decoded by bytes()).
class Result {
 public:
  explicit Result(pg_result* r) : r_(r) {}
  int rows() const;
  bool empty() const { return rows() == 0; }
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;    // "" for NULL
  std::int64_t int64(int row, int col) const;  // 0 for NULL
  std::string bytes(int row, int col) const;   // a bytea column's raw bytes
  std::optional<std::string> optional_text(int row, int col) const;
  int columns() const;
  bool is_bytea(int col) const;
  // The number of rows an INSERT/UPDATE/DELETE touched.
  std::uint64_t affected() const;

 private:
  struct Clear {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Clear> r_;
};

// The pause after a failed attempt to reconnect: a database that is down costs a refused
// connection at most this often, and the requests in between a fast db_unavailable.
inline constexpr std::chrono::milliseconds kReconnectPause{1000};
// connect_timeout unless the connection string sets its own: an unreachable host blocks
// the caller (the server's I/O thread) this long at most.
inline constexpr int kConnectTimeoutSeconds = 10;

class Connection {
 public:
  // conninfo: a postgresql:// URL or "key=value" string (libpq's). Throws db_unavailable.
  explicit Connection(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters (schema, BEGIN/COMMIT).
  void exec(std::string_view sql);
  // Runs one statement with bound parameters, prepared once per connection.
  Result query(const std::string& sql, const std::vector<Param>& params = {});
  // Inside a transaction that a failed statement has aborted.
  bool failed_transaction() const;
  // How many times the connection was made again after it was lost.
  std::uint64_t reconnects() const { return reconnects_; }

  // Asynchronous notifications (LISTEN): the socket to watch for reading, and the number
  // of notifications with this payload that arrived since the last call (reads what the
  // socket holds; never blocks). Both throw db_unavailable once the connection is lost.
  int socket() const;
  std::size_t take_notifications(const std::string& payload);

 private:
  friend class Transaction;
  struct Finish {
    void operator()(pg_conn* c) const;
  };
  // Throws for a failed result (clearing it); marks the connection for a reset when the
  // server is going away or read-only.
  void check(pg_result* r, std::string_view sql);
  // Outside a transaction: makes a lost connection again (see the header comment).
  void reconnect_if_lost();
  // BEGIN, and (outside a transaction) reads, run again once on a new connection if the
  // old one turns out to have been lost.
  template <typename Run>
  auto repeatable(std::string_view sql, Run run);
  void begin(std::string_view sql);
  Result run(const std::string& sql, const std::vector<Param>& params);

  std::unique_ptr<pg_conn, Finish> conn_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
  bool in_transaction_ = false;
  bool must_reset_ = false;  // connected, but to a server that cannot take our writes
  std::chrono::steady_clock::time_point last_failure_{};  // of an attempt to reconnect
  std::uint64_t reconnects_ = 0;
};

// BEGIN (READ COMMITTED) in the constructor; ROLLBACK in the destructor unless commit()
// succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& c);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& c_;
  bool done_ = false;
};

}  // namespace alur::pg
