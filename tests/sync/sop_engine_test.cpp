// The case rules with templates as data: a template imported by the server (sop.set) runs
// through the same engine as the built-in LAKIP SOP — the synthetic DATA-LAKIP template of
// tests/fixtures/sop with a decision that returns the case, parallel branches that join, a
// step any of several roles may do, and fan-out per bidang; a running case keeps its
// version; acting officials (Plt./Plh.) act while their delegation lasts and the record
// shows both the acting role and the person; the boundary of a delegation that ends while
// the delegate works offline. All in memory, with explicit author and commit times.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "alur/shared/clock.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/case_state.h"
#include "alur/sync/change.h"
#include "alur/sync/templates.h"
#include "common/fixtures.h"
#include "common/signing.h"

namespace alur::sync {
namespace {

using alur::testing::fixture;
using nlohmann::json;

constexpr Millis kHour = 3'600'000;
constexpr Millis kDay = 24 * kHour;

class MemoryState : public StateAccess {
 public:
  const Org& org() override { return org_; }
  void set_org(const Org& org) override { org_ = org; }
  std::optional<CaseState> load_case(const std::string& id) override {
    auto it = cases.find(id);
    return it == cases.end() ? std::nullopt : std::optional<CaseState>(it->second);
  }
  void save_case(const CaseState& c) override { cases[c.id] = c; }
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override {
    for (const auto& [id, c] : cases)
      if (c.sop == sop && c.period == period) return id;
    return std::nullopt;
  }
  bool has_blob(const std::string&) override { return true; }
  std::map<std::pair<std::string, int>, std::string> imported_templates() override {
    return templates;
  }
  void put_template(const std::string& sop, int version, const std::string& text) override {
    templates[{sop, version}] = text;
  }
  std::string dump() const {
    json j;
    to_json(j["org"], org_);
    for (const auto& [id, c] : cases) j["cases"][id] = case_to_json(c);
    for (const auto& [k, t] : templates)
      j["templates"][k.first + "/" + std::to_string(k.second)] = t;
    return j.dump();
  }

  Org org_;
  std::map<std::string, CaseState> cases;
  std::map<std::pair<std::string, int>, std::string> templates;
};

Org office() {
  Org org;
  org.unit = "Dinas Koperasi, Usaha Kecil dan Menengah";
  org.bidang = {{"koperasi", "Bidang Koperasi"}, {"ukm", "Bidang UKM"}};
  auto person = [](std::string user, std::string role, std::optional<std::string> bidang = {}) {
    return Person{user, "Nama " + user, {RoleGrant{role, bidang}}, true};
  };
  org.people = {person("sekdis", "sekretaris"),           person("kadis", "kadis"),
                person("kasubag", "kasubag_kpe"),         person("pelaksana", "pelaksana_kpe"),
                person("kabid_kop", "kabid", "koperasi"), person("kabid_ukm", "kabid", "ukm")};
  return org;
}

// A one-step-and-a-signature SOP to see a signature by a Plt. Kepala Dinas.
std::string signing_template() {
  json j = json::parse(fixture("sop/data-lakip.json"));
  j["sop"] = "SURAT";
  j["title"] = "Penandatanganan Surat";
  j["roles"] = {"pelaksana_kpe", "kadis"};
  j["openers"] = {"pelaksana_kpe"};
  j["identity"]["keterkaitan"] = json::array();
  j["steps"] = json::array({{{"no", 1},
                             {"actor", "pelaksana_kpe"},
                             {"kind", "draft"},
                             {"title", "Konsep surat"},
                             {"days", 1},
                             {"draft", "surat"}},
                            {{"no", 2},
                             {"actor", "kadis"},
                             {"kind", "sign"},
                             {"title", "Tanda tangan"},
                             {"days", 1},
                             {"after", {1}},
                             {"draft", "surat"}}});
  return j.dump();
}

class SopEngineTest : public ::testing::Test {
 protected:
  // 2026-07-01 08:00 WIB.
  const Millis t0 = wib_day_start("2026-07-01") + 8 * kHour;

