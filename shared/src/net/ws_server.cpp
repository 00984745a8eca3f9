// WsServer: a listener that accepts TLS connections and one Session per connection that
// runs the TLS and WebSocket handshakes, a read loop and a bounded write queue, all on the
// connection's own strand (after Beast's websocket/server/async-ssl and chat-multi). TLS is
// our TlsStream (tls_stream.h), which holds no buffers while a connection is idle.
#include "alur/net/ws_server.h"

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "alur/net/tls_policy.h"
#include "alur/shared/error.h"
#include "deflate.h"
#include "tls_stream.h"

namespace alur::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// RFC 6455 allows 123 bytes of close reason; the header promises 120.
constexpr std::size_t kMaxCloseReasonBytes = 120;
// Pause before accepting again after a failed accept (e.g. out of file descriptors), so
// the loop does not spin.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

void log_net(const std::string& line) noexcept {
  try {
    std::cerr << "alur-net: " << line << '\n';
  } catch (...) {
  }
}

// A zero duration in ServerLimits means "no limit".
websocket::stream_base::duration or_none(std::chrono::seconds s) {
  if (s.count() <= 0) return websocket::stream_base::none();
  return s;
}

// Cuts a close reason to the allowed size without splitting a UTF-8 sequence (the peer
// rejects a close frame whose reason is not valid UTF-8).
std::string truncate_reason(const std::string& reason) {
  if (reason.size() <= kMaxCloseReasonBytes) return reason;
  std::size_t end = kMaxCloseReasonBytes;
  while (end > 0 && (static_cast<unsigned char>(reason[end]) & 0xC0) == 0x80) --end;
  return reason.substr(0, end);
}

std::string to_string(const websocket::reason_string& r) { return {r.data(), r.size()}; }

std::string format_endpoint(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  const std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  return host + ":" + std::to_string(ep.port());
}

void configure_tls(ssl::context& tls, const std::string& cert_pem, const std::string& key_pem) {
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use | ssl::context::no_compression);
  SSL_CTX* native = tls.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    throw Error("listen", "Konfigurasi TLS server gagal.");
  }
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  beast::error_code ec;
  tls.use_certificate_chain(asio::buffer(cert_pem), ec);
  if (ec) throw Error("listen", "Sertifikat TLS server tidak dapat dibaca: " + ec.message());
  tls.use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) throw Error("listen", "Kunci privat TLS server tidak dapat dibaca: " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    throw Error("listen", "Kunci privat TLS server tidak cocok dengan sertifikatnya.");
  }
}

class Session;

// What the listener and its sessions share; sessions hold it, so the TLS context and the
// registry outlive the WsServer object if connections are still winding down.
struct ServerState {
  ServerState(Handler& h, ServerLimits l) : handler(h), limits(l) {}

  ssl::context tls{ssl::context::tls_server};
  Handler& handler;
  const ServerLimits limits;

  std::mutex mutex;
  bool stopped = false;                                                // guarded by mutex
  std::uint64_t next_id = 1;                                           // guarded by mutex
  std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions;  // guarded by mutex

  void forget(std::uint64_t id) noexcept {
    std::lock_guard lock(mutex);
    sessions.erase(id);
  }
};

