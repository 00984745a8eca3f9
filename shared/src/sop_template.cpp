// Template parsing and validation, and the registry of built-in templates.
#include "alur/shared/sop_template.h"

#include <regex>
#include <set>

#include "alur/shared/error.h"
#include "alur/shared/org.h"

namespace alur::embedded {
const std::map<std::string, std::string_view>& files();
}

namespace alur {

bool is_known_step_kind(const std::string& kind) {
  static const std::set<std::string> kinds = {"disposition", "prepare", "meeting", "review",
                                              "draft",       "correct", "initial", "sign"};
  return kinds.count(kind) > 0;
}

const StepDef* Template::step(int no) const {
  for (const auto& s : steps)
    if (s.no == no) return &s;
  return nullptr;
}

std::vector<int> Template::successors(int no) const {
  std::vector<int> out;
  for (const auto& s : steps)
    for (int a : s.after)
      if (a == no) out.push_back(s.no);
  return out;
}

std::string Template::case_title(const std::string& period) const {
  static const char* roman[] = {"I", "II", "III", "IV"};
  if (period.size() == 7 && period[4] == '-' && period[5] == 'Q' && period[6] >= '1' &&
      period[6] <= '4')
    return title + " \u2014 Triwulan " + roman[period[6] - '1'] + " " + period.substr(0, 4);
  return title + " \u2014 " + period;
}

void check_period(const std::string& period) {
  static const std::regex re("^(19|20|21)[0-9]{2}-Q[1-4]$");
  if (!std::regex_match(period, re))
    throw Error("bad_period", "Periode tidak valid: \"" + period + "\" (contoh: 2026-Q3)");
}

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw Error("bad_template", "Templat SOP tidak valid: " + where + ": " + what);
}

}  // namespace

Template parse_template(std::string_view json_text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error("bad_template", std::string("Templat SOP bukan JSON yang valid: ") + e.what());
  }
  Template t;
  auto str = [&](const nlohmann::json& o, const char* key, const std::string& where) {
    if (!o.contains(key) || !o[key].is_string() || o[key].get<std::string>().empty())
      bad(where + "." + key, "wajib berupa teks");
    return o[key].get<std::string>();
  };
  if (!j.is_object()) bad("$", "harus berupa objek");
  t.sop = str(j, "sop", "$");
  t.title = str(j, "title", "$");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() < 1)
    bad("$.version", "wajib bilangan bulat >= 1");
  t.version = j["version"];
  t.identity = j.value("identity", nlohmann::json::object());
  if (!j.contains("openers") || !j["openers"].is_array()) bad("$.openers", "wajib berupa daftar");
  for (const auto& o : j["openers"]) t.openers.push_back(o.get<std::string>());
  if (!j.contains("steps") || !j["steps"].is_array() || j["steps"].empty())
    bad("$.steps", "wajib berupa daftar yang tidak kosong");
  std::set<int> seen;
  for (std::size_t i = 0; i < j["steps"].size(); ++i) {
    const auto& s = j["steps"][i];
    std::string where = "$.steps[" + std::to_string(i) + "]";
    StepDef d;
    if (!s.contains("no") || !s["no"].is_number_integer() || s["no"].get<int>() < 1)
      bad(where + ".no", "wajib bilangan bulat >= 1");
    d.no = s["no"];
    if (!seen.insert(d.no).second) bad(where + ".no", "nomor langkah ganda");
    d.actor = str(s, "actor", where);
    if (!is_known_role(d.actor)) bad(where + ".actor", "peran tidak dikenal: " + d.actor);
    d.kind = str(s, "kind", where);
    if (!is_known_step_kind(d.kind)) bad(where + ".kind", "jenis langkah tidak dikenal: " + d.kind);
    d.title = str(s, "title", where);
    d.description = s.value("description", "");
    for (const auto& in : s.value("inputs", nlohmann::json::array()))
      d.inputs.push_back(in.get<std::string>());
    d.days = s.value("days", 1);
    if (d.days < 0) bad(where + ".days", "tidak boleh negatif");
    d.output = s.value("output", "");
    for (const auto& a : s.value("after", nlohmann::json::array())) {
      int p = a.get<int>();
      if (!seen.count(p) || p == d.no)
        bad(where + ".after", "pendahulu harus langkah sebelumnya: " + std::to_string(p));
      d.after.push_back(p);
    }
    d.per_bidang = s.value("per_bidang", false);
    d.draft = s.value("draft", "");
    if ((d.kind == "draft" || d.kind == "prepare" || d.kind == "correct" || d.kind == "initial" ||
         d.kind == "sign") &&
        d.draft.empty())
      bad(where + ".draft", "langkah jenis " + d.kind + " wajib menyebut draft");
    t.steps.push_back(std::move(d));
  }
  return t;
}

const TemplateRegistry& TemplateRegistry::builtin() {
  static const TemplateRegistry registry = [] {
    TemplateRegistry r;
    for (const auto& [name, text] : embedded::files())
      if (name.size() > 5 && name.substr(name.size() - 5) == ".json") r.add(parse_template(text));
    return r;
  }();
  return registry;
}

void TemplateRegistry::add(Template t) {
  auto key = std::make_pair(t.sop, t.version);
  templates_[key] = std::move(t);
}

const Template* TemplateRegistry::find(const std::string& sop, int version) const {
  auto it = templates_.find({sop, version});
  return it == templates_.end() ? nullptr : &it->second;
}

const Template* TemplateRegistry::latest(const std::string& sop) const {
  const Template* best = nullptr;
  for (const auto& [key, t] : templates_)
    if (key.first == sop) best = &t;
  return best;
}

std::vector<const Template*> TemplateRegistry::all() const {
  std::vector<const Template*> out;
  for (const auto& [key, t] : templates_) out.push_back(&t);
  return out;
}

}  // namespace alur