  void SetUp() override {
    json org = office();
    ASSERT_TRUE(server(op::kOrgSet, "org", org.dump(), t0).ok());
    for (const auto& p : state.org().people)  // everyone's personal signing key
      if (state.org().is_member(p.username))
        ASSERT_TRUE(act(p.username, op::kKeyAdd, alur::testing::key_record(p.username),
                        alur::testing::key_add_body(p.username), t0)
                        .ok());
  }

  Change make(const std::string& replica, const std::string& author, const std::string& op_name,
              const std::string& record, const std::string& body, Millis at) {
    Change c;
    c.record = record;
    c.op = op_name;
    c.dot = {replica, ++counters_[replica]};
    c.author = author;
    c.hlc = HybridClock::from_ms(at);
    c.body = body;
    c.prev = heads_[replica];
    heads_[replica] = c.hash();
    return c;
  }
  // Commits a change at `commit` (the server's clock), and keeps it for replays.
  Verdict commit(const Change& c, Millis commit_at) {
    Verdict v = apply_change(state, TemplateRegistry::builtin(), c, commit_at);
    if (v.ok()) log_.push_back({c, commit_at});
    return v;
  }
  Verdict server(const std::string& op_name, const std::string& record, const std::string& body,
                 Millis at) {
    return commit(make(kServerReplica, "system", op_name, record, body, at), at);
  }
  // An official's action done at `done` and committed at `committed` (default: at once).
  Verdict act(const std::string& user, const std::string& op_name, const std::string& record,
              const json& body, Millis done, std::optional<Millis> committed = {}) {
    Change c = make("rep-" + user, user, op_name, record, body.dump(), done);
    alur::testing::sign_if_approval(c, state);  // a paraf/ttd is signed, as the client does
    heads_[c.dot.replica] = c.hash();
    return commit(c, committed.value_or(done));
  }
  Verdict complete(const std::string& user, const std::string& key, json body, Millis done,
                   std::optional<Millis> committed = {}) {
    const TaskState* t = state.cases.at(case_id).task(key);
    if (!body.contains("round")) body["round"] = t ? t->round : 0;
    return act(user, op::kTaskComplete, "task/" + case_id + "/" + key, body, done, committed);
  }
  const TaskState& task(const std::string& key) { return *state.cases.at(case_id).task(key); }
  void import_data_lakip() {
    ASSERT_TRUE(server(op::kSopSet, "sop/DATA-LAKIP/1", fixture("sop/data-lakip.json"), t0).ok());
  }
  Verdict open(const std::string& user, const std::string& sop, int version,
               const std::string& period, Millis at) {
    return act(user, op::kCaseOpen, "case/" + case_id,
               {{"sop", sop}, {"version", version}, {"period", period}}, at);
  }
  json revision(const std::string& content) {
    return {{"sha256", std::string(64, 'a').replace(0, content.size(), content)},
            {"size", 10},
            {"filename", "surat.txt"},
            {"media", "text"},
            {"parents", json::array()}};
  }

