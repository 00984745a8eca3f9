// alur-server verify: the record checks out whole, and every kind of tampering with the
// database (SQLite file or PostgreSQL) — an entry edited, deleted or moved, a change's
// content altered, a device's chain cut, a case's stored state changed — is caught and named.
#include "alur/server/verify.h"

#include <gtest/gtest.h>

#include "harness.h"

namespace alur::server::testing {
namespace {

class Verify : public StoreTest {
 protected:
  void SetUp() override {
    auto sekre = o.enrolled("sekre");
    auto kabid = o.enrolled("kabid_kop");
    expect_all_accepted(o.push(
        sekre, {sekre.open_case("c1", "2026-Q2"), sekre.complete("c1", "1", disposition())}));
    expect_all_accepted(o.push(kabid, {kabid.complete("c1", "2.koperasi", disposition())}));
    // A rejected change is part of the record too.
    EXPECT_EQ(o.push1(kabid, kabid.complete("c1", "2.ukm", disposition())).outcome,
              sync::Outcome::kRejected);
    expect_all_accepted(o.push(sekre, {sekre.open_case("c2", "2026-Q3")}));
  }
  VerifyReport verify() { return verify_server(o.db, TemplateRegistry::builtin()); }
  void exec(const std::string& sql) { o.exec(sql); }
  // The first problem, which must exist.
  std::string first() {
    auto r = verify();
    EXPECT_FALSE(r.ok());
    return r.problems.empty() ? "" : r.problems.front();
  }

  Office o{store()};
};
ALUR_ON_BOTH_STORES(Verify);

TEST_P(Verify, AnUntouchedRecordChecksOut) {
  auto r = verify();
  EXPECT_TRUE(r.ok()) << r.problems.front();
  EXPECT_EQ(r.entries, 5u);  // org.set, two opens, steps 1 and 2.koperasi
  EXPECT_EQ(r.changes, 6u);  // ... and the rejected 2.ukm
  EXPECT_EQ(r.cases, 2u);
}

TEST_P(Verify, AnEditedLogEntryBreaksTheChainThere) {
  exec("UPDATE log SET committed_at = committed_at + 1 WHERE seq = 3");
  EXPECT_NE(first().find("log #3"), std::string::npos);
}

TEST_P(Verify, ADeletedLogEntryIsMissing) {
  exec("DELETE FROM log WHERE seq = 2");
  EXPECT_NE(first().find("log #2 is missing"), std::string::npos);
}

TEST_P(Verify, TwoLogEntriesSwappedBreakTheChain) {
  exec(
      "UPDATE log SET encoded = (SELECT encoded FROM log WHERE seq = 5), log_hash = (SELECT "
      "log_hash FROM log WHERE seq = 5), replica = (SELECT replica FROM log WHERE seq = 5), "
      "counter = (SELECT counter FROM log WHERE seq = 5) WHERE seq = 4");
  EXPECT_NE(first().find("log #4"), std::string::npos);
}

TEST_P(Verify, AChangeWhoseContentWasAlteredIsCaught) {
  // Put another change's bytes in place of the first one's: its stored hash no longer
  // matches (the other change is picked by a different hash, whatever the random ids).
  exec(
      "UPDATE changes SET encoded = (SELECT encoded FROM changes WHERE hash != (SELECT hash FROM "
      "changes ORDER BY replica, counter LIMIT 1) LIMIT 1) WHERE (replica, counter) = (SELECT "
      "replica, counter FROM changes ORDER BY replica, counter LIMIT 1)");
  EXPECT_NE(first().find("does not match its hash"), std::string::npos);
}

TEST_P(Verify, ADeletedChangeCutsTheDevicesChain) {
  exec("DELETE FROM changes WHERE status = 'rejected'");  // the one rejected change
  auto r = verify();
  ASSERT_FALSE(r.ok());
  bool named = false;
  for (const auto& p : r.problems) named = named || p.find("chain") != std::string::npos;
  EXPECT_TRUE(named) << r.problems.front();
}

TEST_P(Verify, AStoredCaseThatDiffersFromItsLogIsCaught) {
  exec("UPDATE cases SET body = replace(body, 'Laksanakan', 'Batalkan') WHERE id = 'c1'");
  EXPECT_NE(first().find("case c1 differs"), std::string::npos);
}

TEST_P(Verify, AnAcceptedChangeMissingFromTheLogIsCaught) {
  exec("UPDATE changes SET status = 'accepted', seq = 99 WHERE status = 'rejected'");
  EXPECT_NE(first().find("marked accepted at #99"), std::string::npos);
}

}  // namespace
}  // namespace alur::server::testing
