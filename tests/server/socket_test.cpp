// The SyncService behind the real TLS WebSocket transport, in-process: hostile bytes,
// protocol versions, the size bound, and live notification.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <thread>

#include "alur/net/ws_client.h"
#include "alur/net/ws_server.h"
#include "harness.h"

namespace alur::server::testing {
namespace {

using namespace std::chrono_literals;
using namespace alur::sync;
namespace asio = boost::asio;

const crypto::CertificateAndKey& certificate() {
  static const auto ck = crypto::make_self_signed_certificate("alur-test", 2);
  return ck;
}

// The office's SyncService served by a WsServer on 127.0.0.1:<free port> on a background
// thread. Set up the office (enrol devices, commit changes) before constructing it: once
// it runs, the database belongs to the server thread.
class LiveServer {
 public:
  explicit LiveServer(Office& office, net::ServerLimits limits = {})
      : server_(io_, certificate().cert_pem, certificate().key_pem, "127.0.0.1", 0, office.service,
                limits) {
    server_.start();
    thread_ = std::thread([this] {
      io_.run();
      done_.set_value();
    });
  }
  ~LiveServer() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    work_.reset();
    if (done_future_.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "server thread still busy 10 s after stop()";
      io_.stop();
    }
    thread_.join();
  }

  std::string url() const { return "wss://127.0.0.1:" + std::to_string(server_.port()); }

