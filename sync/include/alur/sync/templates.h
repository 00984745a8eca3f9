// Which templates a replica knows: those built into the binary, then those the server
// imported (op sop.set) into the replicated state. The rules, the server and the client all
// look templates up here, so every replica resolves a case's (SOP, version) the same way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "alur/shared/sop_template.h"
#include "alur/sync/case_state.h"

namespace alur::sync {

// Template (sop, version), or nullptr. An imported template is parsed once per distinct
// text and cached for the process (thread-safe).
std::shared_ptr<const Template> find_template(StateAccess& state, const TemplateRegistry& builtin,
                                              const std::string& sop, int version);
// The highest version of `sop`, or nullptr.
std::shared_ptr<const Template> latest_template(StateAccess& state, const TemplateRegistry& builtin,
                                                const std::string& sop);
// Every known template, by (sop, version); `imported` tells which came from the server.
struct KnownTemplate {
  std::shared_ptr<const Template> tpl;
  bool imported = false;
};
std::vector<KnownTemplate> all_templates(StateAccess& state, const TemplateRegistry& builtin);

}  // namespace alur::sync
