// ServerDb: the SQLite ServerStore (WAL, synchronous=FULL) — the embedded default.
// Schema: server/SCHEMA.md. The SQL is kept portable (no SQLite-only functions in the
// commit path) so that a PostgreSQL store can take the same shape.
// Not thread-safe: used by one thread at a time (serve: its unit's strand).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alur/server/store.h"
#include "alur/shared/clock.h"
#include "alur/shared/org.h"
#include "alur/shared/sqlite.h"
#include "alur/shared/sqlite_checkpointer.h"
#include "alur/sync/case_state.h"
#include "alur/sync/messages.h"
#include "alur/sync/parsed_cases.h"

namespace alur::server {

class ServerDb final : public ServerStore {
 public:
  static constexpr const char* kFileName = "alur-server.db";

  // Opens (and creates/migrates) DIR/alur-server.db.
  explicit ServerDb(const std::string& data_dir);
  // Opens the database named directly (a file, or a SQLite URI such as the simulator's
  // in-memory "file:/server?vfs=memdb").
  explicit ServerDb(const sql::File& file);

  // The SQLite handle, for tests and tools that inspect the file.
  sql::Database& db() { return db_; }
  std::unique_ptr<Transaction> begin() override;

  // ServerStore.
  std::optional<std::string> meta(const std::string& key) override;
  void set_meta(const std::string& key, const std::string& value) override;

  // Users.
  void upsert_user(const std::string& username, const std::string& name,
                   const std::string& password_hash) override;
  std::optional<std::string> password_hash(const std::string& username) override;

  // Devices.
  void add_device(const Device& d, const std::string& token_hash) override;
  std::optional<Device> device(const std::string& replica) override;
  std::optional<std::string> token_hash(const std::string& replica) override;
  std::vector<Device> devices() override;
  void revoke_device(const std::string& replica, Millis at) override;
  void advance_device(const std::string& replica, std::uint64_t counter,
                      const std::string& hash) override;

  // Changes and the committed log.
  std::optional<StoredChange> stored_change(const std::string& replica,
                                            std::uint64_t counter) override;
  void store_change(const EncodedChange& c, const std::string& status, const std::string& code,
                    const std::string& message, std::uint64_t seq, Millis received_at) override;
  std::uint64_t append_log(const EncodedChange& c, Millis committed_at) override;
  std::uint64_t head() override;
  std::vector<LogRecord> log_after(std::uint64_t after, std::size_t max_count,
                                   std::size_t max_bytes) override;

  // Blobs.
  bool has_blob(const std::string& sha256_hex) override;
  std::uint64_t blob_progress(const std::string& sha256_hex) override;
  bool put_blob_chunk(const std::string& sha256_hex, std::uint64_t offset, std::uint64_t total,
                      const std::string& data) override;
  std::optional<std::string> blob_slice(const std::string& sha256_hex, std::uint64_t offset,
                                        std::size_t max_bytes, std::uint64_t& total) override;

  // sync::StateAccess over the committed state (call inside a transaction when writing).
  const Org& org() override;
  void set_org(const Org& org) override;
  std::optional<sync::CaseState> load_case(const std::string& id) override;
  void save_case(const sync::CaseState& c) override;
  void save_case(sync::CaseState&& c) override;
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override;
  std::map<std::pair<std::string, int>, std::string> imported_templates() override;
  void put_template(const std::string& sop, int version, const std::string& text) override;

  // Schedules (server-local, not replicated).
  std::vector<Schedule> schedules() override;
  void put_schedule(const Schedule& s) override;
  bool remove_schedule(const std::string& sop) override;
  std::map<int, std::string> calendars() override;

  // verify.
  std::string integrity_check() override;
  void visit_log(const std::function<bool(const LogRecord&)>& visit) override;
  void visit_changes(const std::function<bool(const ChangeRecord&)>& visit) override;
  void visit_cases(
      const std::function<bool(const std::string& id, const std::string& body)>& visit) override;

 private:
  void migrate();

  sql::Database db_;
  StoredOrg org_;  // meta "org", parsed
  // The log's last row, known while a transaction of begin() holds the write lock (BEGIN
  // IMMEDIATE: nothing else can append) after this connection has read or appended it; so a
  // batch reads it from the table once, not once per change. Forgotten when the
  // transaction ends, committed or rolled back.
  bool in_transaction_ = false;
  std::optional<LogTail> log_tail_;
  // The cases last read or written, parsed (a busy case is touched by batch after batch;
  // parsing its JSON cost more than the rest of the batch's work on it).
  sync::ParsedCases parsed_{kParsedCases};
  static constexpr std::size_t kParsedCases = 64;
  // A file in WAL mode is checkpointed on a thread of its own, not inside a batch's COMMIT
  // (sqlite_checkpointer.h). Declared after db_: it stops before db_ closes.
  std::unique_ptr<sql::Checkpointer> checkpointer_;
};

}  // namespace alur::server
