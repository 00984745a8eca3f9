// The PostgreSQL store's connection to the database, against the test cluster: a commit is
// announced to listening nodes (NOTIFY) only when it commits and once per transaction; a
// lost connection (pg_terminate_backend) is made again without a half-written transaction.
// PostgreSQL only: the suite is instantiated as Stores/…/PostgreSQL like the others.
#include <chrono>
#include <thread>

#include "harness.h"

namespace alur::server::testing {
namespace {

class PgConnection : public StoreTest {
 protected:
  void SetUp() override { store_ = std::make_unique<PgStore>(schema_.url()); }

  // A change to append to the log (the log takes any change; validation is not tested here).
  static sync::Change change(std::uint64_t counter) {
    sync::Change c;
    c.record = "case/c" + std::to_string(counter);
    c.op = sync::op::kCaseOpen;
    c.dot = {"aaaaaaaaaaaaaaaa", counter};
    c.author = "sekre";
    c.body = "{}";
    return c;
  }
  void append(std::uint64_t counter) {
    auto c = change(counter);
    store_->append_log(EncodedChange(c), 1);
  }

  // Ends the store's session from another connection, as an administrator or a restart
  // would; the store finds out only when it next uses the connection.
  void terminate_store_session() {
    const auto pid = store_->connection().query("SELECT pg_backend_pid()").int64(0, 0);
    pg::Connection admin(schema_.url());
    ASSERT_EQ(admin.query("SELECT pg_terminate_backend($1::int)", {pid}).text(0, 0), "t");
    // pg_terminate_backend only signals: wait until the session has really ended.
    for (int i = 0; i < 250; ++i) {
      if (admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", {pid}).empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "the store's session did not end";
  }

  std::uint64_t head_seen_elsewhere() {
    pg::Connection other(schema_.url());
    return static_cast<std::uint64_t>(other.query("SELECT seq FROM log_head").int64(0, 0));
  }

  PgTestSchema schema_;
  std::unique_ptr<PgStore> store_;
};
INSTANTIATE_TEST_SUITE_P(Stores, PgConnection, ::testing::Values(StoreKind::kPostgres),
                         [](const ::testing::TestParamInfo<StoreKind>& i) {
                           return store_name(i.param);
                         });

// Waits a moment for notifications of this schema; returns how many arrived.
std::size_t notifications(pg::Connection& listener, const std::string& schema,
                          std::chrono::milliseconds wait) {
  std::size_t n = 0;
  const auto end = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < end) {
    n += listener.take_notifications(schema);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return n;
}

TEST_P(PgConnection, ACommitIsAnnouncedOnlyWhenItCommitsAndOncePerTransaction) {
  pg::Connection listener(schema_.url());
  listener.exec(std::string("LISTEN ") + PgStore::kCommitChannel);
  const std::string schema = listener.query("SELECT current_schema()").text(0, 0);
  ASSERT_FALSE(schema.empty());
  const auto settle = std::chrono::milliseconds(300);

  {  // three appends, rolled back: nothing is announced
    auto tx = store_->begin();
    append(1);
    append(2);
    append(3);
  }
  EXPECT_EQ(notifications(listener, schema, settle), 0u);
  EXPECT_EQ(store_->head(), 0u);

  {  // a write that appends nothing: nothing to announce
    auto tx = store_->begin();
    store_->set_meta("x", "y");
    tx->commit();
  }
  EXPECT_EQ(notifications(listener, schema, settle), 0u);

  {  // three appends, committed: one notification
    auto tx = store_->begin();
    append(1);
    append(2);
    append(3);
    tx->commit();
  }
  EXPECT_EQ(notifications(listener, schema, settle), 1u);
  EXPECT_EQ(store_->head(), 3u);
}

TEST_P(PgConnection, AReadAfterTheSessionWasTerminatedReconnectsAndSucceeds) {
  {
    auto tx = store_->begin();
    append(1);
    tx->commit();
  }
  terminate_store_session();
  EXPECT_EQ(store_->head(), 1u);  // a read that finds the connection lost runs again
  EXPECT_EQ(store_->connection().reconnects(), 1u);
  terminate_store_session();
  {  // so does the BEGIN of a write transaction
    auto tx = store_->begin();
    append(2);
    tx->commit();
  }
  EXPECT_EQ(store_->connection().reconnects(), 2u);
  EXPECT_EQ(head_seen_elsewhere(), 2u);
}

TEST_P(PgConnection, ATransactionWhoseConnectionIsLostCommitsNothingAndTheNextOneWorks) {
  {
    auto tx = store_->begin();
    append(1);
    tx->commit();
  }
  try {
    auto tx = store_->begin();
    append(2);
    terminate_store_session();
    append(3);  // the session is gone: this statement fails, and nothing runs after it
    tx->commit();
    FAIL() << "a transaction went on after its connection was lost";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "db_unavailable") << e.what();
  }
  EXPECT_EQ(head_seen_elsewhere(), 1u) << "nothing of the cut transaction is committed";
  {  // the next transaction makes the connection again before its BEGIN
    auto tx = store_->begin();
    append(2);
    tx->commit();
  }
  EXPECT_EQ(head_seen_elsewhere(), 2u);
  EXPECT_EQ(store_->head(), 2u);
  EXPECT_GE(store_->connection().reconnects(), 1u);
}

}  // namespace
}  // namespace alur::server::testing
