// The materialized state of one case, and the rules that apply a change to it.
//
// The same rules run on the server (to validate and sequence), on each replica (to replay
// the committed log, and to overlay its own tentative changes), and in the simulator.
// apply_change is deterministic: its result depends only on the state, the template, the
// change and the commit time — never on a wall clock — so every replica that applies the
// committed log in order reaches the server's state byte for byte (case_to_json).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alur/shared/calendar.h"
#include "alur/shared/clock.h"
#include "alur/shared/error.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/change.h"
#include "alur/sync/version_vector.h"

namespace alur::sync {

struct TaskState {
  std::string key;  // "5", or "2.<bidang>" for a per-bidang step
  int step = 0;
  std::optional<std::string> bidang;
  std::string role;
  std::string state = "pending";  // pending | ready | done
  int round = 0;                  // how many times a return reset this task
  Millis ready_at = 0;            // commit time at which it became ready (0 = never)
  std::string by;                 // who completed it
  Millis at = 0;                  // when (the author's clock)
  std::string change;             // id of the completing change
  std::string text;               // disposition / minutes / remark / correction text
  std::string revision;           // revision written or bound (paraf, signature)
  // Set when the task is done: "plt" / "plh" when `by` acted through a delegation (the
  // record reads "Plt. Kepala Dinas" and the person); the role `by` acted in when the step
  // may be done by several roles; the outcome chosen at a decision step.
  std::string acting;
  std::string acted_as;
  std::string outcome;
};

struct Revision {
  std::string id;  // the id of the change that wrote it
  std::string draft;
  std::vector<std::string> parents;
  std::string by;
  Millis at = 0;
  std::string sha256;  // hex, content address of the blob
  std::uint64_t size = 0;
  std::string filename;
  std::string media;  // "text" | "binary"
  int step = 0;       // the step that wrote it (0: draft put)
};

struct Draft {
  std::string name;
  std::map<std::string, Revision> revisions;
  // Revisions that no other revision names as a parent, oldest first.
  std::vector<std::string> heads() const;
};

struct DispositionValue {
  std::string text;
  std::string by;
  Millis at = 0;
  friend bool operator==(const DispositionValue&, const DispositionValue&) = default;
};

struct Disposition {
  std::string task;  // task key
  DvvSet<DispositionValue> value;
};

struct CorrectionStatus {
  std::string status;  // "open" | "resolved" | "reopened"
  std::string by;
  Millis at = 0;
  friend bool operator==(const CorrectionStatus&, const CorrectionStatus&) = default;
};

struct Correction {
  std::string id;
  std::string draft;
  std::string revision;
  std::string text;
  std::string by;
  Millis at = 0;
  DvvSet<CorrectionStatus> status;
  // Merge rule: concurrent "resolved" and "reopened" -> reopened; resolved only if every
  // sibling says resolved.
  std::string state() const;
};

struct Approval {
  std::string kind;  // "paraf" | "tanda_tangan"
  std::string task;
  int step = 0;
  std::string draft;
  std::string revision;
  std::string sha256;
  std::string by;
  std::string role;  // as the record prints it: "Kepala Dinas", "Plt. Kepala Dinas"
  Millis at = 0;
  std::string change;
  // Set when a return sent the case back before this step: the paraf or signature stays
  // in the record but no longer vouches for the report.
  bool superseded = false;
  std::string acting;  // "plt" | "plh" when signed through a delegation
  // The signer's personal signature (sync/signing.h): the statement signed, the public key
  // and the Ed25519 signature, both base64.
  std::string statement;
  std::string public_key;
  std::string signature;
};

struct ReturnEvent {
  std::string from_task;
  int to_step = 0;
  std::string reason;
  std::string by;
  Millis at = 0;
  std::string change;
  std::string acting;   // "plt" | "plh" when returned through a delegation
  std::string outcome;  // the decision outcome that returned the case ("" for case.return)
};

struct CaseState {
  std::string id;
  std::string sop;
  int version = 0;
  std::string period;
  std::string title;
  std::string opened_by;
  Millis opened_at = 0;
  std::string state = "open";  // open | completed
  std::vector<TaskState> tasks;
  std::map<std::string, Draft> drafts;
  std::map<std::string, Disposition> dispositions;  // by task key
  std::map<std::string, Correction> corrections;    // by id
  std::vector<Approval> approvals;
  std::vector<ReturnEvent> returns;

