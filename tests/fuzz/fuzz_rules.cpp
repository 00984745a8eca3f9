// Fuzz target: the rules (sync::apply_change) under hostile change bodies — what the server
// runs on every change a client pushes, after it has checked who is pushing. The input is
// a script of changes (rules_script.h). Contract (sync/include/alur/sync/case_state.h):
// apply_change returns a verdict and throws only for storage failures (the in-memory state
// has none); a rejection carries a message and writes nothing; an accepted change leaves
// its case in a form that survives its own JSON round trip (what stores and replicas
// persist).
#include "fuzz.h"
#include "rules_script.h"

using namespace alur;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  static const fuzz::RulesWorld initial;  // the org import, done once
  fuzz::RulesWorld world = initial;
  for (const fuzz::ScriptChange& c : fuzz::parse_script(fuzz::as_view(data, size))) {
    const std::string before = world.dump();
    sync::Verdict v;
    try {
      v = world.apply(c);
    } catch (const std::exception& e) {
      fuzz::finding("apply_change threw for " + c.op + " " + c.record + ": " + e.what());
    }
    if (!v.ok()) {
      if (v.message.empty()) fuzz::finding("rejection without a message: " + v.code);
      if (world.dump() != before) fuzz::finding("a rejected change wrote: " + v.code);
      continue;
    }
    // The case the change wrote (org and server changes write none).
    sync::Change written;
    written.record = c.record;
    const auto it = world.state().cases().find(written.case_id());
    if (it != world.state().cases().end()) {
      const nlohmann::json once = sync::case_to_json(it->second);
      if (sync::case_to_json(sync::case_from_json(once)) != once)
        fuzz::finding("case " + it->first + " does not survive its JSON round trip after " + c.op);
      if (sync::case_json_text(it->second) != once.dump())
        fuzz::finding("case " + it->first + ": case_json_text differs from the JSON's dump after " +
                      c.op);
    }
  }
  return 0;
}