// One accepted connection. Every member below ws_ is touched only on the strand.
class Session final : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<ServerState> state, std::uint64_t id,
          std::string remote)
      : ws_(std::move(socket), state->tls.native_handle()),
        deadline_(ws_.get_executor()),
        state_(std::move(state)),
        id_(id),
        remote_(std::move(remote)) {}

  void run() {
    asio::dispatch(ws_.get_executor(),
                   beast::bind_front_handler(&Session::on_run, shared_from_this()));
  }

  void send(std::shared_ptr<const std::string> message) override {
    if (!message) return;
    asio::post(ws_.get_executor(), beast::bind_front_handler(&Session::on_send, shared_from_this(),
                                                             std::move(message)));
  }

  void close(const std::string& reason) override {
    close_with(websocket::close_code::normal, reason);
  }

  // Used by WsServer::stop(): "going away" rather than a normal close.
  void close_with(websocket::close_code code, const std::string& reason) {
    asio::post(ws_.get_executor(), beast::bind_front_handler(&Session::on_close_request,
                                                             shared_from_this(), code, reason));
  }

  std::string remote_address() const override { return remote_; }
  std::uint64_t id() const override { return id_; }
  // Set before on_open and never changed after: safe to read from any thread then.
  std::string target() const override { return target_; }

 private:
  const ServerLimits& limits() const { return state_->limits; }

  void on_run() {
    if (close_requested_) {  // stopped before it started
      abort();
      return finish("ditutup sebelum terbuka");
    }
    // The TLS handshake and the upgrade request must arrive within the handshake timeout:
    // a client that connects and sends nothing is dropped.
    arm_deadline(limits().handshake_timeout);
    ws_.next_layer().async_handshake(
        beast::bind_front_handler(&Session::on_tls_handshake, shared_from_this()));
  }

  void on_tls_handshake(beast::error_code ec) {
    if (ec) return finish(describe(ec));
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = or_none(limits().handshake_timeout);
    timeouts.idle_timeout = or_none(limits().idle_timeout);
    timeouts.keep_alive_pings = limits().send_pings;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(beast::http::field::server, "alur"); }));
    ws_.binary(true);
    ws_.read_message_max(limits().max_message_bytes);
    websocket::permessage_deflate deflate = deflate_options();
    deflate.server_enable = limits().compression;
    ws_.set_option(deflate);
    // The upgrade request is read first, for its target: which unit the client wants
    // ("/" or "/<unit>"). Beast bounds the header (8 KiB); the handshake deadline armed in
    // on_run still runs.
    upgrade_.emplace();
    http::async_read(ws_.next_layer(), buffer_, *upgrade_,
                     beast::bind_front_handler(&Session::on_upgrade_read, shared_from_this()));
  }

  void on_upgrade_read(beast::error_code ec, std::size_t) {
    if (ec) return finish(describe(ec));
    // A request that is not an upgrade is answered 400 Bad Request by async_accept itself.
    target_ = std::string(upgrade_->target());
    // From here the WebSocket stream's own timeouts apply.
    deadline_.cancel();
    ws_.async_accept(*upgrade_,
                     beast::bind_front_handler(&Session::on_ws_accept, shared_from_this()));
  }

  void on_ws_accept(beast::error_code ec) {
    upgrade_.reset();
    if (ec) return finish(describe(ec));
    if (close_requested_) return finish("ditutup sebelum terbuka");  // socket already aborted
    open_ = true;
    try {
      state_->handler.on_open(shared_from_this());
    } catch (const std::exception& e) {
      log_net("on_open melempar pengecualian (koneksi " + std::to_string(id_) + "): " + e.what());
      on_close_request(websocket::close_code::internal_error, "kesalahan internal server");
    } catch (...) {
      log_net("on_open melempar pengecualian (koneksi " + std::to_string(id_) + ")");
      on_close_request(websocket::close_code::internal_error, "kesalahan internal server");
    }
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return finish(describe(ec));
    std::string message = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!close_requested_) {  // once closing, further messages have nobody to answer them
      try {
        state_->handler.on_message(shared_from_this(), std::move(message));
      } catch (const std::exception& e) {
        log_net("on_message melempar pengecualian (koneksi " + std::to_string(id_) +
                "): " + e.what());
        on_close_request(websocket::close_code::internal_error, "kesalahan internal server");
      } catch (...) {
        log_net("on_message melempar pengecualian (koneksi " + std::to_string(id_) + ")");
        on_close_request(websocket::close_code::internal_error, "kesalahan internal server");
      }
    }
    do_read();
  }

  void on_send(std::shared_ptr<const std::string> message) {
    if (!open_ || finished_ || close_requested_) return;
    if (queued_bytes_ + message->size() > limits().max_queued_bytes) {
      log_net("antrian kirim koneksi " + std::to_string(id_) + " (" + remote_ +
              ") penuh; koneksi ditutup");
      // Keep only the message in flight (its buffer is still being written).
      while (queue_.size() > 1) {
        queued_bytes_ -= queue_.back()->size();
        queue_.pop_back();
      }
      return on_close_request(websocket::close_code::policy_error,
                              "antrian kirim penuh: klien terlalu lambat");
    }
    queued_bytes_ += message->size();
    queue_.push_back(std::move(message));
    if (queue_.size() == 1) do_write();  // otherwise on_write continues the chain
  }

  void do_write() {
    ws_.async_write(asio::buffer(*queue_.front()),
                    beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) {
      finish(describe(ec));
      return abort();  // also ends the pending read
    }
    if (finished_) return;
    queued_bytes_ -= queue_.front()->size();
    queue_.pop_front();
    if (!queue_.empty()) return do_write();
    if (close_requested_ && !close_sent_) do_close();
  }

  void on_close_request(websocket::close_code code, const std::string& reason) {
    if (finished_ || close_requested_) return;
    close_requested_ = true;
    close_reason_ = websocket::close_reason(code, truncate_reason(reason));
    if (!open_) return abort();  // mid-handshake: there is no WebSocket to close politely
    // A peer that stops reading could hold the close frame behind a stuck write forever.
    arm_deadline(limits().handshake_timeout);
    if (queue_.empty()) do_close();  // otherwise after the queued messages
  }

  void do_close() {
    close_sent_ = true;
    ws_.async_close(close_reason_,
                    beast::bind_front_handler(&Session::on_close_sent, shared_from_this()));
  }

  void on_close_sent(beast::error_code ec) {
    // The pending read sees the peer's answer and ends the session; on failure make sure.
    if (ec) abort();
  }

  // The handshake's deadline (until the upgrade request is read) and the closing grace
  // (after a close request); the two never overlap. Zero: no deadline.
  void arm_deadline(std::chrono::seconds after) {
    if (after.count() <= 0) return;
    deadline_.expires_after(after);
    deadline_.async_wait(beast::bind_front_handler(&Session::on_deadline, shared_from_this()));
  }

  void on_deadline(beast::error_code ec) {
    if (ec) return;  // cancelled: the session ended in time
    if (!finished_) abort();
  }

  // Closing the socket ends every pending operation (TlsStream never touches it again).
  void abort() noexcept {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).close(ec);
  }

  std::string describe(const beast::error_code& ec) const {
    if (ec == websocket::error::closed) {
      if (close_requested_) return "ditutup server: " + to_string(close_reason_.reason);
      const auto& r = ws_.reason();
      return "ditutup klien (kode " + std::to_string(r.code) + ")" +
             (r.reason.empty() ? "" : ": " + to_string(r.reason));
    }
    if (ec == websocket::error::message_too_big) {
      return "pesan melebihi batas " + std::to_string(limits().max_message_bytes) + " byte";
    }
    if (ec == beast::error::timeout) return "waktu habis";
    if (close_requested_) {
      return "ditutup server: " + to_string(close_reason_.reason) + " (" + ec.message() + ")";
    }
    return "kesalahan jaringan: " + ec.message();
  }

  // The single end of a session; on_close is reported here and only here.
  void finish(const std::string& why) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    state_->forget(id_);
    if (!open_) return;
    try {
      state_->handler.on_close(shared_from_this(), why);
    } catch (const std::exception& e) {
      log_net("on_close melempar pengecualian (koneksi " + std::to_string(id_) + "): " + e.what());
    } catch (...) {
      log_net("on_close melempar pengecualian (koneksi " + std::to_string(id_) + ")");
    }
  }

  websocket::stream<TlsStream> ws_;
  asio::steady_timer deadline_;
  const std::shared_ptr<ServerState> state_;
  const std::uint64_t id_;
  const std::string remote_;

  beast::flat_buffer buffer_;
  std::optional<http::request<http::empty_body>> upgrade_;  // only during the handshake
  std::string target_ = "/";
  std::deque<std::shared_ptr<const std::string>> queue_;  // front() is being written
  std::size_t queued_bytes_ = 0;
  bool open_ = false;      // WebSocket handshake done and on_open called
  bool finished_ = false;  // on_close called (or the handshake failed)
  bool close_requested_ = false;
  bool close_sent_ = false;
  websocket::close_reason close_reason_;
};

}  // namespace