  TaskState* task(const std::string& key);
  const TaskState* task(const std::string& key) const;
};

nlohmann::json case_to_json(const CaseState& c);
CaseState case_from_json(const nlohmann::json& j);
// The canonical text of a case, as stored and compared: exactly case_to_json(c).dump(), but
// written straight into the string (about a tenth of the time of building the JSON tree;
// every batch that touches a case writes it). Throws what dump() throws (text that is not
// UTF-8).
std::string case_json_text(const CaseState& c);

// Task ids on the command line: "<case>.<key>", e.g. "5e0c1d2a3b4c5d6e.2.koperasi".
std::string task_id(const std::string& case_id, const std::string& key);
// Splits a task id; throws alur::Error("bad_task_id").
std::pair<std::string, std::string> split_task_id(const std::string& id);

// What the rules need to read and write. Implemented over SQLite by the server and the
// client, and in memory by the simulator.
class StateAccess {
 public:
  virtual ~StateAccess() = default;
  virtual const Org& org() = 0;
  virtual void set_org(const Org& org) = 0;
  virtual std::optional<CaseState> load_case(const std::string& id) = 0;
  virtual void save_case(const CaseState& c) = 0;
  // The same, for a case the caller no longer needs: a batch keeps it without a copy.
  virtual void save_case(CaseState&& c) { save_case(static_cast<const CaseState&>(c)); }
  // For an edit that validates everything before it changes anything: the case, lent
  // rather than copied where the state holds it parsed (a batch). The caller hands it back
  // changed with save_case(CaseState&&) or, unchanged, with return_case (a rejection).
  // Default: a copy, which return_case drops.
  virtual std::optional<CaseState> take_case(const std::string& id) { return load_case(id); }
  virtual void return_case(CaseState&& c) noexcept { (void)c; }
  // The case already opened for this SOP and period, if any.
  virtual std::optional<std::string> case_for_period(const std::string& sop,
                                                     const std::string& period) = 0;
  virtual bool has_blob(const std::string& sha256_hex) = 0;
  // Templates imported by the server (op sop.set), replicated like the org: the template's
  // JSON text by (SOP code, version). A store that never receives sop.set may keep these
  // defaults; put_template then throws, so such a store fails loudly instead of diverging.
  virtual std::map<std::pair<std::string, int>, std::string> imported_templates() { return {}; }
  virtual void put_template(const std::string& sop, int version, const std::string& text);
  // A year's working-day calendar (calendar.set), stored as its canonical JSON text. Not
  // pure, so states that never see one (the tentative overlay, the simulator's reference)
  // need not implement it; the default refuses, so a calendar is never dropped silently.
  virtual void set_calendar(int year, const std::string& canonical_json) {
    (void)canonical_json;
    throw Error("storage", "Penyimpanan ini tidak menyimpan kalender " + std::to_string(year));
  }
};

// The verdict on one change: ok, or a stable reason code and a human message.
struct Verdict {
  std::string code;
  std::string message;
  bool ok() const { return code.empty(); }
  static Verdict accept() { return {}; }
};

struct ApplyOptions {
  // The server checks that a revision's content reached it; replicas replaying the
  // committed log may fetch the blob later.
  bool check_blobs = true;
};

// Validates `change` against the state as the server would and, if valid, applies it.
// Nothing is written on a rejection. Exceptions only for storage failures. Every time the
// state records for the change (done at, revision at, ...) is min(author's HLC time,
// commit_time): an author clock running ahead cannot date an action after its commit.
Verdict apply_change(StateAccess& state, const TemplateRegistry& templates, const Change& change,
                     Millis commit_time, const ApplyOptions& options = {});

// The statement a paraf or tanda tangan change must sign (sync/signing.h), built from the
// state exactly as the rules will check it: `change` is the task.complete without its
// signature (its dot and HLC time set). Throws alur::Error(code, message) when the change
// would not be accepted for another reason (not the signer's task, stale revision, ...).
std::string statement_to_sign(StateAccess& state, const TemplateRegistry& templates,
                              const Change& change);

// Limits on what a person may write in one change.
inline constexpr std::size_t kMaxTextBytes = 64 * 1024;
inline constexpr std::size_t kMaxBodyBytes = 256 * 1024;

}  // namespace alur::sync
