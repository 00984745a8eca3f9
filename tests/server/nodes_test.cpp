// Two server nodes on one database (two ServerStores, two SyncServices, two threads): the
// database alone decides between writers, so two completions of one task pushed at the
// same moment through different nodes are never both accepted, and the commit sequence
// stays gap-free. On SQLite the nodes are two processes' connections to one file; on
// PostgreSQL, two nodes of a deployment.
#include <thread>

#include "alur/server/verify.h"
#include "harness.h"

namespace alur::server::testing {
namespace {

class TwoNodes : public StoreTest {};
ALUR_ON_BOTH_STORES(TwoNodes);

using namespace alur::sync;

TEST_P(TwoNodes, RacingCompletionsOfOneTaskThroughTwoNodesExactlyOneWins) {
  Office o(store());
  auto second_store = o.open_again();
  SyncService node_b(*second_store, TemplateRegistry::builtin(), o.clock);

  HandClient pc = o.enrolled("sekre");  // syncs with node A (o.service)
  HandClient laptop = o.enrolled("sekre");
  laptop.session = {};
  auto welcome = node_b.handle(laptop.session, laptop.hello_message(), "127.0.0.1:40001");
  ASSERT_EQ(welcome.size(), 1u);
  as<Welcome>(welcome.front());

  constexpr int kRounds = 12;
  int a_won = 0, b_won = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string case_id = "race" + std::to_string(round);
    const std::string period = std::to_string(2030 + round) + "-Q1";
    ASSERT_EQ(o.push1(pc, pc.open_case(case_id, period)).outcome, Outcome::kAccepted);
    auto a = pc.complete(case_id, "1", disposition("Dari PC."));
    auto b = laptop.complete(case_id, "1", disposition("Dari laptop."));
    std::atomic<int> ready{0};
    auto start_together = [&] {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
    };
    std::vector<Message> ra, rb;
    std::thread ta([&] {
      start_together();
      ra = o.handle(pc.session, pc.push({a}));
    });
    std::thread tb([&] {
      start_together();
      rb = node_b.handle(laptop.session, laptop.push({b}), "127.0.0.1:40001");
    });
    ta.join();
    tb.join();
    ASSERT_EQ(ra.size(), 1u);
    ASSERT_EQ(rb.size(), 1u);
    const auto& x = as<PushResult>(ra.front()).results.at(0);
    const auto& y = as<PushResult>(rb.front()).results.at(0);
    ASSERT_NE(x.outcome == Outcome::kAccepted, y.outcome == Outcome::kAccepted)
        << "exactly one completion wins: " << x.code << " / " << y.code;
    const auto& loser = x.outcome == Outcome::kAccepted ? y : x;
    EXPECT_EQ(loser.code, "already_done");
    (x.outcome == Outcome::kAccepted ? a_won : b_won) += 1;
    auto c = o.case_state(case_id);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->task("1")->change, x.outcome == Outcome::kAccepted ? a.id() : b.id());
  }
  // Both nodes see one gap-free log; each node's own view of the head agrees.
  auto log = o.log();
  for (std::size_t i = 0; i < log.size(); ++i) ASSERT_EQ(log[i].seq, i + 1);
  EXPECT_EQ(o.db.head(), log.size());
  EXPECT_EQ(second_store->head(), log.size());
  // ...and one unbroken hash chain: each node linked its entries to the other's (a node
  // knows the log's last row only inside its own write transaction).
  auto report = verify_server(o.db, TemplateRegistry::builtin());
  EXPECT_TRUE(report.ok()) << report.problems.front();
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes WHERE status = 'accepted' AND op = "
                    "'task.complete'"),
            kRounds);
  RecordProperty("a_won", a_won);
  RecordProperty("b_won", b_won);
}

TEST_P(TwoNodes, ACommitThroughOneNodeIsPulledThroughTheOther) {
  Office o(store());
  auto second_store = o.open_again();
  SyncService node_b(*second_store, TemplateRegistry::builtin(), o.clock);
  HandClient sekre = o.enrolled("sekre");
  HandClient kadis = o.enrolled("kadis");
  kadis.session = {};
  as<Welcome>(node_b.handle(kadis.session, kadis.hello_message(), "127.0.0.1:40001").at(0));

  ASSERT_EQ(o.push1(sekre, sekre.open_case("antar-node")).outcome, Outcome::kAccepted);
  auto replies = node_b.handle(kadis.session, Pull{0, 100}, "127.0.0.1:40001");
  ASSERT_EQ(replies.size(), 1u);
  const auto& entries = as<Entries>(replies.front());
  ASSERT_FALSE(entries.entries.empty());
  EXPECT_EQ(entries.entries.back().change.record, "case/antar-node");
  EXPECT_EQ(entries.server_head, o.db.head());
}

}  // namespace
}  // namespace alur::server::testing
