// The authorization matrix, generated from the SOP templates: in every state a case passes
// through (each step of the template's path, after a return for revision, and closed), every
// person of the office tries every step's action — completing it with a well-formed body,
// and returning it — through the server's protocol with a hand-made client that skips the
// client's own checks. Exactly the allowed attempts are accepted: the person holds the
// step's role (for its bidang, so a Kepala Bidang of another bidang is refused) and the task
// is ready in an open case. The expectation is computed from the template and the org
// directly, not through the rules; a new template in the registry is covered by this test
// without writing another.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "common/signing.h"
#include "harness.h"

namespace alur::server::testing {
namespace {

// What the test expects, from the org and the template alone.
bool holds_role(const Org& org, const std::string& user, const std::string& role,
                const std::optional<std::string>& bidang) {
  for (const auto& p : org.people) {
    if (p.username != user || !p.active) continue;
    for (const auto& r : p.roles)
      if (r.role == role && (!bidang || r.bidang == bidang)) return true;
  }
  return false;
}

// One step of a path through a case: complete a task, or return it to an earlier step.
struct Move {
  std::string task;
  int return_to = 0;  // 0: complete
};

class Matrix {
 public:
  Matrix(const Template& tpl, std::vector<Move> path) : tpl_(tpl), path_(std::move(path)) {
    for (const auto& p : org_.people)
      if (p.active) clients_.emplace(p.username, o_.enrolled(p.username));
    for (auto& [u, c] : clients_)  // each person's signing key (a person without a role: refused)
      if (org_.is_member(u))
        expect_all_accepted(o_.push(c, {c.make(alur::testing::key_record(u), sync::op::kKeyAdd,
                                               alur::testing::key_add_body(u))}));
    auto& opener = holder_of_any(tpl_.openers);
    expect_all_accepted(o_.push(opener, {opener.make("case/" + kCase, sync::op::kCaseOpen,
                                                     {{"sop", tpl_.sop},
                                                      {"version", tpl_.version},
                                                      {"period", "2026-Q3"}})}));
    for (const auto& m : path_) {
      auto r = attempt(holder_of(m.task), m.task, m.return_to);
      EXPECT_EQ(r.outcome, sync::Outcome::kAccepted)
          << "the path itself failed at " << m.task << ": " << r.code << " " << r.message;
    }
  }

  sync::CaseState state() { return *o_.case_state(kCase); }
  const Org& org() const { return org_; }
  std::vector<std::string> people() const {
    std::vector<std::string> out;
    for (const auto& [u, c] : clients_) out.push_back(u);
    return out;
  }

  // The person tries the action on the task: a completion (return_to == 0) with the body
  // the step's kind needs, or a return to an earlier step.
  sync::ChangeResult attempt(const std::string& user, const std::string& key, int return_to) {
    HandClient& c = clients_.at(user);
    sync::CaseState cs = state();
    const sync::TaskState* t = cs.task(key);
    const StepDef* s = tpl_.step(t->step);
    json body{{"round", t->round}};
    std::string op = sync::op::kTaskComplete;
    if (return_to) {
      op = sync::op::kCaseReturn;
      body["to_step"] = return_to;
      body["reason"] = "Data capaian belum lengkap.";
    } else {
      fill_completion(body, cs, *s, key);
    }
    sync::Change change = c.next("task/" + kCase + "/" + key, op, body);
    alur::testing::sign_if_approval(change, o_.db);  // a paraf/ttd carries its signature
    return o_.push1(c, c.chain(change));
  }

 private:
  static inline const std::string kCase = "c0ffee0000000001";

  void fill_completion(json& body, const sync::CaseState& cs, const StepDef& s,
                       const std::string& key) {
    std::vector<std::string> heads;
    if (auto d = cs.drafts.find(s.draft); d != cs.drafts.end()) heads = d->second.heads();
    if (s.kind == "disposition" || s.kind == "meeting" || s.kind == "correct")
      body["text"] = "Catatan langkah " + key + ".";
    if (s.kind == "draft" || s.kind == "prepare") {
      const std::string content = "Isi " + s.draft + " dari langkah " + key + ".\n";
      auto tx = o_.db.begin();
      o_.db.put_blob_chunk(crypto::sha256_hex(content), 0, content.size(), content);
      tx->commit();
      json rev = revision_of(content, s.draft + ".txt");
      rev["parents"] = heads;
      body["revision"] = rev;
    }
    if (s.kind == "correct" && !heads.empty()) body["on_revision"] = heads.back();
    if ((s.kind == "initial" || s.kind == "sign") && heads.size() == 1) {
      body["bind_revision"] = heads[0];
      body["bind_sha256"] = cs.drafts.at(s.draft).revisions.at(heads[0]).sha256;
    }
  }

