// The TLS WebSocket transport over real loopback sockets: echo, deadlines, pinning,
// limits, server-side close and stop, and hostile input; and the server's own TLS stream
// (shared/src/net/tls_stream.h) against peers that misbehave at the TLS record level.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "alur/net/ws_client.h"
#include "alur/net/ws_server.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"

namespace alur::net {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// A self-signed ECDSA P-256 certificate made with OpenSSL directly, so these tests do not
// depend on alur::crypto.
TestCertificate make_test_certificate() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) throw std::runtime_error("openssl");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("sign");

  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return {bio_to_string(cert_bio.get()), bio_to_string(key_bio.get())};
}

const TestCertificate& test_certificate() {
  static const TestCertificate cert = make_test_certificate();
  return cert;
}

// SHA-256 over the DER, computed independently of the client's code path.
std::string fingerprint_of_pem(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  unsigned char* der = nullptr;
  const int der_len = i2d_X509(cert.get(), &der);
  unsigned char md[32];
  unsigned int md_len = 0;
  EVP_Digest(der, std::size_t(der_len), md, &md_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  std::string hex = "sha256:";
  char buf[3];
  for (unsigned i = 0; i < md_len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

// Echoes every message, except commands "close:<reason>" (the server closes the
// connection) and "flood:<n>" (the server sends n messages of 64 KiB at once).
class RecordingHandler : public Handler {
 public:
  void on_open(const std::shared_ptr<Connection>& conn) override {
    std::lock_guard lock(mutex_);
    opened_.push_back(conn->id());
    cv_.notify_all();
  }

  void on_message(const std::shared_ptr<Connection>& conn, std::string message) override {
    if (message.rfind("close:", 0) == 0) return conn->close(message.substr(6));
    if (message.rfind("flood:", 0) == 0) {
      auto chunk = std::make_shared<const std::string>(64 * 1024, 'x');
      const int n = std::stoi(message.substr(6));
      for (int i = 0; i < n; ++i) conn->send(chunk);
      return;
    }
    conn->send(std::make_shared<const std::string>(std::move(message)));
  }

  void on_close(const std::shared_ptr<Connection>& conn, const std::string& why) override {
    std::lock_guard lock(mutex_);
    ++close_count_[conn->id()];
    why_[conn->id()] = why;
    cv_.notify_all();
  }

  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return pred(); });
  }

  bool wait_closed(std::size_t n) {
    return wait([&] { return close_count_.size() >= n; });
  }

  std::vector<std::uint64_t> opened() {
    std::lock_guard lock(mutex_);
    return opened_;
  }
  std::map<std::uint64_t, int> close_count() {
    std::lock_guard lock(mutex_);
    return close_count_;
  }
  std::string why(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    return why_[id];
  }
  std::uint64_t last_opened() {
    std::lock_guard lock(mutex_);
    return opened_.empty() ? 0 : opened_.back();
  }

  // Guards the fields below; wait() predicates run with it held and may read them directly.
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::uint64_t> opened_;
  std::map<std::uint64_t, int> close_count_;
  std::map<std::uint64_t, std::string> why_;
};

// A WsServer on 127.0.0.1:<free port> served by one background thread.
class TestServer {
 public:
  explicit TestServer(ServerLimits limits = {},
                      const TestCertificate& certificate = test_certificate())
      : server_(io_, certificate.cert_pem, certificate.key_pem, "127.0.0.1", 0, handler_, limits) {
    server_.start();
    thread_ = std::thread([this] {
      io_.run();
      ran_out_.set_value();
    });
  }

  ~TestServer() {
    server_.stop();
    work_.reset();
    // A clean stop leaves the io_context without work; do not hang the suite if not.
    if (ran_out_future_.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "io_context still busy 10 s after stop()";
      io_.stop();
    }
    thread_.join();
  }

  std::string url() const { return "wss://127.0.0.1:" + std::to_string(server_.port()); }
  RecordingHandler& handler() { return handler_; }
  WsServer& server() { return server_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  RecordingHandler handler_;
  WsServer server_;
  std::promise<void> ran_out_;
  std::future<void> ran_out_future_ = ran_out_.get_future();
  std::thread thread_;
};

ClientOptions pinned() {
  ClientOptions options;
  options.pinned_fingerprint = fingerprint_of_pem(test_certificate().cert_pem);
  return options;
}

std::string error_code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return "<no error>";
}

