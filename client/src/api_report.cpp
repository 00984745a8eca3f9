// Api, reports and documents: the performance report over the cases of the replica, and
// the SOP document of a template. Read-only, offline, on the view (committed + tentative).
#include <algorithm>
#include <map>

#include "alur/client/api.h"
#include "alur/shared/error.h"
#include "alur/sync/templates.h"
#include "deadline.h"

namespace alur::client {

using nlohmann::json;
using namespace alur::sync;

namespace {

json time_or_null(Millis ms) { return ms ? json(format_time_utc(ms)) : json(); }

bool in_period(const std::string& case_period, const std::string& wanted) {
  if (wanted.empty()) return true;
  if (wanted.size() == 4) return case_period.rfind(wanted + "-", 0) == 0;  // a whole year
  return case_period == wanted;
}

void check_report_period(const std::string& p) {
  if (p.empty()) return;
  if (p.size() == 4 && std::all_of(p.begin(), p.end(), ::isdigit)) return;
  check_period(p);  // YYYY-Qn, else bad_period
}

// "tepat_waktu" | "terlambat" (done) | "berjalan" | "berjalan_terlambat" (ready) | "belum".
const char* status_of(const TaskState& t, const TaskTiming& timing) {
  if (t.state == "done") return timing.late_days.value_or(0) > 0 ? "terlambat" : "tepat_waktu";
  if (t.state == "ready") return timing.overdue ? "berjalan_terlambat" : "berjalan";
  return "belum";
}

std::string holders(const Org& org, const std::vector<std::string>& roles,
                    const std::optional<std::string>& bidang) {
  std::string out;
  for (const auto& p : org.people)
    if (p.active && std::any_of(roles.begin(), roles.end(), [&](const std::string& role) {
          return org.holds(p.username, role, bidang);
        }))
      out += (out.empty() ? "" : ", ") + p.name;
  return out;
}

struct StepStats {
  std::string sop, title, role;
  int step = 0, days = 0, tasks = 0, late = 0, late_days = 0, max_days = 0, total_days = 0;
};

// A decision step's outcomes for the SOP document: [{"code","label","return_to"}].
json outcomes_json(const StepDef& s) {
  json out = json::array();
  for (const auto& o : s.outcomes)
    out.push_back({{"code", o.code},
                   {"label", o.label},
                   {"return_to", o.return_to ? json(*o.return_to) : json()}});
  return out;
}

double round1(double x) { return static_cast<double>(static_cast<long long>(x * 10 + 0.5)) / 10; }

}  // namespace

json Api::report(const std::string& period, const std::string& case_ref) {
  check_report_period(period);
  Replica& r = replica();
  const TemplateRegistry& builtin = TemplateRegistry::builtin();
  View v = r.view(builtin);
  const Org& org = v.org();
  const WorkCalendar cal = r.calendar();
  const Millis now = clock_.now_ms();
  std::string only = case_ref.empty() ? "" : resolve_case(v, case_ref);

  json cases = json::array(), late = json::array();
  std::map<std::pair<std::string, int>, StepStats> stats;
  std::map<std::string, json> people;  // username -> {name, tasks, late, late_days}
  std::vector<int> missing;
  for (const auto& id : v.case_ids()) {
    if (!only.empty() && id != only) continue;
    CaseState c = *v.load_case(id);
    if (!in_period(c.period, period)) continue;
    // Built in or imported by the server and replicated (a case keeps its version).
    auto tpl = find_template(v, builtin, c.sop, c.version);
    if (!tpl) continue;
    json tasks = json::array();
    for (const auto& s : tpl->steps)
      for (const auto& t : c.tasks) {
        if (t.step != s.no) continue;
        TaskTiming timing = task_timing(t, &s, cal, now);
        for (int y : timing.missing_years)
          if (std::find(missing.begin(), missing.end(), y) == missing.end()) missing.push_back(y);
        const Person* by = t.by.empty() ? nullptr : org.find(t.by);
        std::string by_name =
            by ? by->name : (t.by.empty() ? holders(org, s.actors, t.bidang) : t.by);
        int late_days = t.state == "done" ? timing.late_days.value_or(0)
                        : timing.overdue  ? -timing.remaining_days.value_or(0)
                                          : 0;
        json row = {{"task", task_id(id, t.key)},
                    {"step", s.no},
                    {"title", s.title},
                    {"role", t.role},
                    {"bidang", t.bidang ? json(*t.bidang) : json()},
                    {"actor", org.role_label(t.acted_as.empty() ? t.role : t.acted_as, t.bidang)},
                    {"state", t.state},
                    {"round", t.round},
                    {"by", t.by.empty() ? json() : json(t.by)},
                    {"by_name", by_name},
                    {"ready_at", time_or_null(t.ready_at)},
                    {"done_at", t.state == "done" ? time_or_null(t.at) : json()},
                    {"ready_date", t.ready_at ? json(format_date_wib(t.ready_at)) : json()},
                    {"done_date", t.state == "done" ? json(format_date_wib(t.at)) : json()},
                    {"days", s.days},
                    {"status", status_of(t, timing)}};
        row.update(timing_json(timing));
        row["late_days"] = t.state == "pending" ? json() : json(late_days);
        tasks.push_back(row);
        if (late_days > 0)
          late.push_back({{"case", id},
                          {"title", c.title},
                          {"task", row["task"]},
                          {"step", s.no},
                          {"step_title", s.title},
                          {"actor", row["actor"]},
                          {"by", row["by"]},
                          {"by_name", by_name},
                          {"due", timing.due},
                          {"done_at", row["done_at"]},
                          {"done_date", row["done_date"]},
                          {"late_days", late_days},
                          {"state", t.state}});
        if (t.state == "done") {
          auto& st = stats[{c.sop, s.no}];
          st.sop = c.sop;
          st.step = s.no;
          st.title = s.title;
          st.role = s.actor;
          st.days = s.days;
          ++st.tasks;
          int spent = timing.working_days.value_or(0);
          st.total_days += spent;
          st.max_days = std::max(st.max_days, spent);
          if (late_days > 0) {
            ++st.late;
            st.late_days += late_days;
          }
          json& p = people[t.by];
          if (p.is_null())
            p = {{"by", t.by}, {"name", by_name}, {"tasks", 0}, {"late", 0}, {"late_days", 0}};
          p["tasks"] = p["tasks"].get<int>() + 1;
          if (late_days > 0) {
            p["late"] = p["late"].get<int>() + 1;
            p["late_days"] = p["late_days"].get<int>() + late_days;
          }
        }
      }
    cases.push_back({{"case", id},
                     {"title", c.title},
                     {"sop", c.sop},
                     {"period", c.period},
                     {"state", c.state},
                     {"opened_at", time_or_null(c.opened_at)},
                     {"tasks", tasks}});
  }
  if (!only.empty() && cases.empty())
    throw Error("unknown_case", "Kasus " + case_ref + " tidak termasuk periode " + period + ".");

  std::stable_sort(late.begin(), late.end(), [](const json& a, const json& b) {
    return a["late_days"].get<int>() > b["late_days"].get<int>();
  });
  std::vector<json> steps;
  for (const auto& [key, st] : stats) {
    double avg = static_cast<double>(st.total_days) / st.tasks;
    steps.push_back({{"sop", st.sop},
                     {"step", st.step},
                     {"title", st.title},
                     {"role", st.role},
                     {"days", st.days},
                     {"tasks", st.tasks},
                     {"avg_working_days", round1(avg)},
                     {"max_working_days", st.max_days},
                     {"over_standard", round1(avg - st.days)},
                     {"late", st.late},
                     {"late_days", st.late_days}});
  }
  // Slowest first: how far the average runs over the standard, then the average itself.
  std::stable_sort(steps.begin(), steps.end(), [](const json& a, const json& b) {
    if (a["over_standard"] != b["over_standard"])
      return a["over_standard"].get<double>() > b["over_standard"].get<double>();
    return a["avg_working_days"].get<double>() > b["avg_working_days"].get<double>();
  });
  json by_person = json::array();
  for (auto& [user, p] : people) by_person.push_back(p);
  std::stable_sort(by_person.begin(), by_person.end(), [](const json& a, const json& b) {
    return a["late_days"].get<int>() > b["late_days"].get<int>();
  });
  std::sort(missing.begin(), missing.end());
  return {{"unit", org.unit},
          {"period", period.empty() ? json() : json(period)},
          {"case", only.empty() ? json() : json(only)},
          {"generated_at", format_time_utc(now)},
          {"today", format_date_wib(now)},
          {"calendar_years", cal.years()},
          {"certain", missing.empty()},
          {"note", missing.empty() ? json() : json(uncertain_note(missing))},
          {"cases", cases},
          {"late", late},
          {"slowest_steps", steps},
          {"people", by_person}};
}

json Api::sop_show(const std::string& sop) {
  // Needs no replica: an office can print its SOP before any PC is enrolled. Once enrolled,
  // the templates the server imported and replicated are known too (the highest version).
  const TemplateRegistry& builtin = TemplateRegistry::builtin();
  std::shared_ptr<const Template> tpl;
  if (has_replica()) {
    View v = replica().view(builtin);
    tpl = latest_template(v, builtin, sop);
  } else if (const Template* b = builtin.latest(sop)) {
    tpl = std::shared_ptr<const Template>(b, [](const Template*) {});
  }
  if (!tpl)
    throw Error("unknown_sop", "SOP " + sop + " tidak dikenal." +
                                   (has_replica() ? "" : " SOP impor baru dikenal sesudah sinkron."));
  // A column per role, in the template's order: its roles are the SOP table's columns, and
  // every actor is one of them (check_template).
  json roles = json::array(), steps = json::array();
  for (const auto& r : tpl->roles)
    roles.push_back({{"role", r}, {"label", role_title(r)}, {"short", role_short(r)}});
  for (const auto& s : tpl->steps)
    steps.push_back({{"no", s.no},
                     {"actor", s.actor},
                     {"actors", s.actors},
                     {"kind", s.kind},
                     {"title", s.title},
                     {"description", s.description},
                     {"inputs", s.inputs},
                     {"days", s.days},
                     {"output", s.output},
                     {"after", s.after},
                     {"per_bidang", s.per_bidang},
                     {"outcomes", outcomes_json(s)}});
  std::string unit = tpl->identity.value("unit", "");
  return {{"sop", tpl->sop}, {"version", tpl->version},   {"title", tpl->title},
          {"unit", unit},    {"identity", tpl->identity}, {"roles", roles},
          {"steps", steps}};
}

}  // namespace alur::client
