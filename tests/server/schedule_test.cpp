// Quarterly cases on a schedule (server/schedule.h) with a fake clock: the server opens the
// case of the quarter just ended on the configured day, once; a case the officials opened
// themselves counts; a schedule added after this quarter's day waits for the next one.
#include "alur/server/schedule.h"

#include <gtest/gtest.h>

#include "alur/shared/org.h"
#include "harness.h"

namespace alur::server {
namespace {

using nlohmann::json;
using testing::Office;
using testing::StoreTest;

Millis wib(const std::string& date, int hour = 0) {
  return wib_day_start(date) + hour * 3'600'000LL;
}

class ServerSchedule : public StoreTest {};
ALUR_ON_BOTH_STORES(ServerSchedule);

TEST(ScheduleTest, PeriodOfAScheduleByDate) {
  Schedule s{"LAKIP", 5, "previous", wib("2026-06-01")};
  EXPECT_EQ(scheduled_period(s, wib("2026-07-04", 23)), std::nullopt);  // before the 5th
  EXPECT_EQ(scheduled_period(s, wib("2026-07-05")), "2026-Q2");
  EXPECT_EQ(scheduled_period(s, wib("2026-09-30", 23)), "2026-Q2");  // still due, catch-up
  EXPECT_EQ(scheduled_period(s, wib("2027-01-05", 8)), "2026-Q4");   // across the year
  s.period_of = "current";
  EXPECT_EQ(scheduled_period(s, wib("2026-07-05")), "2026-Q3");
  // Added after this quarter's opening day: nothing until the next one.
  Schedule late{"LAKIP", 1, "previous", wib("2026-07-10")};
  EXPECT_EQ(scheduled_period(late, wib("2026-08-01")), std::nullopt);
  EXPECT_EQ(scheduled_period(late, wib("2026-10-01")), "2026-Q3");
}

TEST_P(ServerSchedule, ServerOpensTheQuarterlyCaseOnceOnItsDay) {
  Office o(store());
  o.clock.advance(wib("2026-09-29", 10) - o.clock.now_ms());
  {
    auto tx = o.db.begin();
    o.db.put_schedule({"LAKIP", 1, "previous", o.clock.now_ms()});
    tx->commit();
  }
  EXPECT_TRUE(run_schedules(o.db, TemplateRegistry::builtin(), o.clock).empty());
  std::uint64_t head = o.db.head();
  // 1 October 2026, 00:00:02 WIB: the Triwulan III case opens, by the server.
  o.clock.advance(wib("2026-10-01") + 2000 - o.clock.now_ms());
  auto opened = run_schedules(o.db, TemplateRegistry::builtin(), o.clock);
  ASSERT_EQ(opened.size(), 1u);
  auto c = o.db.load_case(opened[0]);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->title, "Pengukuran Kinerja LAKIP \u2014 Triwulan III 2026");
  EXPECT_EQ(c->period, "2026-Q3");
  EXPECT_EQ(c->opened_by, "system");
  EXPECT_EQ(c->task("1")->state, "ready");
  EXPECT_EQ(opened[0], scheduled_case_id("LAKIP", "2026-Q3"));
  EXPECT_EQ(o.db.head(), head + 1);  // one committed server change, replicated like any
  auto log = o.db.entries_after(head, 10, 1 << 20);
  EXPECT_EQ(log[0].change.op, sync::op::kCaseOpen);
  EXPECT_EQ(log[0].change.dot.replica, sync::kServerReplica);
  // Every later tick of the quarter: nothing more.
  for (int i = 0; i < 5; ++i) {
    o.clock.advance(3 * 24 * 3'600'000LL);
    EXPECT_TRUE(run_schedules(o.db, TemplateRegistry::builtin(), o.clock).empty());
  }
  EXPECT_EQ(o.db.head(), head + 1);
}

TEST_P(ServerSchedule, ACaseTheOfficialsOpenedCountsAndNoPeriodGetsTwo) {
  Office o(store());
  o.clock.advance(wib("2026-12-20", 10) - o.clock.now_ms());
  {
    auto tx = o.db.begin();
    o.db.put_schedule({"LAKIP", 1, "previous", o.clock.now_ms()});
    tx->commit();
  }
  // The Sekretaris opens Triwulan IV early, by hand (a committed case.open).
  auto sek = o.enrolled("sekre");
  auto result =
      o.push1(sek, sek.make("case/abcdef0123456789", sync::op::kCaseOpen,
                            json{{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q4"}}));
  ASSERT_EQ(result.outcome, sync::Outcome::kAccepted) << result.code << result.message;
  o.clock.advance(wib("2027-01-01", 7) - o.clock.now_ms());
  EXPECT_TRUE(run_schedules(o.db, TemplateRegistry::builtin(), o.clock).empty());
  EXPECT_EQ(o.db.case_for_period("LAKIP", "2026-Q4"), "abcdef0123456789");
}

}  // namespace
}  // namespace alur::server
