// Repairing a damaged replica (`alur repair`): salvage what SQLite can still read from the
// damaged file (enrolment settings, device key and token, the outbox with its hash chain,
// the attachments pending changes need), build a fresh replica beside it from the server's
// committed log, re-queue the salvaged changes the server has not received, then move the
// damaged file aside (never deleted: it is evidence) and put the fresh one in its place.
// What could not be saved is reported change by change.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alur/client/replica.h"

namespace alur::client {

// One outbox row as read from a damaged replica.
struct SalvagedRow {
  OutboxRow row;
  std::string encoded;  // the stored bytes, re-queued as they are (the hash covers them)
  std::int64_t created_at = 0;
};

// What SQLite could still read from a damaged replica file.
struct Salvage {
  bool opened = false;  // false: not even the database header could be read
  std::map<std::string, std::string> meta;
  std::map<std::uint64_t, SalvagedRow> rows;  // by counter
  std::map<std::string, std::string> blobs;   // hex sha256 -> data (verified)
  std::vector<std::string> notes;             // what failed while reading, for the report
};

// Reads everything it can from the replica file at `path`, one row at a time, so that a
// damaged page costs the rows on it and not the rest. Never writes to `path`.
Salvage salvage_replica(const std::string& path);

// The enrolment settings a rebuilt replica cannot work without.
inline const char* const kEnrolmentKeys[] = {"server",   "fingerprint", "replica",
                                             "username", "token",       "device_key"};

// Which salvaged changes can be re-queued: those the server already has (counter <=
// highest_counter: it answers their resend as a duplicate or with its stored outcome) and
// the unbroken run of the chain after them, starting at highest_counter + 1 with prev =
// the server's last_hash. `local_head` is the damaged replica's own chain head (counter),
// if it could be read. Everything else the device wrote after highest_counter is lost:
// listed by counter, with the change when it could be read.
struct RequeuePlan {
  std::vector<SalvagedRow> keep;
  std::vector<std::uint64_t> lost;                   // counters not saved
  std::map<std::uint64_t, sync::Change> lost_known;  // of those, the ones still readable
  std::uint64_t head_counter = 0;                    // the new chain head
  std::string head_hash;
};
RequeuePlan plan_requeue(const Salvage& s, std::uint64_t highest_counter,
                         const std::string& last_hash, std::optional<std::uint64_t> local_head);

}  // namespace alur::client
