// Tests of the case rules (apply_change): the LAKIP SOP end to end, who may act when,
// returns and rounds, stale paraf, the merge rules of dispositions and corrections, and
// determinism — all in memory, with a fake commit clock.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "alur/shared/clock.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/case_state.h"
#include "alur/sync/change.h"
#include "alur/sync/messages.h"
#include "common/signing.h"

namespace alur::sync {
namespace {

using nlohmann::json;

constexpr const char* kCase = "5e0c1d2a3b4c5d6e";
constexpr Millis kStart = 1780000000000;  // 2026-05-28

// The state a server or replica keeps, in memory.
class MemoryState : public StateAccess {
 public:
  const Org& org() override { return org_; }
  void set_org(const Org& org) override {
    org_ = org;
    ++writes;
  }
  std::optional<CaseState> load_case(const std::string& id) override {
    auto it = cases.find(id);
    if (it == cases.end()) return std::nullopt;
    return it->second;
  }
  void save_case(const CaseState& c) override {
    cases[c.id] = c;
    ++writes;
  }
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override {
    for (const auto& [id, c] : cases)
      if (c.sop == sop && c.period == period) return id;
    return std::nullopt;
  }
  bool has_blob(const std::string& sha256_hex) override { return blobs.count(sha256_hex) > 0; }

  // Everything stored, as one comparable string.
  std::string dump() const {
    json j;
    to_json(j["org"], org_);
    j["cases"] = json::object();
    for (const auto& [id, c] : cases) j["cases"][id] = case_to_json(c);
    return j.dump();
  }

  Org org_;
  std::map<std::string, CaseState> cases;
  std::set<std::string> blobs;
  int writes = 0;
};

Org test_org() {
  Org org;
  org.unit = "Dinas Koperasi, Usaha Kecil dan Menengah";
  org.bidang = {
      {"koperasi", "Bidang Koperasi"}, {"ukm", "Bidang UKM"}, {"pemasaran", "Bidang Pemasaran"}};
  auto person = [](std::string user, std::string role, std::optional<std::string> bidang = {}) {
    return Person{user, "Nama " + user, {RoleGrant{role, bidang}}, true};
  };
  org.people = {person("sekdis", "sekretaris"),           person("kadis", "kadis"),
                person("kasubag", "kasubag_kpe"),         person("pelaksana", "pelaksana_kpe"),
                person("kabid_kop", "kabid", "koperasi"), person("kabid_ukm", "kabid", "ukm"),
                person("kabid_pem", "kabid", "pemasaran")};
  return org;
}

const std::vector<std::pair<std::string, std::string>> kKabid = {
    {"koperasi", "kabid_kop"}, {"ukm", "kabid_ukm"}, {"pemasaran", "kabid_pem"}};

struct Committed {
  Change change;
  Millis at;
};

#define EXPECT_ACCEPTED(expr)                                               \
  do {                                                                      \
    Verdict v_ = (expr);                                                    \
    EXPECT_TRUE(v_.ok()) << #expr << ": " << v_.code << ": " << v_.message; \
  } while (0)
#define ASSERT_ACCEPTED(expr)                                               \
  do {                                                                      \
    Verdict v_ = (expr);                                                    \
    ASSERT_TRUE(v_.ok()) << #expr << ": " << v_.code << ": " << v_.message; \
  } while (0)
#define EXPECT_REJECTED(expr, reason)                          \
  do {                                                         \
    Verdict v_ = (expr);                                       \
    EXPECT_EQ(v_.code, reason) << #expr << ": " << v_.message; \
    EXPECT_FALSE(v_.message.empty());                          \
  } while (0)

class RulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json org;
    to_json(org, test_org());
    Change c = make(kServerReplica, "system", op::kOrgSet, "org", org);
    ASSERT_ACCEPTED(apply(c));
    for (const auto& p : test_org().people)  // everyone's personal signing key
      if (test_org().is_member(p.username))
        ASSERT_ACCEPTED(submit(p.username, op::kKeyAdd, alur::testing::key_record(p.username),
                             alur::testing::key_add_body(p.username)));
  }

  // A change by `author` from `replica`: the next counter of that replica, its hash chain,
  // and an HLC stamp from the fake clock.
  Change make(const std::string& replica, const std::string& author, const std::string& op_name,
              const std::string& record, const json& body, VersionVector context = {}) {
    Change c;
    c.record = record;
    c.op = op_name;
    c.dot = {replica, ++counters_[replica]};
    c.context = std::move(context);
    c.author = author;
    c.hlc = HybridClock::from_ms(clock_ + 1) + counters_[replica];
    c.body = body.dump();
    c.prev = heads_[replica];
    heads_[replica] = c.hash();
    last = c;
    return c;
  }

  // Commits a change at the next tick of the commit clock, as the server would.
  Verdict apply(const Change& c, ApplyOptions options = {}) {
    clock_ += 60 * 1000;
    Verdict v = apply_change(state, templates, c, clock_, options);
    if (v.ok()) log.push_back({c, clock_});
    return v;
  }

  Verdict submit(const std::string& author, const std::string& op_name, const std::string& record,
                 const json& body, VersionVector context = {}) {
    return apply(make("r-" + author, author, op_name, record, body, std::move(context)));
  }

  Verdict open(const std::string& id = kCase, const std::string& period = "2026-Q3",
               const std::string& author = "sekdis") {
    return submit(author, op::kCaseOpen, "case/" + id,
                  {{"sop", "LAKIP"}, {"version", 1}, {"period", period}});
  }

  const CaseState& kase() { return state.cases.at(kCase); }
  const TaskState& task(const std::string& key) {
    const TaskState* t = kase().task(key);
    EXPECT_NE(t, nullptr) << key;
    static const TaskState none;
    return t ? *t : none;
  }
  std::string task_record(const std::string& key) {
    return std::string("task/") + kCase + "/" + key;
  }

  // A revision body whose blob the server has.
  json revision(const std::string& content, std::vector<std::string> parents = {}) {
    std::string sha = crypto::sha256_hex(content);
    state.blobs.insert(sha);
    return {{"sha256", sha},
            {"size", content.size()},
            {"filename", "x.txt"},
            {"media", "text"},
            {"parents", parents}};
  }

