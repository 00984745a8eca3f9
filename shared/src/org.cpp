// Org model, its JSON form, and the org-file importer's validation.
#include "alur/shared/org.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "alur/shared/error.h"

namespace alur {

bool is_known_role(const std::string& code) {
  for (const char* r : kRoleCodes)
    if (code == r) return true;
  return false;
}

bool is_bidang_role(const std::string& code) { return code == "kabid"; }

std::string acting_prefix(const std::string& kind) {
  if (kind == "plt") return "Plt.";
  if (kind == "plh") return "Plh.";
  return "";
}

Millis wib_day_start(const std::string& date) {
  int y = 0, m = 0, d = 0;
  if (date.size() != 10 || std::sscanf(date.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 ||
      m > 12 || d < 1 || d > 31)
    throw Error("bad_date", "Tanggal tidak valid: \"" + date + "\" (contoh: 2026-07-01)");
  // Days from 1970-01-01 to the civil date (Howard Hinnant's days_from_civil).
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long long days = static_cast<long long>(era) * 146097 + doe - 719468;
  return days * 86'400'000LL - 7LL * 3'600'000;  // WIB = UTC+7
}

Millis Delegation::start_ms() const { return wib_day_start(from); }

Millis Delegation::end_ms() const {
  Millis end = wib_day_start(until) + 86'400'000LL;
  return ended_at && ended_at < end ? ended_at : end;
}

std::string role_title(const std::string& code) {
  if (code == "kadis") return "Kepala Dinas";
  if (code == "sekretaris") return "Sekretaris";
  if (code == "kabid") return "Kepala Bidang";
  if (code == "kasubag_kpe") return "Kasubag Keuangan, Perencanaan dan Evaluasi";
  if (code == "pelaksana_kpe") return "Pelaksana Subag KPE";
  return code;
}

std::string role_short(const std::string& code) {
  if (code == "kadis") return "Kadis";
  if (code == "sekretaris") return "Sekretaris";
  if (code == "kabid") return "Kabid";
  if (code == "kasubag_kpe") return "Kasubag KPE";
  if (code == "pelaksana_kpe") return "Pelaksana KPE";
  return code;
}

std::string Org::role_label(const std::string& role,
                            const std::optional<std::string>& bidang_code) const {
  if (!bidang_code) return role_title(role);
  const Bidang* b = find_bidang(*bidang_code);
  std::string name = b ? b->name : *bidang_code;
  // Bidang names usually start with "Bidang": "Kepala" + "Bidang Koperasi".
  if (role == "kabid" && name.rfind("Bidang ", 0) == 0) return "Kepala " + name;
  return role_title(role) + " " + name;
}

const Person* Org::find(const std::string& username) const {
  for (const auto& p : people)
    if (p.username == username) return &p;
  return nullptr;
}

const Bidang* Org::find_bidang(const std::string& code) const {
  for (const auto& b : bidang)
    if (b.code == code) return &b;
  return nullptr;
}

bool Org::holds(const std::string& username, const std::string& role,
                const std::optional<std::string>& bidang_code) const {
  const Person* p = find(username);
  if (!p || !p->active) return false;
  for (const auto& g : p->roles) {
    if (g.role != role) continue;
    if (!bidang_code || g.bidang == bidang_code) return true;
  }
  return false;
}

bool Org::is_member(const std::string& username) const {
  const Person* p = find(username);
  if (!p || !p->active) return false;
  if (!p->roles.empty()) return true;
  for (const auto& d : delegations)
    if (d.username == username) return true;
  return false;
}

const Delegation* Org::find_delegation(const std::string& id) const {
  for (const auto& d : delegations)
    if (d.id == id) return &d;
  return nullptr;
}

const PersonalKey* Org::find_key(const std::string& username,
                                const std::string& public_key_b64) const {
  for (const auto& k : keys)
    if (k.username == username && k.public_key == public_key_b64) return &k;
  return nullptr;
}

const Delegation* Org::acting(const std::string& username, const std::string& role,
                              const std::optional<std::string>& bidang_code, Millis done_at,
                              Millis committed_at) const {
  const Person* p = find(username);
  if (!p || !p->active) return nullptr;
  for (const auto& d : delegations) {
    if (d.username != username || d.role != role) continue;
    if (bidang_code && d.bidang != bidang_code) continue;
    Millis end = d.end_ms();
    if (done_at >= d.start_ms() && done_at < end && committed_at < end + kDelegationSyncGrace)
      return &d;
  }
  return nullptr;
}

bool Org::may_act(const std::string& username, const std::string& role,
                  const std::optional<std::string>& bidang_code, Millis now) const {
  return holds(username, role, bidang_code) || acting(username, role, bidang_code, now, now);
}

void to_json(nlohmann::json& j, const Org& org) {
  j = nlohmann::json::object();
  j["unit"] = org.unit;
  j["bidang"] = nlohmann::json::array();
  for (const auto& b : org.bidang) j["bidang"].push_back({{"code", b.code}, {"name", b.name}});
  j["people"] = nlohmann::json::array();
  for (const auto& p : org.people) {
    nlohmann::json roles = nlohmann::json::array();
    for (const auto& g : p.roles)
      roles.push_back(
          {{"role", g.role}, {"bidang", g.bidang ? nlohmann::json(*g.bidang) : nlohmann::json()}});
    j["people"].push_back(
        {{"username", p.username}, {"name", p.name}, {"roles", roles}, {"active", p.active}});
  }
  // Only when there are some, so that an org without delegations keeps its earlier form.
  if (!org.delegations.empty()) {
    j["delegations"] = nlohmann::json::array();
    for (const auto& d : org.delegations) j["delegations"].push_back(delegation_to_json(d));
  }
  if (!org.keys.empty()) {  // likewise
    j["keys"] = nlohmann::json::array();
    for (const auto& k : org.keys)
      j["keys"].push_back({{"username", k.username},
                           {"public_key", k.public_key},
                           {"added_at", k.added_at},
                           {"change", k.change}});
  }
}

nlohmann::json delegation_to_json(const Delegation& d) {
  return {{"id", d.id},       {"username", d.username},
          {"role", d.role},   {"bidang", d.bidang ? nlohmann::json(*d.bidang) : nlohmann::json()},
          {"kind", d.kind},   {"from", d.from},
          {"until", d.until}, {"ended_at", d.ended_at},
          {"note", d.note}};
}

Delegation delegation_from_json(const nlohmann::json& j) {
  Delegation d;
  d.id = j.at("id").get<std::string>();
  d.username = j.at("username").get<std::string>();
  d.role = j.at("role").get<std::string>();
  if (j.contains("bidang") && !j["bidang"].is_null()) d.bidang = j["bidang"].get<std::string>();
  d.kind = j.at("kind").get<std::string>();
  d.from = j.at("from").get<std::string>();
  d.until = j.at("until").get<std::string>();
  d.ended_at = j.value("ended_at", Millis{0});
  d.note = j.value("note", "");
  return d;
}

void from_json(const nlohmann::json& j, Org& org) {
  org.unit = j.at("unit").get<std::string>();
  org.bidang.clear();
  for (const auto& b : j.at("bidang")) org.bidang.push_back({b.at("code"), b.at("name")});
  org.people.clear();
  for (const auto& p : j.at("people")) {
    Person person{p.at("username"), p.at("name"), {}, p.value("active", true)};
    for (const auto& g : p.at("roles")) {
      RoleGrant grant{g.at("role"), std::nullopt};
      if (g.contains("bidang") && !g["bidang"].is_null())
        grant.bidang = g["bidang"].get<std::string>();
      person.roles.push_back(grant);
    }
    org.people.push_back(std::move(person));
  }
  org.delegations.clear();
  if (j.contains("delegations"))
    for (const auto& d : j.at("delegations")) org.delegations.push_back(delegation_from_json(d));
  org.keys.clear();
  if (j.contains("keys"))
    for (const auto& k : j.at("keys"))
      org.keys.push_back({k.at("username").get<std::string>(), k.at("public_key").get<std::string>(),
                          k.at("added_at").get<Millis>(), k.at("change").get<std::string>()});
}

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw Error("bad_org", "Berkas organisasi tidak valid: " + where + ": " + what);
}

std::string need_string(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key))
    bad(where, std::string("kolom \"") + key + "\" tidak ada");
  if (!j[key].is_string()) bad(where + "." + key, "harus berupa teks");
  std::string s = j[key].get<std::string>();
  if (s.empty()) bad(where + "." + key, "tidak boleh kosong");
  return s;
}

