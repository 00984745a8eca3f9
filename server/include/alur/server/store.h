// ServerStore: everything the server keeps, behind one interface — users, devices, every
// change received, the committed log with its global commit sequence, the materialized
// cases, blobs. SQLite (ServerDb) is the embedded default; PostgreSQL (PgStore, pg_store.h)
// serves several nodes from one database. Callers never see SQL, and the commit sequence
// is assigned by the store inside the committing transaction.
//
// Writes happen inside a transaction from begin(); the transaction rolls back when
// destroyed without commit(), so a half-applied batch cannot be written.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alur/shared/clock.h"
#include "alur/sync/case_state.h"
#include "alur/sync/messages.h"

namespace alur::server {

// A change as the stores write it, encoded once by the caller: its encode_change() bytes
// (`encoded` in the log and in the changes table) and its hash (change_hash_of those
// bytes, which is Change::hash()). Refers to the change, which must outlive it.
struct EncodedChange {
  explicit EncodedChange(const sync::Change& c)
      : change(c), encoding(sync::encode_change(c)), hash(sync::change_hash_of(encoding)) {}
  const sync::Change& change;
  std::string encoding;
  std::string hash;
};

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

// A case the server opens by itself each quarter (`alur-server schedule add`): the case of
// a triwulan is opened on day `day` of the first month after it ("previous": the quarter
// just ended is measured) or of the quarter itself ("current").
struct Schedule {
  std::string sop;
  int day = 1;
  std::string period_of = "previous";  // "previous" | "current"
  Millis created_at = 0;               // periods before this moment are never opened
};

// A row of the committed log and of `changes` as stored, for verify (verify.h).
struct LogRecord {
  std::uint64_t seq = 0;
  std::string replica;
  std::uint64_t counter = 0;
  Millis committed_at = 0;
  std::string log_hash, encoded;
};
// The log's last row: what the next entry's seq and hash continue from. A store knows it
// for the length of its own write transaction (which holds the write lock, so nothing else
// can append), instead of reading it again for every change.
struct LogTail {
  std::uint64_t seq = 0;
  std::string log_hash;
};
struct ChangeRecord {
  std::string replica;
  std::uint64_t counter = 0;
  std::string hash, encoded, status;
  std::uint64_t seq = 0;  // 0 when not committed
};

class ServerStore : public sync::StateAccess {
 public:
  class Transaction {
   public:
    virtual ~Transaction() = default;
    virtual void commit() = 0;
  };
  // Begins a write transaction (exclusive: one writer at a time).
  virtual std::unique_ptr<Transaction> begin() = 0;

  virtual std::optional<std::string> meta(const std::string& key) = 0;
  virtual void set_meta(const std::string& key, const std::string& value) = 0;

  // Working-day calendars (calendar.set) live in meta as "calendar/<year>", beside the org.
  void set_calendar(int year, const std::string& canonical_json) override {
    set_meta("calendar/" + std::to_string(year), canonical_json);
  }

  // Users.
  virtual void upsert_user(const std::string& username, const std::string& name,
                           const std::string& password_hash) = 0;
  virtual std::optional<std::string> password_hash(const std::string& username) = 0;

  // Devices.
  virtual void add_device(const Device& d, const std::string& token_hash) = 0;
  virtual std::optional<Device> device(const std::string& replica) = 0;
  virtual std::optional<std::string> token_hash(const std::string& replica) = 0;
  virtual std::vector<Device> devices() = 0;
  virtual void revoke_device(const std::string& replica, Millis at) = 0;
  virtual void advance_device(const std::string& replica, std::uint64_t counter,
                              const std::string& hash) = 0;

  // Changes and the committed log.
  virtual std::optional<StoredChange> stored_change(const std::string& replica,
                                                    std::uint64_t counter) = 0;
  virtual void store_change(const EncodedChange& c, const std::string& status,
                            const std::string& code, const std::string& message, std::uint64_t seq,
                            Millis received_at) = 0;
  // Appends to the committed log; returns the new seq (max + 1, inside the transaction).
  virtual std::uint64_t append_log(const EncodedChange& c, Millis committed_at) = 0;
  virtual std::uint64_t head() = 0;
  // The log's rows after `after` in seq order, as stored: at most max_count, and no more
  // than max_bytes counting each row's encoding and 64, but at least one if there is one.
  // A pull splices their stored encodings into its answer (sync::encode_entry_from).
  virtual std::vector<LogRecord> log_after(std::uint64_t after, std::size_t max_count,
                                           std::size_t max_bytes) = 0;
  // The same entries, decoded.
  std::vector<sync::CommittedEntry> entries_after(std::uint64_t after, std::size_t max_count,
                                                  std::size_t max_bytes) {
    std::vector<sync::CommittedEntry> out;
    for (auto& r : log_after(after, max_count, max_bytes))
      out.push_back({r.seq, r.committed_at, sync::decode_change(r.encoded), std::move(r.log_hash)});
    return out;
  }

  // Blobs (hex sha256).
  virtual std::uint64_t blob_progress(const std::string& sha256_hex) = 0;  // complete = size
  // Appends a chunk at offset (must equal progress); completes and verifies the blob when
  // total is reached. Returns false — having discarded the upload so that it can start
  // over — if the content does not hash to sha. Throws Error("blob_offset") for a chunk
  // out of order.
  virtual bool put_blob_chunk(const std::string& sha256_hex, std::uint64_t offset,
                              std::uint64_t total, const std::string& data) = 0;
  // Schedules of quarterly cases.
  virtual std::vector<Schedule> schedules() = 0;
  virtual void put_schedule(const Schedule& s) = 0;
  virtual bool remove_schedule(const std::string& sop) = 0;

  virtual std::optional<std::string> blob_slice(const std::string& sha256_hex, std::uint64_t offset,
                                                std::size_t max_bytes, std::uint64_t& total) = 0;

  // The committed working-day calendars: year -> canonical JSON (calendar.set).
  virtual std::map<int, std::string> calendars() = 0;

  // For verify: the database's own consistency check ("ok" or what it found), and every
  // stored row in order — the log by seq, changes by (replica, counter), cases by id (with
  // their JSON body). A visitor returns false to stop.
  virtual std::string integrity_check() = 0;
  virtual void visit_log(const std::function<bool(const LogRecord&)>& visit) = 0;
  virtual void visit_changes(const std::function<bool(const ChangeRecord&)>& visit) = 0;
  virtual void visit_cases(
      const std::function<bool(const std::string& id, const std::string& body)>& visit) = 0;
};

}  // namespace alur::server
