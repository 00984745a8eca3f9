// ServerDb: the server's one gateway to its SQLite database (WAL) — users, devices, every
// change received (accepted or rejected), the hash-chained committed log with its global
// commit sequence, the materialized cases, and blobs. Schema: server/SCHEMA.md.
//
// The SQL is kept portable (no SQLite-only functions in the commit path) and the commit
// sequence is assigned inside the committing transaction, so that a PostgreSQL backend
// can take the same shape. Not thread-safe: owned by the server's single I/O thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alur/shared/clock.h"
#include "alur/shared/org.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/case_state.h"
#include "alur/sync/messages.h"

namespace alur::server {

struct Device {
  std::string replica;
  std::string username;
  std::string device_key;  // Ed25519 public, 32 bytes
  std::string name;
  Millis created_at = 0;
  std::optional<Millis> revoked_at;
  std::uint64_t last_counter = 0;
  std::string last_hash;
};

struct StoredChange {
  std::string hash;
  std::string status;  // accepted | rejected
  std::string code, message;
  std::uint64_t seq = 0;
};

class ServerDb : public sync::StateAccess {
 public:
  static constexpr const char* kFileName = "alur-server.db";

  // Opens (and creates/migrates) DIR/alur-server.db.
  explicit ServerDb(const std::string& data_dir);

  sql::Database& db() { return db_; }

  std::optional<std::string> meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);

  // Users.
  void upsert_user(const std::string& username, const std::string& name,
                   const std::string& password_hash);
  std::optional<std::string> password_hash(const std::string& username);

  // Devices.
  void add_device(const Device& d, const std::string& token_hash);
  std::optional<Device> device(const std::string& replica);
  std::optional<std::string> token_hash(const std::string& replica);
  std::vector<Device> devices();
  void revoke_device(const std::string& replica, Millis at);
  void advance_device(const std::string& replica, std::uint64_t counter, const std::string& hash);

  // Changes and the committed log.
  std::optional<StoredChange> stored_change(const std::string& replica, std::uint64_t counter);
  void store_change(const sync::Change& c, const std::string& hash, const std::string& status,
                    const std::string& code, const std::string& message, std::uint64_t seq,
                    Millis received_at);
  // Appends to the committed log; returns the new seq (max + 1, inside the transaction).
  std::uint64_t append_log(const sync::Change& c, const std::string& change_hash, Millis committed_at);
  std::uint64_t head();
  std::vector<sync::CommittedEntry> entries_after(std::uint64_t after, std::size_t max_count,
                                                  std::size_t max_bytes);

  // Blobs.
  bool has_blob(const std::string& sha256_hex) override;
  std::uint64_t blob_progress(const std::string& sha256_hex);  // bytes held (complete = size)
  // Appends a chunk at offset (must equal progress); completes and verifies the blob when
  // total is reached. Returns false — having discarded the upload so that it can start
  // over — if the content does not hash to sha. Throws Error("blob_offset") for a chunk
  // out of order.
  bool put_blob_chunk(const std::string& sha256_hex, std::uint64_t offset, std::uint64_t total,
                      const std::string& data);
  std::optional<std::string> blob_slice(const std::string& sha256_hex, std::uint64_t offset,
                                        std::size_t max_bytes, std::uint64_t& total);

  // sync::StateAccess over the committed state (call inside a transaction when writing).
  const Org& org() override;
  void set_org(const Org& org) override;
  std::optional<sync::CaseState> load_case(const std::string& id) override;
  void save_case(const sync::CaseState& c) override;
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override;

 private:
  void migrate();

  sql::Database db_;
  std::optional<Org> org_;
  std::string org_text_;  // the stored JSON org_ was parsed from  // cache of meta "org"
};

}  // namespace alur::server