  // Completes a task with the task's current round unless the body names one.
  Verdict complete(const std::string& author, const std::string& key, json body = json::object(),
                   const std::string& replica = "") {
    if (!body.contains("round"))
      body["round"] = state.cases.count(kCase) && kase().task(key) ? kase().task(key)->round : 0;
    Change c = make(replica.empty() ? "r-" + author : replica, author, op::kTaskComplete,
                    task_record(key), body);
    alur::testing::sign_if_approval(c, state, templates);  // a paraf/ttd is signed
    heads_[c.dot.replica] = c.hash();
    last = c;
    return apply(c);
  }

  Verdict paraf(const std::string& author, const std::string& key, const std::string& rev,
                std::optional<std::string> sha = std::nullopt) {
    if (!sha) {
      const auto& d = kase().drafts.at("capaian-kinerja-final");
      auto it = d.revisions.find(rev);
      sha = it == d.revisions.end() ? std::string(64, '0') : it->second.sha256;
    }
    return complete(author, key, {{"bind_revision", rev}, {"bind_sha256", *sha}});
  }

  Verdict return_to(const std::string& author, const std::string& from_key, int to_step,
                    std::optional<int> round = std::nullopt) {
    return submit(author, op::kCaseReturn, task_record(from_key),
                  {{"round", round ? *round : task(from_key).round},
                   {"to_step", to_step},
                   {"reason", "Data bidang belum lengkap"}});
  }

  Verdict revise(const std::string& author, const std::string& draft, const json& rev,
                 const std::string& replica = "") {
    return apply(make(replica.empty() ? "r-" + author : replica, author, op::kDraftRevise,
                      std::string("draft/") + kCase + "/" + draft, rev));
  }

  Verdict add_correction(const std::string& author, const std::string& draft,
                         const std::string& rev, const std::string& text) {
    Change c = make("r-" + author, author, op::kCorrectionAdd, "",
                    {{"draft", draft}, {"revision", rev}, {"text", text}});
    c.record = std::string("corr/") + kCase + "/" + c.id();
    last = c;
    return apply(c);
  }

  Verdict correction_status(const std::string& author, const std::string& id,
                            const std::string& status, VersionVector context,
                            const std::string& replica = "") {
    return apply(make(replica.empty() ? "r-" + author : replica, author, op::kCorrectionStatus,
                      std::string("corr/") + kCase + "/" + id, {{"status", status}},
                      std::move(context)));
  }

  Verdict set_disposition(const std::string& author, const std::string& key,
                          const std::string& text, VersionVector context,
                          const std::string& replica = "") {
    return apply(make(replica.empty() ? "r-" + author : replica, author, op::kDispositionSet,
                      std::string("disp/") + kCase + "/" + key, {{"text", text}},
                      std::move(context)));
  }

  // Completes steps 1..last of the LAKIP SOP in order, remembering the revisions written.
  void complete_through(int last_step) {
    for (int step = 1; step <= last_step; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      switch (step) {
        case 1:
          EXPECT_ACCEPTED(complete("sekdis", "1", {{"text", "Laksanakan rapat koordinasi LAKIP"}}));
          disposition1 = last.dot;
          break;
        case 2:
          for (const auto& [code, kabid] : kKabid)
            EXPECT_ACCEPTED(complete(kabid, "2." + code, {{"text", "Siapkan capaian " + code}}));
          break;
        case 3:
          EXPECT_ACCEPTED(complete("kasubag", "3",
                                   {{"text", "Bahan rapat"}, {"revision", revision("persiapan")}}));
          break;
        case 4:
          EXPECT_ACCEPTED(complete("sekdis", "4", {{"text", "Notulen rapat koordinasi"}}));
          break;
        case 5:
          EXPECT_ACCEPTED(complete("kasubag", "5", {{"text", "Telaah: lengkapi IKU"}}));
          break;
        case 6:
          EXPECT_ACCEPTED(complete("pelaksana", "6", {{"revision", revision("draft lakip v1")}}));
          rev6 = last.id();
          break;
        case 7:
          EXPECT_ACCEPTED(
              complete("kasubag", "7", {{"text", "Perbaiki tabel 3"}, {"on_revision", rev6}}));
          correction7 = last.id();
          break;
        case 8:
          EXPECT_ACCEPTED(complete("sekdis", "8", {{"text", "Notulen pembahasan"}}));
          break;
        case 9:
          EXPECT_ACCEPTED(complete("kasubag", "9", {{"text", "Susun LAKIP final"}}));
          break;
        case 10:
          EXPECT_ACCEPTED(
              complete("pelaksana", "10", {{"revision", revision("capaian final v1")}}));
          rev10 = last.id();
          break;
        case 11:
          EXPECT_ACCEPTED(paraf("kasubag", "11", rev10));
          break;
        case 12:
          EXPECT_ACCEPTED(paraf("sekdis", "12", rev10));
          break;
        case 13:
          EXPECT_ACCEPTED(paraf("kadis", "13", rev10));
          break;
      }
    }
  }

  MemoryState state;
  const TemplateRegistry& templates = TemplateRegistry::builtin();
  std::vector<Committed> log;  // accepted changes with their commit times
  Change last;                 // the last change made
  Dot disposition1;
  std::string rev6, correction7, rev10;

 private:
  std::map<std::string, std::uint64_t> counters_;
  std::map<std::string, std::string> heads_;
  Millis clock_ = kStart;
};

// --- the SOP end to end ---------------------------------------------------------------------