// Sends `message`, which the server must refuse as too big, and expects the connection to end:
// usually with the close frame (1009, "too big"); when the server's teardown resets the socket
// while the client is still uploading, with a network error.
void expect_refused_as_too_big(WsClient& client, const std::string& message) {
  try {
    client.send(message, 5s);
    client.receive(5s);
    ADD_FAILURE() << "a message of " << message.size() << " bytes did not close the connection";
  } catch (const Error& e) {
    if (e.code() == "closed") {
      EXPECT_NE(std::string(e.what()).find("1009"), std::string::npos) << e.what();
    } else {
      EXPECT_EQ(e.code(), "network") << e.what();
    }
  }
}

TEST(WsTransport, EchoesBinaryMessagesIncludingOneMebibyte) {
  TestServer server;
  auto client = WsClient::connect(server.url(), pinned());

  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  client->send(all_bytes, 5s);
  EXPECT_EQ(client->receive(5s), all_bytes);

  const std::string big = random_bytes(1u << 20, 7);
  client->send(big, 5s);
  const auto echoed = client->receive(5s);
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->size(), big.size());
  EXPECT_TRUE(*echoed == big);

  // Several in flight keep their order.
  for (int i = 0; i < 20; ++i) client->send("m" + std::to_string(i), 5s);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(client->receive(5s), "m" + std::to_string(i));
}

TEST(WsTransport, ReceiveTimeoutReturnsNulloptAndTheConnectionKeepsWorking) {
  TestServer server;
  auto client = WsClient::connect(server.url(), pinned());

  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(client->receive(150ms), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - before, 140ms);
  EXPECT_EQ(client->receive(0ms), std::nullopt);

  // The read left pending by the timeouts delivers the next message.
  client->send("after timeout", 5s);
  EXPECT_EQ(client->receive(5s), "after timeout");
  EXPECT_EQ(client->receive(50ms), std::nullopt);
  client->send("again", 5s);
  EXPECT_EQ(client->receive(5s), "again");
}

TEST(WsTransport, WrongPinIsRefusedBeforeTheWebSocketOpens) {
  TestServer server;
  ClientOptions options;
  options.pinned_fingerprint = "sha256:" + std::string(64, '0');
  try {
    WsClient::connect(server.url(), options);
    FAIL() << "connected despite a wrong pin";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "fingerprint_mismatch");
    EXPECT_NE(std::string(e.what()).find(fingerprint_of_pem(test_certificate().cert_pem)),
              std::string::npos)
        << e.what();
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(server.handler().opened().empty());
}

TEST(WsTransport, CorrectPinConnectsAndReportsTheFingerprint) {
  TestServer server;
  const std::string expected = fingerprint_of_pem(test_certificate().cert_pem);
  auto client = WsClient::connect(server.url(), pinned());
  EXPECT_EQ(client->server_fingerprint(), expected);
  client->send("hi", 5s);
  EXPECT_EQ(client->receive(5s), "hi");

  // Without a pin (learning the fingerprint) the same value is reported.
  auto learner = WsClient::connect(server.url() + "/sync", ClientOptions{});
  EXPECT_EQ(learner->server_fingerprint(), expected);
}

// The fingerprint alur-server prints for the admin (alur::crypto) is the one the client
// pins: both sides must compute it identically, including typed variants of it.
TEST(WsTransport, PinFromCryptoFingerprintOfTheServerCertificateIsAccepted) {
  const auto made = crypto::make_self_signed_certificate("alur-test", 1);
  TestServer server({}, TestCertificate{made.cert_pem, made.key_pem});
  const std::string printed = crypto::certificate_fingerprint_pem(made.cert_pem);
  ClientOptions options;
  options.pinned_fingerprint = crypto::normalize_fingerprint(printed.substr(7));  // bare hex
  auto client = WsClient::connect(server.url(), options);
  EXPECT_EQ(client->server_fingerprint(), printed);
  client->send("ok", 5s);
  EXPECT_EQ(client->receive(5s), "ok");
}

