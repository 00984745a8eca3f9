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
#include <vector>

#include "alur/shared/calendar.h"
#include "alur/shared/clock.h"
#include "alur/shared/crypto.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/case_state.h"
#include "alur/sync/messages.h"
#include "alur/sync/parsed_cases.h"

namespace alur::client {

struct OutboxRow {
  std::uint64_t counter = 0;
  sync::Change change;
  std::string status;  // pending | accepted | rejected
  std::string code, message;
  std::uint64_t seq = 0;
  std::string blob;  // hex sha256 of the attachment this change needs on the server, or ""
};

class Replica;

// What a person sees: committed cases with the tentative changes applied in counter order.
// Loaded lazily from the replica: a case is read (from the stored overlay, else from the
// committed cases) only when asked for, so an action costs the same whatever the number of
// cases and of pending changes. Cases saved to a View stay in it (Replica::write_in stores
// them as the new overlay). Lives shorter than the Replica it reads from.
class View : public sync::StateAccess {
 public:
  const Org& org() override { return org_; }
  void set_org(const Org& org) override {
    org_ = org;
    org_changed_ = true;
  }
  std::optional<sync::CaseState> load_case(const std::string& id) override;
  void save_case(const sync::CaseState& c) override;
  std::optional<std::string> case_for_period(const std::string& sop,
                                             const std::string& period) override;
  bool has_blob(const std::string&) override { return true; }
  std::map<std::pair<std::string, int>, std::string> imported_templates() override {
    return templates_;
  }
  void put_template(const std::string& sop, int version, const std::string& text) override {
    templates_[{sop, version}] = text;
  }

  // Every case id, sorted (reads every id; not every case).
  std::vector<std::string> case_ids();
  // The ids that start with prefix, sorted, at most `limit` of them (an index range).
  std::vector<std::string> case_ids_with_prefix(const std::string& prefix, std::size_t limit);
  // The ids of the cases of one period, sorted (an index lookup).
  std::vector<std::string> case_ids_in_period(const std::string& period);
  // The ids of the cases, sorted, with a ready task at a step that `wanted` (SOP, template
  // version, step number) accepts; reads the stored ready tasks, not the cases.
  using ReadyStepFilter = std::function<bool(const std::string& sop, int version, int step)>;
  std::vector<std::string> cases_with_ready_tasks(const ReadyStepFilter& wanted);
  // What a list of cases shows, for every case, sorted by id, without parsing any case:
  // the view's own copy, else the stored overlay's, else the committed row (`alur case
  // list` among 10,000 cases parsed each one: 2 s of CPU).
  struct CaseSummary {
    std::string id, title, state, sop, period;
  };
  std::vector<CaseSummary> case_summaries();
  // Tentative changes that would no longer apply (e.g. someone else did the task first):
  // counter -> verdict. The server will reject them; shown in status.
  const std::map<std::uint64_t, sync::Verdict>& doomed() const { return doomed_; }

 private:
  friend class Replica;
  // over_committed: read the committed cases only (a full replay builds on them).
  View(Replica& replica, bool over_committed)
      : replica_(&replica), committed_only_(over_committed) {}
  Replica* replica_;
  bool committed_only_;
  Org org_;
  bool org_changed_ = false;
  std::map<std::pair<std::string, int>, std::string> templates_;
  std::map<std::string, std::optional<sync::CaseState>> cases_;  // read or saved; nullopt: none
  std::vector<std::string> saved_;  // ids saved to this view, in the order first saved
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
  // Committed state plus the overlay of tentative changes. The overlay is kept in the
  // replica (tables overlay and doomed, client/SCHEMA.md): each local write applies its
  // change to it; whatever else changes the committed state or the set of tentative changes
  // (a pull, a rejection, changes stored by other means) marks it stale, and the next view
  // rebuilds it once by a full replay.
  View view(const TemplateRegistry& templates);
  // The same, computed from nothing by the full replay (committed state, then every
  // tentative change in counter order), neither reading nor writing the stored overlay.
  View replayed_view(const TemplateRegistry& templates);

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
  // Stores the server's answers. An answer that takes a change out of the tentative set (a
  // rejection; an acceptance already pulled) marks the overlay stale.
  void record_results(const std::vector<sync::ChangeResult>& results);
  // Applies pulled entries and advances the cursor in one transaction; checks the log's
  // hash chain. Returns how many entries were new. `links`: sync::link_entries(entries),
  // if the caller has it (computed on another thread); else it is computed here.
  std::size_t apply_entries(const std::vector<sync::CommittedEntry>& entries,
                            const TemplateRegistry& templates,
                            const sync::EntryLinks* links = nullptr);
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
  friend class View;
  // Whether the stored overlay reflects every tentative change (meta overlay_head is the
  // outbox's last counter); mark_overlay_stale() forgets that.
  std::string outbox_head();  // this device's last counter in the outbox, "0" if none
  bool overlay_fresh();
  void mark_overlay_stale();
  // The full replay, stored as the new overlay; inside the caller's transaction.
  View rebuild_overlay(const TemplateRegistry& templates);
  // Writes the cases and org a view was saved to as the overlay.
  void store_overlay(const View& v);
  std::optional<sync::CaseState> load_overlay_case(const std::string& id);
  // Table ready_tasks: the ready tasks of c, committed or tentative.
  void store_ready_tasks(const sync::CaseState& c, bool tentative);
  void write_in(sql::Transaction& tx, const sync::Change& change, const TemplateRegistry& templates,
                const std::optional<std::string>& attachment);
  sql::Database db_;
  StoredOrg org_;  // meta "org", parsed
  // The cases parsed once per distinct stored body, unbounded: a command that reads every
  // case (inbox, a full replay) reads most of them again, and JSON parsing was most of their
  // cost.
  sync::ParsedCases parsed_{sync::ParsedCases::kUnbounded};          // table cases
  sync::ParsedCases parsed_overlay_{sync::ParsedCases::kUnbounded};  // table overlay
  StoredOrg overlay_org_;       // meta "overlay_org", parsed
};

// The per-user default home: $ALUR_HOME, else %LOCALAPPDATA%\alur or ~/.local/share/alur.
std::string default_home();

}  // namespace alur::client