TEST_F(RulesTest, WholeLakipQuarterCompletes) {
  ASSERT_ACCEPTED(open());
  const CaseState& c = kase();
  EXPECT_EQ(c.sop, "LAKIP");
  EXPECT_EQ(c.period, "2026-Q3");
  EXPECT_EQ(c.opened_by, "sekdis");
  EXPECT_EQ(c.state, "open");
  EXPECT_EQ(c.tasks.size(), 12u + kKabid.size());
  EXPECT_EQ(task("1").state, "ready");
  for (const auto& t : c.tasks) {
    if (t.key == "1") continue;
    EXPECT_EQ(t.state, "pending") << t.key;
  }

  complete_through(13);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(kase().state, "completed");
  for (const auto& t : kase().tasks) {
    EXPECT_EQ(t.state, "done") << t.key;
    EXPECT_FALSE(t.by.empty()) << t.key;
    EXPECT_FALSE(t.change.empty()) << t.key;
  }
  // Two paraf and one signature, all bound to the final revision's content.
  const auto& approvals = kase().approvals;
  ASSERT_EQ(approvals.size(), 3u);
  std::string sha = kase().drafts.at("capaian-kinerja-final").revisions.at(rev10).sha256;
  EXPECT_EQ(sha, crypto::sha256_hex("capaian final v1"));
  std::vector<std::string> kinds, by;
  for (const auto& a : approvals) {
    kinds.push_back(a.kind);
    by.push_back(a.by);
    EXPECT_EQ(a.revision, rev10);
    EXPECT_EQ(a.sha256, sha);
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"paraf", "paraf", "tanda_tangan"}));
  EXPECT_EQ(by, (std::vector<std::string>{"kasubag", "sekdis", "kadis"}));
  EXPECT_EQ(kase().corrections.size(), 1u);
  EXPECT_EQ(kase().corrections.at(correction7).revision, rev6);

  // A completed case takes no more actions.
  EXPECT_REJECTED(complete("kadis", "13", {{"round", 0}}), "case_closed");
  EXPECT_REJECTED(return_to("kadis", "13", 12, 0), "case_closed");
  EXPECT_REJECTED(revise("pelaksana", "capaian-kinerja-final", revision("late", {rev10})),
                  "case_closed");
}

TEST_F(RulesTest, StepTwoHasOneTaskPerBidangAndStepFourWaitsForAllOfThemAndStepThree) {
  ASSERT_ACCEPTED(open());
  std::set<std::string> step2;
  for (const auto& t : kase().tasks)
    if (t.step == 2) {
      step2.insert(t.key);
      ASSERT_TRUE(t.bidang.has_value());
      EXPECT_EQ(t.key, "2." + *t.bidang);
      EXPECT_EQ(t.role, "kabid");
    }
  EXPECT_EQ(step2, (std::set<std::string>{"2.koperasi", "2.ukm", "2.pemasaran"}));

  complete_through(1);
  for (const auto& key : step2) EXPECT_EQ(task(key).state, "ready");
  EXPECT_EQ(task("3").state, "ready");
  EXPECT_EQ(task("4").state, "pending");

  EXPECT_ACCEPTED(complete("kasubag", "3", {{"text", "Bahan rapat"}}));
  EXPECT_ACCEPTED(complete("kabid_kop", "2.koperasi", {{"text", "Siapkan"}}));
  EXPECT_ACCEPTED(complete("kabid_ukm", "2.ukm", {{"text", "Siapkan"}}));
  EXPECT_EQ(task("4").state, "pending") << "one bidang has not given its direction";
  EXPECT_REJECTED(complete("sekdis", "4", {{"text", "Notulen"}}), "not_ready");

  EXPECT_ACCEPTED(complete("kabid_pem", "2.pemasaran", {{"text", "Siapkan"}}));
  EXPECT_EQ(task("4").state, "ready");
  EXPECT_GT(task("4").ready_at, 0);
  EXPECT_ACCEPTED(complete("sekdis", "4", {{"text", "Notulen"}}));
}

TEST_F(RulesTest, StepFourWaitsForStepThreeToo) {
  ASSERT_ACCEPTED(open());
  complete_through(2);
  EXPECT_EQ(task("4").state, "pending");
  EXPECT_REJECTED(complete("sekdis", "4", {{"text", "Notulen"}}), "not_ready");
  EXPECT_ACCEPTED(complete("kasubag", "3", {{"text", "Bahan rapat"}}));
  EXPECT_EQ(task("4").state, "ready");
}

// --- who may act, and when ------------------------------------------------------------------

TEST_F(RulesTest, WrongRoleIsRejected) {
  ASSERT_ACCEPTED(open());
  EXPECT_REJECTED(complete("pelaksana", "1", {{"text", "x"}}), "wrong_role");
  EXPECT_REJECTED(complete("kadis", "1", {{"text", "x"}}), "wrong_role");
  complete_through(1);
  // The kabid of another bidang may not act on this bidang's step-2 task.
  EXPECT_REJECTED(complete("kabid_ukm", "2.koperasi", {{"text", "x"}}), "wrong_role");
  EXPECT_REJECTED(complete("sekdis", "2.koperasi", {{"text", "x"}}), "wrong_role");
  EXPECT_EQ(task("2.koperasi").state, "ready");
  EXPECT_ACCEPTED(complete("kabid_kop", "2.koperasi", {{"text", "x"}}));
  // Only an opener role may open a case.
  EXPECT_REJECTED(open("another", "2026-Q4", "pelaksana"), "wrong_role");
}

TEST_F(RulesTest, OutOfOrderIsNotReady) {
  ASSERT_ACCEPTED(open());
  EXPECT_REJECTED(complete("kasubag", "5", {{"text", "x"}}), "not_ready");
  EXPECT_REJECTED(complete("kabid_kop", "2.koperasi", {{"text", "x"}}), "not_ready");
  EXPECT_REJECTED(complete("kasubag", "3", {{"text", "x"}}), "not_ready");
  EXPECT_EQ(task("5").state, "pending");
}

TEST_F(RulesTest, DoubleCompletionIsAlreadyDone) {
  ASSERT_ACCEPTED(open());
  complete_through(1);
  EXPECT_REJECTED(complete("sekdis", "1", {{"text", "lagi"}}), "already_done");
  // From another device of the same person, too.
  EXPECT_REJECTED(complete("sekdis", "1", {{"text", "lagi"}}, "r-sekdis-laptop"), "already_done");
  EXPECT_EQ(task("1").text, "Laksanakan rapat koordinasi LAKIP");
}

// --- returns and rounds ---------------------------------------------------------------------

