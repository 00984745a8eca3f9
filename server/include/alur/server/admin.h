// Administrative operations behind `alur-server sop ...` and `alur-server delegate ...`:
// each checks what an administrator gave it and commits one server change (sop.set,
// delegation.set, delegation.end), which the log replicates to every client.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "alur/server/store.h"
#include "alur/shared/clock.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"

namespace alur::server {

// Imports a template file. Returns {"sop","version","title","imported": false when that very
// text is already known}. Throws Error("bad_template") (every problem in its message) or
// Error("template_exists") when that version exists with other content.
nlohmann::json import_template(ServerStore& db, const TemplateRegistry& builtin, const Clock& clock,
                               const std::string& text);
// [{"sop","version","title","steps","source": "bawaan"|"impor","related"}]
nlohmann::json list_templates(ServerStore& db, const TemplateRegistry& builtin);

// Commits a delegation (its id is made here when empty); returns the id.
std::string add_delegation(ServerStore& db, const TemplateRegistry& builtin, const Clock& clock,
                           Delegation d);
// Ends a delegation now. Throws Error("unknown_record") or ("bad_action") if already over.
void end_delegation(ServerStore& db, const TemplateRegistry& builtin, const Clock& clock,
                    const std::string& id);
// [{"id","username","name","role","bidang","label" ("Plt. Kepala Dinas"),"kind","from",
//   "until","ended_at","state": "akan datang"|"berlaku"|"berakhir"}]
nlohmann::json list_delegations(ServerStore& db, Millis now);

}  // namespace alur::server
