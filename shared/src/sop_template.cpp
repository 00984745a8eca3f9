// Template parsing and validation (every problem, with its field and line), and the
// registry of built-in templates. The schema is shared/templates/SCHEMA.md.
#include "alur/shared/sop_template.h"

#include <algorithm>
#include <functional>
#include <regex>
#include <set>

#include "alur/shared/error.h"
#include "alur/shared/org.h"

namespace alur::embedded {
const std::map<std::string, std::string_view>& files();
}

namespace alur {

bool is_known_step_kind(const std::string& kind) {
  static const std::set<std::string> kinds = {"disposition", "prepare", "meeting",
                                              "review",      "draft",   "correct",
                                              "initial",     "sign",    "decision"};
  return kinds.count(kind) > 0;
}

const DecisionOutcome* StepDef::outcome(const std::string& code) const {
  for (const auto& o : outcomes)
    if (o.code == code) return &o;
  return nullptr;
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

bool Template::precedes(int to, int from) const {
  const StepDef* s = step(from);
  if (!s) return false;
  for (int a : s->after)
    if (a == to || precedes(to, a)) return true;
  return false;
}

std::string Template::case_title(const std::string& period) const {
  static const char* roman[] = {"I", "II", "III", "IV"};
  if (period.size() == 7 && period[4] == '-' && period[5] == 'Q' && period[6] >= '1' &&
      period[6] <= '4')
    return title + " \u2014 Triwulan " + roman[period[6] - '1'] + " " + period.substr(0, 4);
  return title + " \u2014 " + period;
}

bool Template::relates_to(const std::string& code) const {
  for (const auto& r : related)
    if (!r.sop.empty() && r.sop == code) return true;
  return false;
}

void check_period(const std::string& period) {
  static const std::regex re("^(19|20|21)[0-9]{2}-Q[1-4]$");
  if (!std::regex_match(period, re))
    throw Error("bad_period", "Periode tidak valid: \"" + period + "\" (contoh: 2026-Q3)");
}

namespace {

using nlohmann::json;

// The line on which each value of a (valid) JSON text starts, by path ("steps[3].actor").
// nlohmann::json 3.11 keeps no positions, so the text is walked once more here.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) : text_(text) {
    skip_ws();
    value("", 0);
  }
  // The line of `path`, or of its nearest ancestor that exists (a missing field points at
  // the object that lacks it).
  int line(std::string path) const {
    for (;;) {
      auto it = lines_.find(path);
      if (it != lines_.end()) return it->second;
      if (path.empty()) return 0;
      auto cut = path.find_last_of(".[");
      path = cut == std::string::npos ? "" : path.substr(0, cut);
    }
  }

 private:
  static constexpr int kMaxDepth = 64;
  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\n')) {
      if (text_[pos_] == '\n') ++line_;
      ++pos_;
    }
  }
  std::string string() {
    std::string out;
    ++pos_;  // opening quote
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) out += text_[pos_++];
      out += text_[pos_++];
    }
    ++pos_;  // closing quote
    return out;
  }
  void value(const std::string& path, int depth) {
    if (pos_ >= text_.size()) return;
    if (depth < kMaxDepth) lines_.emplace(path, line_);
    char c = text_[pos_];
    if (c == '{' || c == '[') {
      bool object = c == '{';
      ++pos_;
      for (int index = 0;; ++index) {
        skip_ws();
        if (pos_ >= text_.size()) return;
        if (text_[pos_] == (object ? '}' : ']')) {
          ++pos_;
          return;
        }
        std::string child;
        if (object) {
          std::string key = string();
          skip_ws();
          ++pos_;  // ':'
          skip_ws();
          child = path.empty() ? key : path + "." + key;
        } else {
          child = path + "[" + std::to_string(index) + "]";
        }
        value(child, depth + 1);
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
      }
    }
    if (c == '"') {
      string();
      return;
    }
    while (pos_ < text_.size() &&
           std::string_view(",]} \t\r\n").find(text_[pos_]) == std::string_view::npos)
      ++pos_;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::map<std::string, int> lines_;
};

