// alur verify: a replica that is whole checks out; one whose file was tampered with — a
// committed entry deleted or edited, a case's stored state changed, one of the official's
// own changes altered — is reported, naming the first problem, and nothing is changed.
#include <gtest/gtest.h>

#include "client_harness.h"

namespace alur::client::testing {
namespace {

class ReplicaVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    Api& sek = office.enroll("sekretaris");
    id = sek.case_open("LAKIP", "2026-Q3")["case"];
    sek.act(task(id, "1"), "Laksanakan rapat koordinasi.", std::nullopt);
    sek.sync();
    sek.disposition_set(task(id, "1"), "Belum terkirim.");  // one change still in the outbox
  }
  Api& sek() { return office["sekretaris"]; }
  void exec(const std::string& sql) { sek().replica().db().exec(sql); }
  std::string first_problem() {
    json r = sek().verify();
    EXPECT_FALSE(r["ok"].get<bool>());
    return r["problems"].empty() ? "" : r["problems"][0].get<std::string>();
  }

  Office office;
  std::string id;
};

TEST_F(ReplicaVerify, AWholeReplicaChecksOut) {
  json r = sek().verify();
  EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
  EXPECT_EQ(r["entries"].get<int>(), 3);  // org, the open, step 1
}

TEST_F(ReplicaVerify, ADeletedLogEntryIsReported) {
  exec("DELETE FROM log WHERE seq = 2");
  EXPECT_NE(first_problem().find("log melompat dari #1 ke #3"), std::string::npos);
}

TEST_F(ReplicaVerify, NothingIsChangedByAVerifyThatFindsDamage) {
  exec("UPDATE log SET committed_at = committed_at + 1 WHERE seq = 3");
  const auto before = sek().replica().db().integrity_check();
  json first = sek().verify();
  json again = sek().verify();
  EXPECT_EQ(first, again);
  EXPECT_EQ(sek().replica().count_pending(), 1u);  // the unsent change is still there
  EXPECT_EQ(before, "ok");
}

TEST(ReplicaVerifyNoReplica, AFolderWithoutAReplicaSaysSo) {
  alur::testing::TempDir dir;
  Api api(dir.sub("kosong"));
  EXPECT_EQ(error_code_of([&] { api.verify(); }), "not_enrolled");
}

TEST_F(ReplicaVerify, AnEditedLogEntryBreaksTheChain) {
  exec("UPDATE log SET committed_at = committed_at + 1 WHERE seq = 3");
  EXPECT_NE(first_problem().find("rantai hash log putus pada #3"), std::string::npos);
}

TEST_F(ReplicaVerify, AStoredCaseThatDiffersFromTheLogIsReported) {
  exec("UPDATE cases SET body = replace(body, 'Laksanakan', 'Batalkan')");
  EXPECT_NE(first_problem().find("kasus " + id), std::string::npos);
}

TEST_F(ReplicaVerify, AnAlteredOwnChangeInTheOutboxIsReported) {
  exec(
      "UPDATE outbox SET encoded = (SELECT encoded FROM outbox ORDER BY counter LIMIT 1) WHERE "
      "counter = (SELECT MAX(counter) FROM outbox)");
  EXPECT_FALSE(first_problem().empty());
}

}  // namespace
}  // namespace alur::client::testing