TEST_F(RulesTest, ReturnFromSevenToFiveResetsFiveToThirteen) {
  ASSERT_ACCEPTED(open());
  complete_through(6);
  ASSERT_EQ(task("7").state, "ready");
  ASSERT_ACCEPTED(return_to("kasubag", "7", 5));

  for (const auto& t : kase().tasks) {
    if (t.step > 4) continue;
    EXPECT_EQ(t.state, "done") << t.key;
    EXPECT_EQ(t.round, 0) << t.key;
  }
  EXPECT_EQ(task("5").state, "ready");
  EXPECT_EQ(task("5").round, 1);
  EXPECT_TRUE(task("5").by.empty());
  EXPECT_TRUE(task("5").text.empty());
  for (int step = 6; step <= 13; ++step)
    EXPECT_EQ(task(std::to_string(step)).state, "pending") << step;
  // Every task that had been acted on or was open moves to the next round.
  EXPECT_EQ(task("6").round, 1);
  EXPECT_EQ(task("7").round, 1);
  EXPECT_TRUE(task("6").revision.empty());
  ASSERT_EQ(kase().returns.size(), 1u);
  EXPECT_EQ(kase().returns[0].from_task, "7");
  EXPECT_EQ(kase().returns[0].to_step, 5);
  EXPECT_EQ(kase().returns[0].by, "kasubag");
  EXPECT_EQ(kase().state, "open");

  // A completion written before the return (round 0) is stale.
  EXPECT_REJECTED(complete("kasubag", "5", {{"round", 0}, {"text", "Telaah lama"}}), "stale_round");
  EXPECT_ACCEPTED(complete("kasubag", "5", {{"round", 1}, {"text", "Telaah baru"}}));
  EXPECT_EQ(task("5").text, "Telaah baru");
  EXPECT_EQ(task("6").state, "ready");
  EXPECT_REJECTED(complete("pelaksana", "6", {{"round", 0}, {"revision", revision("v2", {rev6})}}),
                  "stale_round");

  // The rest of the quarter still completes.
  EXPECT_ACCEPTED(complete("pelaksana", "6", {{"revision", revision("v2", {rev6})}}));
  std::string rev6b = last.id();
  EXPECT_ACCEPTED(complete("kasubag", "7", {{"text", "OK"}, {"on_revision", rev6b}}));
  EXPECT_ACCEPTED(complete("sekdis", "8", {{"text", "Notulen"}}));
  EXPECT_ACCEPTED(complete("kasubag", "9", {{"text", "Susun"}}));
  EXPECT_ACCEPTED(complete("pelaksana", "10", {{"revision", revision("final")}}));
  rev10 = last.id();
  EXPECT_ACCEPTED(paraf("kasubag", "11", rev10));
  EXPECT_ACCEPTED(paraf("sekdis", "12", rev10));
  EXPECT_ACCEPTED(paraf("kadis", "13", rev10));
  EXPECT_EQ(kase().state, "completed");
}

TEST_F(RulesTest, ReturnToANonAncestorOrLaterStepIsBadReturn) {
  ASSERT_ACCEPTED(open());
  complete_through(6);
  EXPECT_REJECTED(return_to("kasubag", "7", 8), "bad_return");   // later
  EXPECT_REJECTED(return_to("kasubag", "7", 7), "bad_return");   // itself
  EXPECT_REJECTED(return_to("kasubag", "7", 99), "bad_return");  // no such step
  EXPECT_REJECTED(return_to("kasubag", "7", 0), "bad_return");
  EXPECT_EQ(task("7").state, "ready");
  EXPECT_TRUE(kase().returns.empty());
}

TEST_F(RulesTest, ReturnToAStepThatIsNotAPredecessorIsBadReturn) {
  ASSERT_ACCEPTED(open());
  complete_through(1);
  EXPECT_ACCEPTED(complete("kabid_kop", "2.koperasi", {{"text", "x"}}));
  // Step 3 follows step 1 only; step 2 is earlier but not its ancestor.
  EXPECT_REJECTED(return_to("kasubag", "3", 2), "bad_return");
  // Step 1 is.
  EXPECT_ACCEPTED(return_to("kasubag", "3", 1));
  EXPECT_EQ(task("1").state, "ready");
  EXPECT_EQ(task("1").round, 1);
  EXPECT_EQ(task("2.koperasi").state, "pending");
  EXPECT_EQ(task("2.koperasi").round, 1);
  EXPECT_EQ(task("2.ukm").round, 1);  // was ready
}

TEST_F(RulesTest, ReturnNeedsTheRoleAReasonAndTheCurrentRound) {
  ASSERT_ACCEPTED(open());
  complete_through(6);
  EXPECT_REJECTED(return_to("pelaksana", "7", 5), "wrong_role");
  EXPECT_REJECTED(return_to("kasubag", "7", 5, 1), "stale_round");
  EXPECT_REJECTED(
      submit("kasubag", op::kCaseReturn, task_record("7"), {{"round", 0}, {"to_step", 5}}),
      "bad_action");
  EXPECT_REJECTED(return_to("sekdis", "8", 5), "not_ready");
  EXPECT_REJECTED(return_to("pelaksana", "6", 5), "already_done");
}

// --- drafts, paraf and signatures -----------------------------------------------------------

TEST_F(RulesTest, ParafOnARevisionThatIsNotTheOnlyHeadIsStale) {
  ASSERT_ACCEPTED(open());
  complete_through(10);
  ASSERT_FALSE(HasFailure());
  // Two people revise the final draft concurrently from the same parent: two heads.
  ASSERT_ACCEPTED(revise("pelaksana", "capaian-kinerja-final", revision("final, edit A", {rev10})));
  std::string a = last.id();
  ASSERT_ACCEPTED(revise("kasubag", "capaian-kinerja-final", revision("final, edit B", {rev10})));
  std::string b = last.id();
  auto heads = kase().drafts.at("capaian-kinerja-final").heads();
  EXPECT_EQ(std::set<std::string>(heads.begin(), heads.end()), (std::set<std::string>{a, b}));

  EXPECT_REJECTED(paraf("kasubag", "11", rev10), "stale_revision");
  EXPECT_REJECTED(paraf("kasubag", "11", a), "stale_revision");
  EXPECT_REJECTED(paraf("kasubag", "11", b), "stale_revision");
  EXPECT_EQ(task("11").state, "ready");
  EXPECT_TRUE(kase().approvals.empty());

  // A merge revision naming both heads as parents leaves one head.
  ASSERT_ACCEPTED(revise("pelaksana", "capaian-kinerja-final", revision("final, merged", {a, b})));
  std::string merged = last.id();
  EXPECT_EQ(kase().drafts.at("capaian-kinerja-final").heads(), std::vector<std::string>{merged});
  // The content hash must be the head's.
  EXPECT_REJECTED(paraf("kasubag", "11", merged, crypto::sha256_hex("final, edit A")),
                  "stale_revision");
  EXPECT_ACCEPTED(paraf("kasubag", "11", merged));
  ASSERT_EQ(kase().approvals.size(), 1u);
  EXPECT_EQ(kase().approvals[0].revision, merged);
  EXPECT_EQ(kase().approvals[0].sha256, crypto::sha256_hex("final, merged"));
  EXPECT_EQ(task("11").revision, merged);
}

