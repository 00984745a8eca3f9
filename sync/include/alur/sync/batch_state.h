// BatchState: the state one batch of changes is applied to — a push the server sequences,
// a pull a replica materializes. Each case is read from the store and parsed once per
// batch and kept parsed while the batch applies; every case the batch changed is written
// back once, by flush(). A case that 1,000 changes of a batch touch is thus parsed and
// serialized once instead of 1,000 times. The org is read once per batch as well. A rule
// that validates before it edits takes the parsed case (take_case) instead of copying it.
//
// The caller flushes inside the transaction that holds the batch's other writes, before it
// commits; a batch abandoned without flush() (a rollback) writes no case. Everything else
// (templates, calendars, blobs) passes straight through to the store.
// Not thread-safe; lives for one batch.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "alur/sync/case_state.h"

namespace alur::sync {

class BatchState final : public StateAccess {
 public:
  explicit BatchState(StateAccess& store) : store_(store) {}

  const Org& org() override;
  void set_org(const Org& org) override;
  std::optional<CaseState> load_case(const std::string& id) override;
  void save_case(const CaseState& c) override;
  void save_case(CaseState&& c) override;
  std::optional<CaseState> take_case(const std::string& id) override;
  void return_case(CaseState&& c) noexcept override;
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override;
  bool has_blob(const std::string& sha256_hex) override { return store_.has_blob(sha256_hex); }
  std::map<std::pair<std::string, int>, std::string> imported_templates() override {
    return store_.imported_templates();
  }
  void put_template(const std::string& sop, int version, const std::string& text) override {
    store_.put_template(sop, version, text);
  }
  void set_calendar(int year, const std::string& canonical_json) override {
    store_.set_calendar(year, canonical_json);
  }

  // Writes every case changed since the last flush to the store, in the order each was
  // first changed, moving it there (ServerDb keeps it parsed); the batch reads it from the
  // store again if it goes on.
  void flush();

 private:
  StateAccess& store_;
  std::optional<Org> org_;
  struct Slot {
    std::optional<CaseState> state;  // nullopt: not in the store, or taken
    bool dirty = false;
  };
  Slot& slot(const std::string& id);
  std::unordered_map<std::string, Slot> cases_;
  std::vector<std::string> dirty_;  // ids of the dirty slots, in the order first changed
};

}  // namespace alur::sync
