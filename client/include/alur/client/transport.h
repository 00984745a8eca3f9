// Transport: how a SyncClient reaches the server — a message channel with deadlines.
// The real one is wss:// with a pinned certificate (net::WsClient); tests and the
// simulator plug in an in-memory one that calls the server's SyncService directly.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "alur/net/ws_client.h"

namespace alur::client {

class Transport {
 public:
  virtual ~Transport() = default;
  // Throws alur::Error (codes of net/ws_client.h) when the channel fails.
  virtual void send(const std::string& message, std::chrono::milliseconds timeout) = 0;
  // The next message, or nullopt if none arrived within the timeout.
  virtual std::optional<std::string> receive(std::chrono::milliseconds timeout) = 0;
  virtual void close() noexcept = 0;
  // The fingerprint of the certificate the server presented ("" where there is none).
  virtual std::string peer_fingerprint() const { return ""; }
  // True if messages go compressed (permessage-deflate was agreed).
  virtual bool compressed() const { return false; }
  // True if receive() may be called on another thread than the other calls (never two
  // calls at once): a pull then reads the next batch while it applies this one. A
  // transport that drives its peer on the caller's thread (the in-memory ones of the
  // tests, the simulator's) says false.
  virtual bool receives_on_any_thread() const { return false; }
};

// Opens a channel to `url` whose server must present `fingerprint` (canonical form; empty
// accepts any certificate — only to fetch the certificate renewals, never to sync).
using Connector = std::function<std::unique_ptr<Transport>(const std::string& url,
                                                           const std::string& fingerprint)>;

// How long a connection may stay silent before it is declared dead; a ping goes out at
// half of it (net::ClientOptions::heartbeat, sync/PROTOCOL.md "Heartbeat").
inline constexpr std::chrono::seconds kDefaultHeartbeat{30};

// The real connector: wss:// through net::WsClient with certificate pinning; compression:
// whether to ask for permessage-deflate (alur sync --compression, alur.conf).
Connector wss_connector(std::chrono::seconds heartbeat = kDefaultHeartbeat,
                        net::Compression compression = net::Compression::kAuto);

}  // namespace alur::client
