// Replica: one official's local database (SQLite, WAL) — the committed log pulled from the
// server and the state materialized from it, the outbox of this device's own changes
// (tentative until the server sequences them), blobs, and enrolment settings.
// Schema: client/SCHEMA.md.
//
// What a person sees is the committed state with the still-tentative changes of the outbox
// re-applied on top (the overlay), so a change shows at once, offline, and the view
// converges to the server's once everything is pulled. Not thread-safe; one process may
// use a replica while another waits on SQLite's lock (busy timeout).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "alur/shared/calendar.h"
#include "alur/shared/clock.h"
#include "alur/shared/crypto.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/case_state.h"
#include "alur/sync/messages.h"

namespace alur::client {

struct OutboxRow {
  std::uint64_t counter = 0;
  sync::Change change;
  std::string status;  // pending | accepted | rejected
  std::string code, message;
  std::uint64_t seq = 0;
  std::string blob;  // hex sha256 of the attachment this change needs on the server, or ""
};

// The overlay: committed cases with tentative changes applied, computed on demand.
class View : public sync::StateAccess {
 public:
  const Org& org() override { return org_; }
  void set_org(const Org& org) override { org_ = org; }
  std::optional<sync::CaseState> load_case(const std::string& id) override;
  void save_case(const sync::CaseState& c) override { cases_[c.id] = c; }
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override;
  bool has_blob(const std::string&) override { return true; }
  std::map<std::pair<std::string, int>, std::string> imported_templates() override {
    return templates_;
  }
  void put_template(const std::string& sop, int version, const std::string& text) override {
    templates_[{sop, version}] = text;
  }

  std::vector<std::string> case_ids() const;
  // Tentative changes that would no longer apply (e.g. someone else did the task first):
  // counter -> verdict. The server will reject them; shown in status.
  const std::map<std::uint64_t, sync::Verdict>& doomed() const { return doomed_; }

 private:
  friend class Replica;
  Org org_;
  std::map<std::pair<std::string, int>, std::string> templates_;
  std::map<std::string, sync::CaseState> cases_;
  std::map<std::string, std::pair<std::string, std::string>> periods_;  // id -> (sop, period)
  std::map<std::uint64_t, sync::Verdict> doomed_;
};

class Replica : public sync::StateAccess {
 public:
  static constexpr const char* kFileName = "replica.db";

  // Opens (creating if needed) HOME/replica.db and migrates its schema.
  explicit Replica(const std::string& home);
  // Opens (creating if needed) the database named directly — a file, or a SQLite URI such
  // as the simulator's in-memory "file:/node?vfs=memdb" — and migrates its schema.
  explicit Replica(const sql::File& file);

  sql::Database& db() { return db_; }
  std::optional<std::string> meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);
  std::string require_meta(const std::string& key);  // throws Error("not_enrolled")
  bool enrolled();

  // --- the view ------------------------------------------------------------------
  // Committed state plus the overlay of tentative changes.
  View view(const TemplateRegistry& templates);

  // --- writing -------------------------------------------------------------------
  // Builds this device's next change (dot, prev hash, HLC time, author).
  sync::Change next_change(const std::string& record, const std::string& op,
                           const std::string& body, const sync::VersionVector& context,
                           const Clock& clock);
  // Validates the change on the current view as the server would and, if it holds, stores
  // it in the outbox together with its attachment, in one transaction. Throws
  // alur::Error(code, message) when it does not hold: nothing is written.
  void write(const sync::Change& change, const TemplateRegistry& templates,
             const std::optional<std::string>& attachment);
  // Rewrites a change's body once its dot and time are known (a paraf signs a statement
  // naming both), reading the current view; returns the final body.
  using BodyFinisher = std::function<std::string(const sync::Change& change, View& view)>;
  // next_change + write in one transaction, so that two processes writing to the same
  // replica at once queue on SQLite's lock instead of taking the same counter. A record
  // ending in "/" is named by the change itself (a correction: "corr/<case>/<change id>").
  sync::Change append(const std::string& record, const std::string& op, const std::string& body,
                      const sync::VersionVector& context, const Clock& clock,
                      const TemplateRegistry& templates,
                      const std::optional<std::string>& attachment,
                      const BodyFinisher& finish = {});

