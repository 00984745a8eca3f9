// The organisation a server serves: its unit (dinas), its bidang, and its people with the
// roles they hold. Replicated to every client as a committed "org.set" change, so the
// materialized state of a case (e.g. step 2's one task per bidang) is a function of the
// committed log alone. Passwords are never part of an Org; see OrgFile.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace alur {

// Role codes of DESIGN.md §1.
inline constexpr const char* kRoleCodes[] = {"kadis", "sekretaris", "kabid", "kasubag_kpe",
                                             "pelaksana_kpe"};
bool is_known_role(const std::string& code);
// "Kepala Dinas", "Sekretaris", ... (Bahasa Indonesia).
std::string role_title(const std::string& code);
// Short form for tables: "Kadis", "Kasubag KPE", ...
std::string role_short(const std::string& code);

struct Bidang {
  std::string code;
  std::string name;
};

struct RoleGrant {
  std::string role;
  std::optional<std::string> bidang;  // set for per-bidang roles (kabid)
};

struct Person {
  std::string username;
  std::string name;
  std::vector<RoleGrant> roles;
  bool active = true;
};

struct Org {
  std::string unit;
  std::vector<Bidang> bidang;
  std::vector<Person> people;

  const Person* find(const std::string& username) const;
  const Bidang* find_bidang(const std::string& code) const;
  // "Kepala Bidang Koperasi" for (kabid, koperasi); role_title(role) otherwise.
  std::string role_label(const std::string& role, const std::optional<std::string>& bidang) const;
  // True if username holds role; when bidang is set, for that bidang.
  bool holds(const std::string& username, const std::string& role,
             const std::optional<std::string>& bidang) const;
  // True if username holds any role at all (acts on cases).
  bool is_member(const std::string& username) const;
};

void to_json(nlohmann::json& j, const Org& org);
void from_json(const nlohmann::json& j, Org& org);

// The org file an administrator imports (format fixed by the CLI contract):
// {"unit": "...", "bidang": [{"code","name"}], "users": [{"username","name","password",
//  "roles": [{"role": "kabid", "bidang": "..."}]}]}
struct OrgFile {
  Org org;
  std::vector<std::pair<std::string, std::string>> passwords;  // username -> password
};
// Parses and validates an org file; throws alur::Error("bad_org") naming the field.
OrgFile parse_org_file(std::string_view text);

}  // namespace alur
