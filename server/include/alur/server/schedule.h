// Quarterly cases on a schedule: the server opens the case of a triwulan by itself (a
// server change case.open, replicated like any other) on the configured day. Run from the
// server's periodic tick; idempotent, since a period has at most one case.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "alur/server/store.h"
#include "alur/shared/clock.h"
#include "alur/shared/sop_template.h"

namespace alur::server {

// The period whose case the schedule opens as of `now`, if its opening day (WIB) has come in
// the current quarter and is not before the day the schedule was added; nullopt otherwise.
// "previous": Triwulan III 2026 opens on day `day` of October 2026; "current": of July 2026.
std::optional<std::string> scheduled_period(const Schedule& s, Millis now);

// Opens every scheduled case that is due and not open yet; returns the ids of the cases it
// opened. A case the officials opened themselves for that period counts as open. Failures
// (e.g. an unknown SOP) go to `log` and do not stop the other schedules.
std::vector<std::string> run_schedules(ServerStore& db, const TemplateRegistry& templates,
                                       const Clock& clock,
                                       const std::function<void(const std::string&)>& log = {});

// The id of the case a schedule opens for (sop, period): the same on every run.
std::string scheduled_case_id(const std::string& sop, const std::string& period);

}  // namespace alur::server