struct WsServer::Impl : std::enable_shared_from_this<WsServer::Impl> {
  Impl(asio::io_context& io_context, std::shared_ptr<ServerState> shared)
      : io(io_context),
        state(std::move(shared)),
        acceptor(asio::make_strand(io_context)),
        retry_timer(acceptor.get_executor()) {}

  asio::io_context& io;
  std::shared_ptr<ServerState> state;
  tcp::acceptor acceptor;  // on its own strand
  asio::steady_timer retry_timer;
  std::uint16_t bound_port = 0;
  std::atomic<bool> started{false};

  void bind(const std::string& host, std::uint16_t port) {
    const std::string where = host + ":" + std::to_string(port);
    beast::error_code ec;
    tcp::resolver resolver(io);
    const auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      throw Error("listen", "Alamat " + where + " tidak dapat digunakan: " + ec.message());
    }
    const tcp::endpoint endpoint = results.begin()->endpoint();
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw Error("listen", "Tidak dapat membuka port " + where + ": " + ec.message());
    bound_port = acceptor.local_endpoint().port();
  }

  void do_accept() {
    acceptor.async_accept(asio::make_strand(io),
                          beast::bind_front_handler(&Impl::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      log_net("accept gagal: " + ec.message());
      retry_timer.expires_after(kAcceptRetryDelay);
      retry_timer.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec && self->acceptor.is_open()) self->do_accept();
      });
      return;
    }
    beast::error_code remote_ec;
    const auto remote = socket.remote_endpoint(remote_ec);
    std::shared_ptr<Session> session;
    {
      // Checked and registered under one lock, so stop() either sees it or it never runs.
      std::lock_guard lock(state->mutex);
      if (state->stopped) return;
      const std::uint64_t id = state->next_id++;
      session = std::make_shared<Session>(std::move(socket), state, id,
                                          remote_ec ? "?" : format_endpoint(remote));
      state->sessions.emplace(id, session);
    }
    session->run();
    do_accept();
  }
};

