// alur_sim: runs the deterministic simulator over many seeds (see sim.h, README.md here).
//
//   alur_sim --seeds 2000            seeds 1..2000; stops at the first failure
//   alur_sim --seed 1234 --verbose   replays one seed exactly, narrating every event
//   alur_sim --soak 600              runs new seeds for ten minutes, then reports
//   alur_sim_defects --defect cursor --expect-failure --seeds 300
//                                    (the self-test build) a planted defect must be found
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "alur/shared/planted.h"
#include "sim.h"

#ifdef ALUR_PLANTED_DEFECTS
namespace alur::planted {
Defect active = Defect::kNone;
}
#endif

namespace {

using Seconds = std::chrono::duration<double>;

const std::map<std::string, alur::planted::Defect> kDefects = {
    {"cursor", alur::planted::Defect::kCursorOutsideTransaction},
    {"resend", alur::planted::Defect::kResendSequencedAgain},
    {"role", alur::planted::Defect::kRoleUnchecked},
    {"order", alur::planted::Defect::kPredecessorsUnchecked},
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"alur deterministic simulator"};
  std::uint64_t first = 1, seeds = 0, one = 0;
  double soak = 0;
  std::string defect;
  bool expect_failure = false;
  alur::sim::Options options;
  app.add_option("--seeds", seeds, "how many seeds to run, from --first");
  app.add_option("--first", first, "the first seed");
  app.add_option("--seed", one, "replay this one seed");
  app.add_option("--soak", soak, "run new seeds for this many seconds");
  app.add_option("--steps", options.steps, "workload actions per seed (default: by the seed)");
  app.add_flag("--verbose", options.verbose, "narrate every event of each seed on stderr");
#ifdef ALUR_PLANTED_DEFECTS
  app.add_option("--defect", defect, "plant this defect: cursor, resend, role, order")->required();
  app.add_flag("--expect-failure", expect_failure,
               "succeed only if some seed fails (the simulator found the defect)");
#endif
  CLI11_PARSE(app, argc, argv);
#ifdef ALUR_PLANTED_DEFECTS
  alur::planted::active = kDefects.at(defect);
#endif
  if (one) {
    first = one;
    seeds = 1;
  }
  if (seeds == 0 && soak <= 0) seeds = 100;

  alur::sim::Stats total;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return Seconds(std::chrono::steady_clock::now() - start).count(); };
  for (std::uint64_t seed = first;; ++seed) {
    if (soak > 0 ? elapsed() >= soak : seed >= first + seeds) break;
    alur::sim::Result r = alur::sim::run_seed(seed, options);
    total.add(r.stats);
    if (!r.ok) {
      std::printf("SIM FAILURE seed=%llu: %s\n", (unsigned long long)seed, r.failure.c_str());
      std::printf("replay: %s --seed %llu --verbose%s\n", argv[0], (unsigned long long)seed,
                  defect.empty() ? "" : (" --defect " + defect).c_str());
      std::printf("sim: %s\n", total.line().c_str());
      if (expect_failure) {
        std::printf("planted defect \"%s\" found after %llu seeds\n", defect.c_str(),
                    (unsigned long long)total.seeds);
        return 0;
      }
      return 1;
    }
  }
  const double secs = elapsed();
  std::printf("sim: %llu seeds in %.1f s (%.1f seeds/s), all invariants held\n",
              (unsigned long long)total.seeds, secs, total.seeds / (secs > 0 ? secs : 1));
  std::printf("sim: %s\n", total.line().c_str());
  if (expect_failure) {
    std::printf("planted defect \"%s\" went unnoticed in %llu seeds\n", defect.c_str(),
                (unsigned long long)total.seeds);
    return 1;
  }
  return 0;
}
