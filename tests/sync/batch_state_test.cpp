// BatchState (a batch's cases parsed once and written once): the same result as applying
// each change straight to the store, one write per case per batch, a case opened earlier in
// the batch counts for one-case-per-period, a rejected edit leaves the case as it was, and
// an unflushed batch writes nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "alur/shared/clock.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/batch_state.h"
#include "alur/sync/memory_state.h"

namespace alur::sync {
namespace {

using nlohmann::json;

constexpr Millis kNow = 1780000000000;  // 2026-05-28

// A MemoryState that counts the cases written to it.
class CountingStore final : public StateAccess {
 public:
  CountingStore() {
    Org org;
    org.unit = "Dinas Uji";
    org.bidang = {{"koperasi", "Bidang Koperasi"}};
    org.people = {{"sekre", "Sekretaris", {{"sekretaris", std::nullopt}}, true}};
    inner.set_org(org);
  }
  const Org& org() override { return inner.org(); }
  void set_org(const Org& org) override { inner.set_org(org); }
  std::optional<CaseState> load_case(const std::string& id) override { return inner.load_case(id); }
  void save_case(const CaseState& c) override {
    ++case_writes;
    inner.save_case(c);
  }
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override {
    return inner.case_for_period(sop, period);
  }
  bool has_blob(const std::string& sha) override { return inner.has_blob(sha); }

