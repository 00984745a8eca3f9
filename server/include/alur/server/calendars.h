// Working-day calendars on the server: `alur-server calendar import` validates a year's
// file and commits it as a calendar.set server change (replicated to every client through
// the committed log, like org.set); `calendar list` shows which years are in force and
// whether each comes from an import or from the calendars embedded in this binary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "alur/server/server_db.h"
#include "alur/shared/calendar.h"
#include "alur/shared/clock.h"
#include "alur/shared/sop_template.h"

namespace alur::server {

// Validates `json_text` (alur::Error("bad_calendar") naming the field) and commits it as
// calendar.set on record "calendar/<year>". Returns the calendar as committed.
CalendarYear import_calendar(ServerStore& db, const TemplateRegistry& templates, const Clock& clock,
                             const std::string& json_text);

// [{"year", "origin": "impor" | "bawaan", "decree": {...}, "amendments": [{number, date}],
//   "libur_nasional": n, "cuti_bersama": n, "provenance"}], by year: the imported calendar
// of a year where there is one, else the embedded one.
nlohmann::json list_calendars(ServerStore& db);

}  // namespace alur::server
