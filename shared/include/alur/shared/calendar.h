// Working-day calendars: each year's national holidays and cuti bersama as decreed by the
// joint decree (SKB) of the Minister of Religious Affairs, the Minister of Manpower and the
// Minister for Administrative Reform, and its amendments. They are data, never code: one
// file per year (shared/calendars/<year>.json, schema "alur.calendar/1", embedded in the
// binaries as the fallback); an administrator imports new or corrected years with
// `alur-server calendar import`, committed as calendar.set changes that replicate to every
// client (sync/PROTOCOL.md §6.11).
//
// Counting (WorkCalendar), the same on every replica:
//  - A working day is Monday to Friday and not a holiday in force on that day.
//  - An amendment applies from its own date: day D is a holiday if the decree's list, with
//    every amendment dated on or before D applied in date order, names D. Days already past
//    when an amendment was decreed keep what they were (they were counted then and are not
//    recounted); days from its date on follow the amended list. So a step's deadline moves
//    only by what the amendment changes ahead of it, and an old report does not change.
//  - A weekday of a year with no calendar is unknown: it is counted as a working day, so a
//    due date is the earliest it can be, and the result says it is uncertain and which
//    years are missing. Nothing is guessed silently.
// Values only; thread-safe for concurrent reads.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "alur/shared/clock.h"

namespace alur {

// One day off: "libur_nasional" (national holiday) or "cuti_bersama" (collective leave).
struct CalendarDay {
  std::string date;  // YYYY-MM-DD
  std::string kind;
  std::string name;
  std::vector<std::string> sources;  // ids of the file's sources that confirm it
};

// A decree or an amendment of it: number, date it was set (ditetapkan), title.
struct Decree {
  std::string number;
  std::string date;
  std::string title;
};

struct CalendarAmendment {
  Decree decree;
  std::vector<CalendarDay> add;     // new days off, or a changed name/kind of a listed day
  std::vector<std::string> remove;  // dates no longer off
  std::vector<std::string> sources;
};

struct CalendarYear {
  int year = 0;
  Decree decree;
  std::string provenance;                            // where the data came from, in plain words
  nlohmann::json sources = nlohmann::json::array();  // [{"id", "url"?, "confirms"?, ...}]
  std::vector<CalendarDay> days;
  std::vector<CalendarAmendment> amendments;  // in date order

  // The day off in force on `day` (a day of this year) under the amendment rule above, or
  // nullptr for a normal day.
  const CalendarDay* holiday_on(std::int64_t day) const;
};

// Parses and validates a calendar file; throws alur::Error("bad_calendar") whose message
// names the field ("days[3].date: ...") or, for broken JSON, the line and column.
CalendarYear parse_calendar(std::string_view json_text);
// The canonical JSON of a calendar (what calendar.set carries).
nlohmann::json calendar_to_json(const CalendarYear& c);

struct DueDate {
  std::string date;  // YYYY-MM-DD (WIB); with missing years, the earliest it can be
  bool certain = true;
  std::vector<int> missing_years;  // years without a calendar the count ran over
};

struct DayCount {
  int days = 0;
  bool certain = true;
  std::vector<int> missing_years;
};

// The calendars in force, by year.
class WorkCalendar {
 public:
  // The calendars embedded in this binary (shared/calendars/*.json).
  static const WorkCalendar& builtin();

  void set(CalendarYear year);  // adds or replaces that year
  const CalendarYear* year(int y) const;
  std::vector<int> years() const;

  enum class Day { working, weekend, holiday, unknown };
  // What `day` is; for a holiday, `*off` (if given) is set to it.
  Day classify(std::int64_t day, const CalendarDay** off = nullptr) const;

  // The due date (WIB) of a step of `days` working days that became ready at `ready_at`:
  // the ready day is day 1 if it is a working day (a start on a day off counts from the
  // next working day), so a 1-day step is due the day it became ready.
  DueDate due(Millis ready_at, int days) const;
  // Working days after `from` up to and including `to` (negative when `to` is earlier):
  // the remaining working days from today to a due date.
  DayCount between(const std::string& from, const std::string& to) const;
  // Working days a step took: from the day it became ready to the day it was done, both
  // included (0 when it was done before it became ready, e.g. tentatively offline).
  DayCount spent(Millis ready_at, Millis done_at) const;

 private:
  bool working(std::int64_t day, std::vector<int>& missing) const;
  std::map<int, CalendarYear> years_;
};

// A plain Indonesian note for an uncertain count, naming the missing years.
std::string uncertain_note(const std::vector<int>& missing_years);

}  // namespace alur
