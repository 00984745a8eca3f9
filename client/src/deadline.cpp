// Task deadlines in working days (deadline.h).
#include "deadline.h"

#include <algorithm>

namespace alur::client {

using nlohmann::json;

namespace {
void note_missing(std::vector<int>& into, const std::vector<int>& from) {
  for (int y : from)
    if (std::find(into.begin(), into.end(), y) == into.end()) into.push_back(y);
  std::sort(into.begin(), into.end());
}
}  // namespace

TaskTiming task_timing(const sync::TaskState& t, const StepDef* step, const WorkCalendar& cal,
                       Millis now) {
  TaskTiming out;
  if (!t.ready_at || !step || t.state == "pending") return out;
  DueDate due = cal.due(t.ready_at, step->days);
  out.due = due.date;
  note_missing(out.missing_years, due.missing_years);
  if (t.state == "done") {
    DayCount spent = cal.spent(t.ready_at, t.at);
    out.working_days = spent.days;
    note_missing(out.missing_years, spent.missing_years);
    std::string done = format_date_wib(t.at);
    int late = 0;
    if (done > out.due) {
      DayCount over = cal.between(out.due, done);
      late = over.days;
      note_missing(out.missing_years, over.missing_years);
    }
    out.late_days = late;
  } else {
    std::string today = format_date_wib(now);
    DayCount remaining = cal.between(today, out.due);
    out.remaining_days = remaining.days;
    note_missing(out.missing_years, remaining.missing_years);
    // Past its due date is overdue, even on a weekend when no working day has passed yet.
    out.overdue = today > out.due;
    DayCount spent = cal.spent(t.ready_at, now);
    out.working_days = spent.days;
    note_missing(out.missing_years, spent.missing_years);
  }
  out.due_certain = out.missing_years.empty();
  return out;
}

json timing_json(const TaskTiming& t) {
  auto opt = [](const std::optional<int>& v) { return v ? json(*v) : json(); };
  return {{"due", t.due},
          {"due_certain", t.due_certain},
          {"due_note", t.due_certain ? json() : json(uncertain_note(t.missing_years))},
          {"remaining_days", opt(t.remaining_days)},
          {"overdue", t.overdue},
          {"working_days", opt(t.working_days)},
          {"late_days", opt(t.late_days)}};
}

}  // namespace alur::client
