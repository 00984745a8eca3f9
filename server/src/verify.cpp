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

VerifyReport verify_server(ServerStore& store, const TemplateRegistry& templates) {
  VerifyReport r;
  auto problem = [&](std::string p) {
    if (r.problems.size() < kMaxProblems) r.problems.push_back(std::move(p));
  };
  if (std::string ic = store.integrity_check(); ic != "ok") problem("SQLite: " + ic);

  // The committed log, replayed.
  MemoryState replay;
  std::map<std::pair<std::string, std::uint64_t>, std::uint64_t> logged;  // dot -> seq
  {
    std::string prev;
    std::uint64_t expect = 1;
    store.visit_log([&](const LogRecord& row) {
      const auto seq = row.seq;
      const std::string at = "log #" + std::to_string(seq) + ": ";
      if (seq != expect) {
        problem("log #" + std::to_string(expect) + " is missing (the log jumps from #" +
                std::to_string(expect - 1) + " to #" + std::to_string(seq) + ")");
        return false;
      }
      Change c;
      try {
        c = decode_change(row.encoded);
      } catch (const Error& e) {
        problem(at + "cannot be read (" + e.what() + ")");
        return false;
      }
      if (c.dot.replica != row.replica || c.dot.counter != row.counter)
        problem(at + "names change " + dot_name(row.replica, row.counter) + " but holds " + c.id());
      if (log_hash(prev, seq, c.hash(), row.committed_at) != row.log_hash) {
        problem(at + "the hash chain breaks here: this entry, or one before it, was altered, "
                     "removed or moved");
        return false;
      }
      if (!logged.emplace(std::make_pair(c.dot.replica, c.dot.counter), seq).second)
        problem(at + "change " + c.id() + " is committed a second time");
      if (Verdict v = apply_change(replay, templates, c, row.committed_at, {.check_blobs = false});
          !v.ok())
        problem(at + "change " + c.id() + " does not apply on replay: " + v.code + " " +
                v.message);
      prev = row.log_hash;
      ++expect;
      ++r.entries;
      return true;
    });
    if (r.problems.empty() && r.entries != store.head())
      problem("the log holds " + std::to_string(r.entries) + " entries but its head is #" +
              std::to_string(store.head()));
  }

  // The stored state is exactly the replay's.
  {
    std::set<std::string> seen;
    store.visit_cases([&](const std::string& id, const std::string& body) {
      seen.insert(id);
      ++r.cases;
      auto it = replay.cases().find(id);
      const CaseState* replayed = it == replay.cases().end() ? nullptr : &it->second;
      StoredCaseCheck check = check_stored_case(body, replayed, replay.org());
      for (auto& p : check.signatures) problem(std::move(p));
      if (!check.readable) problem("case " + id + " cannot be read (" + check.unreadable + ")");
      if (!replayed)
        problem("case " + id + " is stored but no committed change opened it");
      else if (!check.same)
        problem("case " + id + " differs from what its committed log says");
      return true;
    });
    for (const auto& [id, c] : replay.cases())
      if (!seen.count(id)) problem("case " + id + " is in the log but missing from storage");
    if (store.org().people.size() != replay.org().people.size() ||
        nlohmann::json(store.org()) != nlohmann::json(replay.org()))
      problem("the organisation differs from the last org.set in the log");
  }

  // Every device's chain of changes.
  {
    std::map<std::string, std::pair<std::uint64_t, std::string>> heads;  // replica -> last
    store.visit_changes([&](const ChangeRecord& row) {
      const std::string& replica = row.replica;
      const auto counter = row.counter;
      const std::string at = "change " + dot_name(replica, counter) + ": ";
      ++r.changes;
      auto& [last_counter, last_hash] = heads[replica];
      if (counter != last_counter + 1)
        problem(at + "the device's chain skips from #" + std::to_string(last_counter));
      // An accepted change's bytes are its log entry's (schema 3): without the entry, there
      // is nothing to read; that is the problem to name.
      const bool accepted = row.status == "accepted";
      auto in_log = logged.find({replica, counter});
      if (accepted && (in_log == logged.end() || in_log->second != row.seq))
        problem(at + "marked accepted at #" + std::to_string(row.seq) +
                " but the log does not hold it there");
      if (!accepted && in_log != logged.end())
        problem(at + "marked rejected but it is in the log at #" + std::to_string(in_log->second));
      Change c;
      try {
        c = decode_change(row.encoded);
      } catch (const Error& e) {
        problem(at + "cannot be read (" + e.what() + ")");
        last_counter = counter;
        return true;
      }
      const std::string h = c.hash();
      if (h != row.hash) problem(at + "its content does not match its hash (altered)");
      if (c.prev != last_hash && counter == last_counter + 1)
        problem(at + "does not follow the device's previous change (chain broken)");
      last_counter = counter;
      last_hash = h;
      return true;
    });
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