TEST_F(RulesTest, SignatureOnARevisionSupersededAfterTheParafIsStale) {
  ASSERT_ACCEPTED(open());
  complete_through(12);
  ASSERT_ACCEPTED(revise("pelaksana", "capaian-kinerja-final", revision("typo fixed", {rev10})));
  std::string fixed = last.id();
  EXPECT_REJECTED(paraf("kadis", "13", rev10), "stale_revision");
  EXPECT_ACCEPTED(paraf("kadis", "13", fixed));
  EXPECT_EQ(kase().state, "completed");
}

TEST_F(RulesTest, ReturnBeforeAParafSupersedesItButKeepsItInTheRecord) {
  ASSERT_ACCEPTED(open());
  complete_through(11);
  ASSERT_ACCEPTED(return_to("sekdis", "12", 10));
  ASSERT_EQ(kase().approvals.size(), 1u);
  EXPECT_TRUE(kase().approvals[0].superseded);
  EXPECT_EQ(task("11").state, "pending");
  ASSERT_ACCEPTED(
      complete("pelaksana", "10", {{"revision", revision("capaian final v2", {rev10})}}));
  std::string v2 = last.id();
  EXPECT_ACCEPTED(paraf("kasubag", "11", v2));
  ASSERT_EQ(kase().approvals.size(), 2u);
  EXPECT_FALSE(kase().approvals[1].superseded);
  EXPECT_EQ(kase().approvals[1].revision, v2);
}

TEST_F(RulesTest, RevisionRulesAndReasons) {
  ASSERT_ACCEPTED(open());
  complete_through(5);
  // Step 6 needs a file.
  EXPECT_REJECTED(complete("pelaksana", "6", {{"text", "no file"}}), "bad_action");
  json bad_sha = revision("x");
  bad_sha["sha256"] = "ABC";
  EXPECT_REJECTED(complete("pelaksana", "6", {{"revision", bad_sha}}), "bad_body");
  EXPECT_REJECTED(complete("pelaksana", "6", {{"revision", revision("x", {"nobody:1"})}}),
                  "unknown_revision");
  EXPECT_REJECTED(complete("pelaksana", "6", {{"revision", "not an object"}}), "bad_body");
  EXPECT_REJECTED(revise("tamu", "draft-lakip", revision("x")), "unknown_user");
  EXPECT_REJECTED(revise("kabid_kop", std::string(65, 'd'), revision("x")), "bad_body");
}

TEST_F(RulesTest, BlobMissingWhenTheServerChecksBlobs) {
  ASSERT_ACCEPTED(open());
  complete_through(5);
  json rev = revision("draft lakip v1");
  state.blobs.clear();
  EXPECT_REJECTED(complete("pelaksana", "6", {{"revision", rev}}), "blob_missing");
  EXPECT_EQ(task("6").state, "ready");
  EXPECT_REJECTED(revise("pelaksana", "catatan", rev), "blob_missing");
  // A replica replaying the committed log may fetch the blob later.
  EXPECT_ACCEPTED(apply(make("r-pelaksana", "pelaksana", op::kTaskComplete, task_record("6"),
                             {{"round", 0}, {"revision", rev}}),
                        ApplyOptions{.check_blobs = false}));
  EXPECT_EQ(task("6").state, "done");
}

// --- dispositions: multi-value register -------------------------------------------------------

TEST_F(RulesTest, ConcurrentDispositionWritesBecomeSiblingsUntilRewritten) {
  ASSERT_ACCEPTED(open());
  complete_through(1);
  const std::string key = "1";
  ASSERT_EQ(kase().dispositions.count(key), 1u);
  ASSERT_EQ(kase().dispositions.at(key).value.siblings().size(), 1u);
  VersionVector seen;
  seen.add(disposition1);

  // The sekretaris edits on two devices that had both seen the first instruction.
  EXPECT_ACCEPTED(set_disposition("sekdis", key, "Rapat Senin", seen, "r-sekdis"));
  EXPECT_ACCEPTED(set_disposition("sekdis", key, "Rapat Selasa", seen, "r-sekdis-laptop"));
  const auto& d = kase().dispositions.at(key);
  ASSERT_EQ(d.value.siblings().size(), 2u);
  EXPECT_TRUE(d.value.in_conflict());
  std::set<std::string> texts;
  for (const auto& s : d.value.siblings()) texts.insert(s.value.text);
  EXPECT_EQ(texts, (std::set<std::string>{"Rapat Senin", "Rapat Selasa"}));
  EXPECT_EQ(case_to_json(kase())["dispositions"][key]["siblings"].size(), 2u);

  // A write that had seen both resolves the conflict.
  EXPECT_ACCEPTED(set_disposition("sekdis", key, "Rapat Rabu", d.value.vv(), "r-sekdis-laptop"));
  ASSERT_EQ(kase().dispositions.at(key).value.siblings().size(), 1u);
  EXPECT_EQ(kase().dispositions.at(key).value.siblings()[0].value.text, "Rapat Rabu");
  EXPECT_EQ(kase().dispositions.at(key).value.siblings()[0].value.by, "sekdis");
}

TEST_F(RulesTest, DispositionWritesNeedTheTaskRole) {
  ASSERT_ACCEPTED(open());
  complete_through(2);
  VersionVector none;
  EXPECT_REJECTED(set_disposition("kabid_ukm", "2.koperasi", "x", none), "wrong_role");
  EXPECT_REJECTED(set_disposition("kabid_kop", "1", "x", none), "wrong_role");
  EXPECT_REJECTED(set_disposition("kabid_kop", "2.koperasi", "", none), "bad_action");
  EXPECT_REJECTED(set_disposition("sekdis", "4", "x", none), "unknown_record");
  EXPECT_ACCEPTED(set_disposition("kabid_kop", "2.koperasi", "Revisi arahan",
                                  kase().dispositions.at("2.koperasi").value.vv()));
  EXPECT_EQ(kase().dispositions.at("2.koperasi").value.siblings().size(), 1u);
}

