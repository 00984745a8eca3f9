// Planted defects: the deterministic simulator (tests/sim) proves that it finds bugs by
// running against a build of the libraries with one known defect switched on. They exist
// only in that build (target alur_sim_defects, compiled with -DALUR_PLANTED_DEFECTS);
// everywhere else planted::on() is a constant false and the compiler drops the branch.
#pragma once

namespace alur::planted {

enum class Defect {
  kNone,
  kCursorOutsideTransaction,  // client: pulled batch applied apart from its cursor
  kResendSequencedAgain,      // server: a resent change is sequenced a second time
  kRoleUnchecked,             // rules: a task is done by someone without its role
  kPredecessorsUnchecked,     // rules: a task is done before its predecessors
};

#ifdef ALUR_PLANTED_DEFECTS
extern Defect active;  // defined by the simulator
inline bool on(Defect d) { return active == d; }
#else
constexpr bool on(Defect) { return false; }
#endif

}  // namespace alur::planted