  std::string holder_of(const std::string& key) {
    sync::CaseState cs = state();
    const sync::TaskState* t = cs.task(key);
    for (auto& [u, c] : clients_)
      if (holds_role(org_, u, t->role, t->bidang)) return u;
    throw std::runtime_error("nobody in the test org holds the role of task " + key);
  }
  HandClient& holder_of_any(const std::vector<std::string>& roles) {
    for (auto& [u, c] : clients_)
      for (const auto& r : roles)
        if (holds_role(org_, u, r, std::nullopt)) return c;
    throw std::runtime_error("nobody in the test org may open a case");
  }

  Office o_;
  Org org_ = test_org();
  const Template& tpl_;
  std::vector<Move> path_;
  std::map<std::string, HandClient> clients_;
};

// The path every state lies on: the first ready task, done by its holder, until the case
// closes; a state is a prefix of it.
std::vector<Move> happy_path(const Template& tpl) {
  std::vector<Move> path;
  for (;;) {
    Matrix m(tpl, path);
    sync::CaseState cs = m.state();
    if (cs.state != "open") return path;
    const sync::TaskState* next = nullptr;
    for (const auto& t : cs.tasks)
      if (t.state == "ready") {
        next = &t;
        break;
      }
    if (!next) throw std::runtime_error("an open case with no ready task");
    path.push_back({next->key, 0});
  }
}

// Checks the whole matrix in the state the path leads to. Rejected attempts leave the case
// as it was; each expected acceptance runs on a fresh office brought to the same state.
void check_state(const Template& tpl, const std::vector<Move>& path, const std::string& name,
                 std::size_t& checked) {
  Matrix m(tpl, path);
  const sync::CaseState cs = m.state();
  struct Try {
    std::string user, key;
    int return_to;
    bool allowed;
  };
  std::vector<Try> tries;
  for (const auto& t : cs.tasks) {
    const StepDef* s = tpl.step(t.step);
    const bool ready = cs.state == "open" && t.state == "ready";
    for (const auto& user : m.people()) {
      const bool may = ready && holds_role(m.org(), user, t.role, t.bidang);
      tries.push_back({user, t.key, 0, may});
      for (int before : s->after) tries.push_back({user, t.key, before, may});
    }
  }
  for (const auto& x : tries) {
    if (x.allowed) continue;
    auto r = m.attempt(x.user, x.key, x.return_to);
    ++checked;
    EXPECT_EQ(r.outcome, sync::Outcome::kRejected)
        << tpl.sop << " " << name << ": " << x.user << " may not "
        << (x.return_to ? "return " : "complete ") << x.key << ", but the server accepted it";
    EXPECT_FALSE(r.code.empty());
  }
  for (const auto& x : tries) {
    if (!x.allowed) continue;
    Matrix fresh(tpl, path);
    auto r = fresh.attempt(x.user, x.key, x.return_to);
    ++checked;
    EXPECT_EQ(r.outcome, sync::Outcome::kAccepted)
        << tpl.sop << " " << name << ": " << x.user << " may "
        << (x.return_to ? "return " : "complete ") << x.key << " but got " << r.code << ": "
        << r.message;
  }
}

TEST(AuthorizationMatrix, ExactlyTheAllowedActionsAreAcceptedInEveryStateOfEveryTemplate) {
  std::size_t checked = 0, states = 0;
  for (const Template* tpl : TemplateRegistry::builtin().all()) {
    const std::vector<Move> path = happy_path(*tpl);
    ASSERT_FALSE(path.empty()) << tpl->sop;
    for (std::size_t k = 0; k <= path.size(); ++k, ++states) {
      std::vector<Move> prefix(path.begin(), path.begin() + static_cast<long>(k));
      check_state(*tpl, prefix, "after " + std::to_string(k) + " steps", checked);
      if (::testing::Test::HasFailure()) return;  // one state's report is enough to read
    }
    // A return for revision: the last step with a predecessor, once it is ready, goes back
    // one step; the matrix then holds in the new round.
    for (std::size_t k = path.size(); k-- > 0;) {
      const std::string& key = path[k].task;
      const StepDef* s = nullptr;
      Matrix probe(*tpl, std::vector<Move>(path.begin(), path.begin() + static_cast<long>(k)));
      s = tpl->step(probe.state().task(key)->step);
      if (s->after.empty()) continue;
      std::vector<Move> returned(path.begin(), path.begin() + static_cast<long>(k));
      returned.push_back({key, s->after.front()});
      check_state(*tpl, returned, "after a return from " + key, checked);
      ++states;
      break;
    }
  }
  std::printf("authorization matrix: %zu attempts in %zu case states checked\n", checked, states);
  EXPECT_GT(checked, 0u);
}

}  // namespace
}  // namespace alur::server::testing
