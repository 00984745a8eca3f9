// Enrolment and session authentication at the SyncService::handle level (no sockets).
#include "harness.h"

namespace alur::server::testing {
namespace {

class ServerEnroll : public StoreTest {};
ALUR_ON_BOTH_STORES(ServerEnroll);
class ServerHello : public StoreTest {};
ALUR_ON_BOTH_STORES(ServerHello);

using namespace alur::sync;

TEST_P(ServerEnroll, WrongPasswordIsBadCredentialsAndFatal) {
  Office o(store());
  HandClient c(o.client("sekre").username, o.clock, "salah-sandi");
  SyncService::Session s;
  auto e = as<ErrorMsg>(o.one(s, c.enroll_message()));
  EXPECT_EQ(e.code, "bad_credentials");
  EXPECT_TRUE(e.fatal);
  EXPECT_TRUE(o.db.devices().empty());
}

TEST_P(ServerEnroll, UnknownUserGetsTheSameAnswerAsAWrongPassword) {
  Office o(store());
  HandClient wrong_pw("sekre", o.clock, "salah-sandi");
  HandClient unknown("tidak_ada", o.clock, "apa-saja");
  SyncService::Session s1, s2;
  auto a = as<ErrorMsg>(o.one(s1, wrong_pw.enroll_message()));
  auto b = as<ErrorMsg>(o.one(s2, unknown.enroll_message()));
  EXPECT_EQ(b.code, "bad_credentials");
  EXPECT_TRUE(b.fatal);
  // Nothing tells a guesser which usernames exist.
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.message, b.message);
  EXPECT_TRUE(o.db.devices().empty());
}

TEST_P(ServerEnroll, InactivePersonCannotEnrolEvenWithTheRightPassword) {
  Office o(store());
  HandClient c = o.client("pensiun");
  SyncService::Session s;
  EXPECT_EQ(as<ErrorMsg>(o.one(s, c.enroll_message())).code, "bad_credentials");
}

TEST_P(ServerEnroll, RightPasswordGivesReplicaAndToken) {
  Office o(store());
  HandClient c = o.client("kabid_kop");
  SyncService::Session s;
  auto e = as<Enrolled>(o.one(s, c.enroll_message()));
  EXPECT_FALSE(e.replica.empty());
  EXPECT_GE(e.token.size(), 32u);
  EXPECT_EQ(e.username, "kabid_kop");
  EXPECT_EQ(e.name, "Kabid Koperasi");
  EXPECT_EQ(e.unit, test_org().unit);
  auto d = o.db.device(e.replica);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->username, "kabid_kop");
  EXPECT_EQ(d->device_key, c.key.public_raw());
  EXPECT_EQ(d->last_counter, 0u);
  // The token itself is never stored, only its hash.
  EXPECT_EQ(o.db.token_hash(e.replica), crypto::sha256(e.token));
  // An enrolment session ends with the enrolment: it does not authenticate a sync session.
  EXPECT_TRUE(s.replica.empty());

  // Two enrolments of the same person are two devices.
  HandClient c2 = o.client("kabid_kop");
  SyncService::Session s2;
  auto e2 = as<Enrolled>(o.one(s2, c2.enroll_message()));
  EXPECT_NE(e2.replica, e.replica);
  EXPECT_NE(e2.token, e.token);
}

TEST_P(ServerEnroll, BadDeviceKeyIsRefused) {
  Office o(store());
  HandClient c = o.client("sekre");
  auto m = c.enroll_message();
  m.device_key = "short";
  SyncService::Session s;
  EXPECT_EQ(as<ErrorMsg>(o.one(s, m)).code, "bad_device_key");
  EXPECT_TRUE(o.db.devices().empty());
}

TEST_P(ServerEnroll, OtherProtocolVersionIsRefused) {
  Office o(store());
  HandClient c = o.client("sekre");
  auto m = c.enroll_message();
  m.protocol = 99;
  SyncService::Session s;
  EXPECT_EQ(as<ErrorMsg>(o.one(s, m)).code, "protocol_version");
}

TEST_P(ServerHello, RightTokenIsWelcomed) {
  Office o(store());
  HandClient c = o.client("sekre");
  SyncService::Session es;
  c.adopt(as<Enrolled>(o.one(es, c.enroll_message())));
  auto w = as<Welcome>(o.one(c, c.hello_message()));
  EXPECT_EQ(w.server_head, 1u);  // the org import
  EXPECT_EQ(w.highest_counter, 0u);
  EXPECT_EQ(w.last_hash, "");
  EXPECT_EQ(w.username, "sekre");
  EXPECT_EQ(w.server_time, o.clock.now_ms());
  EXPECT_EQ(c.session.replica, c.replica);
  EXPECT_EQ(c.session.username, "sekre");
}

