// An in-memory client::Transport for the client tests: instead of a wss:// socket it hands
// the client's bytes to a real server::SyncService through the service's public
// net::Handler interface (on_open / on_message / on_close), exactly as net::WsServer does,
// and queues what the service sends back on a fake net::Connection for receive() to pop.
// Nothing here decodes the protocol: it only moves bytes.
//
// MemoryNetwork is the Connector factory bound to one SyncService. It checks the pinned
// fingerprint, can play "server unreachable", records every message the server sent, and
// has a fault knob: drop the next connection after N messages from the server, to cut a
// sync off halfway (the N+1th message is never delivered and receive() then throws
// Error("closed")). Like the real server (net::ServerLimits, server::kMaxMessageBytes) it
// closes a connection whose client sends a message larger than the bound.
//
// Everything runs on the test's thread: a client send() runs the service synchronously, so
// a reply is already queued when the client calls receive(). Not thread-safe — but a test
// may let the client receive on another thread (set_receive_on_any_thread, as the real wss
// transport does), and the network then counts any moment at which two threads were inside
// one transport at once (concurrent_uses), which the client must never cause. A second
// fault knob rewrites what the server sends (set_server_message_filter): a broken or
// hostile server without touching the server's records.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alur/client/transport.h"
#include "alur/net/ws_server.h"
#include "alur/server/sync_service.h"
#include "alur/server/tuning.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"

namespace alur::client::testing {

// The server end of one in-memory connection, as the SyncService sees it.
class MemoryConnection final : public net::Connection {
 public:
  // drop_after: deliver at most this many server messages, then drop the connection.
  // filter: rewrites each message before it is delivered (may be empty).
  MemoryConnection(std::uint64_t id, std::optional<std::size_t> drop_after,
                   std::vector<std::string>* trace,
                   const std::function<void(std::string&)>* filter = nullptr)
      : id_(id), drop_after_(drop_after), trace_(trace), filter_(filter) {}

  void send(std::shared_ptr<const std::string> message) override {
    if (closed_) return;  // a closed socket swallows what is still sent
    if (drop_after_ && delivered_ >= *drop_after_) {
      closed_ = true;
      dropped_ = true;
      reason_ = "connection dropped by the test (fault knob)";
      return;
    }
    ++delivered_;
    std::string bytes = *message;
    if (filter_ && *filter_) (*filter_)(bytes);
    if (trace_) trace_->push_back(bytes);
    queue_.push_back(std::move(bytes));
  }
  void close(const std::string& reason) override {
    if (closed_) return;
    closed_ = true;
    reason_ = reason;
  }
  std::string remote_address() const override { return "memory:" + std::to_string(id_); }
  std::uint64_t id() const override { return id_; }

  bool closed() const { return closed_; }
  bool dropped() const { return dropped_; }
  const std::string& reason() const { return reason_; }
  std::size_t delivered() const { return delivered_; }
  std::deque<std::string>& queue() { return queue_; }

 private:
  std::uint64_t id_;
  std::optional<std::size_t> drop_after_;
  std::vector<std::string>* trace_;
  const std::function<void(std::string&)>* filter_;
  std::size_t delivered_ = 0;
  bool closed_ = false;
  bool dropped_ = false;
  std::string reason_;
  std::deque<std::string> queue_;
};

// The client end: a Transport whose send() runs the service.
class MemoryTransport final : public Transport {
 public:
  // max_message_bytes: the largest client message the "server" reads (net::ServerLimits);
  // a larger one closes the connection unread, as net::WsServer does.
  // any_thread: what receives_on_any_thread() answers; concurrent_uses: counts the calls
  // made while another thread was inside this transport.
  MemoryTransport(server::SyncService& service, std::shared_ptr<MemoryConnection> conn,
                  std::size_t max_message_bytes = server::kMaxMessageBytes,
                  std::size_t* largest_sent = nullptr, bool any_thread = false,
                  std::atomic<std::size_t>* concurrent_uses = nullptr)
      : service_(service),
        conn_(std::move(conn)),
        max_message_bytes_(max_message_bytes),
        largest_sent_(largest_sent),
        any_thread_(any_thread),
        concurrent_uses_(concurrent_uses) {
    service_.on_open(conn_);
  }
  ~MemoryTransport() override { close(); }
  MemoryTransport(const MemoryTransport&) = delete;
  MemoryTransport& operator=(const MemoryTransport&) = delete;

  void send(const std::string& message, std::chrono::milliseconds) override {
    InUse in_use(*this);
    if (client_closed_) throw Error("closed", "Koneksi sudah ditutup (klien).");
    if (conn_->closed()) {
      ended("closed by server: " + conn_->reason());
      throw Error("closed", "Koneksi ditutup server: " + conn_->reason());
    }
    if (largest_sent_ && message.size() > *largest_sent_) *largest_sent_ = message.size();
    if (message.size() > max_message_bytes_) {
      conn_->close("message exceeds " + std::to_string(max_message_bytes_) + " bytes");
      ended(conn_->reason());
      return;  // the bytes left; the reply that never comes shows as "closed"
    }
    service_.on_message(conn_, message);
    // The service closes after a fatal error or an enrolment; a dropped connection ends
    // too. Like net::WsServer, tell the service once, outside its own callback.
    if (conn_->closed()) ended(conn_->reason());
  }

