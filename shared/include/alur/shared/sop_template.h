// SOP templates as data: a template names its identity section, roles and steps (actor or
// actors, kind, inputs, standard time, output, predecessors, fan-out per bidang, a decision's
// outcomes). The schema is shared/templates/SCHEMA.md. The LAKIP SOP ships as
// shared/templates/lakip.json, embedded in the binaries; an administrator imports others
// (`alur-server sop import`), and the server replicates them to every client.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alur {

// Step kinds and what acting on them means.
//   disposition  an instruction text (disposisi)
//   prepare      a prepared document (file or text) -> a revision of the step's draft
//   meeting      minutes text, optionally a revision of the step's draft
//   review       a remark, optionally a revision of the step's draft
//   draft        a revision of the step's draft (file or text) — required
//   correct      a correction remark pinned to the head revision, optionally a corrected revision
//   initial      paraf bound to the head revision's content hash
//   sign         tanda tangan bound to the head revision's content hash
//   decision     one of the step's outcomes; an outcome with return_to sends the case back
bool is_known_step_kind(const std::string& kind);

// One outcome of a decision step: "setuju" goes on; "tolak" with return_to = 2 sends the
// case back to step 2 (like a return: that step and everything after it are redone).
struct DecisionOutcome {
  std::string code;
  std::string label;
  std::optional<int> return_to;
};

struct StepDef {
  int no = 0;
  std::string actor;                // the first (or only) role code; shown as the step's role
  std::vector<std::string> actors;  // every role that may do it (actor first)
  std::string kind;
  std::string title;  // short Indonesian title
  std::string description;
  std::vector<std::string> inputs;  // kelengkapan
  int days = 1;                     // mutu baku, working days
  std::string output;
  std::vector<int> after;  // predecessors (step numbers)
  bool per_bidang = false;
  std::string draft;                      // draft name this step writes or binds to ("" for none)
  std::vector<DecisionOutcome> outcomes;  // decision steps only
  const DecisionOutcome* outcome(const std::string& code) const;
};

// A link to another SOP (keterkaitan): the related template's code when it is one alur
// knows, and the title the SOP document prints.
struct RelatedSop {
  std::string sop;  // "" when the related SOP is named only by its title
  std::string title;
};

struct Template {
  std::string sop;  // short code used on the command line, e.g. "LAKIP"
  int version = 1;
  std::string title;
  nlohmann::json identity;           // nomor, tanggal, disahkan_oleh, dasar_hukum, ...
  std::vector<std::string> roles;    // the roles that take part (the SOP table's columns)
  std::vector<std::string> openers;  // roles that may open a case
  std::vector<RelatedSop> related;   // identity.keterkaitan
  std::vector<StepDef> steps;

  const StepDef* step(int no) const;
  // Steps that list `no` among their predecessors.
  std::vector<int> successors(int no) const;
  // True if `to` precedes `from` along the predecessor links.
  bool precedes(int to, int from) const;
  // "Pengukuran Kinerja LAKIP — Triwulan III 2026" for period "2026-Q3".
  std::string case_title(const std::string& period) const;
  // True if this template names `sop` among its related SOPs.
  bool relates_to(const std::string& sop) const;
};

// One problem found in a template file: where (a path such as "steps[3].actor" and the line
// of the file it is on) and what.
struct TemplateIssue {
  std::string path;
  int line = 0;  // 1-based; 0 when unknown
  std::string message;
};

// Checks a template file completely: every problem, not just the first. `template_` is set
// only when there are none.
struct TemplateCheck {
  std::vector<TemplateIssue> issues;
  std::optional<Template> template_;
};
TemplateCheck check_template(std::string_view json_text);

// Parses and validates a template; throws alur::Error("bad_template") naming the first
// problem's field and line.
Template parse_template(std::string_view json_text);

// Largest template file accepted (it travels as the body of one change).
inline constexpr std::size_t kMaxTemplateBytes = 192 * 1024;

// Known templates by SOP code and version.
class TemplateRegistry {
 public:
  // The templates shipped inside the binary.
  static const TemplateRegistry& builtin();
  void add(Template t);
  const Template* find(const std::string& sop, int version) const;
  const Template* latest(const std::string& sop) const;
  std::vector<const Template*> all() const;

 private:
  std::map<std::pair<std::string, int>, Template> templates_;
};

// Validates "YYYY-Qn" (n in 1..4); throws alur::Error("bad_period").
void check_period(const std::string& period);

}  // namespace alur
