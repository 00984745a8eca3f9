// WsClient: a blocking WebSocket-over-TLS client. Every call starts asynchronous Beast
// operations on a private io_context and runs it until they complete or the deadline
// passes. From the handshake on, one read is always outstanding (across receive() calls
// and during send()), so a timeout loses nothing and the peer's pings and pongs are taken
// in whenever the io runs: that is what lets the heartbeat tell a slow link from a dead one.
#include "alur/net/ws_client.h"
#include "alur/net/tls_policy.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <charconv>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "deflate.h"

namespace alur::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// How long close() waits for the server to answer the close frame.
constexpr std::chrono::milliseconds kCloseTimeout{2000};
// How long to wait for cancelled operations to report back after the socket was closed.
constexpr std::chrono::milliseconds kDrainTimeout{1000};
constexpr const char* kUserAgent = "alur";

struct ParsedUrl {
  std::string host;  // without IPv6 brackets
  std::string port;
  std::string path;
  std::string host_header;  // "host:port", IPv6 in brackets
};

ParsedUrl parse_url(const std::string& url) {
  auto lower_prefix = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    }
    return true;
  };
  const auto bad = [&] {
    return Error("bad_url", "Alamat server tidak valid: \"" + url +
                                "\" (contoh yang benar: wss://server.kantor:8443).");
  };
  if (lower_prefix("ws://")) {
    throw Error("insecure_url", "Alamat server \"" + url +
                                    "\" tidak terenkripsi (ws://). Gunakan wss:// agar data "
                                    "tidak dapat dibaca atau diubah di jaringan.");
  }
  if (!lower_prefix("wss://")) throw bad();

  const std::string rest = url.substr(6);
  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string authority = rest.substr(0, authority_end);
  ParsedUrl out;
  out.path = authority_end == std::string::npos ? "/" : rest.substr(authority_end);
  if (const auto hash = out.path.find('#'); hash != std::string::npos) out.path.erase(hash);
  if (out.path.empty() || out.path.front() != '/') out.path.insert(0, "/");

  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    const std::size_t close = authority.find(']');
    if (close == std::string::npos) throw bad();
    out.host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad();
      port_text = after.substr(1);
      if (port_text.empty()) throw bad();
    }
  } else {
    const std::size_t colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty() || port_text.find(':') != std::string::npos) throw bad();
    }
  }
  if (out.host.empty() || out.host.find_first_of("@ \t") != std::string::npos) throw bad();

  unsigned port = 443;
  if (!port_text.empty()) {
    const char* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (ec != std::errc() || ptr != end || port == 0 || port > 65535) throw bad();
  }
  out.port = std::to_string(port);
  const bool v6 = out.host.find(':') != std::string::npos;
  out.host_header = (v6 ? "[" + out.host + "]" : out.host) + ":" + out.port;
  return out;
}

// "sha256:" + lowercase hex of SHA-256 over the certificate's DER encoding (the same form
// as alur::crypto::certificate_fingerprint_der).
std::string fingerprint_of(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0f];
  }
  return out;
}

bool is_loopback(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  return address.is_loopback();
}

struct X509Free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};

// Completion of one asynchronous operation. Shared with its handler, so a handler that
// runs late (after a timeout) never writes into a dead stack frame.
struct Completion {
  bool done = false;
  beast::error_code ec;
};

// Must be complete before the stream exists: SSL_new copies the context's settings.
ssl::context make_client_tls() {
  ssl::context tls(ssl::context::tls_client);
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::no_compression);
  // The server's own suites: a server (or a man in the middle holding a stolen key) that
  // offers only weaker ones is refused at the handshake.
  if (SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(tls.native_handle(), kTls12Ciphers) != 1) {
    throw Error("network", "Konfigurasi TLS klien gagal.");
  }
  return tls;
}

}  // namespace

struct WsClient::Impl {
  explicit Impl(const ClientOptions& opts) : options(opts) {}

  // Declared first, destroyed last: the operations below live in it.
  asio::io_context io;
  ssl::context tls = make_client_tls();
  tcp::resolver resolver{io};
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws{io, tls};

  ClientOptions options;
  ParsedUrl url;
  std::string fingerprint;
  bool compressed = false;  // the server agreed to permessage-deflate
  bool open = false;
  std::optional<Error> failure;  // once set, the stream is dead and every call rethrows it

  // The one outstanding read, kept across receive() calls.
  beast::flat_buffer read_buffer;
  std::shared_ptr<Completion> read;  // null: no read started

  std::string where() const { return url.host_header; }

  // Runs the io_context until done() or the deadline; false on timeout.
  template <class Done>
  bool run_until(Done done, Clock::time_point deadline) {
    io.restart();
    while (!done()) {
      if (io.run_one_until(deadline) == 0) {
        // Deadline passed (or no work left): still take what is ready, so that a zero
        // timeout polls instead of never looking.
        io.restart();
        io.poll();
        return done();
      }
    }
    return true;
  }

