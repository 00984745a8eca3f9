// Template import and delegations (Plt./Plh.), committed as server changes.
#include "alur/server/admin.h"

#include "alur/server/sync_service.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/sync/change.h"
#include "alur/sync/templates.h"

namespace alur::server {

using nlohmann::json;

json import_template(ServerStore& db, const TemplateRegistry& builtin, const Clock& clock,
                     const std::string& text) {
  TemplateCheck check = check_template(text);
  if (!check.template_) {
    std::string all;
    for (const auto& i : check.issues)
      all += "\n  baris " + std::to_string(i.line) + ", " + i.path + ": " + i.message;
    throw Error("bad_template", "Templat SOP tidak valid (" + std::to_string(check.issues.size()) +
                                    " masalah):" + all);
  }
  const Template& t = *check.template_;
  // Stored compact: what the rules parse on every replica.
  std::string canonical = json::parse(text).dump();
  json out = {{"sop", t.sop}, {"version", t.version}, {"title", t.title}, {"imported", true}};
  auto imported = db.imported_templates();
  if (auto it = imported.find({t.sop, t.version});
      it != imported.end() && it->second == canonical) {
    out["imported"] = false;
    return out;
  }
  commit_server_change(db, builtin, clock, sync::op::kSopSet,
                       "sop/" + t.sop + "/" + std::to_string(t.version), canonical);
  return out;
}

json list_templates(ServerStore& db, const TemplateRegistry& builtin) {
  json arr = json::array();
  for (const auto& k : sync::all_templates(db, builtin)) {
    json related = json::array();
    for (const auto& r : k.tpl->related) related.push_back({{"sop", r.sop}, {"title", r.title}});
    arr.push_back({{"sop", k.tpl->sop},
                   {"version", k.tpl->version},
                   {"title", k.tpl->title},
                   {"steps", k.tpl->steps.size()},
                   {"source", k.imported ? "impor" : "bawaan"},
                   {"related", related}});
  }
  return arr;
}

std::string add_delegation(ServerStore& db, const TemplateRegistry& builtin, const Clock& clock,
                           Delegation d) {
  if (d.id.empty()) d.id = d.kind + "-" + crypto::to_hex(crypto::random_bytes(4));
  if (wib_day_start(d.until) + 86'400'000LL <= clock.now_ms())
    throw Error("bad_date", "Tanggal selesai " + d.until + " sudah lewat.");
  if (db.org().find_delegation(d.id)) throw Error("bad_body", "Plt./Plh. " + d.id + " sudah ada.");
  json body = delegation_to_json(d);
  body.erase("ended_at");
  commit_server_change(db, builtin, clock, sync::op::kDelegationSet, "delegation/" + d.id,
                       body.dump());
  return d.id;
}

void end_delegation(ServerStore& db, const TemplateRegistry& builtin, const Clock& clock,
                    const std::string& id) {
  if (!db.org().find_delegation(id))
    throw Error("unknown_record", "Plt./Plh. " + id + " tidak dikenal.");
  commit_server_change(db, builtin, clock, sync::op::kDelegationEnd, "delegation/" + id, "{}");
}

json list_delegations(ServerStore& db, Millis now) {
  const Org& org = db.org();
  json arr = json::array();
  for (const auto& d : org.delegations) {
    const Person* p = org.find(d.username);
    std::string state = now < d.start_ms() ? "akan datang"
                        : now < d.end_ms() ? "berlaku"
                                           : "berakhir";
    arr.push_back({{"id", d.id},
                   {"username", d.username},
                   {"name", p ? p->name : d.username},
                   {"role", d.role},
                   {"bidang", d.bidang ? json(*d.bidang) : json()},
                   {"label", acting_prefix(d.kind) + " " + org.role_label(d.role, d.bidang)},
                   {"kind", d.kind},
                   {"from", d.from},
                   {"until", d.until},
                   {"ended_at", d.ended_at ? json(format_time_utc(d.ended_at)) : json()},
                   {"note", d.note},
                   {"state", state}});
  }
  return arr;
}

}  // namespace alur::server