bool is_code(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace

OrgFile parse_org_file(std::string_view text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // syntax, or a number out of range
    throw Error("bad_org", std::string("Berkas organisasi bukan JSON yang valid: ") + e.what());
  }
  if (!j.is_object()) bad("$", "harus berupa objek JSON");
  OrgFile out;
  out.org.unit = need_string(j, "unit", "$");
  if (!j.contains("bidang") || !j["bidang"].is_array()) bad("$.bidang", "harus berupa daftar");
  std::set<std::string> bidang_codes;
  for (std::size_t i = 0; i < j["bidang"].size(); ++i) {
    std::string where = "$.bidang[" + std::to_string(i) + "]";
    const auto& b = j["bidang"][i];
    std::string code = need_string(b, "code", where);
    if (!is_code(code)) bad(where + ".code", "hanya huruf, angka, _ atau - (maks. 32)");
    if (!bidang_codes.insert(code).second) bad(where + ".code", "kode bidang ganda: " + code);
    out.org.bidang.push_back({code, need_string(b, "name", where)});
  }
  if (!j.contains("users") || !j["users"].is_array()) bad("$.users", "harus berupa daftar");
  std::set<std::string> usernames;
  for (std::size_t i = 0; i < j["users"].size(); ++i) {
    std::string where = "$.users[" + std::to_string(i) + "]";
    const auto& u = j["users"][i];
    Person p;
    p.username = need_string(u, "username", where);
    if (!is_code(p.username)) bad(where + ".username", "hanya huruf, angka, _ atau - (maks. 32)");
    if (!usernames.insert(p.username).second)
      bad(where + ".username", "nama pengguna ganda: " + p.username);
    p.name = need_string(u, "name", where);
    std::string password = need_string(u, "password", where);
    if (password.size() < 8) bad(where + ".password", "minimal 8 karakter");
    if (!u.contains("roles") || !u["roles"].is_array())
      bad(where + ".roles", "harus berupa daftar");
    for (std::size_t k = 0; k < u["roles"].size(); ++k) {
      std::string rw = where + ".roles[" + std::to_string(k) + "]";
      const auto& g = u["roles"][k];
      RoleGrant grant{need_string(g, "role", rw), std::nullopt};
      if (!is_known_role(grant.role)) bad(rw + ".role", "peran tidak dikenal: " + grant.role);
      if (g.contains("bidang") && !g["bidang"].is_null()) {
        if (!g["bidang"].is_string()) bad(rw + ".bidang", "harus berupa teks");
        grant.bidang = g["bidang"].get<std::string>();
        if (!bidang_codes.count(*grant.bidang))
          bad(rw + ".bidang", "bidang tidak dikenal: " + *grant.bidang);
      }
      if (grant.role == "kabid" && !grant.bidang)
        bad(rw + ".bidang", "peran kabid harus menyebut bidang");
      p.roles.push_back(grant);
    }
    out.passwords.emplace_back(p.username, password);
    out.org.people.push_back(std::move(p));
  }
  return out;
}

const Org& StoredOrg::get(std::string stored_text) {
  if (!org_ || stored_text != text_) {
    Org fresh;
    if (!stored_text.empty()) from_json(nlohmann::json::parse(stored_text), fresh);
    org_ = std::move(fresh);
    text_ = std::move(stored_text);
  }
  return *org_;
}

const std::string& StoredOrg::set(const Org& org) {
  nlohmann::json j = org;
  text_ = j.dump();
  org_ = org;
  return text_;
}

}  // namespace alur
