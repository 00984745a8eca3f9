// verify: re-checks everything the server's record rests on, from the database alone
// (`alur-server verify --data DIR`, or `--store …`): SQLite's integrity check (PostgreSQL
// checks its own pages); the committed log — gap-free,
// every entry readable, its hash chain unbroken — and that replaying it with the rules
// accepts every entry and gives exactly the stored cases and organisation; every device's
// chain of changes — contiguous, each hash matching its content, each linked to the one
// before, ending where the device record says — and that what is marked accepted is in the
// log once at its seq. Editing, deleting or reordering rows breaks one of these.
//
// Not covered yet: signatures. A device signs each pushed batch's chain head, and the hash
// chain then vouches for every change before it, but the server does not store those
// signatures; personal signatures on paraf and tanda tangan are planned (issue 4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alur/server/store.h"
#include "alur/shared/sop_template.h"

namespace alur::server {

struct VerifyReport {
  std::vector<std::string> problems;  // in the order found; the first names the first break
  std::uint64_t entries = 0, changes = 0, devices = 0, cases = 0;
  bool ok() const { return problems.empty(); }
};

VerifyReport verify_server(ServerStore& db, const TemplateRegistry& templates);

}  // namespace alur::server
