// alur-server verify: the record checks out whole, and every kind of tampering with the
// database (SQLite file or PostgreSQL) — an entry edited, deleted or moved, a change's
// content altered, a device's chain cut, a case's stored state changed — is caught and named.
#include "alur/server/verify.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <string>

#include "harness.h"

namespace alur::server::testing {
namespace {

// A small day's record: two officials, five entries, and one rejected change.
void small_record(Office& o) {
  auto sekre = o.enrolled("sekre");
  auto kabid = o.enrolled("kabid_kop");
  expect_all_accepted(
      o.push(sekre, {sekre.open_case("c1", "2026-Q2"), sekre.complete("c1", "1", disposition())}));
  expect_all_accepted(o.push(kabid, {kabid.complete("c1", "2.koperasi", disposition())}));
  // A rejected change is part of the record too.
  EXPECT_EQ(o.push1(kabid, kabid.complete("c1", "2.ukm", disposition())).outcome,
            sync::Outcome::kRejected);
  expect_all_accepted(o.push(sekre, {sekre.open_case("c2", "2026-Q3")}));
}

// Takes the record back to schema version 2, where `changes.encoded` held every change's
// bytes (NOT NULL). Spelled out here, not taken from the migration under test.
void to_schema_version_2(Office& o) {
  if (o.kind() == StoreKind::kSqlite)
    o.exec(
        "CREATE TABLE changes_v2 (replica TEXT NOT NULL, counter INTEGER NOT NULL, hash BLOB NOT "
        "NULL, op TEXT NOT NULL, record TEXT NOT NULL, author TEXT NOT NULL, encoded BLOB NOT "
        "NULL, status TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, seq INTEGER, "
        "received_at INTEGER NOT NULL, PRIMARY KEY (replica, counter));"
        "INSERT INTO changes_v2 SELECT c.replica, c.counter, c.hash, c.op, c.record, c.author, "
        "COALESCE(c.encoded, l.encoded), c.status, c.code, c.message, c.seq, c.received_at FROM "
        "changes c LEFT JOIN log l ON l.seq = c.seq;"
        "DROP TABLE changes; ALTER TABLE changes_v2 RENAME TO changes;"
        "UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  else
    o.exec(
        "ALTER TABLE changes DROP CONSTRAINT changes_encoded_once;"
        "UPDATE changes c SET encoded = l.encoded FROM log l WHERE l.seq = c.seq;"
        "ALTER TABLE changes ALTER COLUMN encoded SET NOT NULL;"
        "UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  ASSERT_EQ(o.count("SELECT COUNT(*) FROM changes WHERE encoded IS NOT NULL"), 6);
}

class Verify : public StoreTest {
 protected:
  void SetUp() override { small_record(o); }
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
  // The rejected change keeps its own bytes (it is in no log); put the org.set's in their
  // place: its stored hash no longer matches.
  exec(
      "UPDATE changes SET encoded = (SELECT encoded FROM log WHERE seq = 1) WHERE status = "
      "'rejected'");
  EXPECT_NE(first().find("does not match its hash"), std::string::npos);
}

TEST_P(Verify, AnAcceptedChangesContentIsItsLogEntrys) {
  // An accepted change's bytes are stored once, in the log; altering them there is caught
  // twice: the log's chain breaks, and the change no longer matches the hash received.
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes WHERE encoded IS NOT NULL"), 1);
  exec(
      "UPDATE log SET encoded = (SELECT encoded FROM changes WHERE status = 'rejected') WHERE "
      "seq = 3");
  auto r = verify();
  ASSERT_FALSE(r.ok());
  bool chain = false, hash = false;
  for (const auto& p : r.problems) {
    chain = chain || p.find("log #3") != std::string::npos;
    hash = hash || p.find("does not match its hash") != std::string::npos;
  }
  EXPECT_TRUE(chain && hash) << r.problems.front();
}

// A record of schema version 2, where `changes.encoded` held every change's bytes, is
// migrated when the store is opened: the accepted changes give up their copy, the rejected
// one keeps its own, and the record still checks out.
TEST_P(Verify, ARecordOfSchemaVersion2IsMigrated) {
  to_schema_version_2(o);

  auto migrated = o.open_again();
  EXPECT_EQ(o.count("SELECT value FROM meta WHERE key = 'schema_version'"), 3);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes"), 6);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes WHERE encoded IS NOT NULL AND status = "
                    "'rejected'"),
            1);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes WHERE encoded IS NOT NULL"), 1);
  auto r = verify_server(*migrated, TemplateRegistry::builtin());
  EXPECT_TRUE(r.ok()) << r.problems.front();
  EXPECT_EQ(r.changes, 6u);
  // The table still refuses a second copy of an accepted change's bytes.
  EXPECT_ANY_THROW(
      exec("UPDATE changes SET encoded = (SELECT encoded FROM changes WHERE status = 'rejected') "
           "WHERE status = 'accepted'"));
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
  exec(
      "UPDATE changes SET status = 'accepted', seq = 99, encoded = NULL WHERE status = "
      "'rejected'");
  EXPECT_NE(first().find("marked accepted at #99"), std::string::npos);
}

// SQLite only: a full disk is made with SQLite's page limit, which the test imposes on every
// connection opened in this process (an auto extension), since the store opens its own.
std::atomic<std::int64_t> g_page_limit{0};
int limit_pages(sqlite3* db, char**, const sqlite3_api_routines*) {
  if (std::int64_t n = g_page_limit.load())
    sqlite3_exec(db, ("PRAGMA max_page_count = " + std::to_string(n)).c_str(), nullptr, nullptr,
                 nullptr);
  return SQLITE_OK;
}

class MigrationOnAFullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    small_record(o);
    to_schema_version_2(o);
    o.exec("VACUUM");  // no free pages left: whatever the migration adds must grow the file
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(&limit_pages));
  }
  void TearDown() override {
    g_page_limit = 0;
    sqlite3_cancel_auto_extension(reinterpret_cast<void (*)()>(&limit_pages));
  }
  Office o{StoreKind::kSqlite};
};

TEST_F(MigrationOnAFullDisk, TheOldRecordStaysWholeAndMigratesOnceThereIsRoom) {
  // Version 3 rebuilds `changes` (server_db.cpp): its first new page does not fit.
  g_page_limit = o.count("PRAGMA page_count");
  EXPECT_EQ(error_code_of([&] { o.open_again(); }), "disk_full");

  // Still version 2, every change with its bytes, the file whole; the open connection of
  // the office (the running server before it was replaced) reads the same.
  g_page_limit = 0;
  EXPECT_EQ(o.count("SELECT value FROM meta WHERE key = 'schema_version'"), 2);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes WHERE encoded IS NOT NULL"), 6);
  EXPECT_EQ(o.sqlite().db().integrity_check(), "ok");

  // With room on the disk the next start migrates, and the record checks out.
  auto migrated = o.open_again();
  EXPECT_EQ(o.count("SELECT value FROM meta WHERE key = 'schema_version'"), 3);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes WHERE encoded IS NOT NULL"), 1);
  auto r = verify_server(*migrated, TemplateRegistry::builtin());
  EXPECT_TRUE(r.ok()) << r.problems.front();
  EXPECT_EQ(r.changes, 6u);
}

}  // namespace
}  // namespace alur::server::testing
