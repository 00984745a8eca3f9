// A batch's view of the state: cases parsed once, written once (batch_state.h).
#include "alur/sync/batch_state.h"

#include <utility>

namespace alur::sync {

const Org& BatchState::org() {
  if (!org_) org_ = store_.org();
  return *org_;
}

void BatchState::set_org(const Org& org) {
  store_.set_org(org);
  org_ = org;
}

BatchState::Slot& BatchState::slot(const std::string& id) {
  auto it = cases_.find(id);
  if (it == cases_.end()) it = cases_.emplace(id, Slot{store_.load_case(id)}).first;
  return it->second;
}

std::optional<CaseState> BatchState::load_case(const std::string& id) { return slot(id).state; }

void BatchState::save_case(const CaseState& c) { save_case(CaseState(c)); }

void BatchState::save_case(CaseState&& c) {
  Slot& s = cases_[c.id];
  if (!s.dirty) dirty_.push_back(c.id);
  s.dirty = true;
  s.state = std::move(c);
}

std::optional<CaseState> BatchState::take_case(const std::string& id) {
  return std::exchange(slot(id).state, std::nullopt);
}

void BatchState::return_case(CaseState&& c) noexcept {
  // The slot exists (take_case made it), so this neither allocates nor throws.
  cases_.find(c.id)->second.state = std::move(c);
}

std::optional<std::string> BatchState::case_for_period(const std::string& sop,
                                                       const std::string& period) {
  // A case opened earlier in this batch is not in the store yet; a case's SOP and period
  // never change, so the store answers for every other case.
  for (const auto& id : dirty_) {
    const auto& c = cases_.at(id).state;
    if (c && c->sop == sop && c->period == period) return id;
  }
  return store_.case_for_period(sop, period);
}

void BatchState::flush() {
  // The batch is done with its dirty cases: each is handed to the store (which may keep
  // it, ServerDb's ParsedCases) and read from the store again if the batch goes on.
  for (const auto& id : dirty_) {
    auto it = cases_.find(id);
    store_.save_case(std::move(*it->second.state));
    cases_.erase(it);
  }
  dirty_.clear();
}

}  // namespace alur::sync
