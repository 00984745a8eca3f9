// A change: one write by one replica, the unit of the sync protocol (DESIGN.md §3).
//
// A change's hash covers every field in its canonical binary encoding (see codec.h), so
// `prev` — the hash of the same replica's previous change — makes each replica's history
// a hash chain. The body is canonical JSON (sorted keys) whose shape depends on `op`;
// sync/PROTOCOL.md lists the ops and their bodies.
#pragma once

#include <cstdint>
#include <string>

#include "alur/sync/version_vector.h"

namespace alur::sync {

// Operations. Case-state ops (open, complete, return) are decided by the server alone;
// disposition.set and correction.status are multi-value registers merged by DvvSet.
namespace op {
inline constexpr const char* kOrgSet = "org.set";  // server only
inline constexpr const char* kCaseOpen = "case.open";
inline constexpr const char* kTaskComplete = "task.complete";
inline constexpr const char* kCaseReturn = "case.return";
inline constexpr const char* kDispositionSet = "disposition.set";
inline constexpr const char* kDraftRevise = "draft.revise";
inline constexpr const char* kCorrectionAdd = "correction.add";
inline constexpr const char* kCorrectionStatus = "correction.status";
inline constexpr const char* kSopSet = "sop.set";                // server only
inline constexpr const char* kDelegationSet = "delegation.set";  // server only
inline constexpr const char* kDelegationEnd = "delegation.end";  // server only
inline constexpr const char* kCalendarSet = "calendar.set";  // server only
inline constexpr const char* kKeyAdd = "key.add";  // a person publishes a signing key
}  // namespace op

// The replica id of the server's own changes (org, templates, delegations, scheduled cases).
inline constexpr const char* kServerReplica = "server";

struct Change {
  std::string record;     // what it writes: "case/<id>", "task/<case>/<key>", "disp/...", ...
  std::string op;         // one of op::*
  Dot dot;                // (replica, counter); counter starts at 1 and only grows
  VersionVector context;  // the record's version vector the writer had seen
  std::string author;     // username; must equal the session's authenticated user
  std::uint64_t hlc = 0;  // hybrid logical clock time of the write (the author's clock)
  std::string body;       // canonical JSON
  std::string prev;       // 32-byte SHA-256 of this replica's previous change; "" for the first

  friend bool operator==(const Change&, const Change&) = default;

  // SHA-256 (32 raw bytes) of the canonical encoding.
  std::string hash() const;
  std::string id() const { return dot.str(); }
  // The case this change belongs to ("" for org.set).
  std::string case_id() const;
};

// The message a device signs with its Ed25519 key to vouch for its chain up to `head`.
std::string chain_head_message(const std::string& replica, std::uint64_t counter,
                               const std::string& head_hash);

// One entry of the server's committed log: a change, its global commit sequence number,
// the server's commit time, and the log's own hash chain (log_hash = H(prev_log_hash ||
// seq || change hash || committed_at)).
struct CommittedEntry {
  std::uint64_t seq = 0;
  std::int64_t committed_at = 0;  // server clock, ms since epoch
  Change change;
  std::string log_hash;  // 32 bytes

  friend bool operator==(const CommittedEntry&, const CommittedEntry&) = default;
};

std::string log_hash(const std::string& prev_log_hash, std::uint64_t seq,
                     const std::string& change_hash, std::int64_t committed_at);

}  // namespace alur::sync