  MemoryState state;
  std::string case_id = "c0ffee0000000001";
  std::map<std::string, std::uint64_t> counters_;
  std::map<std::string, std::string> heads_;
  std::vector<std::pair<Change, Millis>> log_;
};

#define EXPECT_OK(expr)                                                     \
  do {                                                                      \
    Verdict v_ = (expr);                                                    \
    EXPECT_TRUE(v_.ok()) << #expr << ": " << v_.code << ": " << v_.message; \
  } while (0)
#define EXPECT_CODE(expr, code_)                              \
  do {                                                        \
    Verdict v_ = (expr);                                      \
    EXPECT_EQ(v_.code, code_) << #expr << ": " << v_.message; \
    EXPECT_FALSE(v_.message.empty());                         \
  } while (0)

TEST_F(SopEngineTest, OnlyTheServerImportsTemplatesAndAVersionNeverChanges) {
  std::string text = fixture("sop/data-lakip.json");
  EXPECT_CODE(act("sekdis", op::kSopSet, "sop/DATA-LAKIP/1", json::parse(text), t0),
              "forbidden_op");
  import_data_lakip();
  EXPECT_NE(find_template(state, TemplateRegistry::builtin(), "DATA-LAKIP", 1), nullptr);
  json changed = json::parse(text);
  changed["title"] = "Judul lain";
  EXPECT_CODE(server(op::kSopSet, "sop/DATA-LAKIP/1", changed.dump(), t0), "template_exists");
  json lakip = changed;
  lakip["sop"] = "LAKIP";  // the built-in LAKIP v1 cannot be replaced
  EXPECT_CODE(server(op::kSopSet, "sop/LAKIP/1", lakip.dump(), t0), "template_exists");
  EXPECT_CODE(server(op::kSopSet, "sop/DATA-LAKIP/2", text, t0), "bad_body");  // record/version
  EXPECT_CODE(server(op::kSopSet, "sop/X/1", "{\"sop\": 1}", t0), "bad_body");
}

TEST_F(SopEngineTest, UnknownTemplateUntilImported) {
  EXPECT_CODE(open("kasubag", "DATA-LAKIP", 1, "2026-Q2", t0), "unknown_sop");
  import_data_lakip();
  EXPECT_OK(open("kasubag", "DATA-LAKIP", 1, "2026-Q2", t0));
}

// The synthetic template through the engine: fan-out per bidang, two parallel branches that
// join at a decision, a step that either of two roles may do, a decision that returns the
// case and one that lets it go on.
TEST_F(SopEngineTest, SyntheticTemplateDecisionParallelBranchesAndSeveralRoles) {
  import_data_lakip();
  Millis t = t0;
  auto next = [&] { return t += kHour; };
  EXPECT_CODE(open("pelaksana", "DATA-LAKIP", 1, "2026-Q2", next()), "wrong_role");
  EXPECT_OK(open("kasubag", "DATA-LAKIP", 1, "2026-Q2", next()));
  const CaseState& c = state.cases.at(case_id);
  EXPECT_EQ(c.tasks.size(), 7u);  // 1, 2.koperasi, 2.ukm, 3, 4, 5, 6
  EXPECT_EQ(c.title, "Pengumpulan Data LAKIP \u2014 Triwulan II 2026");
  EXPECT_EQ(task("1").state, "ready");
  EXPECT_OK(complete("kasubag", "1", {{"text", "Mohon data triwulan II"}}, next()));
  EXPECT_EQ(task("2.koperasi").state, "ready");
  EXPECT_EQ(task("2.ukm").state, "ready");
  EXPECT_CODE(complete("kabid_ukm", "2.koperasi", json::object(), next()), "wrong_role");
  EXPECT_OK(complete("kabid_kop", "2.koperasi", {{"text", "Data koperasi"}}, next()));
  EXPECT_EQ(task("3").state, "pending");  // waits for every bidang
  EXPECT_OK(complete("kabid_ukm", "2.ukm", {{"text", "Data UKM"}}, next()));
  // Two branches at once.
  EXPECT_EQ(task("3").state, "ready");
  EXPECT_EQ(task("4").state, "ready");
  // Step 4: Kasubag KPE or Sekretaris; the Sekretaris does it.
  EXPECT_CODE(complete("pelaksana", "4", json::object(), next()), "wrong_role");
  EXPECT_OK(complete("sekdis", "4", {{"text", "Dokumen lengkap"}}, next()));
  EXPECT_EQ(task("4").acted_as, "sekretaris");
  EXPECT_EQ(task("5").state, "pending");  // the join waits for step 3 too
  EXPECT_CODE(complete("sekdis", "5", {{"outcome", "setuju"}}, next()), "not_ready");
  EXPECT_OK(complete("pelaksana", "3", {{"text", "Rekap v1"}}, next()));
  EXPECT_EQ(task("5").state, "ready");
  // The decision: an outcome is required, and a return needs its reason.
  EXPECT_CODE(complete("sekdis", "5", json::object(), next()), "bad_action");
  EXPECT_CODE(complete("sekdis", "5", {{"outcome", "mungkin"}}, next()), "bad_action");
  EXPECT_CODE(complete("sekdis", "5", {{"outcome", "tolak"}}, next()), "bad_action");
  json stale_step3 = {{"text", "Rekap terlambat"}, {"round", 0}};
  EXPECT_OK(
      complete("sekdis", "5", {{"outcome", "tolak"}, {"text", "Data UKM belum lengkap"}}, next()));
  // Returned to step 2: every bidang redoes it, in a new round; 3, 4, 5 wait again.
  const CaseState& r = state.cases.at(case_id);
  ASSERT_EQ(r.returns.size(), 1u);
  EXPECT_EQ(r.returns[0].to_step, 2);
  EXPECT_EQ(r.returns[0].outcome, "tolak");
  EXPECT_EQ(r.returns[0].from_task, "5");
  EXPECT_EQ(task("2.ukm").state, "ready");
  EXPECT_EQ(task("2.ukm").round, 1);
  EXPECT_EQ(task("1").state, "done");
  for (const char* k : {"3", "4", "5"}) {
    EXPECT_EQ(task(k).state, "pending") << k;
    EXPECT_EQ(task(k).round, 1) << k;
  }
  EXPECT_TRUE(task("4").acted_as.empty());
  EXPECT_CODE(complete("pelaksana", "3", stale_step3, next()), "stale_round");
  // Second round: Kasubag does step 4 this time; the decision lets the case go on.
  EXPECT_OK(complete("kabid_kop", "2.koperasi", {{"text", "Data koperasi"}}, next()));
  EXPECT_OK(complete("kabid_ukm", "2.ukm", {{"text", "Data UKM lengkap"}}, next()));
  EXPECT_OK(complete("kasubag", "4", {{"text", "Lengkap"}}, next()));
  EXPECT_EQ(task("4").acted_as, "kasubag_kpe");
  EXPECT_OK(complete("pelaksana", "3", {{"text", "Rekap v2"}}, next()));
  EXPECT_OK(complete("sekdis", "5", {{"outcome", "setuju"}}, next()));
  EXPECT_EQ(task("5").outcome, "setuju");
  EXPECT_EQ(task("6").state, "ready");
  EXPECT_OK(complete("kasubag", "6", {{"text", "Diserahkan"}}, next()));
  EXPECT_EQ(state.cases.at(case_id).state, "completed");
  // An outcome on a step that is no decision is refused.
  EXPECT_EQ(state.cases.at(case_id).returns.size(), 1u);

  // Every replica replaying the log reaches the same state byte for byte.
  MemoryState replay;
  for (const auto& [ch, at] : log_)
    EXPECT_TRUE(apply_change(replay, TemplateRegistry::builtin(), ch, at).ok());
  EXPECT_EQ(replay.dump(), state.dump());
}

TEST_F(SopEngineTest, ARunningCaseKeepsTheVersionItStartedWith) {
  import_data_lakip();
  EXPECT_OK(open("kasubag", "DATA-LAKIP", 1, "2026-Q2", t0));
  json v2 = json::parse(fixture("sop/data-lakip.json"));
  v2["version"] = 2;
  v2["steps"].push_back({{"no", 7},
                         {"actor", "sekretaris"},
                         {"kind", "review"},
                         {"title", "Arsip"},
                         {"days", 1},
                         {"after", {6}}});
  EXPECT_OK(server(op::kSopSet, "sop/DATA-LAKIP/2", v2.dump(), t0 + kHour));
  EXPECT_EQ(latest_template(state, TemplateRegistry::builtin(), "DATA-LAKIP")->version, 2);
  // The open case is untouched and still runs on version 1.
  EXPECT_EQ(state.cases.at(case_id).version, 1);
  EXPECT_EQ(state.cases.at(case_id).tasks.size(), 7u);
  EXPECT_OK(complete("kasubag", "1", {{"text", "Mohon data"}}, t0 + 2 * kHour));
  // A new case takes version 2, with its extra step.
  case_id = "c0ffee0000000002";
  EXPECT_OK(open("kasubag", "DATA-LAKIP", 2, "2026-Q3", t0 + 3 * kHour));
  EXPECT_EQ(state.cases.at(case_id).tasks.size(), 8u);
}

// --- acting officials -------------------------------------------------------------------

json delegation(const std::string& id, const std::string& user, const std::string& role,
                const std::string& kind, const std::string& from, const std::string& until) {
  return {{"id", id},     {"username", user}, {"role", role},  {"bidang", nullptr},
          {"kind", kind}, {"from", from},     {"until", until}};
}

TEST_F(SopEngineTest, DelegationsAreServerChangesAndSurviveAnOrgImport) {
  json d = delegation("plt-1", "sekdis", "kadis", "plt", "2026-07-01", "2026-07-03");
  EXPECT_CODE(act("kadis", op::kDelegationSet, "delegation/plt-1", d, t0), "forbidden_op");
  EXPECT_OK(server(op::kDelegationSet, "delegation/plt-1", d.dump(), t0));
  json bad = d;
  bad["username"] = "tamu";
  EXPECT_CODE(server(op::kDelegationSet, "delegation/plt-1", bad.dump(), t0), "unknown_user");
  bad = d;
  bad["role"] = "kabid";  // needs a bidang
  EXPECT_CODE(server(op::kDelegationSet, "delegation/plt-1", bad.dump(), t0), "bad_body");
  bad = d;
  bad["until"] = "2026-06-30";
  EXPECT_CODE(server(op::kDelegationSet, "delegation/plt-1", bad.dump(), t0), "bad_body");
  EXPECT_CODE(server(op::kDelegationEnd, "delegation/plt-9", "{}", t0), "unknown_record");
  // `alur-server org import` commits an org without delegations: they stay.
  json org = office();
  EXPECT_OK(server(op::kOrgSet, "org", org.dump(), t0));
  ASSERT_EQ(state.org().delegations.size(), 1u);
  EXPECT_TRUE(state.org().may_act("sekdis", "kadis", std::nullopt, t0));
  EXPECT_FALSE(state.org().may_act("sekdis", "kadis", std::nullopt, t0 + 3 * kDay));
}

// A Plt. Kepala Dinas signs: the approval and the task say "Plt. Kepala Dinas" and who.
TEST_F(SopEngineTest, PltSignsAndTheRecordShowsActingRoleAndPerson) {
  ASSERT_TRUE(server(op::kSopSet, "sop/SURAT/1", signing_template(), t0).ok());
  EXPECT_OK(server(op::kDelegationSet, "delegation/plt-1",
                   delegation("plt-1", "sekdis", "kadis", "plt", "2026-07-01", "2026-07-03").dump(),
                   t0));
  EXPECT_OK(open("pelaksana", "SURAT", 1, "2026-Q3", t0));
  json rev = revision("b0");
  EXPECT_OK(complete("pelaksana", "1", {{"revision", rev}}, t0 + kHour));
  std::string head = task("1").change;
  json sign = {{"bind_revision", head}, {"bind_sha256", rev["sha256"]}};
  EXPECT_CODE(complete("kasubag", "2", sign, t0 + 2 * kHour), "wrong_role");
  EXPECT_OK(complete("sekdis", "2", sign, t0 + 2 * kHour));
  const CaseState& c = state.cases.at(case_id);
  EXPECT_EQ(c.state, "completed");
  ASSERT_EQ(c.approvals.size(), 1u);
  EXPECT_EQ(c.approvals[0].role, "Plt. Kepala Dinas");
  EXPECT_EQ(c.approvals[0].by, "sekdis");
  EXPECT_EQ(c.approvals[0].acting, "plt");
  EXPECT_EQ(task("2").acting, "plt");
  EXPECT_EQ(task("2").by, "sekdis");
  // The canonical form carries it; a case without delegations is unchanged.
  json j = case_to_json(c);
  EXPECT_EQ(j["approvals"][0]["acting"], "plt");
  EXPECT_FALSE(j["tasks"][0].contains("acting"));
  EXPECT_EQ(case_to_json(case_from_json(j)), j);
}

// The case: a delegation ends while the delegate is offline with an unsynced action.
// Rule: the action counts if it was done while the delegation lasted (its recorded time,
// the author's clock bounded by the commit time) and reaches the server within
// kDelegationSyncGrace (7 days) of the end; done after the end, or synced later than that,
// it is rejected as delegation_ended. The real holder of the role acts throughout.
TEST_F(SopEngineTest, DelegationEndingWhileTheDelegateIsOffline) {
  // Plh. Sekretaris for the Kasubag, Wednesday 1 to Friday 3 July 2026 (WIB).
  EXPECT_OK(server(
      op::kDelegationSet, "delegation/plh-1",
      delegation("plh-1", "kasubag", "sekretaris", "plh", "2026-07-01", "2026-07-03").dump(), t0));
  const Millis end = wib_day_start("2026-07-04");  // Saturday 00:00 WIB
  auto lakip_case = [&](const std::string& id, const std::string& period) {
    case_id = id;
    EXPECT_OK(open("sekdis", "LAKIP", 1, period, t0));
  };
  // Before the delegation began (30 June): not yet the Plh.
  lakip_case("c0ffee00000000a0", "2026-Q1");
  EXPECT_CODE(complete("kasubag", "1", {{"text", "x"}}, wib_day_start("2026-06-30") + 9 * kHour),
              "wrong_role");
  // Friday 16:00, offline; synced Monday 08:00 after the delegation ended: it counts.
  lakip_case("c0ffee00000000a1", "2026-Q2");
  EXPECT_OK(complete("kasubag", "1", {{"text", "Disposisi Plh."}}, end - 8 * kHour,
                     end + 2 * kDay + 8 * kHour));
  EXPECT_EQ(task("1").acting, "plh");
  EXPECT_EQ(task("1").at, end - 8 * kHour);  // dated when it was done
  // Done Saturday, after the end: refused however it is synced.
  lakip_case("c0ffee00000000a2", "2026-Q3");
  EXPECT_CODE(complete("kasubag", "1", {{"text", "x"}}, end + kHour, end + 2 * kHour),
              "delegation_ended");
  // Done Friday but synced more than 7 days after the end: no longer believed.
  lakip_case("c0ffee00000000a3", "2026-Q4");
  EXPECT_CODE(complete("kasubag", "1", {{"text", "x"}}, end - kHour, end + 8 * kDay),
              "delegation_ended");
  // A PC clock set back cannot act in a delegation long over either: its time is bounded by
  // the commit time only from above, so it is the sync deadline that stops it.
  lakip_case("c0ffee00000000a4", "2027-Q1");
  EXPECT_CODE(complete("kasubag", "1", {{"text", "x"}}, end - kHour, end + 30 * kDay),
              "delegation_ended");
  // The Sekretaris acts throughout.
  EXPECT_OK(complete("sekdis", "1", {{"text", "Disposisi"}}, end + 30 * kDay));
  EXPECT_TRUE(task("1").acting.empty());
}

TEST_F(SopEngineTest, EndingADelegationEarlyStopsItAtTheCommitTime) {
  EXPECT_OK(server(
      op::kDelegationSet, "delegation/plh-1",
      delegation("plh-1", "kasubag", "sekretaris", "plh", "2026-07-01", "2026-07-10").dump(), t0));
  const Millis ended = t0 + 2 * kDay;
  EXPECT_OK(server(op::kDelegationEnd, "delegation/plh-1", "{}", ended));
  EXPECT_CODE(server(op::kDelegationEnd, "delegation/plh-1", "{}", ended + kHour), "bad_action");
  EXPECT_EQ(state.org().delegations[0].ended_at, ended);
  case_id = "c0ffee00000000b1";
  EXPECT_OK(open("sekdis", "LAKIP", 1, "2026-Q2", t0));
  EXPECT_CODE(complete("kasubag", "1", {{"text", "x"}}, ended + kHour), "delegation_ended");
  // Done offline before the early end, synced after it: counts.
  EXPECT_OK(complete("kasubag", "1", {{"text", "x"}}, ended - kHour, ended + kDay));
  EXPECT_EQ(task("1").acting, "plh");
}

}  // namespace
}  // namespace alur::sync