// Pins a bug: after a return, the person who redoes a disposition step has seen the old
// instruction and replaces it; the re-completion must not show a conflict with it.
TEST_F(RulesTest, RedoingADispositionStepAfterAReturnReplacesTheOldInstruction) {
  ASSERT_ACCEPTED(open());
  complete_through(1);
  ASSERT_ACCEPTED(return_to("kasubag", "3", 1));
  ASSERT_EQ(task("1").round, 1);
  ASSERT_ACCEPTED(complete("sekdis", "1", {{"text", "Instruksi yang diperbaiki"}}));
  const auto& d = kase().dispositions.at("1").value;
  EXPECT_FALSE(d.in_conflict()) << "the redone step conflicts with the instruction it replaced";
  ASSERT_FALSE(d.siblings().empty());
  EXPECT_EQ(d.siblings().back().value.text, "Instruksi yang diperbaiki");
}

// --- corrections: a set; resolved vs reopened -> reopened ---------------------------------------

TEST_F(RulesTest, CorrectionResolvedAndReopenedConcurrentlyIsReopened) {
  ASSERT_ACCEPTED(open());
  complete_through(7);
  ASSERT_EQ(kase().corrections.count(correction7), 1u);
  EXPECT_EQ(kase().corrections.at(correction7).state(), "open");
  EXPECT_EQ(kase().corrections.at(correction7).text, "Perbaiki tabel 3");

  EXPECT_ACCEPTED(correction_status("pelaksana", correction7, "resolved", {}));
  EXPECT_ACCEPTED(correction_status("kasubag", correction7, "reopened", {}));
  EXPECT_EQ(kase().corrections.at(correction7).status.siblings().size(), 2u);
  EXPECT_EQ(kase().corrections.at(correction7).state(), "reopened");

  // Someone who saw both marks it resolved: resolved.
  EXPECT_ACCEPTED(correction_status("pelaksana", correction7, "resolved",
                                    kase().corrections.at(correction7).status.vv()));
  EXPECT_EQ(kase().corrections.at(correction7).state(), "resolved");
  // And a later reopen that saw that: reopened.
  EXPECT_ACCEPTED(correction_status("kasubag", correction7, "reopened",
                                    kase().corrections.at(correction7).status.vv()));
  EXPECT_EQ(kase().corrections.at(correction7).state(), "reopened");
  EXPECT_EQ(kase().corrections.at(correction7).status.siblings().size(), 1u);
}

TEST_F(RulesTest, CorrectionResolvedConcurrentlyByBothIsResolved) {
  ASSERT_ACCEPTED(open());
  complete_through(6);
  ASSERT_ACCEPTED(add_correction("kasubag", "draft-lakip", rev6, "Tabel 2 belum lengkap"));
  std::string id = last.id();
  ASSERT_EQ(kase().corrections.count(id), 1u);
  EXPECT_EQ(kase().corrections.at(id).revision, rev6);
  EXPECT_EQ(kase().corrections.at(id).state(), "open");

  EXPECT_ACCEPTED(correction_status("pelaksana", id, "resolved", {}));
  EXPECT_ACCEPTED(correction_status("kasubag", id, "resolved", {}));
  EXPECT_EQ(kase().corrections.at(id).status.siblings().size(), 2u);
  EXPECT_EQ(kase().corrections.at(id).state(), "resolved");
}

TEST_F(RulesTest, CorrectionReasons) {
  ASSERT_ACCEPTED(open());
  complete_through(6);
  EXPECT_REJECTED(add_correction("kasubag", "draft-lakip", "nobody:1", "x"), "unknown_revision");
  EXPECT_REJECTED(add_correction("kasubag", "draft-lakip", rev6, ""), "bad_action");
  EXPECT_REJECTED(add_correction("tamu", "draft-lakip", rev6, "x"), "unknown_user");
  // The record must name the change itself.
  EXPECT_REJECTED(submit("kasubag", op::kCorrectionAdd, std::string("corr/") + kCase + "/other:1",
                         {{"draft", "draft-lakip"}, {"revision", rev6}, {"text", "x"}}),
                  "bad_body");
  EXPECT_REJECTED(correction_status("kasubag", "nobody:1", "resolved", {}), "unknown_record");
  ASSERT_ACCEPTED(add_correction("kasubag", "draft-lakip", rev6, "x"));
  EXPECT_REJECTED(correction_status("kasubag", last.id(), "done", {}), "bad_body");
  // Step 7 pins its correction to a revision of its draft.
  EXPECT_REJECTED(complete("kasubag", "7", {{"text", "x"}, {"on_revision", "nobody:1"}}),
                  "unknown_revision");
  EXPECT_REJECTED(complete("kasubag", "7", {{"on_revision", rev6}}), "bad_action");
}

// --- rejections leave no trace ------------------------------------------------------------------

TEST_F(RulesTest, NothingIsWrittenOnARejection) {
  ASSERT_ACCEPTED(open());
  complete_through(10);
  ASSERT_ACCEPTED(revise("pelaksana", "capaian-kinerja-final", revision("A", {rev10})));
  ASSERT_ACCEPTED(revise("kasubag", "capaian-kinerja-final", revision("B", {rev10})));
  json org;
  to_json(org, test_org());
  std::vector<std::function<Verdict()>> rejected = {
      [&] {
        return complete("pelaksana", "11", {{"text", "x"}});
      },  // wrong_role
      [&] {
        return complete("sekdis", "12", {{"text", "x"}});
      },  // not_ready
      [&] {
        return complete("sekdis", "1", {{"text", "x"}});
      },                                              // already_done
      [&] { return paraf("kasubag", "11", rev10); },  // stale_revision
      [&] {
        return complete("kasubag", "9", {{"round", 1}});
      },                                               // stale_round
      [&] { return return_to("kasubag", "11", 12); },  // bad_return
      [&] {
        return complete("kasubag", "11", {{"text", std::string(70000, 'x')}});
      },  // too_large
      [&] {
        return submit("kasubag", op::kTaskComplete, task_record("11"), json::array({1, 2}));
      },
      [&] { return submit("kasubag", "task.delete", task_record("11"), json::object()); },
      [&] { return submit("tamu", op::kTaskComplete, task_record("11"), json::object()); },
      [&] { return submit("sekdis", op::kOrgSet, "org", org); },               // forbidden_op
      [&] { return open("other-case", "2026-Q3"); },                           // case_exists
      [&] { return set_disposition("kabid_kop", "1", "x", {}); },              // wrong_role
      [&] { return correction_status("kasubag", correction7, "maybe", {}); },  // bad_body
      [&] { return revise("pelaksana", "capaian-kinerja-final", revision("C", {"x:9"})); },
      [&] {
        return apply(make("r-kasubag", "kasubag", op::kTaskComplete, std::string("task/nocase/11"),
                          {{"round", 0}}));
      },
  };
  for (std::size_t i = 0; i < rejected.size(); ++i) {
    std::string before = state.dump();
    int writes = state.writes;
    std::size_t committed = log.size();
    Verdict v = rejected[i]();
    EXPECT_FALSE(v.ok()) << "case " << i;
    EXPECT_EQ(state.writes, writes) << "case " << i << " (" << v.code << ")";
    EXPECT_EQ(state.dump(), before) << "case " << i << " (" << v.code << ")";
    EXPECT_EQ(log.size(), committed);
  }
}