  MemoryState inner;
  int case_writes = 0;
};

Change change(std::uint64_t counter, std::string record, std::string op, const json& body) {
  Change c;
  c.record = std::move(record);
  c.op = std::move(op);
  c.dot = {"r1", counter};
  c.author = "sekre";
  c.hlc = HybridClock::from_ms(kNow);
  c.body = body.dump();
  return c;
}

// A case opened, a draft revision, and three corrections on it.
std::vector<Change> one_case_batch() {
  std::vector<Change> out;
  out.push_back(change(1, "case/c1", op::kCaseOpen,
                       {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q3"}}));
  out.push_back(change(2, "draft/c1/laporan", op::kDraftRevise,
                       {{"sha256", std::string(64, 'a')},
                        {"size", 3},
                        {"filename", "a.txt"},
                        {"media", "text"},
                        {"parents", json::array()}}));
  for (std::uint64_t k = 3; k <= 5; ++k)
    out.push_back(change(k, "corr/c1/r1:" + std::to_string(k), op::kCorrectionAdd,
                         {{"draft", "laporan"}, {"revision", "r1:2"}, {"text", "periksa"}}));
  return out;
}

TEST(BatchState, SameResultAsDirectWithOneWritePerCase) {
  const auto& templates = TemplateRegistry::builtin();
  CountingStore direct, batched;
  BatchState batch(batched);
  for (const auto& c : one_case_batch()) {
    EXPECT_TRUE(apply_change(direct, templates, c, kNow).ok()) << c.id();
    EXPECT_TRUE(apply_change(batch, templates, c, kNow).ok()) << c.id();
  }
  EXPECT_EQ(batched.case_writes, 0);  // nothing written before the flush
  batch.flush();
  EXPECT_EQ(batched.case_writes, 1);
  EXPECT_EQ(direct.case_writes, 5);
  ASSERT_TRUE(batched.load_case("c1"));
  EXPECT_EQ(case_to_json(*batched.load_case("c1")), case_to_json(*direct.load_case("c1")));
  EXPECT_EQ(batched.load_case("c1")->corrections.size(), 3u);
}

TEST(BatchState, CaseOpenedEarlierInTheBatchHoldsItsPeriod) {
  CountingStore store;
  BatchState batch(store);
  const auto& templates = TemplateRegistry::builtin();
  json body = {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q3"}};
  ASSERT_TRUE(apply_change(batch, templates, change(1, "case/c1", op::kCaseOpen, body), kNow).ok());
  Verdict second = apply_change(batch, templates, change(2, "case/c2", op::kCaseOpen, body), kNow);
  EXPECT_EQ(second.code, "case_exists");
  batch.flush();
  EXPECT_TRUE(store.load_case("c1"));
  EXPECT_FALSE(store.load_case("c2"));
}

// A correction or revision takes the batch's parsed case instead of copying it: one that
// is rejected (or whose body throws) must hand the case back as it was, or every later
// change of the batch would see the case gone or half-edited.
TEST(BatchState, RejectedEditLeavesTheCaseAsItWas) {
  CountingStore direct, batched;
  BatchState batch(batched);
  const auto& templates = TemplateRegistry::builtin();
  auto changes = one_case_batch();
  std::vector<Change> bad = {
      change(6, "corr/c1/r1:6", op::kCorrectionAdd,
             {{"draft", "laporan"}, {"revision", "r1:99"}, {"text", "revisi tak ada"}}),
      change(7, "corr/c1/r1:7", op::kCorrectionAdd,
             {{"draft", "laporan"}, {"revision", "r1:2"}, {"text", ""}}),
      change(8, "draft/c1/laporan", op::kDraftRevise,
             {{"sha256", std::string(64, 'b')}, {"size", "bukan angka"}, {"parents", json::array()}}),
      change(9, "corr/c1/r1:3", op::kCorrectionStatus, {{"status", "selesai"}})};
  changes.insert(changes.begin() + 3, bad.begin(), bad.end());  // between the corrections
  for (const auto& c : changes) {
    Verdict d = apply_change(direct, templates, c, kNow);
    Verdict b = apply_change(batch, templates, c, kNow);
    EXPECT_EQ(b.code, d.code) << c.id();
  }
  batch.flush();
  ASSERT_TRUE(batched.load_case("c1"));
  EXPECT_EQ(case_to_json(*batched.load_case("c1")), case_to_json(*direct.load_case("c1")));
  EXPECT_EQ(batched.load_case("c1")->corrections.size(), 3u);
  EXPECT_EQ(batched.load_case("c1")->drafts.at("laporan").revisions.size(), 1u);
}

TEST(BatchState, UnflushedBatchWritesNoCase) {
  CountingStore store;
  {
    BatchState batch(store);
    for (const auto& c : one_case_batch())
      ASSERT_TRUE(apply_change(batch, TemplateRegistry::builtin(), c, kNow).ok());
  }
  EXPECT_EQ(store.case_writes, 0);
  EXPECT_FALSE(store.load_case("c1"));
}

// MemoryState (verify's replay) lends a case for an edit as a batch does, instead of
// copying it twice per change: the same case as through a store that copies (CountingStore
// implements only load and save), rejected edits included, and a case lent reads as absent.
TEST(MemoryState, LendsACaseForAnEditWithTheSameResultAsACopy) {
  CountingStore copying;
  MemoryState lending;
  lending.set_org(copying.org());
  const auto& templates = TemplateRegistry::builtin();
  auto changes = one_case_batch();
  changes.insert(changes.begin() + 3,
                 change(6, "corr/c1/r1:6", op::kCorrectionAdd,
                        {{"draft", "laporan"}, {"revision", "r1:99"}, {"text", "revisi tak ada"}}));
  for (const auto& c : changes)
    EXPECT_EQ(apply_change(lending, templates, c, kNow).code,
              apply_change(copying, templates, c, kNow).code)
        << c.id();
  ASSERT_TRUE(lending.load_case("c1"));
  EXPECT_EQ(case_to_json(*lending.load_case("c1")), case_to_json(*copying.load_case("c1")));
  EXPECT_EQ(lending.cases().at("c1").corrections.size(), 3u);

  auto lent = lending.take_case("c1");
  ASSERT_TRUE(lent);
  EXPECT_FALSE(lending.load_case("c1"));
  EXPECT_FALSE(lending.take_case("c1"));
  lending.return_case(std::move(*lent));
  ASSERT_TRUE(lending.load_case("c1"));
  EXPECT_EQ(case_to_json(*lending.load_case("c1")), case_to_json(*copying.load_case("c1")));
}

// verify's comparison of a stored case with its replay: the canonical text is the replay's
// without parsing; any other text is compared as JSON; a body that is not a case, or a case
// no change opened, is never "the same".
TEST(MemoryState, AStoredCaseIsTheReplaysOnlyWhenItsJsonIs) {
  MemoryState replay;
  replay.set_org(CountingStore().org());
  for (const auto& c : one_case_batch())
    ASSERT_TRUE(apply_change(replay, TemplateRegistry::builtin(), c, kNow).ok()) << c.id();
  const CaseState& c1 = replay.cases().at("c1");
  const Org& org = replay.org();

  StoredCaseCheck canonical = check_stored_case(case_json_text(c1), &c1, org);
  EXPECT_TRUE(canonical.same);
  EXPECT_TRUE(canonical.readable);
  EXPECT_TRUE(canonical.signatures.empty());
  // Another spelling of the same JSON (indented): compared as a tree, still the same.
  EXPECT_TRUE(check_stored_case(case_to_json(c1).dump(2), &c1, org).same);

  CaseState edited = c1;
  edited.corrections.erase(edited.corrections.begin());
  StoredCaseCheck differs = check_stored_case(case_json_text(edited), &c1, org);
  EXPECT_FALSE(differs.same);
  EXPECT_TRUE(differs.readable);

  StoredCaseCheck garbage = check_stored_case("{\"id\": \"c1\", rusak", &c1, org);
  EXPECT_FALSE(garbage.same);
  EXPECT_FALSE(garbage.readable);
  EXPECT_FALSE(garbage.unreadable.empty());

  EXPECT_FALSE(check_stored_case(case_json_text(c1), nullptr, org).same);
}

}  // namespace
}  // namespace alur::sync