TEST(WsTransport, RefusesInsecureAndMalformedUrls) {
  EXPECT_EQ(error_code_of([] { WsClient::connect("ws://127.0.0.1:1", {}); }), "insecure_url");
  EXPECT_EQ(error_code_of([] { WsClient::connect("WS://127.0.0.1:1/x", {}); }), "insecure_url");
  for (const char* bad :
       {"http://127.0.0.1:1", "wss://", "wss://:443", "wss://host:", "wss://host:0",
        "wss://host:70000", "wss://host:12x", "127.0.0.1:1", "wss://[::1", "wss://a:1:2"}) {
    EXPECT_EQ(error_code_of([&] { WsClient::connect(bad, {}); }), "bad_url") << bad;
  }
}

TEST(WsTransport, OversizedMessageClosesOnlyThatConnection) {
  ServerLimits limits;
  limits.max_message_bytes = 64 * 1024;
  TestServer server(limits);

  auto client = WsClient::connect(server.url(), pinned());
  client->send(std::string(limits.max_message_bytes, 'a'), 5s);  // exactly the limit is fine
  EXPECT_EQ(client->receive(5s)->size(), limits.max_message_bytes);

  expect_refused_as_too_big(*client, std::string(100 * 1024, 'b'));
  // Reported once; its text depends on how the TLS teardown raced the rest of the upload.
  ASSERT_TRUE(server.handler().wait_closed(1));
  EXPECT_EQ(server.handler().close_count().at(server.handler().last_opened()), 1);

  // The server keeps serving.
  auto next = WsClient::connect(server.url(), pinned());
  next->send("still here", 5s);
  EXPECT_EQ(next->receive(5s), "still here");
}

TEST(WsTransport, ConnectingToAClosedPortFailsWithConnect) {
  asio::io_context io;
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = probe.local_endpoint().port();
  probe.close();
  EXPECT_EQ(error_code_of(
                [&] { WsClient::connect("wss://127.0.0.1:" + std::to_string(port), pinned()); }),
            "connect");
}

TEST(WsTransport, ServerCloseReachesTheClientWithItsReason) {
  TestServer server;
  auto client = WsClient::connect(server.url(), pinned());
  client->send("close:selamat tinggal", 5s);
  try {
    client->receive(5s);
    FAIL() << "no close";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "closed");
    EXPECT_NE(std::string(e.what()).find("selamat tinggal"), std::string::npos) << e.what();
  }
  // Every later call reports the same closed connection.
  EXPECT_EQ(error_code_of([&] { client->send("x", 1s); }), "closed");
  EXPECT_EQ(error_code_of([&] { client->receive(1s); }), "closed");
  ASSERT_TRUE(server.handler().wait_closed(1));
  EXPECT_NE(server.handler().why(server.handler().last_opened()).find("selamat tinggal"),
            std::string::npos);
}

TEST(WsTransport, OnCloseIsCalledExactlyOncePerOpenedConnection) {
  TestServer server;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(WsClient::connect(server.url(), pinned()));
    clients.back()->send("ping", 5s);
    ASSERT_EQ(clients.back()->receive(5s), "ping");
  }
  clients[0]->close();                // polite, client side
  clients[1]->send("close:bye", 5s);  // server side
  EXPECT_EQ(error_code_of([&] { clients[1]->receive(5s); }), "closed");
  clients[2].reset();  // destructor closes
  clients[3]->close();
  clients[3]->close();  // twice is harmless
  ASSERT_TRUE(server.handler().wait([&] { return server.handler().close_count_.size() >= 4; }));

  server.server().stop();  // the remaining two
  for (int i = 4; i < 6; ++i) EXPECT_EQ(error_code_of([&] { clients[i]->receive(5s); }), "closed");
  ASSERT_TRUE(server.handler().wait_closed(6));
  std::this_thread::sleep_for(200ms);  // a duplicate would arrive about now

  const auto opened = server.handler().opened();
  ASSERT_EQ(opened.size(), 6u);
  for (std::size_t i = 1; i < opened.size(); ++i) EXPECT_LT(opened[i - 1], opened[i]);
  const auto closes = server.handler().close_count();
  ASSERT_EQ(closes.size(), 6u);
  for (const auto id : opened) EXPECT_EQ(closes.at(id), 1) << "connection " << id;
}