// --- other reason codes
// ---------------------------------------------------------------------------

TEST_F(RulesTest, CaseExistsForASecondCaseOfTheSameSopAndPeriod) {
  ASSERT_ACCEPTED(open());
  EXPECT_REJECTED(open("another-id", "2026-Q3", "kasubag"), "case_exists");
  EXPECT_REJECTED(open(kCase, "2026-Q4"), "case_exists");
  EXPECT_EQ(state.cases.size(), 1u);
  EXPECT_ACCEPTED(open("another-id", "2026-Q4", "kasubag"));
  EXPECT_EQ(state.cases.size(), 2u);
}

TEST_F(RulesTest, OpenCaseReasons) {
  EXPECT_REJECTED(submit("sekdis", op::kCaseOpen, std::string("case/") + kCase,
                         {{"sop", "NOSUCH"}, {"version", 1}, {"period", "2026-Q3"}}),
                  "unknown_sop");
  EXPECT_REJECTED(submit("sekdis", op::kCaseOpen, std::string("case/") + kCase,
                         {{"sop", "LAKIP"}, {"version", 2}, {"period", "2026-Q3"}}),
                  "unknown_sop");
  EXPECT_REJECTED(open(kCase, "2026-Q5"), "bad_period");
  EXPECT_REJECTED(open(std::string(65, 'c')), "bad_body");
  // Found by the rules fuzz target: a byte that is not UTF-8 made the case unprintable as
  // JSON. Spaces and other punctuation are refused too.
  EXPECT_REJECTED(open("\xa4" "C"), "bad_body");
  EXPECT_REJECTED(open("kasus satu"), "bad_body");
  EXPECT_REJECTED(open("kasus\n"), "bad_body");
  EXPECT_REJECTED(open("kasus\"1"), "bad_body");
  EXPECT_REJECTED(submit("sekdis", op::kCaseOpen, "case",
                         {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q3"}}),
                  "bad_body");
  EXPECT_TRUE(state.cases.empty());
}

// Found by the rules fuzz target: a draft named with bytes that are not UTF-8 was accepted
// and made the case unprintable as JSON on every replica. Every record is checked.
TEST_F(RulesTest, RecordsMustBePrintableUtf8) {
  ASSERT_ACCEPTED(open());
  for (const std::string bad : {"cat\x9f\x8b", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                "cat\ttab", "cat\xc2\x85", "\xe2\x82"}) {
    SCOPED_TRACE(json(bad).dump(-1, ' ', true, json::error_handler_t::replace));
    EXPECT_REJECTED(revise("kabid_kop", bad, revision("x")), "bad_body");
  }
  EXPECT_TRUE(kase().drafts.empty());
  // Letters of any language are fine in a draft's name.
  EXPECT_ACCEPTED(revise("kabid_kop", "ringkasan \xc3\xa9ks \xf0\x9f\x93\x84", revision("x")));
  EXPECT_EQ(kase().drafts.size(), 1u);
}

TEST_F(RulesTest, UnknownUserIsRejected) {
  EXPECT_REJECTED(open(kCase, "2026-Q3", "tamu"), "unknown_user");
  ASSERT_ACCEPTED(open());
  EXPECT_REJECTED(complete("tamu", "1", {{"text", "x"}}), "unknown_user");
  // A deactivated person is no longer a member.
  Org org = test_org();
  for (auto& p : org.people)
    if (p.username == "sekdis") p.active = false;
  json j;
  to_json(j, org);
  ASSERT_ACCEPTED(apply(make(kServerReplica, "system", op::kOrgSet, "org", j)));
  EXPECT_REJECTED(complete("sekdis", "1", {{"text", "x"}}), "unknown_user");
}

TEST_F(RulesTest, OrgSetOnlyFromTheServer) {
  Org org = test_org();
  org.people.push_back({"tamu", "Tamu", {RoleGrant{"kadis", std::nullopt}}, true});
  json j;
  to_json(j, org);
  EXPECT_REJECTED(submit("sekdis", op::kOrgSet, "org", j), "forbidden_op");
  EXPECT_EQ(state.org().find("tamu"), nullptr);
  EXPECT_REJECTED(apply(make(kServerReplica, "system", op::kOrgSet, "org", json::array())),
                  "bad_body");
  EXPECT_ACCEPTED(apply(make(kServerReplica, "system", op::kOrgSet, "org", j)));
  EXPECT_NE(state.org().find("tamu"), nullptr);
}

TEST_F(RulesTest, OtherReasonCodes) {
  EXPECT_REJECTED(complete("sekdis", "1", {{"text", "x"}}), "unknown_case");
  ASSERT_ACCEPTED(open());
  EXPECT_REJECTED(complete("sekdis", "99", {{"text", "x"}}), "unknown_task");
  EXPECT_REJECTED(submit("sekdis", "case.delete", std::string("case/") + kCase, json::object()),
                  "unknown_op");
  Change not_json = make("r-sekdis", "sekdis", op::kTaskComplete, task_record("1"), {});
  not_json.body = "{not json";
  EXPECT_REJECTED(apply(not_json), "bad_body");
  Change huge = make("r-sekdis", "sekdis", op::kTaskComplete, task_record("1"), {});
  huge.body = R"({"round":0,"text":")" + std::string(kMaxBodyBytes, 'x') + "\"}";
  EXPECT_REJECTED(apply(huge), "too_large");
  EXPECT_REJECTED(complete("sekdis", "1", {{"text", std::string(kMaxTextBytes + 1, 'x')}}),
                  "too_large");
  EXPECT_REJECTED(complete("sekdis", "1"), "bad_action");  // a disposition needs its text
  EXPECT_REJECTED(complete("sekdis", "1", {{"text", "x"}, {"revision", revision("x")}}),
                  "bad_action");  // step 1 writes no draft
  EXPECT_REJECTED(complete("sekdis", "1", {{"text", "x"}, {"round", 1}}), "stale_round");
  complete_through(10);
  EXPECT_REJECTED(paraf("kasubag", "11", "nobody:1"), "unknown_revision");
}

// Pins a bug: a body field of the wrong JSON type must be rejected with a reason code like
// any other bad body, not escape apply_change as an exception (which the server turns into
// a fatal "internal" error, so the replica's outbox can never get past that change).
TEST_F(RulesTest, WronglyTypedBodyFieldIsRejectedNotThrown) {
  std::string before = state.dump();
  Verdict v;
  v = {};
  EXPECT_NO_THROW(v = submit("sekdis", op::kCaseOpen, std::string("case/") + kCase,
                             {{"sop", "LAKIP"}, {"version", "1"}, {"period", "2026-Q3"}}));
  EXPECT_EQ(v.code, "bad_body");
  EXPECT_EQ(state.dump(), before);

  ASSERT_ACCEPTED(open());
  complete_through(5);
  before = state.dump();
  v = {};
  EXPECT_NO_THROW(v = complete("pelaksana", "6", {{"round", "0"}, {"revision", revision("v")}}));
  EXPECT_EQ(v.code, "bad_body");
  v = {};
  EXPECT_NO_THROW(v = return_to("pelaksana", "6", 0));  // well typed: bad_return
  EXPECT_EQ(v.code, "bad_return");
  v = {};
  EXPECT_NO_THROW(v = submit("pelaksana", op::kCaseReturn, task_record("6"),
                             {{"round", 0}, {"to_step", "5"}, {"reason", "x"}}));
  EXPECT_EQ(v.code, "bad_body");
  json rev = revision("draft lakip v1");
  rev["size"] = "14";
  v = {};
  EXPECT_NO_THROW(v = complete("pelaksana", "6", {{"revision", rev}}));
  EXPECT_EQ(v.code, "bad_body");
  EXPECT_EQ(state.dump(), before);
}

// --- determinism
// ------------------------------------------------------------------------------------

TEST_F(RulesTest, ReplayingTheLogGivesTheSameStateByteForByte) {
  ASSERT_ACCEPTED(open());
  complete_through(6);
  ASSERT_ACCEPTED(return_to("kasubag", "7", 5));
  ASSERT_ACCEPTED(complete("kasubag", "5", {{"text", "Telaah ulang"}}));
  ASSERT_ACCEPTED(complete("pelaksana", "6", {{"revision", revision("v2", {rev6})}}));
  rev6 = last.id();
  ASSERT_ACCEPTED(complete("kasubag", "7", {{"text", "Koreksi"}, {"on_revision", rev6}}));
  correction7 = last.id();
  ASSERT_ACCEPTED(correction_status("pelaksana", correction7, "resolved", {}));
  ASSERT_ACCEPTED(correction_status("kasubag", correction7, "reopened", {}));
  VersionVector seen;
  seen.add(disposition1);
  ASSERT_ACCEPTED(set_disposition("sekdis", "1", "A", seen, "r-sekdis"));
  ASSERT_ACCEPTED(set_disposition("sekdis", "1", "B", seen, "r-sekdis-laptop"));
  ASSERT_ACCEPTED(revise("pelaksana", "draft-lakip", revision("branch A", {rev6})));
  ASSERT_ACCEPTED(revise("kasubag", "draft-lakip", revision("branch B", {rev6})));
  ASSERT_ACCEPTED(open("second-case", "2026-Q4", "kasubag"));
  // Rejected changes never reach the log.
  EXPECT_REJECTED(complete("sekdis", "1", {{"text", "x"}}), "already_done");

  MemoryState server_copy, replica;
  server_copy.blobs = state.blobs;
  for (const auto& e : log) {
    ASSERT_ACCEPTED(apply_change(server_copy, templates, e.change, e.at));
    // A replica replays the committed log without the blobs.
    ASSERT_ACCEPTED(
        apply_change(replica, templates, e.change, e.at, ApplyOptions{.check_blobs = false}));
  }
  EXPECT_EQ(server_copy.dump(), state.dump());
  EXPECT_EQ(replica.dump(), state.dump());

  // Through the wire encoding too: the log as decoded changes.
  MemoryState decoded;
  decoded.blobs = state.blobs;
  for (const auto& e : log)
    ASSERT_ACCEPTED(apply_change(decoded, templates, decode_change(encode_change(e.change)), e.at));
  EXPECT_EQ(decoded.dump(), state.dump());

  for (const auto& [id, c] : state.cases) {
    json j = case_to_json(c);
    EXPECT_EQ(case_json_text(c), j.dump()) << id;
    EXPECT_EQ(case_to_json(case_from_json(j)).dump(), j.dump()) << id;
    EXPECT_EQ(case_to_json(case_from_json(json::parse(j.dump()))).dump(), j.dump()) << id;
  }
}

TEST_F(RulesTest, CompletedCaseJsonRoundTrips) {
  ASSERT_ACCEPTED(open());
  complete_through(13);
  json j = case_to_json(kase());
  EXPECT_EQ(case_json_text(kase()), j.dump());
  CaseState back = case_from_json(json::parse(j.dump()));
  EXPECT_EQ(case_to_json(back).dump(), j.dump());
  EXPECT_EQ(back.state, "completed");
  EXPECT_EQ(back.approvals.size(), 3u);
  ASSERT_TRUE(back.task("2.ukm")->bidang.has_value());
  EXPECT_EQ(*back.task("2.ukm")->bidang, "ukm");
  EXPECT_FALSE(back.task("1")->bidang.has_value());
}

TEST(TaskIdTest, SplitsAndJoins) {
  EXPECT_EQ(task_id("abc", "2.koperasi"), "abc.2.koperasi");
  EXPECT_EQ(split_task_id("abc.2.koperasi"),
            (std::pair<std::string, std::string>{"abc", "2.koperasi"}));
  EXPECT_EQ(split_task_id("abc.5"), (std::pair<std::string, std::string>{"abc", "5"}));
  for (const char* bad : {"abc", ".5", "abc.", ""}) {
    try {
      split_task_id(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "bad_task_id");
    }
  }
}

}  // namespace
}  // namespace alur::sync
