// MemoryState: the rules' state (sync::StateAccess) held in memory. Replaying a committed
// log into one from nothing is how `verify` (server and client) and the simulator check
// that a stored materialized state is exactly what its log says.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "alur/sync/case_state.h"

namespace alur::sync {

class MemoryState final : public StateAccess {
 public:
  const Org& org() override { return org_; }
  void set_org(const Org& org) override { org_ = org; }
  std::optional<CaseState> load_case(const std::string& id) override {
    auto it = cases_.find(id);
    if (it == cases_.end() || taken_ == id) return std::nullopt;
    return it->second;
  }
  void save_case(const CaseState& c) override { save_case(CaseState(c)); }
  // A replay applies each change to the case in place, as a batch does: the case is lent
  // and moved back, not copied twice per change (with a hundred corrections in a case, that
  // copying was two fifths of `alur-server verify`).
  void save_case(CaseState&& c) override {
    if (taken_ == c.id) taken_.reset();
    periods_[{c.sop, c.period}] = c.id;
    if (auto it = cases_.find(c.id); it != cases_.end())
      it->second = std::move(c);
    else
      cases_.emplace(c.id, std::move(c));
  }
  // While taken, the case reads as absent (as in BatchState); its entry stays, so that
  // return_case moves it back without allocating.
  std::optional<CaseState> take_case(const std::string& id) override {
    auto it = cases_.find(id);
    if (it == cases_.end() || taken_ == id) return std::nullopt;
    taken_ = id;
    return std::move(it->second);
  }
  void return_case(CaseState&& c) noexcept override {
    if (taken_ != c.id) return;
    taken_.reset();
    cases_.find(c.id)->second = std::move(c);
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
  std::optional<std::string> taken_;  // the case lent by take_case, if any
};

// A stored case checked against the case its committed log replays to (`verify` on the
// server and on a replica): whether it is the same, and the problems of its parafs and
// signatures, each checked against the keys the log recorded. A case stored byte for byte
// as the replay's canonical text (how both stores write it) is the replay's, and is not
// parsed again; any other text is parsed and compared as JSON.
struct StoredCaseCheck {
  bool readable = true;  // false: `unreadable` says why
  std::string unreadable;
  bool same = false;                    // what the log says, and nothing else
  std::vector<std::string> signatures;  // problems of its parafs and signatures
};
StoredCaseCheck check_stored_case(const std::string& body, const CaseState* replayed,
                                  const Org& org);

}  // namespace alur::sync
