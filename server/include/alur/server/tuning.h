// Server tunables, each with why it has its value.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace alur::server {

// Changes in one Push. A batch is validated and committed in one transaction with one
// fsync; 1,000 keeps a batch well under the message bound even with large bodies.
inline constexpr std::size_t kMaxChangesPerPush = 1000;
// Entries and bytes per Entries message answering a Pull.
inline constexpr std::size_t kMaxEntriesPerPull = 2000;
inline constexpr std::size_t kMaxPullBytes = 4u << 20;
// The log's newest entries kept encoded in memory for pulls (SyncService): after a commit
// every live session is notified and pulls the same new entries, so each is encoded once
// and shared. 16 MiB holds tens of thousands of small changes, more than the 2,000
// replicas of an office day commit between two pulls of one replica; a pull from further
// back reads the database as before.
inline constexpr std::size_t kPullTailBytes = 16u << 20;
// Largest WebSocket message accepted (a Push of 1,000 changes of 4 KiB fits easily).
inline constexpr std::size_t kMaxMessageBytes = 8u << 20;
// Attachments: the largest blob, and the chunk size of a BlobChunk.
inline constexpr std::uint64_t kMaxBlobBytes = 64ull << 20;
inline constexpr std::size_t kBlobChunkBytes = 1u << 20;
// Heartbeat (serve --heartbeat): a session silent this long is dead and is closed, so a
// client that vanished without a FIN (power cut, NAT dropped the flow) does not hold its
// session forever; a ping goes out at half of it. The same default as the client's.
inline constexpr std::chrono::seconds kHeartbeat{30};

// How often serve looks at the log head for commits it was not told of (another process on
// the same SQLite file, e.g. `org import`) and for revoked devices. With PostgreSQL the
// nodes tell each other of commits (LISTEN/NOTIFY, pg_listener.h): while its listener is
// connected a node still looks, as a safety net, every kCommitPollListening.
inline constexpr std::chrono::seconds kCommitPoll{2};
inline constexpr std::chrono::seconds kCommitPollListening{30};

}  // namespace alur::server
