// Quarterly cases opened by the server on a schedule.
#include "alur/server/schedule.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "alur/server/sync_service.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/sync/change.h"
#include "alur/sync/templates.h"

namespace alur::server {

std::optional<std::string> scheduled_period(const Schedule& s, Millis now) {
  int y = 0, m = 0, d = 0;
  std::string today = format_date_wib(now);
  if (std::sscanf(today.c_str(), "%d-%d-%d", &y, &m, &d) != 3) return std::nullopt;
  int q = (m - 1) / 3 + 1;
  int first_month = (q - 1) * 3 + 1;
  char opening[32];  // "YYYY-MM-DD", with room the compiler can prove
  std::snprintf(opening, sizeof opening, "%04d-%02d-%02d", y, first_month, s.day);
  // Not yet this quarter's opening day, or it came before the schedule existed.
  if (today < opening || opening < format_date_wib(s.created_at)) return std::nullopt;
  int py = y, pq = q;
  if (s.period_of == "previous" && --pq == 0) {
    pq = 4;
    --py;
  }
  return std::to_string(py) + "-Q" + std::to_string(pq);
}

std::string scheduled_case_id(const std::string& sop, const std::string& period) {
  return crypto::sha256_hex("alur/scheduled-case/v1\n" + sop + "\n" + period).substr(0, 16);
}

std::vector<std::string> run_schedules(ServerStore& db, const TemplateRegistry& templates,
                                       const Clock& clock,
                                       const std::function<void(const std::string&)>& log) {
  std::vector<std::string> opened;
  for (const auto& s : db.schedules()) {
    auto period = scheduled_period(s, clock.now_ms());
    if (!period || db.case_for_period(s.sop, *period)) continue;
    auto tpl = sync::latest_template(db, templates, s.sop);
    if (!tpl) {
      if (log) log("jadwal " + s.sop + ": SOP tidak dikenal");
      continue;
    }
    std::string id = scheduled_case_id(s.sop, *period);
    nlohmann::json body = {
        {"sop", s.sop}, {"version", tpl->version}, {"period", *period}, {"scheduled", true}};
    try {
      commit_server_change(db, templates, clock, sync::op::kCaseOpen, "case/" + id, body.dump());
      opened.push_back(id);
      if (log) log("jadwal: kasus " + tpl->case_title(*period) + " dibuka (" + id + ")");
    } catch (const Error& e) {
      if (log) log("jadwal " + s.sop + " " + *period + ": " + e.what());
    }
  }
  return opened;
}

}  // namespace alur::server