  std::unique_ptr<net::WsClient> connect() {
    net::ClientOptions options;
    options.pinned_fingerprint = crypto::certificate_fingerprint_pem(certificate().cert_pem);
    options.connect_timeout = 5000ms;
    return net::WsClient::connect(url(), options);
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  net::WsServer server_;
  std::promise<void> done_;
  std::future<void> done_future_ = done_.get_future();
  std::thread thread_;
};

// Sends m and returns the next reply (skipping nothing: the caller expects it).
Message ask(net::WsClient& ws, const Message& m) {
  ws.send(encode(m), 3s);
  auto bytes = ws.receive(3s);
  if (!bytes) throw std::runtime_error(std::string("no reply to ") + message_name(m));
  return decode(*bytes);
}

Message receive(net::WsClient& ws, std::chrono::milliseconds timeout = 3s) {
  auto bytes = ws.receive(timeout);
  if (!bytes) throw std::runtime_error("nothing received");
  return decode(*bytes);
}

// The error code with which the connection ends: "closed" expected.
std::string end_of(net::WsClient& ws) {
  return error_code_of([&] {
    for (int i = 0; i < 10; ++i)
      if (!ws.receive(3s)) throw Error("timeout", "the server kept the connection open");
  });
}

// A full enrolment over the socket; returns the Enrolled.
Enrolled enroll_over(LiveServer& server, HandClient& c) {
  auto ws = server.connect();
  auto e = as<Enrolled>(ask(*ws, c.enroll_message()));
  c.adopt(e);
  ws->close();
  return e;
}

TEST(ServerSocket, GarbageIsMalformedThenClosedAndTheServerKeepsServing) {
  Office o;
  LiveServer server(o);
  {
    auto ws = server.connect();
    ws->send("this is not a protocol message", 3s);
    auto e = as<ErrorMsg>(receive(*ws));
    EXPECT_EQ(e.code, "malformed");
    EXPECT_TRUE(e.fatal);
    EXPECT_EQ(end_of(*ws), "closed");
  }
  {
    auto ws = server.connect();
    ws->send(std::string("AL\x01\x00\x01\x7f", 6), 3s);  // unknown message index
    EXPECT_EQ(as<ErrorMsg>(receive(*ws)).code, "malformed");
    EXPECT_EQ(end_of(*ws), "closed");
  }
  HandClient c = o.client("sekre");
  auto e = enroll_over(server, c);
  EXPECT_FALSE(e.replica.empty());
  auto ws = server.connect();
  EXPECT_EQ(as<Welcome>(ask(*ws, c.hello_message())).username, "sekre");
  ws->close();
  server.stop();
  EXPECT_TRUE(o.db.device(c.replica).has_value());
}

TEST(ServerSocket, ProtocolVersion99IsRefused) {
  Office o;
  HandClient c = o.enrolled("sekre");
  LiveServer server(o);
  {
    // The envelope claims version 99.
    std::string bytes = encode(c.hello_message());
    bytes[2] = 99;
    bytes[3] = 0;
    auto ws = server.connect();
    ws->send(bytes, 3s);
    auto e = as<ErrorMsg>(receive(*ws));
    EXPECT_EQ(e.code, "protocol_version");
    EXPECT_TRUE(e.fatal);
    EXPECT_EQ(end_of(*ws), "closed");
  }
  {
    // A version-1 envelope whose Hello says 99.
    auto h = c.hello_message();
    h.protocol = 99;
    auto ws = server.connect();
    auto e = as<ErrorMsg>(ask(*ws, h));
    EXPECT_EQ(e.code, "protocol_version");
    EXPECT_EQ(end_of(*ws), "closed");
  }
}

TEST(ServerSocket, TruncatedPushIsMalformedAndCommitsNothing) {
  Office o;
  HandClient c = o.enrolled("sekre");
  LiveServer server(o);
  auto ws = server.connect();
  as<Welcome>(ask(*ws, c.hello_message()));
  auto push = c.push({c.open_case("kasus1"), c.complete("kasus1", "1", disposition())});
  std::string bytes = encode(push);
  ws->send(bytes.substr(0, bytes.size() - 20), 3s);
  auto e = as<ErrorMsg>(receive(*ws));
  EXPECT_EQ(e.code, "malformed");
  EXPECT_TRUE(e.fatal);
  EXPECT_EQ(end_of(*ws), "closed");
  server.stop();
  EXPECT_EQ(o.db.head(), 1u);
  EXPECT_FALSE(o.change_row(c.replica, 1).has_value());
}

TEST(ServerSocket, WrongBlobOffsetIsAFatalErrorOnTheWire) {
  Office o;
  HandClient c = o.enrolled("kasubag");
  LiveServer server(o);
  auto ws = server.connect();
  as<Welcome>(ask(*ws, c.hello_message()));
  std::string sha = crypto::sha256("abcdef");
  auto e = as<ErrorMsg>(ask(*ws, BlobChunk{sha, 3, 6, "def"}));
  EXPECT_EQ(e.code, "blob_offset");
  EXPECT_TRUE(e.fatal);
  EXPECT_EQ(end_of(*ws), "closed");
}

TEST(ServerSocket, MessageOverTheSizeBoundClosesAndTheServerKeepsServing) {
  Office o;
  HandClient c = o.enrolled("sekre");
  net::ServerLimits limits;
  limits.max_message_bytes = 64 * 1024;
  LiveServer server(o, limits);
  {
    auto ws = server.connect();
    as<Welcome>(ask(*ws, c.hello_message()));
    std::string big(100 * 1024, 'x');
    std::string send_error = error_code_of([&] { ws->send(big, 3s); });
    EXPECT_TRUE(send_error == "<no error>" || send_error == "closed" || send_error == "network")
        << send_error;
    std::string end = error_code_of([&] {
      for (int i = 0; i < 10; ++i) {
        auto m = ws->receive(3s);
        if (!m) throw Error("timeout", "the server kept the connection open");
        ADD_FAILURE() << "unexpected message: " << message_name(decode(*m));
      }
    });
    EXPECT_TRUE(end == "closed" || end == "network") << end;
  }
  // A message just under the bound is still fine, and a new client is served.
  auto ws = server.connect();
  as<Welcome>(ask(*ws, c.hello_message()));
  auto r = as<PushResult>(ask(*ws, c.push({c.open_case("k1")})));
  EXPECT_EQ(r.results.at(0).outcome, Outcome::kAccepted);
  HandClient kasubag = o.client("kasubag");
  EXPECT_FALSE(enroll_over(server, kasubag).replica.empty());
}

TEST(ServerSocket, OtherClientIsNotifiedOfACommitWithoutPolling) {
  Office o;
  HandClient a = o.enrolled("sekre");
  HandClient b = o.enrolled("kasubag");
  LiveServer server(o);
  auto wa = server.connect();
  auto wb = server.connect();
  auto welcome_a = as<Welcome>(ask(*wa, a.hello_message(1)));
  auto welcome_b = as<Welcome>(ask(*wb, b.hello_message(1)));
  EXPECT_EQ(welcome_b.server_head, 1u);

  auto r = as<PushResult>(ask(*wa, a.push({a.open_case("kasus-live")})));
  ASSERT_EQ(r.results.at(0).outcome, Outcome::kAccepted);
  // b has sent nothing since Welcome.
  auto n = as<Notify>(receive(*wb));
  EXPECT_EQ(n.server_head, r.results[0].seq);
  EXPECT_EQ(n.server_head, 2u);
  // Then b pulls what it was told about.
  auto e = as<Entries>(ask(*wb, Pull{1, 0}));
  ASSERT_EQ(e.entries.size(), 1u);
  EXPECT_EQ(e.entries[0].change.record, "case/kasus-live");

  // A rejected push notifies nobody.
  auto rej = as<PushResult>(ask(*wb, b.push({b.complete("kasus-live", "1", disposition())})));
  EXPECT_EQ(rej.results.at(0).code, "wrong_role");
  // a got a Notify for its own commit (head 2) at most; nothing for the rejection.
  for (;;) {
    auto m = wa->receive(300ms);
    if (!m) break;
    EXPECT_EQ(as<Notify>(decode(*m)).server_head, 2u);
  }
  EXPECT_FALSE(wb->receive(100ms).has_value());
  (void)welcome_a;
  wa->close();
  wb->close();
}

// Regression (fixed; this test pinned it): PROTOCOL.md §4: "the server answers Enrolled — ... — and
// closes." SyncService::enroll only marks the session `closing` (sync_service.cpp enroll():
// `s.closing = true`), and on_message closes the connection only after a fatal ErrorMsg, so an
// enrolment connection stays open (ignoring everything) until the idle timeout (60 s by default):
// one lingering TLS connection per enrolment, and a client that waits for the close hangs.
TEST(ServerSocketRegression, EnrolmentConnectionIsClosedByTheServer) {
  Office o;
  LiveServer server(o);
  HandClient c = o.client("sekre");
  auto ws = server.connect();
  auto e = as<Enrolled>(ask(*ws, c.enroll_message()));
  EXPECT_FALSE(e.replica.empty());
  std::string end = error_code_of([&] {
    if (!ws->receive(2s)) throw Error("timeout", "still open 2 s after Enrolled");
  });
  EXPECT_EQ(end, "closed");
}

}  // namespace
}  // namespace alur::server::testing
