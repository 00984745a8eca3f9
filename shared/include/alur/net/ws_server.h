// WebSocket-over-TLS server transport (Boost.Beast). Knows nothing of the protocol: it
// accepts connections, delivers each complete binary message to a Handler and sends
// binary messages back, one write in flight per connection with a bounded queue.
//
// Threading: the server runs on the io_context it is given; every Handler callback is
// invoked on that io_context's thread(s), serialized per connection (strand). Handlers
// must not throw (an escaping exception closes that connection and is logged).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace alur::net {

struct ServerLimits {
  std::size_t max_message_bytes = 8u << 20;    // a larger frame/message closes the connection
  std::size_t max_queued_bytes = 64u << 20;    // outgoing queue bound per connection
  std::chrono::seconds handshake_timeout{15};  // TLS + WebSocket handshake
  std::chrono::seconds idle_timeout{60};       // no traffic (pings answered count) -> closed
  bool send_pings = true;                      // keep-alive pings at idle_timeout/2
  // Agree to permessage-deflate when a client asks (shared/src/net/deflate.h). max_message_bytes
  // then bounds what a message inflates to, so a small compressed message cannot expand
  // without limit.
  bool compression = true;
};

// One accepted connection. Safe to call from any thread.
class Connection {
 public:
  virtual ~Connection() = default;
  // Queues one binary message. If the queue would exceed max_queued_bytes the connection
  // is closed instead (back-pressure: a slow reader cannot exhaust the server).
  virtual void send(std::shared_ptr<const std::string> message) = 0;
  // Sends a WebSocket close frame with the reason (<= 120 bytes) after queued messages.
  virtual void close(const std::string& reason) = 0;
  virtual std::string remote_address() const = 0;  // "ip:port"
  virtual std::uint64_t id() const = 0;            // unique per server lifetime
  // The target of the WebSocket upgrade request ("/" or e.g. "/dkukm"): which unit of the
  // server the client addresses.
  virtual std::string target() const { return "/"; }
};

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void on_open(const std::shared_ptr<Connection>& conn) = 0;
  virtual void on_message(const std::shared_ptr<Connection>& conn, std::string message) = 0;
  // Called once per opened connection, whatever ended it.
  virtual void on_close(const std::shared_ptr<Connection>& conn, const std::string& why) = 0;
};

class WsServer {
 public:
  // cert_pem/key_pem: the server's certificate and private key. Binds immediately
  // (throws alur::Error("listen") on failure); port 0 picks a free port.
  WsServer(boost::asio::io_context& io, const std::string& cert_pem, const std::string& key_pem,
           const std::string& host, std::uint16_t port, Handler& handler, ServerLimits limits = {});
  ~WsServer();
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  void start();                // begins accepting
  std::uint16_t port() const;  // the bound port
  void stop();                 // stops accepting and closes every connection

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace alur::net
