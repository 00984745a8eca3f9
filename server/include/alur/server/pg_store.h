// PgStore: the PostgreSQL ServerStore, for a deployment that outgrows one machine (several
// server nodes on one database, PostgreSQL's own replication for failover). Same tables and
// behaviour as ServerDb (server/SCHEMA.md); the differences are PostgreSQL's types (bytea,
// bigint) and the `log_head` row: every write transaction locks it first (SELECT … FOR
// UPDATE), so writers are serialized by the database across nodes exactly as SQLite's
// BEGIN IMMEDIATE serializes them in one file, the validation reads committed state, and
// the commit sequence is head + 1, gap-free, inside the committing transaction.
// A transaction that appended to the log sends NOTIFY on kCommitChannel before it commits,
// which PostgreSQL delivers to every listening node (CommitListener, pg_listener.h) only
// once the transaction has committed, and once per transaction however many it appended.
// Not thread-safe: one connection, used by one thread at a time (serve: its unit's strand).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alur/server/pg.h"
#include "alur/server/store.h"
#include "alur/shared/org.h"

namespace alur::server {

class PgStore final : public ServerStore {
 public:
  // The channel every node LISTENs on for commits made through the others.
  static constexpr const char* kCommitChannel = "alur_commit";

  // Connects to `url` (postgresql://… or libpq key=value) and creates/migrates the schema.
  explicit PgStore(const std::string& url);

  // The connection, for tests and tools that inspect the database.
  pg::Connection& connection() { return conn_; }
  std::unique_ptr<Transaction> begin() override;

  std::optional<std::string> meta(const std::string& key) override;
  void set_meta(const std::string& key, const std::string& value) override;

  void upsert_user(const std::string& username, const std::string& name,
                   const std::string& password_hash) override;
  std::optional<std::string> password_hash(const std::string& username) override;

  void add_device(const Device& d, const std::string& token_hash) override;
  std::optional<Device> device(const std::string& replica) override;
  std::optional<std::string> token_hash(const std::string& replica) override;
  std::vector<Device> devices() override;
  void revoke_device(const std::string& replica, Millis at) override;
  void advance_device(const std::string& replica, std::uint64_t counter,
                      const std::string& hash) override;

  std::optional<StoredChange> stored_change(const std::string& replica,
                                            std::uint64_t counter) override;
  void store_change(const EncodedChange& c, const std::string& status, const std::string& code,
                    const std::string& message, std::uint64_t seq, Millis received_at) override;
  std::uint64_t append_log(const EncodedChange& c, Millis committed_at) override;
  std::uint64_t head() override;
  std::vector<LogRecord> log_after(std::uint64_t after, std::size_t max_count,
                                   std::size_t max_bytes) override;

  bool has_blob(const std::string& sha256_hex) override;
  std::uint64_t blob_progress(const std::string& sha256_hex) override;
  bool put_blob_chunk(const std::string& sha256_hex, std::uint64_t offset, std::uint64_t total,
                      const std::string& data) override;
  std::optional<std::string> blob_slice(const std::string& sha256_hex, std::uint64_t offset,
                                        std::size_t max_bytes, std::uint64_t& total) override;

  const Org& org() override;
  void set_org(const Org& org) override;
  std::optional<sync::CaseState> load_case(const std::string& id) override;
  void save_case(const sync::CaseState& c) override;
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override;
  std::map<std::pair<std::string, int>, std::string> imported_templates() override;
  void put_template(const std::string& sop, int version, const std::string& text) override;

  std::vector<Schedule> schedules() override;
  void put_schedule(const Schedule& s) override;
  bool remove_schedule(const std::string& sop) override;
  std::map<int, std::string> calendars() override;

  std::string integrity_check() override;
  void visit_log(const std::function<bool(const LogRecord&)>& visit) override;
  void visit_changes(const std::function<bool(const ChangeRecord&)>& visit) override;
  void visit_cases(
      const std::function<bool(const std::string& id, const std::string& body)>& visit) override;

 private:
  void migrate();
  void notify_commit();

  pg::Connection conn_;
  bool appended_ = false;  // begin()'s transaction appended to the log: NOTIFY before COMMIT
  // The log's last row while begin()'s transaction holds log_head's lock (read with the
  // lock, advanced by each append); log_head itself is written once, before the COMMIT.
  // Set exactly while that transaction is open.
  std::optional<LogTail> log_tail_;
  StoredOrg org_;                // meta "org", parsed
};

}  // namespace alur::server
