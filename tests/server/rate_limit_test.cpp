// Password guessing is slowed down per username and per address (server/rate_limit.h).
#include <gtest/gtest.h>

#include "alur/server/rate_limit.h"
#include "harness.h"

namespace alur::server::testing {
namespace {

TEST(GuessLimiter, FreeAttemptsThenADelayThatDoublesUpToACap) {
  FakeClock clock;
  GuessLimiter g(clock, GuessLimits{.free_attempts = 3, .first_delay_ms = 1000,
                                    .max_delay_ms = 5000, .max_keys = 10});
  for (int i = 0; i < 3; ++i) g.failed("a");
  EXPECT_EQ(g.wait_ms("a"), 0);  // three free failures
  g.failed("a");
  EXPECT_EQ(g.wait_ms("a"), 1000);
  g.failed("a");
  EXPECT_EQ(g.wait_ms("a"), 2000);
  g.failed("a");
  g.failed("a");
  EXPECT_EQ(g.wait_ms("a"), 5000);  // 8000 capped
  clock.advance(4000);
  EXPECT_EQ(g.wait_ms("a"), 1000);
  EXPECT_EQ(g.wait_ms("b"), 0);  // keys are apart
  g.succeeded("a");
  EXPECT_EQ(g.wait_ms("a"), 0);
}

TEST(GuessLimiter, RemembersABoundedNumberOfKeysForgettingTheOldestFirst) {
  FakeClock clock;
  GuessLimiter g(clock, GuessLimits{.free_attempts = 0, .first_delay_ms = 1000,
                                    .max_delay_ms = 1000, .max_keys = 3});
  for (const char* k : {"a", "b", "c"}) g.failed(k);
  g.failed("a");  // a is now the most recent
  g.failed("d");  // forgets b, the oldest
  EXPECT_EQ(g.size(), 3u);
  EXPECT_EQ(g.wait_ms("b"), 0);
  EXPECT_GT(g.wait_ms("a"), 0);
  EXPECT_GT(g.wait_ms("c"), 0);
  EXPECT_GT(g.wait_ms("d"), 0);
}

sync::Enroll enroll_as(const std::string& user, const std::string& password) {
  sync::Enroll e;
  e.username = user;
  e.password = password;
  e.device_key = crypto::Ed25519Key::generate().public_raw();
  e.device_name = "uji";
  return e;
}

std::string code_of(const Message& m) {
  if (auto* e = std::get_if<sync::ErrorMsg>(&m)) return e->code;
  return sync::message_name(m);
}

TEST(PasswordGuessing, AUserIsHeldAfterFiveWrongPasswordsEvenWithTheRightOneThenLetIn) {
  Office o;
  auto attempt = [&](const std::string& pw, const std::string& peer = "10.1.1.1:5000") {
    SyncService::Session s;
    auto r = o.service.handle(s, enroll_as("kasubag", pw), peer);
    return code_of(r.front());
  };
  for (int i = 0; i < 5; ++i) EXPECT_EQ(attempt("tebakan-" + std::to_string(i)), "bad_credentials");
  EXPECT_EQ(attempt("tebakan-5"), "bad_credentials");  // the sixth failure starts the wait
  EXPECT_EQ(attempt(password_of("kasubag")), "rate_limited");
  EXPECT_EQ(attempt(password_of("kasubag"), "10.9.9.9:1"), "rate_limited")
      << "the user's count follows the user to another address";
  // Another official at the same address is not held.
  SyncService::Session s;
  EXPECT_EQ(code_of(o.service.handle(s, enroll_as("sekre", password_of("sekre")),
                                     "10.1.1.1:5001")
                        .front()),
            "Enrolled");
  o.clock.advance(30'000);
  EXPECT_EQ(attempt(password_of("kasubag")), "Enrolled");
}

TEST(PasswordGuessing, AnAddressGuessingAcrossManyUsersIsHeldOtherAddressesAreNot) {
  Office o;
  // 21 wrong passwords spread over six officials: none of them reaches the user limit.
  const char* users[] = {"kadis", "sekre", "kabid_kop", "kabid_ukm", "kasubag", "pelaksana"};
  for (int i = 0; i < 21; ++i) {
    SyncService::Session s;
    auto r = o.service.handle(s, enroll_as(users[i % 6], "salah"), "10.2.2.2:40");
    EXPECT_EQ(code_of(r.front()), "bad_credentials") << i;
  }
  SyncService::Session s1, s2;
  EXPECT_EQ(code_of(o.service.handle(s1, enroll_as("kadis", password_of("kadis")), "10.2.2.2:41")
                        .front()),
            "rate_limited");
  EXPECT_EQ(code_of(o.service.handle(s2, enroll_as("kadis", password_of("kadis")), "10.3.3.3:41")
                        .front()),
            "Enrolled");
}

}  // namespace
}  // namespace alur::server::testing
