// What must hold once the network has healed and every node has drained (issue 3):
//  1. the server's committed log is gap-free, its hash chain holds, and every change in it
//     appears exactly once;
//  2. replaying the log from nothing with the rules accepts every entry and gives the
//     server's materialized state;
//  3. no task was done by someone without its role, nor before its predecessor steps —
//     checked against the template and the org directly, not through the rules: the case's
//     template (built in or imported), any of a step's roles, Plt./Plh. delegations, a
//     decision's outcomes, and returns that send steps back to be redone;
//  4. every replica holds the server's log and materialized state byte for byte;
//     including the content of every draft revision;
//  5. every change an official made is committed, or rejected with a reason code and a
//     message on their replica, and the server agrees; none vanished, no counter reused.
// (Cursors and change counters only growing is checked all along: Sim::check_growth.)
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "alur/server/verify.h"
#include "alur/shared/crypto.h"
#include "alur/sync/change.h"
#include "alur/sync/memory_state.h"
#include "alur/sync/templates.h"
#include "world.h"

namespace alur::sim {

using nlohmann::json;

namespace {

// Rows of a query, each as its columns joined, for a byte-for-byte comparison.
std::vector<std::string> rows(sql::Database& db, const std::string& query, int columns) {
  std::vector<std::string> out;
  auto s = db.cached(query);
  while (s.step()) {
    std::string row;
    for (int c = 0; c < columns; ++c) {
      std::string v = s.get_blob(c);
      row += std::to_string(v.size()) + ":" + v + "|";
    }
    out.push_back(std::move(row));
  }
  return out;
}

// Step `to` and every step after it along the predecessor links: what a return to `to`
// sends back to be redone.
std::set<int> redone_from(const Template& tpl, int to) {
  std::set<int> out{to};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& s : tpl.steps)
      if (!out.count(s.no))
        for (int p : s.after)
          if (out.count(p)) {
            grew = out.insert(s.no).second;
            break;
          }
  }
  return out;
}

// The delegation through which `author` acted in `role` (for `bidang`): the action done
// while it lasted, committed within the grace after its end (shared/org.h).
const Delegation* delegated(const std::vector<Delegation>& ds, const std::string& author,
                            const std::string& role, const std::optional<std::string>& bidang,
                            Millis done, Millis committed) {
  for (const auto& d : ds)
    if (d.username == author && d.role == role && (!bidang || d.bidang == bidang) &&
        done >= d.start_ms() && done < d.end_ms() && committed < d.end_ms() + kDelegationSyncGrace)
      return &d;
  return nullptr;
}

std::string first_difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (a[i] != b[i]) return "row " + std::to_string(i + 1) + " differs";
  return "row counts " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
}

}  // namespace

