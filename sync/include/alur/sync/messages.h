// The sync protocol's messages (see sync/PROTOCOL.md for the session's order) and their
// binary encoding: cereal's portable binary archive behind a 4-byte envelope
// ("AL" + protocol version, little-endian u16). Every decoded size is bounded by what is
// left of the message, so a hostile length cannot make the decoder allocate.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "alur/sync/change.h"

namespace alur::sync {

inline constexpr std::uint16_t kProtocolVersion = 1;

// client -> server: first message of a sync session.
struct Hello {
  std::uint16_t protocol = kProtocolVersion;
  std::string replica;
  std::string token;         // the device token from enrolment
  std::uint64_t cursor = 0;  // last commit seq this replica has applied
  std::string client_version;
};

// client -> server: first message of an enrolment session (instead of Hello).
struct Enroll {
  std::uint16_t protocol = kProtocolVersion;
  std::string username;
  std::string password;
  std::string device_key;   // Ed25519 public key, 32 bytes
  std::string device_name;  // e.g. the PC's host name
};

// server -> client: enrolment succeeded.
struct Enrolled {
  std::string replica;  // assigned by the server
  std::string token;    // shown once; the server keeps only its hash
  std::string username;
  std::string name;
  std::string unit;
};

// server -> client: answer to Hello.
struct Welcome {
  std::uint64_t server_head = 0;      // highest commit seq
  std::uint64_t highest_counter = 0;  // highest counter of this replica the server has received
  std::string last_hash;              // hash of that change ("" if none): heals lost acks
  std::string username;
  std::int64_t server_time = 0;  // ms since epoch
};

// client -> server: a batch of changes, in counter order, and the device's signature of
// the chain head (the last change's hash), which vouches for every change before it.
struct Push {
  std::vector<Change> changes;
  std::string head_signature;
};

enum class Outcome : std::uint8_t { kAccepted = 1, kDuplicate = 2, kRejected = 3 };

struct ChangeResult {
  std::uint64_t counter = 0;
  Outcome outcome = Outcome::kRejected;
  std::uint64_t seq = 0;  // commit seq when accepted (or duplicate of an accepted change)
  std::string code;       // stable reason code when rejected
  std::string message;    // human message (Bahasa Indonesia)
};

struct PushResult {
  std::vector<ChangeResult> results;
};

// client -> server: committed entries after `after`, at most `max`.
struct Pull {
  std::uint64_t after = 0;
  std::uint32_t max = 0;
};

// server -> client: a batch of committed entries in seq order.
struct Entries {
  std::vector<CommittedEntry> entries;
  std::uint64_t server_head = 0;
};

// server -> client, unsolicited while connected: new commits exist up to head.
struct Notify {
  std::uint64_t server_head = 0;
};

// Attachments: content-addressed blobs, sent in chunks, resumable.
struct BlobQuery {     // client -> server: how much of this blob do you have?
  std::string sha256;  // 32 raw bytes
  std::uint64_t size = 0;
};
struct BlobState {  // server -> client
  std::string sha256;
  std::uint64_t have = 0;  // bytes already stored (== size when complete)
};
struct BlobChunk {  // either direction
  std::string sha256;
  std::uint64_t offset = 0;
  std::uint64_t total = 0;
  std::string data;
};
struct BlobGet {  // client -> server: send me this blob from offset
  std::string sha256;
  std::uint64_t offset = 0;
};

// Either direction: a failure. fatal = the sender closes the connection after it.
struct ErrorMsg {
  std::string code;
  std::string message;
  bool fatal = true;
};

// client -> server, instead of Hello: the renewals of the server's certificate. A client
// whose pinned certificate was replaced asks this over a connection it does not trust yet
// and re-pins only if the chain verifies (shared/cert_renewal.h); nothing secret is sent.
struct CertQuery {};
// server -> client: answer to CertQuery; a JSON array of renewals, oldest first ("[]": none).
struct CertChain {
  std::string renewals_json;
};

// New message types are appended: a type's index is its tag on the wire.
using Message = std::variant<Hello, Enroll, Enrolled, Welcome, Push, PushResult, Pull, Entries,
                             Notify, BlobQuery, BlobState, BlobChunk, BlobGet, ErrorMsg, CertQuery,
                             CertChain>;

std::string encode(const Message& message);
// Throws alur::Error: "protocol_version" for another version's envelope, "malformed" for
// anything that is not exactly one well-formed message.
Message decode(std::string_view bytes);

// A short name of the message type, for logs and errors.
const char* message_name(const Message& message);

}  // namespace alur::sync

namespace alur::sync {
// One change alone, in the same encoding (for storage in outboxes and logs).
std::string encode_change(const Change& change);
Change decode_change(std::string_view bytes);  // throws Error("malformed")
// Change::hash() from the change's encode_change() bytes, for a caller that has them:
// SHA-256(kChangeHashTag || encoding).
inline constexpr std::string_view kChangeHashTag = "alur/change/v1";
std::string change_hash_of(std::string_view encoding);

// The server's pulls, encoded without re-encoding the same entry for every session: one
// entry as it appears inside an Entries message, and an Entries message put together from
// such pieces. encode_entries({encode_entry(e) for e in m.entries}, m.server_head) ==
// encode(m) for every Entries m.
std::string encode_entry(const CommittedEntry& entry);
// The same bytes from a stored entry: its change's encode_change() bytes spliced in as they
// are (the server stores them; a pull need not decode and encode each change again).
// Throws Error("malformed") for an encoding that does not start with the archive's flag.
std::string encode_entry_from(std::uint64_t seq, std::int64_t committed_at,
                              std::string_view change_encoding, std::string_view log_hash);
std::string encode_entries(const std::vector<std::string_view>& entries,
                           std::uint64_t server_head);

// A Push put together from its changes' encode_change() bytes, spliced in as they are (a
// client encodes each pending change once: for the batch's size, the head's hash and the
// message): encode_push({encode_change(c) for c in m.changes}, m.head_signature) ==
// encode(m) for every Push m. Throws Error("malformed") for an encoding that does not start
// with the archive's flag.
std::string encode_push(const std::vector<std::string>& change_encodings,
                        const std::string& head_signature);

// What a batch of pulled entries can be checked for on its own, before a replica applies
// it: each change's encode_change() bytes (what the replica's log stores) and, per entry,
// whether its log hash follows from the entry before it in the batch:
//   linked[i] == (i > 0 && log_hash(entries[i-1].log_hash, seq, change hash, committed_at)
//                            == entries[i].log_hash).
// The applier checks itself only the entries without a link (the batch's first, or one
// whose link failed) against the log hash it last applied; for an entry whose link failed
// that check fails too, at the same entry. Touches nothing but its argument: the client
// runs it on the thread that received the batch, while the one before is applied.
struct EntryLinks {
  std::vector<std::string> encodings;
  std::vector<bool> linked;
};
EntryLinks link_entries(const std::vector<CommittedEntry>& entries);
}  // namespace alur::sync