  // Closes the socket so that every pending operation ends, and waits for them to say so.
  void abort_and_drain(const std::shared_ptr<Completion>& op) noexcept {
    try {
      resolver.cancel();
      beast::get_lowest_layer(ws).close();
      const auto read_op = read;
      run_until([&] { return (!op || op->done) && (!read_op || read_op->done); },
                Clock::now() + kDrainTimeout);
    } catch (...) {
    }
    open = false;
  }

  [[noreturn]] void fail(Error error, const std::shared_ptr<Completion>& op = {}) {
    abort_and_drain(op);
    failure = error;
    throw error;
  }

  [[noreturn]] void fail_timeout(const std::string& what, const std::shared_ptr<Completion>& op) {
    fail(Error("timeout", "Waktu habis saat " + what + " (server " + where() + ")."), op);
  }

  // Maps an error of an established connection to the codes of ws_client.h.
  Error transport_error(const beast::error_code& ec) const {
    if (ec == websocket::error::closed) {
      const auto& r = ws.reason();
      std::string reason(r.reason.data(), r.reason.size());
      return Error("closed", "Server " + where() + " menutup koneksi (kode " +
                                 std::to_string(r.code) + ")" +
                                 (reason.empty() ? "." : ": " + reason));
    }
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      return Error("closed", "Koneksi diputus oleh server " + where() + ".");
    }
    if (ec == beast::error::timeout) {  // the heartbeat: nothing heard for a whole period
      const auto seconds =
          std::chrono::duration_cast<std::chrono::duration<double>>(options.heartbeat).count();
      std::string text = std::to_string(seconds);
      text.erase(text.find_last_not_of('0') + 1);
      if (text.back() == '.') text.pop_back();
      return Error("timeout", "Koneksi ke server " + where() + " tidak merespons selama " + text +
                                  " detik (heartbeat); koneksi dianggap putus.");
    }
    if (ec == websocket::error::message_too_big) {
      return Error("network", "Pesan dari server " + where() + " melebihi batas " +
                                  std::to_string(options.max_message_bytes) + " byte.");
    }
    return Error("network", "Kesalahan jaringan dengan server " + where() + ": " + ec.message());
  }

  void ensure_usable() const {
    if (failure) throw *failure;
    if (!open) throw Error("closed", "Koneksi ke server sudah ditutup.");
  }

  void connect(const std::string& url_text) {
    url = parse_url(url_text);
    const auto deadline = Clock::now() + options.connect_timeout;
    const std::string phase_connect = "menghubungi server";

    // Resolve.
    auto resolved = std::make_shared<Completion>();
    auto endpoints = std::make_shared<tcp::resolver::results_type>();
    resolver.async_resolve(
        url.host, url.port,
        [resolved, endpoints](beast::error_code ec, tcp::resolver::results_type results) {
          resolved->done = true;
          resolved->ec = ec;
          *endpoints = std::move(results);
        });
    if (!run_until([&] { return resolved->done; }, deadline)) {
      fail_timeout(phase_connect, resolved);
    }
    if (resolved->ec) {
      fail(Error("connect", "Tidak dapat terhubung ke server " + where() +
                                ": alamat tidak ditemukan (" + resolved->ec.message() + ")."));
    }

    // TCP connect.
    auto connected = std::make_shared<Completion>();
    auto peer = std::make_shared<tcp::endpoint>();
    beast::get_lowest_layer(ws).async_connect(
        *endpoints, [connected, peer](beast::error_code ec, const tcp::endpoint& endpoint) {
          connected->done = true;
          connected->ec = ec;
          *peer = endpoint;
        });
    if (!run_until([&] { return connected->done; }, deadline)) {
      fail_timeout(phase_connect, connected);
    }
    if (connected->ec) {
      fail(Error("connect",
                 "Tidak dapat terhubung ke server " + where() + ": " + connected->ec.message()));
    }

    // TLS. Trust comes from the pinned fingerprint, not from a CA: the verify callback
    // accepts the chain and the leaf is checked below, before any application byte is sent.
    ws.next_layer().set_verify_mode(ssl::verify_peer);
    ws.next_layer().set_verify_callback([](bool, ssl::verify_context&) { return true; });
    beast::error_code ip_ec;
    asio::ip::make_address(url.host, ip_ec);
    if (ip_ec) {  // SNI carries names only, never IP literals (RFC 6066)
      SSL_set_tlsext_host_name(ws.next_layer().native_handle(), url.host.c_str());
    }
    auto shaken = std::make_shared<Completion>();
    ws.next_layer().async_handshake(ssl::stream_base::client, [shaken](beast::error_code ec) {
      shaken->done = true;
      shaken->ec = ec;
    });
    if (!run_until([&] { return shaken->done; }, deadline)) {
      fail_timeout("jabat tangan TLS", shaken);
    }
    if (shaken->ec) {
      fail(Error("network",
                 "Jabat tangan TLS dengan server " + where() + " gagal: " + shaken->ec.message()));
    }

    // Certificate pinning.
    std::unique_ptr<X509, X509Free> leaf(
        SSL_get1_peer_certificate(ws.next_layer().native_handle()));
    if (leaf) fingerprint = fingerprint_of(leaf.get());
    if (fingerprint.empty()) {
      fail(Error("network", "Server " + where() + " tidak menunjukkan sertifikat."));
    }
    if (!options.pinned_fingerprint.empty() &&
        !crypto::constant_time_equal(fingerprint, options.pinned_fingerprint)) {
      fail(Error("fingerprint_mismatch",
                 "Sertifikat server tidak sesuai dengan yang dipercaya saat pendaftaran "
                 "(diharapkan " +
                     options.pinned_fingerprint + ", diterima " + fingerprint +
                     "). Hubungi admin TI sebelum melanjutkan."));
    }

    // WebSocket.
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options.connect_timeout;  // also bounds the close handshake
    if (options.heartbeat.count() > 0) {
      // Beast pings after idle_timeout/2 of silence and fails the outstanding read with
      // error::timeout after idle_timeout. Outgoing messages go in 4 KiB fragments with
      // control frames between them, so a long upload does not starve the heartbeat.
      timeouts.idle_timeout = options.heartbeat;
      timeouts.keep_alive_pings = true;
    } else {
      timeouts.idle_timeout = websocket::stream_base::none();
      timeouts.keep_alive_pings = false;
    }
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, kUserAgent); }));
    ws.binary(true);
    // With permessage-deflate the bound applies to a message once inflated.
    ws.read_message_max(options.max_message_bytes);
    websocket::permessage_deflate deflate = deflate_options();
    deflate.client_enable = options.compression == Compression::kAlways ||
                            (options.compression == Compression::kAuto && !is_loopback(*peer));
    ws.set_option(deflate);
    auto upgraded = std::make_shared<Completion>();
    auto response = std::make_shared<websocket::response_type>();
    ws.async_handshake(*response, url.host_header, url.path,
                       [upgraded, response](beast::error_code ec) {
                         upgraded->done = true;
                         upgraded->ec = ec;
                       });
    if (!run_until([&] { return upgraded->done; }, deadline)) {
      fail_timeout("jabat tangan WebSocket", upgraded);
    }
    if (upgraded->ec) {
      fail(Error("network",
                 "Server " + where() + " menolak koneksi WebSocket: " + upgraded->ec.message()));
    }
    compressed = deflate.client_enable &&
                 (*response)[beast::http::field::sec_websocket_extensions].starts_with(
                     "permessage-deflate");
    open = true;
    start_read();  // from now on pings are answered and the heartbeat hears the server
  }

  // Starts the one outstanding read unless it is already running.
  void start_read() {
    if (read) return;
    read = std::make_shared<Completion>();
    ws.async_read(read_buffer, [op = read](beast::error_code ec, std::size_t) {
      op->done = true;
      op->ec = ec;
    });
  }

  void send(const std::string& message, std::chrono::milliseconds timeout) {
    ensure_usable();
    auto written = std::make_shared<Completion>();
    ws.async_write(asio::buffer(message), [written](beast::error_code ec, std::size_t) {
      written->done = true;
      written->ec = ec;
    });
    // On timeout the write is cancelled and drained before returning: it reads `message`.
    if (!run_until([&] { return written->done; }, Clock::now() + timeout)) {
      fail_timeout("mengirim pesan", written);
    }
    if (written->ec) fail(transport_error(written->ec));
  }

  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    ensure_usable();
    start_read();
    const auto op = read;
    if (!run_until([&] { return op->done; }, Clock::now() + timeout)) {
      return std::nullopt;  // the read stays pending for the next call
    }
    read.reset();
    if (op->ec) fail(transport_error(op->ec));
    std::string message = beast::buffers_to_string(read_buffer.data());
    read_buffer.consume(read_buffer.size());
    start_read();
    return message;
  }

  void close() noexcept {
    try {
      if (open && !failure) {
        auto closed = std::make_shared<Completion>();
        ws.async_close(websocket::close_code::normal, [closed](beast::error_code ec) {
          closed->done = true;
          closed->ec = ec;
        });
        run_until([&] { return closed->done; }, Clock::now() + kCloseTimeout);
        abort_and_drain(closed);
      } else {
        abort_and_drain({});
      }
      if (!failure) failure = Error("closed", "Koneksi ke server sudah ditutup.");
    } catch (...) {
    }
  }
};

WsClient::WsClient() = default;

WsClient::~WsClient() {
  if (impl_) impl_->close();
}

std::unique_ptr<WsClient> WsClient::connect(const std::string& url, const ClientOptions& options) {
  std::unique_ptr<WsClient> client(new WsClient());
  client->impl_ = std::make_unique<Impl>(options);
  client->impl_->connect(url);
  return client;
}

std::string WsClient::server_fingerprint() const { return impl_->fingerprint; }

bool WsClient::compressed() const { return impl_->compressed; }

void WsClient::send(const std::string& binary_message, std::chrono::milliseconds timeout) {
  impl_->send(binary_message, timeout);
}

std::optional<std::string> WsClient::receive(std::chrono::milliseconds timeout) {
  return impl_->receive(timeout);
}

void WsClient::close() noexcept {
  if (impl_) impl_->close();
}

}  // namespace alur::net
