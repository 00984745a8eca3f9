// Test harness for the client: temporary folders, a fake clock, and the in-process office of
// office.h (a real ServerDb with the demo organisation, a real SyncService, the in-memory
// network). Officials are client::Api objects, each with its own home folder, that reach
// the service through that network.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "alur/client/api.h"
#include "alur/server/server_db.h"
#include "alur/server/sync_service.h"
#include "alur/shared/clock.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/change.h"
#include "alur/sync/messages.h"
#include "common/demo_org.h"
#include "common/signing.h"
#include "common/test_support.h"
#include "memory_transport.h"
#include "office.h"

namespace alur::client::testing {

using alur::testing::demo_org_json;

using nlohmann::json;

using alur::testing::FakeClock;
using alur::testing::TempDir;

using alur::testing::error_code_of;

using alur::testing::kFastKdf;
using alur::testing::passphrase_of;

// The office (office.h) and the officials' Api objects (each in its own home under the
// same temp dir).
class Office : public OfficeServer {
 public:
  // signing: officials get a personal signing key at enrolment (needed for paraf and tanda
  // tangan; its key.add adds one change per enrolment to the log).
  explicit Office(bool signing = false) : signing_keys(signing) {}

  bool signing_keys;
  std::map<std::string, std::unique_ptr<Api>> officials;  // by home name

  // An Api in HOME=<dir>/<home>, not enrolled.
  Api& api(const std::string& home) {
    auto& a = officials[home];
    if (!a) a = std::make_unique<Api>(dir.sub("home-" + home), clock, net.connector());
    return *a;
  }
  // Enrols `username` on the device `home` (default: a home named after the user).
  Api& enroll(const std::string& username, const std::string& home = "") {
    Api& a = api(home.empty() ? username : home);
    a.set_kdf_for_testing(kFastKdf);
    json r = a.enroll(kServerUrl, username, passwords.at(username), test_fingerprint(),
                      signing_keys ? std::optional<std::string>(passphrase_of(username))
                                   : std::nullopt);
    EXPECT_EQ(r.value("username", ""), username);
    EXPECT_TRUE(r.value("synced", false)) << r.dump();
    return a;
  }
  Api& operator[](const std::string& home) { return *officials.at(home); }

  // The server's committed log, in seq order.
  std::vector<sync::CommittedEntry> log() {
    return db.entries_after(0, 1'000'000, std::size_t(1) << 40);
  }
  // How many times the committed log holds the change (replica, counter).
  std::size_t times_in_log(const std::string& replica, std::uint64_t counter) {
    std::size_t n = 0;
    for (const auto& e : log())
      if (e.change.dot.replica == replica && e.change.dot.counter == counter) ++n;
    return n;
  }
  // The server's materialized case.
  json server_case(const std::string& id) {
    auto c = db.load_case(id);
    if (!c) return json();
    return sync::case_to_json(*c);
  }
  // The messages the server delivered (decoded), optionally since index `from`.
  std::vector<sync::Message> delivered(std::size_t from = 0) {
    std::vector<sync::Message> out;
    for (std::size_t i = from; i < net.trace().size(); ++i)
      out.push_back(sync::decode(net.trace()[i]));
    return out;
  }
};

// case show JSON without what depends on the replica that shows it: the "tentative" flag
// of each task, and what is counted up to the viewer's today (remaining_days, overdue, and
// working_days of a task not done yet), which differs between PCs whose clocks differ.
inline json without_tentative(json show) {
  for (auto& s : show["steps"])
    for (auto& t : s["tasks"]) {
      t.erase("tentative");
      t.erase("remaining_days");
      t.erase("overdue");
      if (t.value("state", "") != "done") t.erase("working_days");
    }
  return show;
}

// A task id "<case>.<key>".
inline std::string task(const std::string& case_id, const std::string& key) {
  return case_id + "." + key;
}

}  // namespace alur::client::testing