bool is_code(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

bool is_date(const std::string& s) {
  static const std::regex re("^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$");
  return std::regex_match(s, re);
}

// Walks a parsed template, collecting every problem.
class Checker {
 public:
  Checker(const json& j, const LineIndex& index) : j_(j), index_(index) {}

  TemplateCheck run() {
    TemplateCheck out;
    Template t;
    if (!j_.is_object()) {
      issue("", "templat harus berupa objek JSON");
      out.issues = std::move(issues_);
      return out;
    }
    known_keys(j_, "",
               {
                   "schema",
                   "sop",
                   "version",
                   "title",
                   "identity",
                   "roles",
                   "openers",
                   "steps",
               });
    if (!j_.contains("schema") || j_["schema"] != "alur.sop/1")
      issue("schema", "wajib \"alur.sop/1\"");
    t.sop = text(j_, "sop", "", true);
    if (!t.sop.empty() && !is_code(t.sop))
      issue("sop", "kode SOP hanya huruf, angka, _ atau - (maks. 32)");
    if (!j_.contains("version") || !j_["version"].is_number_integer() ||
        j_["version"].get<long long>() < 1 || j_["version"].get<long long>() > 100000)
      issue("version", "wajib bilangan bulat >= 1");
    else
      t.version = j_["version"].get<int>();
    t.title = text(j_, "title", "", true);
    identity(t);
    t.roles = role_list(j_, "roles", {});
    std::set<std::string> roles(t.roles.begin(), t.roles.end());
    t.openers = role_list(j_, "openers", roles);
    if (t.openers.empty() && j_.contains("openers"))
      issue("openers", "sebutkan paling sedikit satu peran yang boleh membuka kasus");
    steps(t, roles);
    out.issues = std::move(issues_);
    if (out.issues.empty()) out.template_ = std::move(t);
    return out;
  }

 private:
  void issue(const std::string& path, const std::string& message) {
    issues_.push_back({path.empty() ? "$" : path, index_.line(path), message});
  }
  static std::string at(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string at(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }
  void known_keys(const json& o, const std::string& path, const std::set<std::string>& keys) {
    for (auto it = o.begin(); it != o.end(); ++it)
      if (!keys.count(it.key())) issue(at(path, it.key()), "kolom tidak dikenal");
  }
  std::string text(const json& o, const std::string& key, const std::string& path, bool required) {
    std::string where = at(path, key);
    if (!o.contains(key)) {
      if (required) issue(path, "kolom \"" + key + "\" wajib ada");
      return {};
    }
    if (!o[key].is_string()) {
      issue(where, "harus berupa teks");
      return {};
    }
    std::string s = o[key].get<std::string>();
    if (required && s.empty()) issue(where, "tidak boleh kosong");
    return s;
  }
  std::vector<std::string> texts(const json& o, const std::string& key, const std::string& path,
                                 bool required) {
    std::vector<std::string> out;
    std::string where = at(path, key);
    if (!o.contains(key)) {
      if (required) issue(path, "kolom \"" + key + "\" wajib ada (daftar teks, boleh kosong)");
      return out;
    }
    if (!o[key].is_array()) {
      issue(where, "harus berupa daftar teks");
      return out;
    }
    for (std::size_t i = 0; i < o[key].size(); ++i) {
      const auto& v = o[key][i];
      if (!v.is_string() || v.get<std::string>().empty())
        issue(at(where, i), "harus berupa teks yang tidak kosong");
      else
        out.push_back(v.get<std::string>());
    }
    return out;
  }
  std::vector<std::string> role_list(const json& o, const std::string& key,
                                     const std::set<std::string>& allowed) {
    std::vector<std::string> out;
    if (!o.contains(key) || !o[key].is_array()) {
      issue(o.contains(key) ? key : "", "kolom \"" + key + "\" wajib berupa daftar kode peran");
      return out;
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < o[key].size(); ++i) {
      const auto& v = o[key][i];
      std::string where = at(key, i);
      if (!v.is_string()) {
        issue(where, "harus berupa kode peran");
        continue;
      }
      std::string r = v.get<std::string>();
      if (!is_known_role(r))
        issue(where, "peran tidak dikenal: " + r + " (" + known_roles_text() + ")");
      else if (!allowed.empty() && !allowed.count(r))
        issue(where, "peran " + r + " tidak ada di daftar \"roles\"");
      else if (!seen.insert(r).second)
        issue(where, "peran ganda: " + r);
      else
        out.push_back(r);
    }
    return out;
  }
  static std::string known_roles_text() {
    std::string s;
    for (const char* r : kRoleCodes) s += (s.empty() ? "" : ", ") + std::string(r);
    return s;
  }

  void identity(Template& t) {
    if (!j_.contains("identity") || !j_["identity"].is_object()) {
      issue(j_.contains("identity") ? "identity" : "",
            "kolom \"identity\" (bagian identitas SOP) wajib berupa objek");
      return;
    }
    const json& id = j_["identity"];
    t.identity = id;
    const std::string p = "identity";
    known_keys(id, p,
               {"unit", "nomor", "tanggal_pembuatan", "tanggal_revisi", "tanggal_pengesahan",
                "disahkan_oleh", "dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan",
                "peringatan", "pencatatan"});
    text(id, "unit", p, false);
    text(id, "nomor", p, true);
    text(id, "disahkan_oleh", p, true);
    for (const char* key : {"tanggal_pembuatan", "tanggal_pengesahan", "tanggal_revisi"}) {
      bool required = std::string(key) != "tanggal_revisi";
      if (!id.contains(key)) {
        if (required) issue(p, std::string("kolom \"") + key + "\" wajib ada");
      } else if (id[key].is_null()) {
        if (required) issue(at(p, key), "wajib berupa tanggal TTTT-BB-HH");
      } else if (!id[key].is_string() || !is_date(id[key].get<std::string>())) {
        issue(at(p, key), "harus berupa tanggal TTTT-BB-HH (contoh: 2023-02-06)");
      }
    }
    for (const char* key :
         {"dasar_hukum", "kualifikasi_pelaksana", "peralatan", "peringatan", "pencatatan"})
      texts(id, key, p, true);
    std::string kp = at(p, "keterkaitan");
    if (!id.contains("keterkaitan")) {
      issue(p, "kolom \"keterkaitan\" wajib ada (daftar, boleh kosong)");
    } else if (!id["keterkaitan"].is_array()) {
      issue(kp, "harus berupa daftar");
    } else {
      for (std::size_t i = 0; i < id["keterkaitan"].size(); ++i) {
        const auto& r = id["keterkaitan"][i];
        std::string where = at(kp, i);
        if (r.is_string() && !r.get<std::string>().empty()) {
          t.related.push_back({"", r.get<std::string>()});
        } else if (r.is_object()) {
          known_keys(r, where, {"sop", "title"});
          RelatedSop rel{text(r, "sop", where, true), text(r, "title", where, true)};
          if (!rel.sop.empty() && !is_code(rel.sop))
            issue(at(where, "sop"), "kode SOP hanya huruf, angka, _ atau -");
          t.related.push_back(std::move(rel));
        } else {
          issue(where, "harus berupa teks atau {\"sop\": KODE, \"title\": JUDUL}");
        }
      }
    }
  }

  void steps(Template& t, const std::set<std::string>& roles) {
    if (!j_.contains("steps") || !j_["steps"].is_array() || j_["steps"].empty()) {
      issue(j_.contains("steps") ? "steps" : "", "kolom \"steps\" wajib berupa daftar langkah");
      return;
    }
    std::set<int> seen;
    for (std::size_t i = 0; i < j_["steps"].size(); ++i) {
      const json& s = j_["steps"][i];
      std::string p = at("steps", i);
      if (!s.is_object()) {
        issue(p, "langkah harus berupa objek");
        continue;
      }
      known_keys(s, p,
                 {"no", "actor", "actors", "kind", "title", "description", "inputs", "days",
                  "output", "after", "per_bidang", "draft", "outcomes"});
      StepDef d;
      if (!s.contains("no") || !s["no"].is_number_integer() || s["no"].get<long long>() < 1 ||
          s["no"].get<long long>() > 10000) {
        issue(s.contains("no") ? at(p, "no") : p, "nomor langkah \"no\" wajib bilangan bulat >= 1");
      } else {
        d.no = s["no"].get<int>();
        if (!seen.insert(d.no).second)
          issue(at(p, "no"), "nomor langkah ganda: " + std::to_string(d.no));
      }
      actors(s, p, roles, d);
      d.kind = text(s, "kind", p, true);
      if (!d.kind.empty() && !is_known_step_kind(d.kind))
        issue(at(p, "kind"), "jenis langkah tidak dikenal: " + d.kind +
                                 " (disposition, prepare, meeting, review, draft, correct, "
                                 "initial, sign, decision)");
      d.title = text(s, "title", p, true);
      d.description = text(s, "description", p, false);
      d.inputs = texts(s, "inputs", p, false);
      if (!s.contains("days") || !s["days"].is_number_integer() || s["days"].get<long long>() < 0 ||
          s["days"].get<long long>() > 366)
        issue(s.contains("days") ? at(p, "days") : p,
              "waktu (mutu baku) \"days\" wajib bilangan bulat hari kerja, 0..366");
      else
        d.days = s["days"].get<int>();
      d.output = text(s, "output", p, false);
      if (s.contains("after")) {
        if (!s["after"].is_array()) {
          issue(at(p, "after"), "harus berupa daftar nomor langkah");
        } else {
          for (std::size_t k = 0; k < s["after"].size(); ++k) {
            const auto& a = s["after"][k];
            if (!a.is_number_integer() || !seen.count(a.get<int>()) || a.get<int>() == d.no)
              issue(at(at(p, "after"), k),
                    "pendahulu harus nomor langkah yang disebut sebelumnya: " + a.dump());
            else
              d.after.push_back(a.get<int>());
          }
        }
      }
      if (s.contains("per_bidang") && !s["per_bidang"].is_boolean())
        issue(at(p, "per_bidang"), "harus true atau false");
      else
        d.per_bidang = s.value("per_bidang", false);
      if (d.per_bidang)
        for (const auto& r : d.actors)
          if (!is_bidang_role(r))
            issue(at(p, s.contains("actors") ? "actors" : "actor"),
                  "langkah per bidang hanya untuk peran per bidang (kabid), bukan " + r);
      d.draft = text(s, "draft", p, false);
      if (!d.draft.empty() && (d.draft.size() > 64 || d.draft.find('/') != std::string::npos))
        issue(at(p, "draft"), "nama draft 1..64 karakter tanpa '/'");
      if ((d.kind == "draft" || d.kind == "prepare" || d.kind == "correct" || d.kind == "initial" ||
           d.kind == "sign") &&
          d.draft.empty())
        issue(p, "langkah jenis " + d.kind + " wajib menyebut \"draft\"");
      outcomes(s, p, t, d);
      t.steps.push_back(std::move(d));
    }
  }

  void actors(const json& s, const std::string& p, const std::set<std::string>& roles, StepDef& d) {
    if (s.contains("actor") && s.contains("actors")) {
      issue(at(p, "actors"), "pakai \"actor\" atau \"actors\", bukan keduanya");
      return;
    }
    std::string key = s.contains("actors") ? "actors" : "actor";
    if (!s.contains(key)) {
      issue(p, "kolom \"actor\" (peran pelaksana) wajib ada");
      return;
    }
    const json& v = s[key];
    std::string where = at(p, key);
    std::vector<std::pair<std::string, std::string>> named;  // (role, path)
    if (v.is_string()) {
      named.emplace_back(v.get<std::string>(), where);
    } else if (v.is_array() && !v.empty()) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string())
          issue(at(where, i), "harus berupa kode peran");
        else
          named.emplace_back(v[i].get<std::string>(), at(where, i));
      }
    } else {
      issue(where, "harus berupa kode peran atau daftar kode peran yang tidak kosong");
      return;
    }
    for (const auto& [r, w] : named) {
      if (!is_known_role(r))
        issue(w, "peran tidak dikenal: " + r + " (" + known_roles_text() + ")");
      else if (!roles.empty() && !roles.count(r))
        issue(w, "peran " + r + " tidak ada di daftar \"roles\"");
      else if (std::find(d.actors.begin(), d.actors.end(), r) != d.actors.end())
        issue(w, "peran ganda: " + r);
      else
        d.actors.push_back(r);
    }
    if (!d.actors.empty()) d.actor = d.actors.front();
  }

  void outcomes(const json& s, const std::string& p, const Template& t, StepDef& d) {
    if (d.kind != "decision") {
      if (s.contains("outcomes")) issue(at(p, "outcomes"), "hanya untuk langkah jenis decision");
      return;
    }
    std::string where = at(p, "outcomes");
    if (!s.contains("outcomes") || !s["outcomes"].is_array() || s["outcomes"].size() < 2) {
      issue(s.contains("outcomes") ? where : p,
            "langkah decision wajib punya \"outcomes\": paling sedikit dua keputusan");
      return;
    }
    bool goes_on = false;
    std::set<std::string> codes;
    for (std::size_t i = 0; i < s["outcomes"].size(); ++i) {
      const json& o = s["outcomes"][i];
      std::string w = at(where, i);
      if (!o.is_object()) {
        issue(w, "keputusan harus berupa objek {\"code\", \"label\", \"return_to\"?}");
        continue;
      }
      known_keys(o, w, {"code", "label", "return_to"});
      DecisionOutcome out{text(o, "code", w, true), text(o, "label", w, true), std::nullopt};
      if (!out.code.empty() && (!is_code(out.code) || !codes.insert(out.code).second))
        issue(at(w, "code"), "kode keputusan harus unik, huruf/angka/_/-");
      if (o.contains("return_to")) {
        const auto& r = o["return_to"];
        // Predecessors were all checked above, so precedes() sees this step's links.
        Template partial = t;
        partial.steps.push_back(d);
        if (!r.is_number_integer() || !partial.precedes(r.get<int>(), d.no))
          issue(at(w, "return_to"), "harus nomor langkah yang mendahului langkah ini: " + r.dump());
        else
          out.return_to = r.get<int>();
      } else {
        goes_on = true;
      }
      d.outcomes.push_back(std::move(out));
    }
    if (!goes_on)
      issue(where, "paling sedikit satu keputusan tanpa return_to (yang melanjutkan kasus)");
  }

  const json& j_;
  const LineIndex& index_;
  std::vector<TemplateIssue> issues_;
};

}  // namespace

