// WebSocket-over-TLS client transport (Boost.Beast) with certificate pinning. Blocking
// API with deadlines, for the CLI's sync command and its --watch loop.
//
// Not thread-safe: one thread uses one WsClient. Failures throw alur::Error with codes:
//   "connect"              server unreachable / refused / DNS failure
//   "timeout"              an operation exceeded its deadline, or the heartbeat found the
//                          connection dead (nothing heard for ClientOptions::heartbeat)
//   "fingerprint_mismatch" the server's certificate is not the pinned one
//   "closed"               the server closed the connection (message carries its reason)
//   "network"              any other transport error
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace alur::net {

// Whether to ask the server for permessage-deflate (shared/src/net/deflate.h).
enum class Compression {
  kAuto,    // ask unless the server's address is loopback (127.0.0.0/8, ::1), where
            // bytes are free and deflate's CPU is not: a server on this PC
  kAlways,  // ask always (a slow line that reaches the server through a local tunnel)
  kNever,
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10000};
  std::size_t max_message_bytes = 64u << 20;
  // Empty: accept any certificate (only for learning the fingerprint; never for sync).
  // Otherwise the canonical "sha256:<hex>" fingerprint the server's certificate must have.
  std::string pinned_fingerprint;
  // Heartbeat: a WebSocket ping goes out after heartbeat/2 without a byte from the server,
  // and the connection is declared dead (Error "timeout") once a whole heartbeat passes
  // without one, so a connection that stalls without closing is noticed in bounded time.
  // The clock only runs inside send()/receive(); zero disables it.
  std::chrono::milliseconds heartbeat{30000};
  Compression compression = Compression::kAuto;
};

class WsClient {
 public:
  // url: "wss://host:port[/path]". Resolves, connects, TLS + WebSocket handshakes,
  // checks the pin. Plain "ws://" is refused with Error("insecure_url").
  static std::unique_ptr<WsClient> connect(const std::string& url, const ClientOptions& options);
  ~WsClient();

  // The canonical fingerprint of the certificate the server presented.
  std::string server_fingerprint() const;
  // True if the server agreed to permessage-deflate: messages go compressed both ways.
  bool compressed() const;

  void send(const std::string& binary_message, std::chrono::milliseconds timeout);
  // Next binary message, or nullopt if none arrived within timeout. Answers pings meanwhile.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // Polite close (best effort, never throws).
  void close() noexcept;

 private:
  WsClient();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace alur::net