TEST(WsTransport, GarbageOnThePortDoesNotHurtTheServer) {
  ServerLimits limits;
  limits.handshake_timeout = 1s;
  TestServer server(limits);
  asio::io_context io;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), server.server().port());

  // Raw junk, a plain HTTP request and a ws:// style upgrade, none of them TLS.
  const std::string junk = random_bytes(16 * 1024, 3);
  for (const std::string& payload :
       {junk, std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: "
                    "13\r\n\r\n"),
        std::string("\x16\x03\x01\x00\x05garbage", 12)}) {
    tcp::socket socket(io);
    socket.connect(endpoint);
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(payload), ec);
    socket.close();
  }

  // A connection that never says anything is dropped after the handshake timeout.
  tcp::socket silent(io);
  silent.connect(endpoint);
  char byte;
  boost::system::error_code read_ec;
  bool read_done = false;
  silent.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code ec, std::size_t) {
    read_ec = ec;
    read_done = true;
  });
  io.run_for(5s);
  EXPECT_TRUE(read_done) << "silent connection not dropped";
  EXPECT_TRUE(read_ec) << "server sent data to a silent connection";

  auto client = WsClient::connect(server.url(), pinned());
  client->send("fine", 5s);
  EXPECT_EQ(client->receive(5s), "fine");
  EXPECT_EQ(server.handler().opened().size(), 1u);
}

TEST(WsTransport, StopClosesLiveClientsAndRefusesNewOnes) {
  TestServer server;
  auto a = WsClient::connect(server.url(), pinned());
  auto b = WsClient::connect(server.url(), pinned());
  a->send("x", 5s);
  ASSERT_EQ(a->receive(5s), "x");
  ASSERT_TRUE(server.handler().wait([&] { return server.handler().opened_.size() == 2; }));

  server.server().stop();
  for (auto* client : {a.get(), b.get()}) {
    try {
      client->receive(5s);
      FAIL() << "still open after stop()";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "closed");
      EXPECT_NE(std::string(e.what()).find("server berhenti"), std::string::npos) << e.what();
    }
  }
  ASSERT_TRUE(server.handler().wait_closed(2));
  std::this_thread::sleep_for(100ms);  // the acceptor is closed on the io thread
  EXPECT_EQ(error_code_of([&] { WsClient::connect(server.url(), pinned()); }), "connect");
}

TEST(WsTransport, SlowReaderIsDisconnectedWhenItsQueueFills) {
  ServerLimits limits;
  limits.max_queued_bytes = 256 * 1024;
  TestServer server(limits);
  auto client = WsClient::connect(server.url(), pinned());
  client->send("flood:200", 5s);  // 200 x 64 KiB queued at once
  int received = 0;
  try {
    while (client->receive(5s)) ++received;
    FAIL() << "no close after " << received << " messages";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "closed") << e.what();
  }
  EXPECT_LT(received, 200);
  ASSERT_TRUE(server.handler().wait_closed(1));
  EXPECT_NE(server.handler().why(server.handler().last_opened()).find("antrian"),
            std::string::npos);
}

TEST(WsTransport, IdleClientIsDroppedButAReceivingClientAnswersPings) {
  ServerLimits limits;
  limits.idle_timeout = 1s;
  TestServer server(limits);
  auto idle = WsClient::connect(server.url(), pinned());
  auto active = WsClient::connect(server.url(), pinned());

  // `active` keeps its io running (and so answers pings) through receive() timeouts.
  const auto until = std::chrono::steady_clock::now() + 2500ms;
  while (std::chrono::steady_clock::now() < until) EXPECT_EQ(active->receive(100ms), std::nullopt);
  active->send("alive", 5s);
  EXPECT_EQ(active->receive(5s), "alive");

  // `idle` never ran its io, so never answered: the server has given up on it.
  const auto code = error_code_of([&] {
    idle->receive(2s);
    idle->send("x", 1s);
    idle->receive(2s);
  });
  EXPECT_TRUE(code == "closed" || code == "network") << code;
  ASSERT_TRUE(server.handler().wait_closed(1));
}

