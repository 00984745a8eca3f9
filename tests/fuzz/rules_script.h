// A tiny text format for sequences of changes, so that libFuzzer can mutate a whole
// quarter of work and reach deep case states (tests/fuzz/README.md):
//
//   OP RECORD AUTHOR        e.g.  task.complete task/$C/2.koperasi kabid_koperasi
//   BODY                    the change's JSON body (one line)
//   %                       separates changes
//
// `$C` in a record or body stands for the case id; the author `@server` writes as the
// server itself. Each author writes from replica "r-<author>", counters 1, 2, 3, ... in
// script order, so a change's id ("r-kasubag:3") is predictable and a script can name
// revisions and corrections by it. The office is the demo org (scripts/demo/org.json).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/case_state.h"
#include "alur/sync/change.h"
#include "alur/sync/memory_state.h"
#include "common/demo_org.h"
#include "common/signing.h"

namespace alur::fuzz {

inline constexpr const char* kCaseId = "c0ffee0000000001";
inline constexpr std::size_t kMaxScriptChanges = 64;

struct ScriptChange {
  std::string op, record, author, body;
};

inline std::string replace_case(std::string s) {
  for (std::size_t at; (at = s.find("$C")) != std::string::npos;) s.replace(at, 2, kCaseId);
  return s;
}

// Splits a script; malformed pieces are skipped (the fuzzer's mutations are not findings).
inline std::vector<ScriptChange> parse_script(std::string_view text) {
  std::vector<ScriptChange> out;
  std::size_t pos = 0;
  while (pos <= text.size() && out.size() < kMaxScriptChanges) {
    std::size_t end = text.find("\n%\n", pos);
    std::string_view piece = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
    pos = end == std::string_view::npos ? text.size() + 1 : end + 3;
    const std::size_t nl = piece.find('\n');
    if (nl == std::string_view::npos) continue;
    std::string head(piece.substr(0, nl));
    ScriptChange c;
    const std::size_t s1 = head.find(' '), s2 = s1 == head.npos ? head.npos : head.find(' ', s1 + 1);
    if (s2 == head.npos) continue;
    c.op = head.substr(0, s1);
    c.record = replace_case(head.substr(s1 + 1, s2 - s1 - 1));
    c.author = head.substr(s2 + 1);
    c.body = replace_case(std::string(piece.substr(nl + 1)));
    out.push_back(std::move(c));
  }
  return out;
}

// The rules' state in memory with the demo office, and a commit clock.
class RulesWorld {
 public:
  RulesWorld() {
    nlohmann::json org;
    to_json(org, parse_org_file(testing::demo_org_json()).org);
    const sync::Verdict v = apply({sync::op::kOrgSet, "org", "@server", org.dump()});
    if (!v.ok()) throw Error("fuzz_setup", v.message);
    // Everyone's signing key, from replicas of their own ("k-<user>"), so that the scripts'
    // change ids stay as they are; paraf and signatures are then signed as the client does.
    for (const auto& p : state_.org().people) {
      if (!state_.org().is_member(p.username)) continue;
      sync::Change k;
      k.record = testing::key_record(p.username);
      k.op = sync::op::kKeyAdd;
      k.dot = {"k-" + p.username, 1};
      k.author = p.username;
      k.hlc = HybridClock::from_ms(commit_ms_ - 1000);
      k.body = testing::key_add_body(p.username).dump();
      if (!sync::apply_change(state_, TemplateRegistry::builtin(), k, commit_ms_).ok())
        throw Error("fuzz_setup", "key.add " + p.username);
    }
  }

  sync::Verdict apply(const ScriptChange& s) {
    sync::Change c;
    const bool server = s.author == "@server";
    c.record = s.record;
    c.op = s.op;
    c.dot = {server ? sync::kServerReplica : "r-" + s.author, ++counters_[s.author]};
    c.author = server ? "system" : s.author;
    commit_ms_ += 60 * 60 * 1000;  // an hour per change: deadlines and delegations move
    c.hlc = HybridClock::from_ms(commit_ms_ - 1000);
    c.body = s.body;
    testing::sign_if_approval(c, state_);
    return sync::apply_change(state_, TemplateRegistry::builtin(), c, commit_ms_);
  }

  // Everything the rules keep, as one comparable string.
  std::string dump() {
    nlohmann::json j;
    to_json(j["org"], state_.org());
    for (const auto& [id, c] : state_.cases()) j["cases"][id] = sync::case_to_json(c);
    for (const auto& [key, text] : state_.imported_templates())
      j["templates"][key.first + "@" + std::to_string(key.second)] = text;
    for (const auto& [year, text] : state_.calendars()) j["calendars"][std::to_string(year)] = text;
    return j.dump();
  }

  const sync::MemoryState& state() const { return state_; }

 private:
  sync::MemoryState state_;
  std::map<std::string, std::uint64_t> counters_;
  Millis commit_ms_ = 1780000000000;  // 2026-05-28
};

}  // namespace alur::fuzz
