// The in-process office without a test framework: a real ServerDb in a temp dir with the
// demo organisation (scripts/demo/org.json) imported the way `alur-server org import` does
// it (users with fast scrypt hashes, the org committed as a server change), a real
// SyncService, and the in-memory network of memory_transport.h. The client tests
// (client_harness.h) and the `ui` fuzz target build on it.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "alur/server/server_db.h"
#include "alur/server/sync_service.h"
#include "alur/shared/crypto.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/change.h"
#include "common/demo_org.h"
#include "common/test_support.h"
#include "memory_transport.h"

namespace alur::client::testing {

inline constexpr const char* kServerUrl = "wss://test:1";

inline std::string make_dir(const std::string& path) {
  std::filesystem::create_directories(path);
  return path;
}

// The server side of the office: its data dir, ServerDb, SyncService and the in-memory
// network the officials' Api objects reach it through.
class OfficeServer {
 public:
  OfficeServer()
      : db(make_dir(dir.sub("server"))),
        service(db, TemplateRegistry::builtin(), clock),
        net(service) {
    OrgFile f = parse_org_file(alur::testing::demo_org_json());
    for (const auto& [user, pw] : f.passwords) {
      passwords[user] = pw;
      const Person* p = f.org.find(user);
      db.upsert_user(user, p ? p->name : user,
                     crypto::hash_password(pw, crypto::KdfParams{.n = 1024}));
    }
    org = f.org;
    server::commit_server_change(db, TemplateRegistry::builtin(), clock, sync::op::kOrgSet, "org",
                                 nlohmann::json(org).dump());
  }

  alur::testing::TempDir dir;
  alur::testing::FakeClock clock;
  server::ServerDb db;
  server::SyncService service;
  MemoryNetwork net;
  Org org;
  std::map<std::string, std::string> passwords;
};

}  // namespace alur::client::testing
