// alur-server verify (see verify.h).
#include "alur/server/verify.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "alur/shared/error.h"
#include "alur/sync/change.h"
#include "alur/sync/memory_state.h"
#include "alur/sync/messages.h"
#include "alur/sync/signing.h"

namespace alur::server {

using namespace alur::sync;

namespace {

constexpr std::size_t kMaxProblems = 20;  // enough to see the shape of the damage

std::string dot_name(const std::string& replica, std::uint64_t counter) {
  return replica + ":" + std::to_string(counter);
}

}  // namespace

VerifyReport verify_server(ServerDb& store, const TemplateRegistry& templates) {
  VerifyReport r;
  sql::Database& db = store.db();
  auto problem = [&](std::string p) {
    if (r.problems.size() < kMaxProblems) r.problems.push_back(std::move(p));
  };
  if (std::string ic = db.integrity_check(); ic != "ok") problem("SQLite: " + ic);

  // The committed log, replayed.
  MemoryState replay;
  std::map<std::pair<std::string, std::uint64_t>, std::uint64_t> logged;  // dot -> seq
  {
    std::string prev;
    std::uint64_t expect = 1;
    auto s = db.cached(
        "SELECT seq, replica, counter, committed_at, log_hash, encoded FROM log ORDER BY seq");
    while (s.step()) {
      const auto seq = static_cast<std::uint64_t>(s.get_int(0));
      const std::string at = "log #" + std::to_string(seq) + ": ";
      if (seq != expect) {
        problem("log #" + std::to_string(expect) + " is missing (the log jumps from #" +
                std::to_string(expect - 1) + " to #" + std::to_string(seq) + ")");
        break;
      }
      Change c;
      try {
        c = decode_change(s.get_blob(5));
      } catch (const Error& e) {
        problem(at + "cannot be read (" + e.what() + ")");
        break;
      }
      if (c.dot.replica != s.get_text(1) ||
          c.dot.counter != static_cast<std::uint64_t>(s.get_int(2)))
        problem(at + "names change " + dot_name(s.get_text(1), s.get_int(2)) + " but holds " +
                c.id());
      if (log_hash(prev, seq, c.hash(), s.get_int(3)) != s.get_blob(4)) {
        problem(at + "the hash chain breaks here: this entry, or one before it, was altered, "
                     "removed or moved");
        break;
      }
      if (!logged.emplace(std::make_pair(c.dot.replica, c.dot.counter), seq).second)
        problem(at + "change " + c.id() + " is committed a second time");
      if (Verdict v = apply_change(replay, templates, c, s.get_int(3), {.check_blobs = false});
          !v.ok())
        problem(at + "change " + c.id() + " does not apply on replay: " + v.code + " " +
                v.message);
      prev = s.get_blob(4);
      ++expect;
      ++r.entries;
    }
    if (r.problems.empty() && r.entries != store.head())
      problem("the log holds " + std::to_string(r.entries) + " entries but its head is #" +
              std::to_string(store.head()));
  }

  // The stored state is exactly the replay's.
  {
    std::set<std::string> seen;
    auto s = db.cached("SELECT id, body FROM cases ORDER BY id");
    while (s.step()) {
      const std::string id = s.get_text(0);
      seen.insert(id);
      ++r.cases;
      auto it = replay.cases().find(id);
      nlohmann::json stored = nlohmann::json::parse(s.get_text(1), nullptr, false);
      // Each paraf and signature on its own, against the keys the log recorded.
      try {
        for (auto& p : check_approval_signatures(case_from_json(stored), replay.org()))
          problem(std::move(p));
      } catch (const std::exception& e) {
        problem("case " + id + " cannot be read (" + e.what() + ")");
      }
      if (it == replay.cases().end())
        problem("case " + id + " is stored but no committed change opened it");
      else if (stored != case_to_json(it->second))
        problem("case " + id + " differs from what its committed log says");
    }
    for (const auto& [id, c] : replay.cases())
      if (!seen.count(id)) problem("case " + id + " is in the log but missing from storage");
    if (store.org().people.size() != replay.org().people.size() ||
        nlohmann::json(store.org()) != nlohmann::json(replay.org()))
      problem("the organisation differs from the last org.set in the log");
  }

  // Every device's chain of changes.
  {
    std::map<std::string, std::pair<std::uint64_t, std::string>> heads;  // replica -> last
    auto s = db.cached(
        "SELECT replica, counter, hash, encoded, status, seq FROM changes ORDER BY replica, "
        "counter");
    while (s.step()) {
      const std::string replica = s.get_text(0);
      const auto counter = static_cast<std::uint64_t>(s.get_int(1));
      const std::string at = "change " + dot_name(replica, counter) + ": ";
      ++r.changes;
      auto& [last_counter, last_hash] = heads[replica];
      if (counter != last_counter + 1)
        problem(at + "the device's chain skips from #" + std::to_string(last_counter));
      Change c;
      try {
        c = decode_change(s.get_blob(3));
      } catch (const Error& e) {
        problem(at + "cannot be read (" + e.what() + ")");
        last_counter = counter;
        continue;
      }
      const std::string h = c.hash();
      if (h != s.get_blob(2)) problem(at + "its content does not match its hash (altered)");
      if (c.prev != last_hash && counter == last_counter + 1)
        problem(at + "does not follow the device's previous change (chain broken)");
      const bool accepted = s.get_text(4) == "accepted";
      auto in_log = logged.find({replica, counter});
      if (accepted && (in_log == logged.end() ||
                       in_log->second != static_cast<std::uint64_t>(s.get_int(5))))
        problem(at + "marked accepted at #" + std::to_string(s.get_int(5)) +
                " but the log does not hold it there");
      if (!accepted && in_log != logged.end())
        problem(at + "marked rejected but it is in the log at #" + std::to_string(in_log->second));
      last_counter = counter;
      last_hash = h;
    }
    for (const auto& d : store.devices()) {
      ++r.devices;
      auto it = heads.find(d.replica);
      std::uint64_t n = it == heads.end() ? 0 : it->second.first;
      if (n != d.last_counter || (n > 0 && it->second.second != d.last_hash))
        problem("device " + d.replica + ": its record says #" + std::to_string(d.last_counter) +
                " was received last, its stored chain ends at #" + std::to_string(n));
    }
  }
  return r;
}

}  // namespace alur::server
