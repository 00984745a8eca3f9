// Importing and listing working-day calendars (calendars.h).
#include "alur/server/calendars.h"

#include "alur/server/sync_service.h"
#include "alur/sync/change.h"

namespace alur::server {

using nlohmann::json;

CalendarYear import_calendar(ServerStore& db, const TemplateRegistry& templates, const Clock& clock,
                             const std::string& json_text) {
  CalendarYear cal = parse_calendar(json_text);
  commit_server_change(db, templates, clock, sync::op::kCalendarSet,
                       "calendar/" + std::to_string(cal.year), calendar_to_json(cal).dump());
  return cal;
}

namespace {

json describe(const CalendarYear& c, const char* origin) {
  int libur = 0, cuti = 0;
  // Count what is in force at the end of the year (every amendment applied).
  for (std::int64_t d = parse_date(std::to_string(c.year) + "-01-01"),
                    end = parse_date(std::to_string(c.year) + "-12-31");
       d <= end; ++d)
    if (const CalendarDay* off = c.holiday_on(d)) (off->kind == "cuti_bersama" ? cuti : libur)++;
  json amendments = json::array();
  for (const auto& a : c.amendments)
    amendments.push_back({{"number", a.decree.number}, {"date", a.decree.date}});
  return {
      {"year", c.year},
      {"origin", origin},
      {"decree", {{"number", c.decree.number}, {"date", c.decree.date}, {"title", c.decree.title}}},
      {"amendments", amendments},
      {"libur_nasional", libur},
      {"cuti_bersama", cuti},
      {"provenance", c.provenance}};
}

}  // namespace

json list_calendars(ServerStore& db) {
  std::map<int, json> by_year;
  const WorkCalendar& builtin = WorkCalendar::builtin();
  for (int y : builtin.years()) by_year[y] = describe(*builtin.year(y), "bawaan");
  for (const auto& [y, text] : db.calendars()) by_year[y] = describe(parse_calendar(text), "impor");
  json out = json::array();
  for (auto& [y, j] : by_year) out.push_back(std::move(j));
  return out;
}

}  // namespace alur::server
