#include "alur/sync/parsed_cases.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace alur::sync {

const CaseState& ParsedCases::parse(const std::string& id, std::string text) {
  if (auto it = by_id_.find(id); it != by_id_.end() && it->second.text == text) {
    used_.splice(used_.begin(), used_, it->second.used);
    return it->second.state;
  }
  CaseState c = case_from_json(nlohmann::json::parse(text));
  return put(id, std::move(text), std::move(c)).state;
}

void ParsedCases::keep(std::string text, CaseState c) {
  const std::string id = c.id;
  put(id, std::move(text), std::move(c));
}

ParsedCases::Entry& ParsedCases::put(const std::string& id, std::string text, CaseState c) {
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    it->second.text = std::move(text);
    it->second.state = std::move(c);
    used_.splice(used_.begin(), used_, it->second.used);
    return it->second;
  }
  while (!by_id_.empty() && by_id_.size() >= capacity_) {
    by_id_.erase(used_.back());
    used_.pop_back();
  }
  used_.push_front(id);
  return by_id_.emplace(id, Entry{std::move(text), std::move(c), used_.begin()}).first->second;
}

}  // namespace alur::sync