TEST_P(ServerHello, WrongTokenIsBadToken) {
  Office o(store());
  HandClient c = o.enrolled("sekre");
  auto h = c.hello_message();
  h.token[0] = h.token[0] == 'a' ? 'b' : 'a';
  SyncService::Session s;
  auto e = as<ErrorMsg>(o.one(s, h));
  EXPECT_EQ(e.code, "bad_token");
  EXPECT_TRUE(e.fatal);
  EXPECT_TRUE(s.replica.empty());

  // Another device's token does not open this replica either.
  HandClient other = o.enrolled("kasubag");
  h = c.hello_message();
  h.token = other.token;
  SyncService::Session s2;
  EXPECT_EQ(as<ErrorMsg>(o.one(s2, h)).code, "bad_token");

  // An unknown replica id: the same answer.
  h = c.hello_message();
  h.replica = "0000000000000000";
  SyncService::Session s3;
  EXPECT_EQ(as<ErrorMsg>(o.one(s3, h)).code, "bad_token");
}

TEST_P(ServerHello, RevokedDeviceIsRefused) {
  Office o(store());
  HandClient c = o.enrolled("sekre");
  o.db.revoke_device(c.replica, o.clock.now_ms());
  SyncService::Session s;
  auto e = as<ErrorMsg>(o.one(s, c.hello_message()));
  EXPECT_EQ(e.code, "device_revoked");
  EXPECT_TRUE(e.fatal);
  EXPECT_TRUE(s.replica.empty());
}

TEST_P(ServerHello, RevocationEndsAnOpenSessionAtItsNextMessage) {
  Office o(store());
  HandClient c = o.enrolled("sekre");
  o.db.revoke_device(c.replica, o.clock.now_ms());
  auto before = o.db.head();
  auto e = as<ErrorMsg>(o.one(c, c.push({c.open_case("c1")})));
  EXPECT_EQ(e.code, "device_revoked");
  EXPECT_TRUE(e.fatal);
  EXPECT_EQ(o.db.head(), before);
  EXPECT_FALSE(o.change_row(c.replica, 1).has_value());
  EXPECT_EQ(as<ErrorMsg>(o.one(c, Pull{0, 10})).code, "device_revoked");
}

TEST_P(ServerHello, AnyMessageBeforeHelloIsUnexpected) {
  Office o(store());
  HandClient c = o.enrolled("sekre");
  std::vector<Message> before_hello = {
      c.push({c.next("case/x", op::kCaseOpen,
                     {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q3"}})}),
      Pull{0, 10},
      BlobQuery{crypto::sha256("x"), 1},
      BlobChunk{crypto::sha256("x"), 0, 1, "x"},
      BlobGet{crypto::sha256("x"), 0},
      Notify{5},
      Welcome{},
      ErrorMsg{"x", "y", false},
  };
  auto head = o.db.head();
  for (const auto& m : before_hello) {
    SyncService::Session s;
    auto e = as<ErrorMsg>(o.one(s, m));
    EXPECT_EQ(e.code, "unexpected") << message_name(m);
    EXPECT_TRUE(e.fatal) << message_name(m);
    EXPECT_TRUE(s.replica.empty());
  }
  EXPECT_EQ(o.db.head(), head);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM blobs") + o.count("SELECT COUNT(*) FROM blob_uploads"),
            0);
}

TEST_P(ServerHello, SecondHelloInASessionIsUnexpected) {
  Office o(store());
  HandClient c = o.enrolled("sekre");
  EXPECT_EQ(as<ErrorMsg>(o.one(c, c.hello_message())).code, "unexpected");
}

TEST_P(ServerHello, WelcomeReportsTheChainHeadTheServerHas) {
  Office o(store());
  HandClient c = o.enrolled("sekre");
  auto a = c.open_case("c1");
  auto b = c.complete("c1", "1", disposition());
  o.push(c, {a, b});
  auto w = o.hello(c, 0);
  EXPECT_EQ(w.highest_counter, 2u);
  EXPECT_EQ(w.last_hash, b.hash());
  EXPECT_EQ(w.server_head, 3u);
}

}  // namespace
}  // namespace alur::server::testing
