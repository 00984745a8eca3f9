// The units of one server run side by side: PostedHandler hands each unit's calls to its
// own strand of a worker pool, as serve does (server/src/main.cpp).
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "alur/server/units.h"

namespace alur::server {
namespace {

struct FakeConnection final : net::Connection {
  explicit FakeConnection(std::uint64_t id) : id_(id) {}
  void send(std::shared_ptr<const std::string>) override {}
  void close(const std::string& reason) override {
    std::lock_guard lock(mu);
    closed.push_back(reason);
  }
  std::string remote_address() const override { return "127.0.0.1:1"; }
  std::uint64_t id() const override { return id_; }
  std::uint64_t id_;
  std::mutex mu;
  std::vector<std::string> closed;
};

// Records every call it gets; on_message runs `during` first.
struct Recorder final : net::Handler {
  void on_open(const std::shared_ptr<net::Connection>& c) override {
    add("open " + std::to_string(c->id()));
  }
  void on_message(const std::shared_ptr<net::Connection>&, std::string m) override {
    if (during) during();
    add(m);
  }
  void on_close(const std::shared_ptr<net::Connection>& c, const std::string& why) override {
    add("close " + std::to_string(c->id()) + " " + why);
  }
  void add(std::string s) {
    std::lock_guard lock(mu);
    calls.push_back(std::move(s));
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu);
    return calls;
  }
  std::function<void()> during;
  std::mutex mu;
  std::vector<std::string> calls;
};

PostedHandler::Post on_strand(boost::asio::thread_pool& pool) {
  return [strand = boost::asio::make_strand(pool)](std::function<void()> f) {
    boost::asio::post(strand, std::move(f));
  };
}

TEST(PostedHandler, KeepsAUnitsCallsInTheirOrder) {
  boost::asio::thread_pool pool(2);
  Recorder unit;
  PostedHandler h(unit, on_strand(pool));
  auto conn = std::make_shared<FakeConnection>(7);
  std::vector<std::string> expected{"open 7"};
  h.on_open(conn);
  for (int i = 0; i < 2000; ++i) {
    expected.push_back("m" + std::to_string(i));
    h.on_message(conn, expected.back());
  }
  h.on_close(conn, "selesai");
  expected.push_back("close 7 selesai");
  pool.join();
  EXPECT_EQ(unit.seen(), expected);
}

// A unit whose commit waits (a slow disk) does not hold up another unit's messages.
TEST(PostedHandler, ABusyUnitDoesNotHoldUpAnother) {
  boost::asio::thread_pool pool(2);
  Recorder busy, other;
  std::promise<void> other_done;
  auto other_ran = other_done.get_future();
  std::future_status waited = std::future_status::deferred;
  busy.during = [&] { waited = other_ran.wait_for(std::chrono::seconds(20)); };
  other.during = [&] { other_done.set_value(); };
  PostedHandler a(busy, on_strand(pool)), b(other, on_strand(pool));
  auto ca = std::make_shared<FakeConnection>(1), cb = std::make_shared<FakeConnection>(2);
  a.on_message(ca, "push a");
  b.on_message(cb, "push b");
  pool.join();
  EXPECT_EQ(waited, std::future_status::ready) << "unit b waited for unit a";
  EXPECT_EQ(busy.seen(), std::vector<std::string>{"push a"});
  EXPECT_EQ(other.seen(), std::vector<std::string>{"push b"});
}

// A unit whose store fails inside a call (here: throws) must not end the server: the call
// is logged and its connection closed, and the unit's next calls still run.
TEST(PostedHandler, ACallThatThrowsIsLoggedAndClosesItsConnection) {
  boost::asio::thread_pool pool(2);
  Recorder unit;
  bool first = true;
  unit.during = [&] {
    if (std::exchange(first, false)) throw std::runtime_error("PostgreSQL terputus");
  };
  std::vector<std::string> log;
  PostedHandler h(unit, on_strand(pool), [&](const std::string& line) { log.push_back(line); });
  auto conn = std::make_shared<FakeConnection>(3);
  h.on_message(conn, "push 1");
  h.on_message(conn, "push 2");
  pool.join();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("PostgreSQL terputus"), std::string::npos) << log[0];
  EXPECT_EQ(conn->closed, std::vector<std::string>{"kesalahan internal server"});
  EXPECT_EQ(unit.seen(), std::vector<std::string>{"push 2"});
}

}  // namespace
}  // namespace alur::server