WsServer::WsServer(asio::io_context& io, const std::string& cert_pem, const std::string& key_pem,
                   const std::string& host, std::uint16_t port, Handler& handler,
                   ServerLimits limits) {
  auto state = std::make_shared<ServerState>(handler, limits);
  configure_tls(state->tls, cert_pem, key_pem);
  impl_ = std::make_shared<Impl>(io, std::move(state));
  impl_->bind(host, port);
}

WsServer::~WsServer() {
  try {
    stop();
  } catch (...) {
  }
}

void WsServer::start() {
  if (impl_->started.exchange(true)) return;
  asio::post(impl_->acceptor.get_executor(), [self = impl_] {
    {
      std::lock_guard lock(self->state->mutex);
      if (self->state->stopped) return;
    }
    self->do_accept();
  });
}

std::uint16_t WsServer::port() const { return impl_->bound_port; }

void WsServer::stop() {
  std::vector<std::weak_ptr<Session>> live;
  {
    std::lock_guard lock(impl_->state->mutex);
    if (impl_->state->stopped) return;
    impl_->state->stopped = true;
    live.reserve(impl_->state->sessions.size());
    for (const auto& [id, session] : impl_->state->sessions) live.push_back(session);
  }
  asio::post(impl_->acceptor.get_executor(), [self = impl_] {
    beast::error_code ec;
    self->acceptor.close(ec);
    self->retry_timer.cancel();
  });
  for (const auto& weak : live) {
    if (auto session = weak.lock()) {
      session->close_with(websocket::close_code::going_away, "server berhenti");
    }
  }
}

}  // namespace alur::net