  // --- sync ----------------------------------------------------------------------
  std::vector<OutboxRow> outbox(const std::string& status_filter = "");
  std::size_t count_pending();
  void record_results(const std::vector<sync::ChangeResult>& results);
  // Applies pulled entries and advances the cursor in one transaction; checks the log's
  // hash chain. Returns how many entries were new.
  std::size_t apply_entries(const std::vector<sync::CommittedEntry>& entries,
                            const TemplateRegistry& templates);
  std::uint64_t cursor();
  // The server's Welcome says which of this device's changes it has received (up to
  // highest_counter, whose hash is last_hash). A replica behind that — restored from an
  // older copy, or rebuilt by `alur repair` — moves its chain head there, so that its next
  // change continues the chain instead of reusing a counter (dot_reused). Returns whether
  // it moved.
  bool adopt_chain_head(std::uint64_t highest_counter, const std::string& last_hash);

  // --- integrity -----------------------------------------------------------------
  // Cheap checks for every open (measured: 11 ms on a 50,000-entry, 32 MiB log, half of
  // PRAGMA quick_check's 22 ms, almost all of it the COUNT(*) that finds deleted rows): the
  // committed log ends where the cursor and last_log_hash say, the outbox ends where the
  // chain head (counter, last_hash) says. Returns the problems found (empty: none).
  // SQLite's own damage (SQLITE_CORRUPT/NOTADB) surfaces as Error("db_corrupt").
  std::vector<std::string> quick_check();
  // Everything: PRAGMA integrity_check, the whole log's hash chain and every outbox change's
  // chain (decodable, counters consecutive, each prev the hash of the one before).
  std::vector<std::string> full_check();
  // Replays the committed log from nothing with the rules: every entry must apply, and the
  // result must equal the stored cases. Returns the problems (empty when it holds).
  std::vector<std::string> replay_check(const TemplateRegistry& templates);

  // Blobs (content-addressed by hex sha256).
  bool has_blob(const std::string& sha256_hex) override;
  void put_blob(const std::string& data);  // inside the caller's transaction or alone
  std::optional<std::string> blob(const std::string& sha256_hex);
  std::vector<std::string> missing_blobs();  // referenced by committed revisions

  // --- sync::StateAccess over the committed state ---------------------------------
  const Org& org() override;
  void set_org(const Org& org) override;
  std::optional<sync::CaseState> load_case(const std::string& id) override;
  void save_case(const sync::CaseState& c) override;
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override;
  std::map<std::pair<std::string, int>, std::string> imported_templates() override;
  void put_template(const std::string& sop, int version, const std::string& text) override;
  // Working-day calendars from the committed log (calendar.set), kept in meta as
  // "calendar/<year>".
  void set_calendar(int year, const std::string& canonical_json) override;
  // The calendars in force here: each replicated year, else the one embedded in the binary.
  WorkCalendar calendar();

  crypto::Ed25519Key device_key();

 private:
  void migrate();
  // The case a stored body describes, parsed once per distinct body: every command and
  // every tentative overlay reads all cases, and JSON parsing was most of their cost.
  const sync::CaseState& parsed(const std::string& id, std::string body);
  void write_in(sql::Transaction& tx, const sync::Change& change, const TemplateRegistry& templates,
                const std::optional<std::string>& attachment);
  sql::Database db_;
  StoredOrg org_;  // meta "org", parsed
  std::unordered_map<std::string, std::pair<std::string, sync::CaseState>>
      parsed_;  // id -> (body, case)
};

// The per-user default home: $ALUR_HOME, else %LOCALAPPDATA%\alur or ~/.local/share/alur.
std::string default_home();

}  // namespace alur::client
