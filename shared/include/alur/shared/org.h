// The organisation a server serves: its unit (dinas), its bidang, and its people with the
// roles they hold. Replicated to every client as a committed "org.set" change, so the
// materialized state of a case (e.g. step 2's one task per bidang) is a function of the
// committed log alone. Passwords are never part of an Org; see OrgFile.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alur/shared/clock.h"

namespace alur {

// Role codes of DESIGN.md §1.
inline constexpr const char* kRoleCodes[] = {"kadis", "sekretaris", "kabid", "kasubag_kpe",
                                             "pelaksana_kpe"};
bool is_known_role(const std::string& code);
// Roles held for one bidang (kabid): a per-bidang step's task is done for its bidang.
bool is_bidang_role(const std::string& code);
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

// An acting appointment: `username` acts in `role` (for `bidang`) as Plt. (pelaksana tugas)
// or Plh. (pelaksana harian) from the start of `from` to the end of `until`, dates in WIB,
// or until it is ended early (`ended_at`, the commit time of delegation.end). Replicated as
// part of the org (ops delegation.set / delegation.end, sync/PROTOCOL.md).
struct Delegation {
  std::string id;
  std::string username;
  std::string role;
  std::optional<std::string> bidang;
  std::string kind;   // "plt" | "plh"
  std::string from;   // YYYY-MM-DD, WIB
  std::string until;  // YYYY-MM-DD, WIB, inclusive
  Millis ended_at = 0;
  std::string note;  // e.g. the decree (surat perintah) that appoints

  Millis start_ms() const;  // 00:00 WIB of `from`
  Millis end_ms() const;    // 24:00 WIB of `until`, or ended_at when that is earlier
};

// An action done while a delegation lasted still counts when its change reaches the server
// up to this long after the delegation ended (an official who worked offline on the last
// day syncs later); after that the server no longer believes a PC clock that says so.
inline constexpr Millis kDelegationSyncGrace = 7LL * 24 * 60 * 60 * 1000;

// "Plt." / "Plh."
std::string acting_prefix(const std::string& kind);
// 00:00 WIB of a YYYY-MM-DD date; throws alur::Error("bad_date").
Millis wib_day_start(const std::string& date);

// A person's Ed25519 signing key as the server recorded it (op key.add): every key a person
// ever published stays here, so a paraf signed with an older key still verifies.
struct PersonalKey {
  std::string username;
  std::string public_key;  // 32 raw bytes, base64
  Millis added_at = 0;     // the author's time of the key.add, bounded by its commit
  std::string change;      // id of the key.add change
};

struct Org {
  std::string unit;
  std::vector<Bidang> bidang;
  std::vector<Person> people;
  std::vector<Delegation> delegations;  // in the order they were first set
  std::vector<PersonalKey> keys;        // in the order they were recorded

  const Person* find(const std::string& username) const;
  const Bidang* find_bidang(const std::string& code) const;
  // "Kepala Bidang Koperasi" for (kabid, koperasi); role_title(role) otherwise.
  std::string role_label(const std::string& role, const std::optional<std::string>& bidang) const;
  // True if username holds role; when bidang is set, for that bidang.
  bool holds(const std::string& username, const std::string& role,
             const std::optional<std::string>& bidang) const;
  // True if username holds any role at all, or has been delegated one (acts on cases).
  bool is_member(const std::string& username) const;

  const Delegation* find_delegation(const std::string& id) const;
  // The recorded key of username whose public key (base64) is public_key_b64, or nullptr.
  const PersonalKey* find_key(const std::string& username, const std::string& public_key_b64) const;
  // The delegation through which username acts in role (for bidang, when set) for an action
  // done at `done_at` and committed at `committed_at`: done within the delegation, and
  // committed no later than kDelegationSyncGrace after it ended. nullptr if none.
  const Delegation* acting(const std::string& username, const std::string& role,
                           const std::optional<std::string>& bidang, Millis done_at,
                           Millis committed_at) const;
  // True if username may act in role now: holds it, or a delegation lasts at `now`.
  bool may_act(const std::string& username, const std::string& role,
               const std::optional<std::string>& bidang, Millis now) const;
};

void to_json(nlohmann::json& j, const Org& org);
nlohmann::json delegation_to_json(const Delegation& d);
// Throws nlohmann::json exceptions on a missing or mistyped field.
Delegation delegation_from_json(const nlohmann::json& j);
void from_json(const nlohmann::json& j, Org& org);

// The org as a store keeps it, JSON text in meta "org", parsed once per distinct text:
// another process or server node may have written a new one, so the owner passes the
// stored text on every read and it is parsed again only when it changed.
class StoredOrg {
 public:
  // The org the stored text ("" when none: an empty org) describes.
  const Org& get(std::string stored_text);
  // The text to store for org, remembered with it.
  const std::string& set(const Org& org);

 private:
  std::optional<Org> org_;
  std::string text_;  // what org_ was parsed from
};

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