  std::optional<std::string> receive(std::chrono::milliseconds) override {
    InUse in_use(*this);
    if (client_closed_) throw Error("closed", "Koneksi sudah ditutup (klien).");
    auto& q = conn_->queue();
    if (!q.empty()) {
      std::string m = std::move(q.front());
      q.pop_front();
      return m;
    }
    if (conn_->closed()) {
      ended(conn_->reason());
      throw Error("closed", "Koneksi ditutup server: " + conn_->reason());
    }
    // Everything is synchronous: no reply now means none will come (the caller's timeout).
    return std::nullopt;
  }

  void close() noexcept override {
    if (client_closed_) return;
    client_closed_ = true;
    conn_->close("client closed");
    ended("client closed");
  }

  bool receives_on_any_thread() const override { return any_thread_; }

  MemoryConnection& connection() { return *conn_; }

 private:
  // Marks a call in progress; a call that finds another in progress is counted.
  struct InUse {
    explicit InUse(MemoryTransport& t) : t_(t) {
      if (t_.users_.fetch_add(1) > 0 && t_.concurrent_uses_) ++*t_.concurrent_uses_;
    }
    ~InUse() { t_.users_.fetch_sub(1); }
    MemoryTransport& t_;
  };

  void ended(const std::string& why) noexcept {
    if (on_close_sent_) return;
    on_close_sent_ = true;
    try {
      service_.on_close(conn_, why);
    } catch (...) {
    }
  }

  server::SyncService& service_;
  std::shared_ptr<MemoryConnection> conn_;
  std::size_t max_message_bytes_;
  std::size_t* largest_sent_;
  bool any_thread_;
  std::atomic<std::size_t>* concurrent_uses_;
  std::atomic<int> users_{0};
  bool client_closed_ = false;
  bool on_close_sent_ = false;
};

// A fingerprint the in-memory "server" presents (canonical form).
inline std::string test_fingerprint() {
  return crypto::normalize_fingerprint(
      "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}

// The Connector factory: every transport it makes talks to the one SyncService.
class MemoryNetwork {
 public:
  explicit MemoryNetwork(server::SyncService& service, std::string fingerprint = test_fingerprint())
      : service_(service), fingerprint_(std::move(fingerprint)) {}
  MemoryNetwork(const MemoryNetwork&) = delete;
  MemoryNetwork& operator=(const MemoryNetwork&) = delete;

  // A Connector bound to this network (the network must outlive it and its transports).
  Connector connector() {
    return [this](const std::string& url,
                  const std::string& fingerprint) -> std::unique_ptr<Transport> {
      return connect(url, fingerprint);
    };
  }

  std::unique_ptr<Transport> connect(const std::string& url, const std::string& fingerprint) {
    last_url_ = url;
    if (offline_) throw Error("connect", "Server tidak dapat dihubungi (uji: jaringan putus).");
    if (fingerprint != fingerprint_)
      throw Error("fingerprint_mismatch",
                  "Sidik jari sertifikat server tidak cocok: " + fingerprint);
    std::optional<std::size_t> drop = drop_next_after_;
    drop_next_after_.reset();
    auto conn = std::make_shared<MemoryConnection>(++next_id_, drop, &trace_, &filter_);
    auto t = std::make_unique<MemoryTransport>(service_, conn, max_message_bytes_, &largest_sent_,
                                               any_thread_, &concurrent_uses_);
    last_ = conn;
    ++opened_;
    return t;
  }

  // Fault knob (one-shot): the next connection delivers `n` messages from the server and
  // then drops; later sends and receives on it throw Error("closed").
  void drop_next_connection_after(std::size_t n) { drop_next_after_ = n; }
  bool armed() const { return drop_next_after_.has_value(); }

  // "The server is down": connecting throws Error("connect").
  void set_offline(bool offline) { offline_ = offline; }

  // Fault knob: every message the server sends is passed through `filter` (which may
  // rewrite it) before it is delivered; an empty function delivers them as they are.
  void set_server_message_filter(std::function<void(std::string&)> filter) {
    filter_ = std::move(filter);
  }
  // Transports made from now on let the client receive on any thread.
  void set_receive_on_any_thread(bool on) { any_thread_ = on; }
  // How many transport calls began while another thread was inside the same transport.
  std::size_t concurrent_uses() const { return concurrent_uses_; }

  // The server's bound on one client message (default: the real server's).
  void set_max_message_bytes(std::size_t n) { max_message_bytes_ = n; }
  // The largest message a client sent so far.
  std::size_t largest_client_message() const { return largest_sent_; }

  std::size_t connections_opened() const { return opened_; }
  const std::string& last_url() const { return last_url_; }
  // The last connection made (to check it was dropped).
  std::shared_ptr<MemoryConnection> last_connection() const { return last_; }
  // Every message the server delivered, in order (raw bytes; decode with sync::decode).
  const std::vector<std::string>& trace() const { return trace_; }
  void clear_trace() { trace_.clear(); }

 private:
  server::SyncService& service_;
  std::string fingerprint_;
  std::optional<std::size_t> drop_next_after_;
  bool offline_ = false;
  std::size_t max_message_bytes_ = server::kMaxMessageBytes;
  std::size_t largest_sent_ = 0;
  std::uint64_t next_id_ = 0;
  std::size_t opened_ = 0;
  std::string last_url_;
  std::shared_ptr<MemoryConnection> last_;
  std::vector<std::string> trace_;
  std::function<void(std::string&)> filter_;
  bool any_thread_ = false;
  std::atomic<std::size_t> concurrent_uses_{0};
};

}  // namespace alur::client::testing
