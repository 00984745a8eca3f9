// Faults the server must survive without losing or half-writing anything: a full disk
// while committing a push batch, and clients whose clocks are days off.
#include <string>
#include <vector>

#include "alur/server/verify.h"
#include "harness.h"

namespace alur::server::testing {
namespace {

using namespace alur::sync;

constexpr const char* kCase = "c-robust";
constexpr Millis kDay = 24 * 3'600'000;

std::int64_t page_count(ServerDb& db) {
  sql::Statement s(db.db(), "PRAGMA page_count");
  s.step();
  return s.get_int(0);
}

// A batch that needs many new pages: step 1's disposition, then disposition rewrites, each
// with a 60 KiB text (stored in changes, in the log and in the case body).
std::vector<Change> big_batch(HandClient& sekre, int rewrites) {
  std::vector<Change> batch;
  std::string text(60 * 1024, 'a');
  batch.push_back(sekre.complete(kCase, "1", disposition(text)));
  for (int i = 0; i < rewrites; ++i) {
    text[0] = static_cast<char>('b' + i);
    batch.push_back(
        sekre.make("disp/" + std::string(kCase) + "/1", op::kDispositionSet, {{"text", text}}));
  }
  return batch;
}

// The server keeps the cases it last wrote parsed (ServerDb's ParsedCases), but what it
// reads is always what is stored: a case rewritten by another process (here a second
// connection to the same file) is read as rewritten, never as the server last wrote it.
TEST(ServerCases, ACaseRewrittenByAnotherProcessIsReadAsStored) {
  Office o;
  HandClient sekre = o.enrolled("sekre");
  ASSERT_EQ(o.push1(sekre, sekre.open_case(kCase)).outcome, Outcome::kAccepted);
  auto mine = o.sqlite().load_case(kCase);
  ASSERT_TRUE(mine);
  ASSERT_NE(mine->title, "Ditulis proses lain");
  CaseState theirs = *mine;
  theirs.title = "Ditulis proses lain";
  {
    sql::Database other((o.dir.path() / ServerDb::kFileName).string());
    other.cached("UPDATE cases SET body = ? WHERE id = ?")
        .bind_text(1, case_json_text(theirs))
        .bind_text(2, kCase)
        .exec();
  }
  EXPECT_EQ(o.sqlite().load_case(kCase)->title, "Ditulis proses lain");
}

// The disk fills up in the middle of a batch: the server refuses the batch whole with
// server_disk_full (not fatal: the session stays usable), commits none of it — not the
// changes that still fitted — and the very same Push succeeds once there is room.
TEST(ServerDiskFull, ABatchThatDoesNotFitIsRefusedWholeAndSucceedsLater) {
  Office o;
  std::vector<std::string> lines;
  o.service.set_logger([&](const std::string& l) { lines.push_back(l); });
  HandClient sekre = o.enrolled("sekre");
  ASSERT_EQ(o.push1(sekre, sekre.open_case(kCase)).outcome, Outcome::kAccepted);
  const auto head = o.db.head();
  const auto changes = o.count("SELECT COUNT(*) FROM changes");
  Push push = sekre.push(big_batch(sekre, 5));
  // Room for the first change or two, not for the whole batch (about 6 x 180 KiB).
  o.sqlite().db().set_max_page_count(page_count(o.sqlite()) + 80);

  Message reply = o.one(sekre, push);
  const auto* err = std::get_if<ErrorMsg>(&reply);
  ASSERT_NE(err, nullptr) << message_name(reply);
  EXPECT_EQ(err->code, "server_disk_full");
  EXPECT_FALSE(err->fatal);
  EXPECT_NE(err->message.find("tidak disimpan"), std::string::npos) << err->message;
  EXPECT_EQ(o.db.head(), head);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes"), changes);
  EXPECT_EQ(o.db.device(sekre.replica)->last_counter, 1u);
  EXPECT_EQ(o.task_state(kCase, "1"), "ready");
  // The session is still there: a pull on it is answered.
  EXPECT_EQ(as<Entries>(o.one(sekre, Pull{0, 0})).server_head, head);

  o.sqlite().db().set_max_page_count(1 << 30);  // space freed
  auto result = as<PushResult>(o.one(sekre, push));
  ASSERT_EQ(result.results.size(), 6u);
  expect_all_accepted(result);
  EXPECT_EQ(o.db.head(), head + 6);
  EXPECT_EQ(o.task_state(kCase, "1"), "done");
  // The retry's entries continue the hash chain from the last committed entry, not from
  // the rolled-back ones.
  auto report = verify_server(o.db, TemplateRegistry::builtin());
  EXPECT_TRUE(report.ok()) << report.problems.front();
}

// Group commit: one session's batch does not fit on the disk, another's small push arrived
// in the same round. The group's transaction fails whole; each push is then served alone,
// so the small one is committed and answered and only the batch is refused.
TEST(ServerDiskFull, WhenAGroupDoesNotFitEachPushIsServedAloneAndOnlyTheBigOneIsRefused) {
  Office o;
  Deferred deferred;
  deferred.attach(o.service);
  HandClient sekre = o.enrolled("sekre"), other = o.enrolled("sekre");
  ASSERT_EQ(o.push1(sekre, sekre.open_case(kCase)).outcome, Outcome::kAccepted);
  auto ws = connect(o, 1), wo = connect(o, 2);
  ws.send(sekre.hello_message(1));
  wo.send(other.hello_message(1));
  const auto head = o.db.head();
  ws.send(sekre.push(big_batch(sekre, 5)));
  wo.send(other.push({other.open_case("c-small", "2026-Q4")}));
  o.sqlite().db().set_max_page_count(page_count(o.sqlite()) + 80);
  deferred.run();

  const auto* err = std::get_if<ErrorMsg>(&ws.conn->sent.at(1));
  ASSERT_NE(err, nullptr) << message_name(ws.conn->sent.at(1));
  EXPECT_EQ(err->code, "server_disk_full");
  EXPECT_FALSE(err->fatal);
  expect_all_accepted(as<PushResult>(wo.conn->sent.at(1)));
  EXPECT_EQ(o.db.head(), head + 1);
  EXPECT_EQ(o.task_state(kCase, "1"), "ready");
  EXPECT_EQ(o.task_state("c-small", "1"), "ready");
}

// A client whose clock runs three days ahead: its changes are accepted in commit order,
// the time recorded is the commit time (a change cannot have been made after the server
// received it), the result carries a clock_ahead warning and the server logs one line.
TEST(ServerClockSkew, AClockDaysAheadIsBoundedByTheCommitTimeAndReported) {
  Office o;
  std::vector<std::string> lines;
  o.service.set_logger([&](const std::string& l) { lines.push_back(l); });
  FakeClock ahead(o.clock.now_ms() + 3 * kDay);
  HandClient sekre("sekre", ahead);
  o.enroll(sekre);
  o.clock.advance(1000);
  auto r = o.push(sekre, {sekre.open_case(kCase), sekre.complete(kCase, "1", disposition())});
  ASSERT_EQ(r.results.size(), 2u);
  for (const auto& x : r.results) {
    EXPECT_EQ(x.outcome, Outcome::kAccepted);
    EXPECT_EQ(x.code, "clock_ahead");
    EXPECT_NE(x.message.find("lebih cepat 3 hari"), std::string::npos) << x.message;
  }
  auto c = o.case_state(kCase);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->opened_at, o.clock.now_ms());
  EXPECT_EQ(c->task("1")->at, o.clock.now_ms());
  auto log = o.log();
  EXPECT_EQ(log.back().committed_at, o.clock.now_ms());
  std::size_t warned = 0;
  for (const auto& l : lines) warned += l.find("lebih cepat 3 hari") != std::string::npos;
  EXPECT_EQ(warned, 1u);  // one line per batch, not per change
}

// A client three days behind: accepted without a warning (an old time is possible: the
// change may have been made offline), its own time recorded, order by commit sequence.
TEST(ServerClockSkew, AClockDaysBehindIsAcceptedAndOrderedByCommit) {
  Office o;
  FakeClock behind(o.clock.now_ms() - 3 * kDay);
  HandClient sekre("sekre", behind);
  o.enroll(sekre);
  HandClient kabid = o.enrolled("kabid_kop");
  auto r1 = o.push1(sekre, sekre.open_case(kCase));
  auto r2 = o.push1(sekre, sekre.complete(kCase, "1", disposition()));
  o.clock.advance(1000);
  auto r3 = o.push1(kabid, kabid.complete(kCase, "2.koperasi", disposition("Siap.")));
  for (const auto& r : {r1, r2, r3}) {
    EXPECT_EQ(r.outcome, Outcome::kAccepted) << r.code;
    EXPECT_EQ(r.code, "");
  }
  EXPECT_LT(r1.seq, r2.seq);
  EXPECT_LT(r2.seq, r3.seq);
  auto c = o.case_state(kCase);
  EXPECT_EQ(c->task("1")->at, behind.now_ms());
}

}  // namespace
}  // namespace alur::server::testing