TEST(WsTransport, ServerConstructionFailuresThrowListen) {
  asio::io_context io;
  RecordingHandler handler;
  const auto& cert = test_certificate();
  EXPECT_EQ(
      error_code_of([&] { WsServer(io, "not a pem", cert.key_pem, "127.0.0.1", 0, handler); }),
      "listen");
  const auto other = make_test_certificate();
  EXPECT_EQ(
      error_code_of([&] { WsServer(io, cert.cert_pem, other.key_pem, "127.0.0.1", 0, handler); }),
      "listen");
  WsServer first(io, cert.cert_pem, cert.key_pem, "127.0.0.1", 0, handler);
  EXPECT_NE(first.port(), 0);
  EXPECT_EQ(error_code_of([&] {
              WsServer(io, cert.cert_pem, cert.key_pem, "127.0.0.1", first.port(), handler);
            }),
            "listen");
}

// A WebSocket client of Beast's own over Asio's ssl::stream (no pinning), so that a test
// can fragment its messages or write raw bytes under the TLS layer.
struct RawWsClient {
  explicit RawWsClient(std::uint16_t port) {
    auto& socket = ws.next_layer().next_layer();
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    ws.next_layer().handshake(asio::ssl::stream_base::client);
    ws.handshake("127.0.0.1", "/");
    ws.binary(true);
  }
  tcp::socket& socket() { return ws.next_layer().next_layer(); }

  asio::io_context io;
  asio::ssl::context tls{asio::ssl::context::tls_client};  // verify_none by default
  boost::beast::websocket::stream<asio::ssl::stream<tcp::socket>> ws{io, tls};
};

TEST(ServerTlsStream, PeerThatClosesMidRecordEndsOnlyItsSessionAtOnce) {
  TestServer server;  // idle timeout 60 s: an end within seconds is not a timeout
  RawWsClient raw(server.server().port());
  ASSERT_TRUE(server.handler().wait([&] { return server.handler().opened_.size() == 1; }));
  const auto id = server.handler().last_opened();

  // The header of a 1,024-byte application-data record, 100 bytes of it, then TCP FIN.
  const std::string partial = std::string("\x17\x03\x03\x04\x00", 5) + std::string(100, 'x');
  asio::write(raw.socket(), asio::buffer(partial));
  const auto t0 = std::chrono::steady_clock::now();
  raw.socket().shutdown(tcp::socket::shutdown_send);

  ASSERT_TRUE(server.handler().wait_closed(1));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(server.handler().close_count().at(id), 1);
  const std::string why = server.handler().why(id);
  EXPECT_NE(why.find("kesalahan jaringan"), std::string::npos) << why;
  EXPECT_EQ(why.find("waktu habis"), std::string::npos) << why;

  auto client = WsClient::connect(server.url(), pinned());
  client->send("still serving", 5s);
  EXPECT_EQ(client->receive(5s), "still serving");
}

TEST(ServerTlsStream, LargeMessageInSmallPiecesIsEchoedIntactPastAFullSocket) {
  TestServer server;
  RawWsClient raw(server.server().port());
  // 6 MiB in WebSocket fragments of 997 bytes (so TLS records of that size), echoed as one
  // frame that the client does not read for a while: the server's writes meet a full
  // socket buffer (WANT_WRITE, partial writes) and must resume where they stopped.
  const std::string big = random_bytes(6u << 20, 11);
  raw.ws.auto_fragment(true);
  raw.ws.write_buffer_bytes(997);
  raw.ws.write(asio::buffer(big));
  std::this_thread::sleep_for(500ms);
  boost::beast::flat_buffer got;
  raw.ws.read(got);
  const std::string echoed = boost::beast::buffers_to_string(got.data());
  EXPECT_EQ(echoed.size(), big.size());
  EXPECT_TRUE(echoed == big);
  raw.ws.write(asio::buffer(std::string("after")));
  got.clear();
  raw.ws.read(got);
  EXPECT_EQ(boost::beast::buffers_to_string(got.data()), "after");
}

