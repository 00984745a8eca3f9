// SOP templates as data: a template names its identity section, roles and steps (actor,
// kind, inputs, standard time, output, predecessors, fan-out per bidang). The LAKIP SOP
// ships as shared/templates/lakip.json, embedded in the binaries.
#pragma once

#include <map>
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
bool is_known_step_kind(const std::string& kind);

struct StepDef {
  int no = 0;
  std::string actor;  // role code
  std::string kind;
  std::string title;  // short Indonesian title
  std::string description;
  std::vector<std::string> inputs;  // kelengkapan
  int days = 1;                     // mutu baku, working days
  std::string output;
  std::vector<int> after;  // predecessors (step numbers)
  bool per_bidang = false;
  std::string draft;  // draft name this step writes or binds to ("" for none)
};

struct Template {
  std::string sop;  // short code used on the command line, e.g. "LAKIP"
  int version = 1;
  std::string title;
  nlohmann::json identity;           // nomor, tanggal, disahkan_oleh, dasar_hukum, ...
  std::vector<std::string> openers;  // roles that may open a case
  std::vector<StepDef> steps;

  const StepDef* step(int no) const;
  // Steps that list `no` among their predecessors.
  std::vector<int> successors(int no) const;
  // "Pengukuran Kinerja LAKIP — Triwulan III 2026" for period "2026-Q3".
  std::string case_title(const std::string& period) const;
};

// Parses and validates a template; throws alur::Error("bad_template") naming the field.
Template parse_template(std::string_view json_text);

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
