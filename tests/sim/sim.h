// The deterministic simulator of alur's sync (issue "Nothing lost, everyone converges").
//
// One process, one thread at a time, one seeded generator: the real server logic
// (server::SyncService over server::ServerDb) and seven real clients (client::Api over
// client::Replica, syncing with client::SyncClient) run on in-memory SQLite databases
// (the memdb VFS, so a database outlives the connection of a crashed node), talk through a
// simulated network, and read simulated clocks. The seed decides everything: which official
// does what and when, message delays, connections cut mid-batch, stalled connections,
// replayed sessions, crashes of the server and of clients between any two SQL statements,
// clock skew of hours. Then the network heals, every node restarts and drains, and the
// invariants of checks.cpp must hold. See tests/sim/README.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace alur::sim {

struct Options {
  bool verbose = false;  // one line per event on stderr
  int steps = 0;         // workload actions; 0 = chosen by the seed
};

// What one seed did, summed over seeds by the runner.
struct Stats {
  std::uint64_t seeds = 0;
  std::uint64_t actions = 0;          // things officials tried
  std::uint64_t refused_locally = 0;  // ... that the client refused at once (nothing written)
  std::uint64_t changes_made = 0;     // changes written to an outbox
  std::uint64_t rogue_changes = 0;    // ... of which hand-made, skipping the client's checks
  std::uint64_t accepted = 0, rejected = 0;
  std::uint64_t syncs = 0, sync_failures = 0;
  std::uint64_t server_crashes = 0, client_crashes = 0;
  std::uint64_t cuts = 0, stalls = 0, replays = 0, messages = 0;
  std::uint64_t entries_checked = 0;  // committed entries compared across replicas
  std::uint64_t cases = 0, cases_completed = 0;
  std::uint64_t steps_done = 0;  // tasks done in the final states
  std::uint64_t returns = 0;     // returns for revision committed
  // The second template (the imported DATA-LAKIP) and acting officials (Plt./Plh.).
  std::uint64_t data_cases = 0;        // cases of DATA-LAKIP, of `cases`
  std::uint64_t decision_returns = 0;  // ... of `returns`: a decision's outcome that returns
  std::uint64_t delegations = 0, delegations_ended = 0;  // delegation.set / .end committed
  std::uint64_t acting_tasks = 0;      // tasks done through a delegation, in the final states
  void add(const Stats& o);
  std::string line() const;
};

struct Result {
  bool ok = true;
  std::string failure;  // the first invariant broken, with what was seen
  Stats stats;
};

Result run_seed(std::uint64_t seed, const Options& options);

}  // namespace alur::sim
