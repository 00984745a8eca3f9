// MemoryState: the rules' state (sync::StateAccess) held in memory. Replaying a committed
// log into one from nothing is how `verify` (server and client) and the simulator check
// that a stored materialized state is exactly what its log says.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "alur/sync/case_state.h"

namespace alur::sync {

class MemoryState final : public StateAccess {
 public:
  const Org& org() override { return org_; }
  void set_org(const Org& org) override { org_ = org; }
  std::optional<CaseState> load_case(const std::string& id) override {
    auto it = cases_.find(id);
    if (it == cases_.end()) return std::nullopt;
    return it->second;
  }
  void save_case(const CaseState& c) override {
    cases_[c.id] = c;
    periods_[{c.sop, c.period}] = c.id;
  }
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override {
    auto it = periods_.find({sop, period});
    if (it == periods_.end()) return std::nullopt;
    return it->second;
  }
  bool has_blob(const std::string&) override { return true; }
  std::map<std::pair<std::string, int>, std::string> imported_templates() override {
    return templates_;
  }
  void put_template(const std::string& sop, int version, const std::string& text) override {
    templates_[{sop, version}] = text;
  }
  void set_calendar(int year, const std::string& canonical_json) override {
    calendars_[year] = canonical_json;
  }
  const std::map<std::string, CaseState>& cases() const { return cases_; }
  const std::map<int, std::string>& calendars() const { return calendars_; }

 private:
  Org org_;
  std::map<std::string, CaseState> cases_;
  std::map<std::pair<std::string, std::string>, std::string> periods_;
  std::map<std::pair<std::string, int>, std::string> templates_;  // imported (sop.set)
  std::map<int, std::string> calendars_;                          // year -> calendar.set body
};

}  // namespace alur::sync
