// check_stored_case (see memory_state.h).
#include "alur/sync/memory_state.h"

#include <nlohmann/json.hpp>

#include "alur/sync/signing.h"

namespace alur::sync {

StoredCaseCheck check_stored_case(const std::string& body, const CaseState* replayed,
                                  const Org& org) {
  StoredCaseCheck r;
  if (replayed) {
    bool same_text = false;
    try {
      same_text = body == case_json_text(*replayed);
    } catch (const std::exception&) {  // not UTF-8: compared as JSON below
    }
    if (same_text) {
      r.same = true;
      r.signatures = check_approval_signatures(*replayed, org);
      return r;
    }
  }
  nlohmann::json stored = nlohmann::json::parse(body, nullptr, false);
  try {
    r.signatures = check_approval_signatures(case_from_json(stored), org);
  } catch (const std::exception& e) {
    r.readable = false;
    r.unreadable = e.what();
  }
  r.same = replayed && !stored.is_discarded() && stored == case_to_json(*replayed);
  return r;
}

}  // namespace alur::sync
