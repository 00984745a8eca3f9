// Working-day calendars (alur/shared/calendar.h): the shipped 2025 and 2026 decrees, the
// counting of due dates across weekends, Idulfitri with its cuti bersama and the turn of a
// year, a year without a calendar (uncertain, never guessed), the amendment rule, and the
// validation an administrator sees when a calendar file is wrong.
#include "alur/shared/calendar.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "alur/shared/clock.h"
#include "alur/shared/error.h"

namespace alur {
namespace {

using nlohmann::json;

// 09:00 WIB on `date`.
Millis at(const std::string& date, int hour_wib = 9) {
  return parse_date(date) * 86'400'000LL + (hour_wib - 7) * 3'600'000LL;
}

// The shipped 2025 file, with its amendments removed: the decree as first set.
json calendar_2025_without_amendments() {
  json j = calendar_to_json(*WorkCalendar::builtin().year(2025));
  j["amendments"] = json::array();
  return j;
}

std::string bad_calendar_message(const std::string& text) {
  try {
    parse_calendar(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "bad_calendar");
    return e.what();
  }
  return "<accepted>";
}

json minimal_2027() {
  return {{"schema", "alur.calendar/1"},
          {"year", 2027},
          {"decree", {{"number", "Uji 1/2026"}, {"date", "2026-09-01"}, {"title", "Uji"}}},
          {"provenance", "data uji"},
          {"days",
           json::array(
               {{{"date", "2027-01-01"}, {"kind", "libur_nasional"}, {"name", "Tahun Baru"}}})}};
}

TEST(CalendarDataTest, ShipsTheDecreesOf2025And2026WithTheirSources) {
  const WorkCalendar& cal = WorkCalendar::builtin();
  ASSERT_NE(cal.year(2025), nullptr);
  ASSERT_NE(cal.year(2026), nullptr);
  for (int y : {2025, 2026}) {
    const CalendarYear& c = *cal.year(y);
    EXPECT_FALSE(c.provenance.empty());
    int libur = 0, cuti = 0;
    for (const auto& d : c.days) {
      EXPECT_FALSE(d.sources.empty()) << d.date << " has no source";
      (d.kind == "libur_nasional" ? libur : cuti)++;
    }
    EXPECT_EQ(libur, 17) << y;  // as the decrees announce
    EXPECT_EQ(cuti, y == 2025 ? 10 : 8) << y;
  }
  EXPECT_NE(cal.year(2025)->decree.number.find("1017 Tahun 2024"), std::string::npos);
  EXPECT_EQ(cal.year(2025)->decree.date, "2024-10-14");
  EXPECT_NE(cal.year(2026)->decree.number.find("1497 Tahun 2025"), std::string::npos);
  EXPECT_EQ(cal.year(2026)->decree.date, "2025-09-19");
  // The 2025 amendment that added 18 August.
  ASSERT_EQ(cal.year(2025)->amendments.size(), 1u);
  const CalendarAmendment& a = cal.year(2025)->amendments[0];
  EXPECT_NE(a.decree.number.find("933 Tahun 2025"), std::string::npos);
  EXPECT_EQ(a.decree.date, "2025-08-07");
  ASSERT_EQ(a.add.size(), 1u);
  EXPECT_EQ(a.add[0].date, "2025-08-18");
  EXPECT_EQ(a.add[0].kind, "cuti_bersama");
}

TEST(CalendarCountTest, WeekendsAreNotWorkingDays) {
  const WorkCalendar& cal = WorkCalendar::builtin();
  // July 2026 has no holidays. Ready Friday: a 2-day step is due Monday.
  EXPECT_EQ(cal.due(at("2026-07-03"), 2).date, "2026-07-06");
  // Ready on Saturday: counting starts Monday, so a 1-day step is due Monday.
  EXPECT_EQ(cal.due(at("2026-07-04"), 1).date, "2026-07-06");
  EXPECT_EQ(cal.due(at("2026-07-06"), 5).date, "2026-07-10");
  EXPECT_EQ(cal.between("2026-07-03", "2026-07-06").days, 1);
  EXPECT_EQ(cal.between("2026-07-06", "2026-07-03").days, -1);
  EXPECT_EQ(cal.spent(at("2026-07-03"), at("2026-07-06")).days, 2);
  EXPECT_EQ(cal.classify(parse_date("2026-07-04")), WorkCalendar::Day::weekend);
  // 23:30 WIB on Friday is still Friday in the office, though it is 16:30 UTC.
  EXPECT_EQ(cal.due(at("2026-07-03", 23), 1).date, "2026-07-03");
}

TEST(CalendarCountTest, IdulFitri2025WithItsCutiBersama) {
  const WorkCalendar& cal = WorkCalendar::builtin();
  const CalendarDay* off = nullptr;
  EXPECT_EQ(cal.classify(parse_date("2025-03-31"), &off), WorkCalendar::Day::holiday);
  ASSERT_NE(off, nullptr);
  EXPECT_EQ(off->kind, "libur_nasional");
  EXPECT_NE(off->name.find("Idulfitri"), std::string::npos);
  for (const char* d : {"2025-03-28", "2025-04-02", "2025-04-03", "2025-04-04", "2025-04-07"}) {
    EXPECT_EQ(cal.classify(parse_date(d), &off), WorkCalendar::Day::holiday) << d;
    EXPECT_EQ(off->kind, "cuti_bersama") << d;
  }
  // Ready Thursday 27 March, 3 working days: the 27th, then nothing until Tuesday 8 April
  // (Nyepi's cuti bersama, Nyepi, Idulfitri 31 Mar-1 Apr, cuti bersama 2-4 and 7 April).
  EXPECT_EQ(cal.due(at("2025-03-27"), 3).date, "2025-04-09");
  EXPECT_EQ(cal.between("2025-03-27", "2025-04-09").days, 2);
  EXPECT_EQ(cal.spent(at("2025-03-27"), at("2025-04-08")).days, 2);
  // Monday to Friday alone would have said Monday 31 March, the day of Idulfitri itself.
  WorkCalendar weekdays_only;
  weekdays_only.set(parse_calendar(minimal_2027().dump()));  // no 2025 at all
  DueDate guess = weekdays_only.due(at("2025-03-27"), 3);
  EXPECT_EQ(guess.date, "2025-03-31");
  EXPECT_FALSE(guess.certain);
}

TEST(CalendarCountTest, IdulFitri2026WithNyepiAndCutiBersama) {
  const WorkCalendar& cal = WorkCalendar::builtin();
  for (const char* d : {"2026-03-18", "2026-03-19", "2026-03-20", "2026-03-23", "2026-03-24"})
    EXPECT_EQ(cal.classify(parse_date(d)), WorkCalendar::Day::holiday) << d;
  const CalendarDay* off = cal.year(2026)->holiday_on(parse_date("2026-03-21"));
  ASSERT_NE(off, nullptr);
  EXPECT_NE(off->name.find("Idulfitri 1447"), std::string::npos);
  // Ready Tuesday 17 March, 3 days: the 17th, then Wednesday 25 and Thursday 26 March.
  DueDate due = cal.due(at("2026-03-17"), 3);
  EXPECT_EQ(due.date, "2026-03-26");
  EXPECT_TRUE(due.certain);
  // Ready during the holidays: counting starts on the first working day after them.
  EXPECT_EQ(cal.due(at("2026-03-20"), 1).date, "2026-03-25");
}

TEST(CalendarCountTest, TheTurnOfTheYear) {
  const WorkCalendar& cal = WorkCalendar::builtin();
  // Ready Wednesday 24 Dec 2025, 5 days: 24; Christmas and its cuti bersama; 29, 30, 31 Dec;
  // New Year's Day; Friday 2 January 2026.
  DueDate due = cal.due(at("2025-12-24"), 5);
  EXPECT_EQ(due.date, "2026-01-02");
  EXPECT_TRUE(due.certain);
  EXPECT_EQ(cal.between("2025-12-24", "2026-01-02").days, 4);
  EXPECT_EQ(cal.spent(at("2025-12-24"), at("2026-01-05")).days, 6);
}

TEST(CalendarCountTest, AYearWithoutACalendarIsUncertainNotGuessed) {
  const WorkCalendar& cal = WorkCalendar::builtin();
  ASSERT_EQ(cal.year(2027), nullptr);
  // 23 Dec 2026 + 5 days stays in 2026 (24 and 25 December are off): certain.
  DueDate in_year = cal.due(at("2026-12-23"), 5);
  EXPECT_EQ(in_year.date, "2026-12-31");
  EXPECT_TRUE(in_year.certain);
  // One day more runs into 2027, whose holidays nobody has decreed yet: the earliest it
  // can be, marked uncertain, naming the year.
  DueDate over = cal.due(at("2026-12-23"), 6);
  EXPECT_EQ(over.date, "2027-01-01");
  EXPECT_FALSE(over.certain);
  EXPECT_EQ(over.missing_years, std::vector<int>{2027});
  EXPECT_NE(uncertain_note(over.missing_years).find("2027"), std::string::npos);
  EXPECT_FALSE(cal.between("2026-12-30", "2027-01-04").certain);
  EXPECT_EQ(cal.classify(parse_date("2027-01-04")), WorkCalendar::Day::unknown);
  EXPECT_EQ(cal.classify(parse_date("2027-01-02")), WorkCalendar::Day::weekend);  // known anyway
  // Once 2027 is imported it is certain, and New Year's Day is off.
  WorkCalendar with_2027 = cal;
  with_2027.set(parse_calendar(minimal_2027().dump()));
  DueDate known = with_2027.due(at("2026-12-23"), 6);
  EXPECT_EQ(known.date, "2027-01-04");
  EXPECT_TRUE(known.certain);
}

TEST(CalendarAmendmentTest, The18August2025AmendmentMovesADueDate) {
  WorkCalendar before;
  before.set(parse_calendar(calendar_2025_without_amendments().dump()));
  const WorkCalendar& after = WorkCalendar::builtin();
  // Ready Monday 11 August 2025, 10 working days.
  EXPECT_EQ(before.due(at("2025-08-11"), 10).date, "2025-08-22");
  EXPECT_EQ(after.due(at("2025-08-11"), 10).date, "2025-08-25");
  EXPECT_EQ(after.classify(parse_date("2025-08-18")), WorkCalendar::Day::holiday);
}

TEST(CalendarAmendmentTest, AnAmendmentAppliesFromItsOwnDateDaysCountedAreNotRecounted) {
  // A (made-up) amendment decreed on 20 August 2025 that names 13 August, already past, and
  // 21 August as cuti bersama, and drops the cuti bersama of 26 December.
  json j = calendar_to_json(*WorkCalendar::builtin().year(2025));
  j["amendments"].push_back(
      {{"number", "Uji 2/2025"},
       {"date", "2025-08-20"},
       {"title", "Perubahan kedua (uji)"},
       {"add", json::array({{{"date", "2025-08-13"}, {"kind", "cuti_bersama"}, {"name", "surut"}},
                            {{"date", "2025-08-21"}, {"kind", "cuti_bersama"}, {"name", "baru"}}})},
       {"remove", json::array({"2025-12-26"})}});
  CalendarYear y = parse_calendar(j.dump());
  WorkCalendar cal;
  cal.set(y);
  // 13 August was counted before the amendment existed: it stays a working day.
  EXPECT_EQ(y.holiday_on(parse_date("2025-08-13")), nullptr);
  ASSERT_NE(y.holiday_on(parse_date("2025-08-21")), nullptr);
  EXPECT_EQ(y.holiday_on(parse_date("2025-08-21"))->name, "baru");
  EXPECT_EQ(y.holiday_on(parse_date("2025-12-26")), nullptr);
  EXPECT_NE(y.holiday_on(parse_date("2025-12-25")), nullptr);
  // A case ready on 11 August: 11-15 (13 counts), 18 off (first amendment), 19, 20, 21 off
  // (second amendment), 22, 25, 26 -> ten working days on the 26th.
  EXPECT_EQ(cal.due(at("2025-08-11"), 10).date, "2025-08-26");
}

TEST(CalendarFileTest, CanonicalFormRoundTrips) {
  for (int y : {2025, 2026}) {
    json canonical = calendar_to_json(*WorkCalendar::builtin().year(y));
    EXPECT_EQ(calendar_to_json(parse_calendar(canonical.dump())), canonical);
  }
}

TEST(CalendarFileTest, ErrorsNameTheField) {
  json j = minimal_2027();
  j["days"][0]["date"] = "2027-02-30";
  EXPECT_NE(bad_calendar_message(j.dump()).find("days[0].date"), std::string::npos);

  j = minimal_2027();
  j["days"].push_back({{"date", "2027-03-01"}, {"kind", "libur_daerah"}, {"name", "x"}});
  EXPECT_NE(bad_calendar_message(j.dump()).find("days[1].kind"), std::string::npos);

  j = minimal_2027();
  j["days"][0]["date"] = "2026-12-31";
  EXPECT_NE(bad_calendar_message(j.dump()).find("bukan tanggal tahun 2027"), std::string::npos);

  j = minimal_2027();
  j.erase("provenance");
  EXPECT_NE(bad_calendar_message(j.dump()).find("provenance: wajib diisi"), std::string::npos);

  j = minimal_2027();
  j["amendment"] = json::array();  // a typo for "amendments"
  EXPECT_NE(bad_calendar_message(j.dump()).find("amendment: kolom tidak dikenal"),
            std::string::npos);

  j = minimal_2027();
  j["days"][0]["sources"] = {"tidak-ada"};
  EXPECT_NE(bad_calendar_message(j.dump()).find("days[0].sources[0]"), std::string::npos);

  j = minimal_2027();
  j["days"].push_back(j["days"][0]);
  EXPECT_NE(bad_calendar_message(j.dump()).find("tanggal ganda"), std::string::npos);

  j = minimal_2027();
  j["amendments"] = json::array({{{"number", "x"},
                                  {"date", "2026-01-01"},
                                  {"title", "x"},
                                  {"remove", json::array({"2027-01-01"})}}});
  EXPECT_NE(bad_calendar_message(j.dump()).find("amendments[0].date"), std::string::npos);

  j = minimal_2027();
  j["amendments"] = json::array({{{"number", "x"},
                                  {"date", "2026-10-01"},
                                  {"title", "x"},
                                  {"remove", json::array({"2027-05-05"})}}});
  EXPECT_NE(bad_calendar_message(j.dump()).find("amendments[0].remove[0]"), std::string::npos);

  // Broken JSON: the line and column.
  std::string broken = "{\n  \"schema\": \"alur.calendar/1\",\n  \"year\": 2027,,\n}";
  EXPECT_NE(bad_calendar_message(broken).find("baris 3"), std::string::npos);
}

}  // namespace
}  // namespace alur