TEST(ServerTlsStream, ClientThatStopsMidHandshakeIsDroppedAfterTheTimeout) {
  ServerLimits limits;
  limits.handshake_timeout = 1s;
  TestServer server(limits);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), server.server().port());

  // Measures how long the server keeps a connection whose peer then says nothing more.
  const auto dropped_after = [](tcp::socket& socket) {
    const auto t0 = std::chrono::steady_clock::now();
    char byte;
    boost::system::error_code ec;
    while (!ec) socket.read_some(asio::buffer(&byte, 1), ec);  // until the server closes
    return std::chrono::steady_clock::now() - t0;
  };

  // Half a ClientHello: the TLS handshake never completes.
  asio::io_context io;
  tcp::socket half(io);
  half.connect(endpoint);
  asio::write(half, asio::buffer(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
  const auto half_hello = dropped_after(half);
  EXPECT_GE(half_hello, 800ms);
  EXPECT_LT(half_hello, 4s);

  // TLS done, but no WebSocket upgrade request: the same deadline holds.
  asio::ssl::context tls{asio::ssl::context::tls_client};
  asio::ssl::stream<tcp::socket> mute(io, tls);
  mute.next_layer().connect(endpoint);
  mute.handshake(asio::ssl::stream_base::client);
  const auto t0 = std::chrono::steady_clock::now();
  char byte;
  boost::system::error_code ec;
  mute.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  EXPECT_TRUE(server.handler().opened().empty());
}

// Whether a TLS client capped at max_version (and, if given, offering only these TLS 1.2
// suites) completes a handshake with the server. The client itself allows everything.
bool server_accepts(std::uint16_t port, int max_version, const char* tls12_ciphers = nullptr) {
  asio::io_context io;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  SSL_CTX* ctx = tls.native_handle();
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  if (tls12_ciphers && SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) return false;
  asio::ssl::stream<tcp::socket> stream(io, tls);
  stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  boost::system::error_code ec;
  stream.handshake(asio::ssl::stream_base::client, ec);
  return !ec;
}

TEST(ServerTlsStream, KeepsTheTlsPolicyTls12AtLeastWithForwardSecretAeadSuites) {
  TestServer server;
  const auto port = server.server().port();
  EXPECT_TRUE(server_accepts(port, TLS1_3_VERSION));
  EXPECT_TRUE(server_accepts(port, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256"));
  EXPECT_TRUE(server_accepts(port, TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305"));
  EXPECT_FALSE(server_accepts(port, TLS1_1_VERSION));
  EXPECT_FALSE(server_accepts(port, TLS1_VERSION));
  EXPECT_FALSE(server_accepts(port, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA"));  // CBC
  EXPECT_FALSE(server_accepts(port, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA384"));
  // Still serving after the refusals.
  auto client = WsClient::connect(server.url(), pinned());
  client->send("ok", 5s);
  EXPECT_EQ(client->receive(5s), "ok");
}

// A TCP relay on 127.0.0.1 for one connection, counting the bytes it carries each way:
// what the line between a client and the server carries.
class CountingRelay {
 public:
  explicit CountingRelay(std::uint16_t target) {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    thread_ = std::thread([this, target] {
      boost::system::error_code ec;
      acceptor_.accept(client_, ec);
      if (ec) return;
      server_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), target), ec);
      if (ec) return;
      std::thread up([this] { pump(client_, server_, up_); });
      pump(server_, client_, down_);
      up.join();
    });
  }
  ~CountingRelay() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  std::string url() const {
    return "wss://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  std::size_t upstream() const { return up_; }  // client to server
  std::size_t downstream() const { return down_; }

 private:
  static void pump(tcp::socket& from, tcp::socket& to, std::atomic<std::size_t>& count) {
    char buffer[16384];
    boost::system::error_code ec;
    for (;;) {
      const std::size_t n = from.read_some(asio::buffer(buffer), ec);
      if (ec) break;
      count += n;
      asio::write(to, asio::buffer(buffer, n), ec);
      if (ec) break;
    }
    to.shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  tcp::socket client_{io_}, server_{io_};
  std::atomic<std::size_t> up_{0}, down_{0};
  std::thread thread_;
};

// A draft's text: what compresses (words repeat), unlike signatures and hashes.
std::string draft_text(std::size_t bytes) {
  std::string out;
  for (int i = 0; out.size() < bytes; ++i)
    out += "Capaian indikator kinerja " + std::to_string(i) +
           ": realisasi anggaran triwulan sesuai rencana strategis Dinas Koperasi UKM.\n";
  out.resize(bytes);
  return out;
}

TEST(WsCompression, AskedOnLoopbackOnlyWhenToldToAndRefusedByAServerThatHasItOff) {
  TestServer server;
  ClientOptions options = pinned();
  EXPECT_FALSE(WsClient::connect(server.url(), options)->compressed());  // auto: loopback
  options.compression = Compression::kNever;
  EXPECT_FALSE(WsClient::connect(server.url(), options)->compressed());
  options.compression = Compression::kAlways;
  EXPECT_TRUE(WsClient::connect(server.url(), options)->compressed());

  ServerLimits off;
  off.compression = false;
  TestServer plain(off);
  auto client = WsClient::connect(plain.url(), options);
  EXPECT_FALSE(client->compressed());
  client->send(draft_text(4096), 5s);  // and it still serves, uncompressed
  EXPECT_EQ(client->receive(5s), draft_text(4096));
}

TEST(WsCompression, CompressedMessagesArriveIntactInFewerBytesOnTheLine) {
  TestServer server;
  const std::string text = draft_text(1u << 20);
  const std::string noise = random_bytes(256 * 1024, 5);
  std::map<Compression, std::pair<std::size_t, std::size_t>> carried;  // up, down
  for (Compression c : {Compression::kNever, Compression::kAlways}) {
    CountingRelay line(server.server().port());
    {
      ClientOptions options = pinned();
      options.compression = c;
      auto client = WsClient::connect(line.url(), options);
      EXPECT_EQ(client->compressed(), c == Compression::kAlways);
      client->send(text, 5s);
      EXPECT_TRUE(client->receive(5s) == text);
      // Incompressible bytes, and messages under the threshold, arrive intact too.
      client->send(noise, 5s);
      EXPECT_TRUE(client->receive(5s) == noise);
      for (int i = 0; i < 20; ++i) client->send("m" + std::to_string(i), 5s);
      for (int i = 0; i < 20; ++i) EXPECT_EQ(client->receive(5s), "m" + std::to_string(i));
    }
    ASSERT_TRUE(server.handler().wait_closed(carried.size() + 1));
    carried[c] = {line.upstream(), line.downstream()};
  }
  const auto [plain_up, plain_down] = carried[Compression::kNever];
  const auto [up, down] = carried[Compression::kAlways];
  EXPECT_GT(plain_up, text.size() + noise.size());
  EXPECT_GT(plain_down, text.size() + noise.size());
  // The draft shrinks several times over; the noise cannot.
  EXPECT_LT(up, noise.size() + text.size() / 4) << up << " of " << plain_up;
  EXPECT_LT(down, noise.size() + text.size() / 4) << down << " of " << plain_down;
}

TEST(WsCompression, AMessageThatInflatesPastTheLimitClosesOnlyThatConnection) {
  ServerLimits limits;
  limits.max_message_bytes = 1u << 20;
  TestServer server(limits);
  ClientOptions options = pinned();
  options.compression = Compression::kAlways;
  auto client = WsClient::connect(server.url(), options);
  ASSERT_TRUE(client->compressed());
  client->send(std::string(limits.max_message_bytes, 'a'), 5s);  // exactly the limit is fine
  EXPECT_EQ(client->receive(5s)->size(), limits.max_message_bytes);

  // 16 MiB of one byte deflate to a few KiB: small on the line, too big once inflated.
  expect_refused_as_too_big(*client, std::string(16u << 20, 'z'));
  ASSERT_TRUE(server.handler().wait_closed(1));

  auto next = WsClient::connect(server.url(), options);
  next->send("masih melayani", 5s);
  EXPECT_EQ(next->receive(5s), "masih melayani");
}

}  // namespace
}  // namespace alur::net