void Sim::check() {
  auto log = server.db->entries_after(0, std::size_t(1) << 30, std::size_t(1) << 40);
  const std::uint64_t head = server.db->head();

  // 1. Gap-free, chained, each change once.
  if (log.size() != head)
    return fail("server log holds " + std::to_string(log.size()) + " entries, head is " +
                std::to_string(head));
  std::string prev;
  std::set<std::pair<std::string, std::uint64_t>> dots;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto& e = log[i];
    if (e.seq != i + 1) return fail("server log has a gap before seq " + std::to_string(e.seq));
    if (sync::log_hash(prev, e.seq, e.change.hash(), e.committed_at) != e.log_hash)
      return fail("server log hash chain broken at seq " + std::to_string(e.seq));
    prev = e.log_hash;
    if (!dots.insert({e.change.dot.replica, e.change.dot.counter}).second)
      return fail("change " + e.change.id() + " committed twice (again at seq " +
                  std::to_string(e.seq) + ")");
  }

  // 2 and 3. Replay with the rules; check role and order independently of them.
  sync::MemoryState replay;
  Org current;  // people and roles, from org.set
  std::vector<Delegation> delegations;  // from delegation.set / delegation.end
  // case -> task -> seq of its completion in the current round (a return clears the steps
  // it sends back)
  std::map<std::string, std::map<std::string, std::uint64_t>> done_at;
  for (const auto& e : log) {
    const sync::Change& ch = e.change;
    const std::string at = "seq " + std::to_string(e.seq) + ": ";
    // Set when this entry acts on a task: what the replayed task must record.
    std::string acted_case, acted_key, acted_as, acted_kind;
    bool acted_held = false;
    if (ch.op == sync::op::kOrgSet) {
      current = json::parse(ch.body).get<Org>();
    } else if (ch.op == sync::op::kDelegationSet) {
      Delegation d = delegation_from_json(json::parse(ch.body));
      d.ended_at = 0;
      auto it = std::find_if(delegations.begin(), delegations.end(),
                             [&](const Delegation& o) { return o.id == d.id; });
      if (it == delegations.end())
        delegations.push_back(d);
      else
        *it = d;
      ++stats.delegations;
    } else if (ch.op == sync::op::kDelegationEnd) {
      for (auto& d : delegations)
        if (ch.record == "delegation/" + d.id) d.ended_at = e.committed_at;
      ++stats.delegations_ended;
    } else if (ch.op == sync::op::kTaskComplete || ch.op == sync::op::kCaseReturn) {
      const std::string cid = ch.case_id();
      const std::string key = ch.record.substr(ch.record.rfind('/') + 1);
      auto c = replay.load_case(cid);
      if (!c) return fail(at + "a task of an unknown case");
      auto tpl = sync::find_template(replay, templates(), c->sop, c->version);
      const sync::TaskState* t = c->task(key);
      if (!tpl || !t) return fail(at + "unknown task " + key);
      const StepDef* s = tpl->step(t->step);
      std::optional<std::string> bidang;
      if (s->per_bidang) bidang = key.substr(key.find('.') + 1);
      // Role: one of the step's roles, held, or acted in through a delegation.
      const Millis done = std::min(HybridClock::to_ms(ch.hlc), e.committed_at);
      for (const auto& r : s->actors)
        if (current.holds(ch.author, r, bidang)) acted_held = true;
      if (!acted_held)
        for (const auto& r : s->actors)
          if (const Delegation* d =
                  delegated(delegations, ch.author, r, bidang, done, e.committed_at)) {
            acted_as = r;
            acted_kind = d->kind;
            break;
          }
      if (!acted_held && acted_as.empty()) {
        std::string roles;
        for (const auto& r : s->actors) roles += (roles.empty() ? "" : " or ") + r;
        return fail(at + ch.author + " did " + ch.op + " on step " + key + " of " + c->sop +
                    " without the role " + roles + ", held or delegated");
      }
      // Order: every task of the predecessor steps done in this round.
      for (int p : s->after)
        for (const auto& pt : c->tasks)
          if (pt.step == p && !done_at[cid].count(pt.key))
            return fail(at + "step " + key + " of " + c->sop + " acted on (" + ch.op + ") by " +
                        ch.author + " before its predecessor " + pt.key);
      // A return, or a decision's outcome that returns, sends steps back to be redone.
      const json body = json::parse(ch.body);
      std::optional<int> back;
      if (ch.op == sync::op::kCaseReturn) back = body.value("to_step", 0);
      if (ch.op == sync::op::kTaskComplete && s->kind == "decision") {
        const DecisionOutcome* o = s->outcome(body.value("outcome", ""));
        if (!o)
          return fail(at + "decision " + key + " of " + c->sop + " committed with outcome \"" +
                      body.value("outcome", "") + "\", not one of the step's");
        back = o->return_to;
      }
      if (back) {
        for (int redo : redone_from(*tpl, *back))
          for (const auto& rt : c->tasks)
            if (rt.step == redo) done_at[cid].erase(rt.key);
      } else if (ch.op == sync::op::kTaskComplete) {
        done_at[cid].emplace(key, e.seq);
        acted_case = cid;
        acted_key = key;
      }
    }
    sync::Verdict v =
        sync::apply_change(replay, templates(), ch, e.committed_at, {.check_blobs = false});
    if (!v.ok())
      return fail("committed seq " + std::to_string(e.seq) + " (" + ch.op +
                  ") does not apply on replay: " + v.code + " " + v.message);
    // The record shows how the task was done: in which of its roles, and as Plt./Plh.
    if (!acted_case.empty()) {
      const std::optional<sync::CaseState> acted = replay.load_case(acted_case);  // kept alive
      const sync::TaskState* t = acted->task(acted_key);
      if (acted_held ? !t->acting.empty() : t->acting != acted_kind)
        return fail(at + "task " + acted_key + " done by " + ch.author + " records acting \"" +
                    t->acting + "\", expected \"" + (acted_held ? "" : acted_kind) + "\"");
      if (!acted_held && !t->acted_as.empty() && t->acted_as != acted_as)
        return fail(at + "task " + acted_key + " records the role " + t->acted_as + ", done as " +
                    acting_prefix(acted_kind) + " " + acted_as);
    }
  }
  for (const auto& [id, c] : replay.cases()) {
    ++stats.cases;
    stats.data_cases += c.sop == "DATA-LAKIP";
    stats.cases_completed += c.state == "completed";
    stats.returns += c.returns.size();
    for (const auto& r : c.returns) stats.decision_returns += !r.outcome.empty();
    for (const auto& t : c.tasks) {
      stats.steps_done += t.state == "done";
      stats.acting_tasks += t.state == "done" && !t.acting.empty();
    }
    auto stored = server.db->load_case(id);
    if (!stored || sync::case_to_json(*stored).dump() != sync::case_to_json(c).dump())
      return fail("case " + id + ": the server's state differs from a replay of its log");
  }

  // What `alur-server verify` says of the same database must agree: nothing broken.
  if (auto v = server::verify_server(*server.db, templates()); !v.ok())
    return fail("alur-server verify finds a problem in a healthy record: " + v.problems.front());

  // 4. Every replica equals the server.
  const char* kLog = "SELECT seq, committed_at, log_hash, encoded FROM log ORDER BY seq";
  const char* kCases = "SELECT id, sop, period, state, body FROM cases ORDER BY id";
  const char* kOrg = "SELECT value FROM meta WHERE key = 'org'";
  auto server_log = rows(server.db->db(), kLog, 4);
  auto server_cases = rows(server.db->db(), kCases, 5);
  auto server_org = rows(server.db->db(), kOrg, 1);
  for (auto& c : clients) {
    client::Replica& r = c.api->replica();
    auto l = rows(r.db(), kLog, 4);
    if (l != server_log)
      return fail(c.user + ": committed log differs from the server's (" +
                  first_difference(l, server_log) + ")");
    auto cs = rows(r.db(), kCases, 5);
    if (cs != server_cases)
      return fail(c.user + ": materialized cases differ from the server's (" +
                  first_difference(cs, server_cases) + ")");
    if (rows(r.db(), kOrg, 1) != server_org)
      return fail(c.user + ": organisation differs from the server's");
    stats.entries_checked += log.size();
    if (auto missing = r.missing_blobs(); !missing.empty())
      return fail(c.user + ": the content of " + std::to_string(missing.size()) +
                  " draft revision(s) never arrived (first " + missing.front() + ")");

    // 5. Nothing an official made vanished.
    auto outbox = r.outbox();
    std::uint64_t expect = 1;
    for (const auto& row : outbox) {
      const std::string id = c.replica + ":" + std::to_string(row.counter);
      if (row.counter != expect)
        return fail(c.user + ": outbox jumps from #" + std::to_string(expect - 1) + " to #" +
                    std::to_string(row.counter));
      ++expect;
      auto stored = server.db->stored_change(c.replica, row.counter);
      if (row.status == "accepted") {
        ++stats.accepted;
        if (row.seq == 0 || row.seq > log.size() ||
            log[row.seq - 1].change.dot.replica != c.replica ||
            log[row.seq - 1].change.dot.counter != row.counter)
          return fail(c.user + ": change " + id + " is marked accepted at seq " +
                      std::to_string(row.seq) + " but the log does not hold it there");
      } else if (row.status == "rejected") {
        ++stats.rejected;
        if (row.code.empty() || row.message.empty())
          return fail(c.user + ": change " + id + " rejected without a reason");
        if (!stored || stored->status != "rejected" || stored->code != row.code)
          return fail(c.user + ": change " + id + " rejected (" + row.code +
                      ") locally, but the server says " +
                      (stored ? stored->status + " " + stored->code : "nothing"));
        if (row.code == "dot_reused") return fail(c.user + ": change " + id + " reused a counter");
      } else {
        return fail(c.user + ": change " + id + " is still " + row.status +
                    " after the network healed");
      }
      if (!stored) return fail(c.user + ": the server has no record of change " + id);
    }
    for (std::uint64_t counter : c.made)
      if (counter == 0 || counter >= expect)
        return fail(c.user + ": change #" + std::to_string(counter) +
                    " that the official made is gone from the outbox");
    if (auto d = server.db->device(c.replica); !d || d->last_counter != expect - 1)
      return fail(c.user + ": the server has received up to #" +
                  std::to_string(d ? d->last_counter : 0) + ", the replica wrote " +
                  std::to_string(expect - 1));
  }
}

}  // namespace alur::sim
