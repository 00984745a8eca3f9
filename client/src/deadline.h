// Deadlines of tasks in working days, shared by the inbox, case show and the reports: a
// step's due date counts its standard time (mutu baku, `days`) from the moment it became
// ready (TaskState::ready_at, the commit time) on the calendars in force (WorkCalendar).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alur/shared/calendar.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/case_state.h"

namespace alur::client {

struct TaskTiming {
  std::string due;  // "" while the task is not ready yet
  bool due_certain = true;
  std::vector<int> missing_years;     // years without a calendar the counts ran over
  std::optional<int> remaining_days;  // ready tasks: working days after today up to due
  bool overdue = false;               // ready tasks: today is after the due date
  std::optional<int> working_days;    // done: ready day to done day; ready: so far (today)
  std::optional<int> late_days;       // done: working days after due up to the done day
};

TaskTiming task_timing(const sync::TaskState& t, const StepDef* step, const WorkCalendar& cal,
                       Millis now);

// The JSON fields for a task: due, due_certain, due_note, remaining_days, overdue,
// working_days, late_days (null where they do not apply).
nlohmann::json timing_json(const TaskTiming& timing);

}  // namespace alur::client
