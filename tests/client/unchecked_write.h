// Stores a change in a replica's outbox as pending WITHOUT the client's own validation —
// the "hand-made client that skips the client's checks" with which tests and the simulator
// show that the server alone decides. Mirrors Replica::write_in's bookkeeping (counter,
// chain head, hybrid clock) so that the change is sent like any other.
#pragma once

#include <cstdint>
#include <string>

#include "alur/client/replica.h"
#include "alur/shared/crypto.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/change.h"
#include "alur/sync/messages.h"

namespace alur::client::testing {

inline void store_unchecked(Replica& r, const sync::Change& c) {
  sql::Transaction tx(r.db());
  r.db()
      .cached(
          "INSERT INTO outbox (counter, case_id, encoded, blob, created_at) VALUES (?, ?, ?, '', "
          "?)")
      .bind(1, static_cast<std::int64_t>(c.dot.counter))
      .bind_text(2, c.case_id())
      .bind_blob(3, sync::encode_change(c))
      .bind(4, HybridClock::to_ms(c.hlc))
      .exec();
  r.set_meta("counter", std::to_string(c.dot.counter));
  r.set_meta("last_hash", crypto::to_hex(c.hash()));
  r.set_meta("hlc", std::to_string(c.hlc));
  tx.commit();
}

}  // namespace alur::client::testing
