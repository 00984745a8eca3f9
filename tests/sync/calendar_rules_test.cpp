// calendar.set through the case rules: only the server may set a year's calendar, the body
// must be a valid calendar for the year its record names, and it is stored in canonical
// form so that every replica applying the log counts with the same list.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "alur/shared/calendar.h"
#include "alur/sync/case_state.h"
#include "alur/sync/change.h"

namespace alur::sync {
namespace {

using nlohmann::json;

class CalendarState : public StateAccess {
 public:
  const Org& org() override { return org_; }
  void set_org(const Org& org) override { org_ = org; }
  std::optional<CaseState> load_case(const std::string&) override { return std::nullopt; }
  void save_case(const CaseState&) override {}
  std::optional<std::string> case_for_period(const std::string&, const std::string&) override {
    return std::nullopt;
  }
  bool has_blob(const std::string&) override { return false; }
  void set_calendar(int year, const std::string& canonical_json) override {
    calendars[year] = canonical_json;
  }
  Org org_;
  std::map<int, std::string> calendars;
};

Change calendar_change(const std::string& replica, const std::string& record,
                       const std::string& body) {
  Change c;
  c.record = record;
  c.op = op::kCalendarSet;
  c.dot = {replica, 1};
  c.author = replica == kServerReplica ? "system" : "sekretaris";
  c.hlc = HybridClock::from_ms(1'780'000'000'000);
  c.body = body;
  return c;
}

std::string shipped_2026() { return calendar_to_json(*WorkCalendar::builtin().year(2026)).dump(); }

TEST(CalendarRulesTest, OnlyTheServerSetsACalendar) {
  CalendarState state;
  Verdict v = apply_change(state, TemplateRegistry::builtin(),
                           calendar_change("laptop-sekretaris", "calendar/2026", shipped_2026()),
                           1'780'000'000'000);
  EXPECT_EQ(v.code, "forbidden_op");
  EXPECT_TRUE(state.calendars.empty());
}

TEST(CalendarRulesTest, TheBodyMustBeAValidCalendarOfTheRecordsYear) {
  CalendarState state;
  Verdict wrong_year = apply_change(
      state, TemplateRegistry::builtin(),
      calendar_change(kServerReplica, "calendar/2025", shipped_2026()), 1'780'000'000'000);
  EXPECT_EQ(wrong_year.code, "bad_body");
  Verdict broken = apply_change(
      state, TemplateRegistry::builtin(),
      calendar_change(kServerReplica, "calendar/2026", "{\"year\": 2026}"), 1'780'000'000'000);
  EXPECT_EQ(broken.code, "bad_body");
  EXPECT_NE(broken.message.find("schema"), std::string::npos) << broken.message;
  EXPECT_TRUE(state.calendars.empty());
}

TEST(CalendarRulesTest, AcceptedCalendarIsStoredCanonically) {
  CalendarState a, b;
  // The same calendar, written with other whitespace and key order.
  json reordered = json::parse(shipped_2026());
  std::string pretty = reordered.dump(2);
  ASSERT_TRUE(apply_change(a, TemplateRegistry::builtin(),
                           calendar_change(kServerReplica, "calendar/2026", shipped_2026()), 1)
                  .ok());
  ASSERT_TRUE(apply_change(b, TemplateRegistry::builtin(),
                           calendar_change(kServerReplica, "calendar/2026", pretty), 1)
                  .ok());
  ASSERT_EQ(a.calendars.count(2026), 1u);
  EXPECT_EQ(a.calendars, b.calendars);
  EXPECT_EQ(a.calendars[2026], shipped_2026());
}

// States that do not store calendars refuse loudly rather than drop one.
TEST(CalendarRulesTest, AStateWithoutCalendarStorageRefuses) {
  class NoCalendars : public CalendarState {
   public:
    void set_calendar(int year, const std::string& text) override {
      StateAccess::set_calendar(year, text);
    }
  } state;
  EXPECT_THROW(apply_change(state, TemplateRegistry::builtin(),
                            calendar_change(kServerReplica, "calendar/2026", shipped_2026()), 1),
               Error);
}

}  // namespace
}  // namespace alur::sync
