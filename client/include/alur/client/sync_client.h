// SyncClient: the client side of one sync session over wss:// (sync/PROTOCOL.md):
// hello → welcome → push the outbox (attachments first, then signed batches) → pull the
// committed log in batches (each applied with its cursor in one transaction) → fetch
// missing attachments. `watch` keeps the session open and reacts to the server's Notify.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "alur/client/replica.h"
#include "alur/client/transport.h"
#include "alur/shared/sop_template.h"

namespace alur::client {

struct SyncReport {
  std::size_t pushed = 0, accepted = 0, rejected = 0, pulled = 0;
  std::vector<sync::ChangeResult> rejections;
  // Accepted changes the server accepted with a warning (code clock_ahead).
  std::vector<sync::ChangeResult> warnings;
};

// How far this device's clock is from the server's (ms, positive = ahead), measured from
// the Welcome's server_time; beyond kClockSkewWarnMs the official is told to fix the clock.
inline constexpr std::int64_t kClockSkewWarnMs = 5 * 60'000;
// A sentence for the official ("" when within kClockSkewWarnMs).
std::string clock_skew_warning(std::int64_t skew_ms);

class SyncClient {
 public:
  SyncClient(Replica& replica, const TemplateRegistry& templates,
             Connector connector = wss_connector());

  // Connects and says hello. Throws alur::Error (network codes of ws_client.h, or the
  // server's ErrorMsg code such as bad_token / device_revoked).
  void connect();
  // Pushes everything pending and pulls everything new.
  SyncReport sync_once();
  // Stays connected until `stop` is set: pushes new local changes, pulls on Notify.
  // Reconnects with exponential backoff and jitter. `log` receives one line per event.
  void watch(const std::atomic<bool>& stop, const std::function<void(const std::string&)>& log);

  // The wall clock used for the skew measurement and the last_sync stamp (default: system).
  void set_clock(const Clock& clock) { clock_ = &clock; }
  // What the last connect() learnt: this device's clock minus the server's (ms), and the
  // server's view of this device's chain (Welcome highest_counter / last_hash).
  std::int64_t clock_skew_ms() const { return clock_skew_ms_; }
  // Writes clock_skew_ms to the replica's meta (for `alur status`'s clock warning) if a
  // connect() got as far as the server's Welcome; nothing otherwise. Part of the caller's
  // transaction: sync_once's closing commit, or the one that stores a failed sync's error.
  void store_clock_skew();
  // Whether the connection is compressed (the client asked and the server agreed).
  bool compressed() const { return ws_ && ws_->compressed(); }
  const sync::Welcome& welcome() const { return welcome_; }
  // Set when connect() found the server on a renewed certificate that the pinned one
  // vouches for (shared/cert_renewal.h) and re-pinned: the old and new fingerprints.
  const std::optional<std::pair<std::string, std::string>>& certificate_renewed() const {
    return certificate_renewed_;
  }
  // Pulls everything new (also used by `alur repair` to rebuild a replica from the log).
  std::size_t pull_all() { return pull(); }

 private:
  // After a fingerprint_mismatch: asks the server for its certificate renewals over an
  // unpinned connection; re-pins and returns true if the pinned certificate vouches for the
  // one presented.
  bool follow_certificate_renewal(const std::string& url);
  sync::Message receive_reply(std::chrono::milliseconds timeout);
  void send(const sync::Message& m);
  std::size_t push(SyncReport& report);
  std::size_t pull();
  void upload_blob(const std::string& sha_hex);
  // Fetches the blobs the committed cases name and this replica lacks. Skipped when every
  // one was here at the present cursor (meta `blobs_complete_at`); else, when all arrive,
  // sets blobs_complete_at_ for sync_once to record.
  void fetch_blobs();

  Replica& replica_;
  const TemplateRegistry& templates_;
  Connector connector_;
  std::unique_ptr<Transport> ws_;
  std::uint64_t server_head_ = 0;
  const Clock* clock_ = &Clock::system();
  std::int64_t clock_skew_ms_ = 0;
  bool welcomed_ = false;
  sync::Welcome welcome_;
  std::optional<std::pair<std::string, std::string>> certificate_renewed_;
  std::optional<std::string> blobs_complete_at_;  // a cursor, once fetch_blobs had them all
};

// Enrols this device: logs in over wss:// with the pinned fingerprint, creates the device
// key, stores the token. Returns the server's answer.
sync::Enrolled enroll(Replica& replica, const std::string& url, const std::string& fingerprint,
                      const std::string& username, const std::string& password,
                      const Connector& connector = wss_connector());

}  // namespace alur::client