TemplateCheck check_template(std::string_view json_text) {
  TemplateCheck out;
  if (json_text.size() > kMaxTemplateBytes) {
    out.issues.push_back({"$", 0,
                          "berkas templat terlalu besar (maks. " +
                              std::to_string(kMaxTemplateBytes / 1024) + " KiB)"});
    return out;
  }
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    // The byte where parsing failed, as a line.
    std::size_t upto = std::min<std::size_t>(e.byte, json_text.size());
    int line = 1;
    for (std::size_t i = 0; i + 1 < upto; ++i)
      if (json_text[i] == '\n') ++line;
    out.issues.push_back({"$", line, std::string("bukan JSON yang valid: ") + e.what()});
    return out;
  } catch (const json::exception& e) {  // e.g. a number too large for any type (1e999)
    out.issues.push_back({"$", 1, std::string("bukan JSON yang valid: ") + e.what()});
    return out;
  }
  LineIndex index(json_text);
  TemplateCheck check = Checker(j, index).run();
  std::stable_sort(check.issues.begin(), check.issues.end(),
                   [](const TemplateIssue& a, const TemplateIssue& b) { return a.line < b.line; });
  return check;
}

Template parse_template(std::string_view json_text) {
  TemplateCheck check = check_template(json_text);
  if (!check.template_) {
    const auto& first = check.issues.front();
    std::string more = check.issues.size() > 1
                           ? " (dan " + std::to_string(check.issues.size() - 1) + " masalah lain)"
                           : "";
    throw Error("bad_template", "Templat SOP tidak valid: baris " + std::to_string(first.line) +
                                    ", " + first.path + ": " + first.message + more);
  }
  return std::move(*check.template_);
}

const TemplateRegistry& TemplateRegistry::builtin() {
  static const TemplateRegistry registry = [] {
    TemplateRegistry r;
    // Other embedded data files (e.g. calendars) are not templates.
    for (const auto& [name, text] : embedded::files())
      if (name.size() > 5 && name.substr(name.size() - 5) == ".json" &&
          text.find("\"alur.sop/1\"") != std::string_view::npos)
        r.add(parse_template(text));
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
