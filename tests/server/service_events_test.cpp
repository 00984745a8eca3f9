// SyncService's connection-facing side (on_open / on_message / on_close / tick) with a fake
// net::Connection, and what happens when another process (`alur-server org import`,
// `alur-server device revoke`) writes to the same data directory while the server runs.
#include <mutex>

#include "harness.h"

namespace alur::server::testing {
namespace {

using namespace alur::sync;

TEST(ServerEvents, OnMessageRepliesAndClosesOnFatalErrors) {
  Office o;
  HandClient c = o.enrolled("sekre");
  auto w = connect(o, 1);
  w.service.on_message(w.conn, "bukan pesan");
  ASSERT_EQ(w.conn->sent.size(), 1u);
  EXPECT_EQ(as<ErrorMsg>(w.conn->sent[0]).code, "malformed");
  EXPECT_EQ(w.conn->closed, std::vector<std::string>{"malformed"});
  // After a fatal error the session ignores everything.
  w.send(c.hello_message());
  EXPECT_EQ(w.conn->sent.size(), 1u);
  o.service.on_close(w.conn, "closed");
}

TEST(ServerEvents, CommitNotifiesOtherLiveSessionsOnce) {
  Office o;
  HandClient a = o.enrolled("sekre");
  HandClient b = o.enrolled("kasubag");
  auto wa = connect(o, 1), wb = connect(o, 2), anon = connect(o, 3);
  wa.send(a.hello_message(1));
  wb.send(b.hello_message(1));
  as<Welcome>(wb.conn->sent.at(0));
  wa.send(a.push({a.open_case("k")}));
  ASSERT_EQ(wb.conn->sent.size(), 2u);
  EXPECT_EQ(as<Notify>(wb.conn->sent[1]).server_head, 2u);
  EXPECT_TRUE(anon.conn->sent.empty());  // not authenticated: not told anything
  // Nothing new: tick() does not repeat the notification.
  o.service.tick();
  EXPECT_EQ(wb.conn->sent.size(), 2u);
  // A closed connection is forgotten.
  o.service.on_close(wb.conn, "bye");
  wa.send(a.push({a.complete("k", "1", disposition())}));
  EXPECT_EQ(wb.conn->sent.size(), 2u);
}

// --- group commit (SyncService::set_defer, as serve runs it) ---------------------------------

struct Grouping {
  Office o;
  Deferred deferred;
  HandClient a = o.enrolled("sekre"), b = o.enrolled("sekre");  // two PCs of the secretary
  Wired wa = connect(o, 1), wb = connect(o, 2);
  std::uint64_t head = 0;
  Grouping() {
    deferred.attach(o.service);
    wa.send(a.hello_message(1));
    wb.send(b.hello_message(1));
    as<Welcome>(wa.conn->sent.at(0));  // a Hello is answered at once: only pushes wait
    as<Welcome>(wb.conn->sent.at(0));
    head = o.db.head();
  }
};

TEST(ServerGroupCommit, PushesOfSeveralSessionsCommitTogetherAndAreAnsweredOnlyAfterwards) {
  Grouping g;
  g.wa.send(g.a.push({g.a.open_case("k")}));
  g.wb.send(g.b.push({g.b.open_case("m", "2026-Q4")}));
  g.wa.send(Pull{g.head, 0});  // waits behind a's push, so that a's answers stay in order
  EXPECT_EQ(g.wa.conn->sent.size(), 1u);
  EXPECT_EQ(g.wb.conn->sent.size(), 1u);
  EXPECT_EQ(g.o.db.head(), g.head) << "nothing is committed before the flush";
  ASSERT_EQ(g.deferred.pending.size(), 1u) << "one flush for every waiting push";

  g.deferred.run();
  EXPECT_EQ(g.o.open_again()->head(), g.head + 2);  // durable: another process sees both
  ASSERT_EQ(g.wa.conn->sent.size(), 3u);
  expect_all_accepted(as<PushResult>(g.wa.conn->sent[1]));
  // a's pull, answered after its push, holds both sessions' changes.
  const auto& e = as<Entries>(g.wa.conn->sent[2]);
  ASSERT_EQ(e.entries.size(), 2u);
  EXPECT_EQ(e.entries[0].change.record, "case/k");
  EXPECT_EQ(e.entries[1].change.record, "case/m");
  EXPECT_EQ(e.server_head, g.head + 2);
  // b is told of the commit once; a has pulled up to the head and is not told again.
  ASSERT_EQ(g.wb.conn->sent.size(), 3u);
  expect_all_accepted(as<PushResult>(g.wb.conn->sent[1]));
  EXPECT_EQ(as<Notify>(g.wb.conn->sent[2]).server_head, g.head + 2);
  EXPECT_TRUE(g.deferred.pending.empty());
}

TEST(ServerGroupCommit, APushRefusedInTheGroupEndsOnlyItsOwnSession) {
  Grouping g;
  g.wa.send(g.a.push_badly_signed({g.a.open_case("k")}));
  g.wa.send(Pull{g.head, 0});  // after a fatal answer nothing more of a's is served
  g.wb.send(g.b.push({g.b.open_case("m", "2026-Q4")}));
  g.deferred.run();
  ASSERT_EQ(g.wa.conn->sent.size(), 2u) << "no answer to a's pull, no Notify to a closed session";
  EXPECT_EQ(as<ErrorMsg>(g.wa.conn->sent[1]).code, "bad_signature");
  EXPECT_EQ(g.wa.conn->closed, std::vector<std::string>{"bad_signature"});
  expect_all_accepted(as<PushResult>(g.wb.conn->sent.at(1)));
  EXPECT_EQ(g.o.db.head(), g.head + 1);
  EXPECT_EQ(g.o.task_state("k", "1"), "<no case>");
}

TEST(ServerGroupCommit, PipelinedPushesOfOneSessionKeepTheirChainAndOrder) {
  Grouping g;
  auto first = g.a.open_case("k");
  auto second = g.a.complete("k", "1", disposition());
  g.wa.send(g.a.push({first}));
  g.wa.send(g.a.push({second}));  // the next link of the chain, before the first is answered
  g.deferred.run();
  ASSERT_EQ(g.wa.conn->sent.size(), 4u);  // Welcome, the two results in order, a Notify
  const auto& r1 = as<PushResult>(g.wa.conn->sent[1]);
  const auto& r2 = as<PushResult>(g.wa.conn->sent[2]);
  expect_all_accepted(r1);
  expect_all_accepted(r2);
  EXPECT_EQ(r1.results.at(0).seq + 1, r2.results.at(0).seq);
  EXPECT_EQ(g.o.task_state("k", "1"), "done");
}

// --- another process writes while the server serves ------------------------------------------
//
// Bug (server/src/server_db.cpp): most ServerDb readers step a cached statement once and
// return without resetting it — meta() l.83, password_hash() l.104, device() l.136,
// token_hash() l.143, stored_change() l.168, head() l.191 (always: an aggregate always has a
// row), has_blob() l.234, blob_progress() l.240, blob_slice() l.279, load_case() l.303,
// case_for_period() l.318. shared/sqlite.h warns: "A query stepped only part-way keeps its
// read snapshot open until it is reset". With one such statement always pending (head() runs
// on every Hello, Pull and tick), the server's connection never leaves its read snapshot:
//  - it never sees what `alur-server device revoke` / `org import` (other processes, which
//    main.cpp's tick exists for) wrote: a revoked device keeps syncing, nobody is notified;
//  - its next write transaction fails: BEGIN IMMEDIATE on a stale WAL snapshot is
//    SQLITE_BUSY(_SNAPSHOT) -> Error("db_busy"), so every push fails from then on.

TEST(ServerDbStaleSnapshotRegression, ReadAfterAnotherProcessWroteSeesIt) {
  Office o;
  HandClient a = o.enrolled("sekre");  // Hello: head() and device() left pending
  {
    ServerDb admin(o.dir.path().string());  // `alur-server device revoke`
    admin.revoke_device(a.replica, o.clock.now_ms());
  }
  EXPECT_TRUE(o.db.device(a.replica)->revoked_at.has_value());
  // Otherwise the revoked device is still served.
  auto reply = o.one(a, Pull{0, 1});
  auto* e = std::get_if<ErrorMsg>(&reply);
  EXPECT_TRUE(e && e->code == "device_revoked") << "a revoked device got " << message_name(reply);
}

TEST(ServerDbStaleSnapshotRegression, PushAfterAnotherProcessWroteIsNotDbBusy) {
  Office o;
  HandClient a = o.enrolled("sekre");
  HandClient b = o.enrolled("kasubag");
  {
    ServerDb admin(o.dir.path().string());
    admin.revoke_device(b.replica, o.clock.now_ms());
  }
  // The client retries its pending change; the failure does not go away by itself.
  auto c = a.open_case("k");
  for (int attempt = 0; attempt < 2; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    std::string code = error_code_of([&] {
      auto r = o.push1(a, c);
      EXPECT_NE(r.outcome, Outcome::kRejected) << r.code;
    });
    EXPECT_EQ(code, "<no error>");
  }
}

TEST(ServerDbStaleSnapshotRegression, TickClosesSessionsOfADeviceRevokedByAnotherProcess) {
  Office o;
  HandClient a = o.enrolled("sekre");
  HandClient b = o.enrolled("kasubag");
  auto wa = connect(o, 1), wb = connect(o, 2);
  wa.send(a.hello_message(1));
  wb.send(b.hello_message(1));
  {
    ServerDb admin(o.dir.path().string());  // `alur-server device revoke`
    admin.revoke_device(a.replica, o.clock.now_ms());
  }
  o.service.tick();
  ASSERT_EQ(wa.conn->sent.size(), 2u);
  auto e = as<ErrorMsg>(wa.conn->sent[1]);
  EXPECT_EQ(e.code, "device_revoked");
  EXPECT_TRUE(e.fatal);
  EXPECT_EQ(wa.conn->closed, std::vector<std::string>{"device_revoked"});
  EXPECT_TRUE(wb.conn->closed.empty());
  EXPECT_EQ(wb.conn->sent.size(), 1u);
}

TEST(ServerDbStaleSnapshotRegression, TickNotifiesOfACommitMadeByAnotherProcess) {
  Office o;
  HandClient a = o.enrolled("sekre");
  auto wa = connect(o, 1);
  wa.send(a.hello_message(1));
  {
    ServerDb admin(o.dir.path().string());  // `alur-server org import`
    Org org = test_org();
    org.unit = "Dinas baru";
    commit_server_change(admin, TemplateRegistry::builtin(), o.clock, op::kOrgSet, "org",
                         json(org).dump());
  }
  o.service.tick();
  ASSERT_EQ(wa.conn->sent.size(), 2u);
  EXPECT_EQ(as<Notify>(wa.conn->sent[1]).server_head, 2u);
}

// Regression (fixed; this test pinned it): Bug (server/src/server_db.cpp ServerDb::org(),
// l.289-295): the org is read from meta once and cached in org_ for the life of the ServerDb; only
// set_org() in the same process refreshes it. `alur-server org import` commits the new org from
// another process while the server serves, so the running server keeps validating with the old org
// (even once its snapshot is fresh): a person added by the import cannot enrol (bad_credentials), a
// removed or deactivated one can still act, and a case opened after the import gets its per-bidang
// tasks from the old org on the server while replicas, replaying org.set then case.open from
// the log, build them from the new one — server and replicas disagree (DESIGN.md §3 "One
// order, everywhere").
TEST(ServerDbOrgCacheRegression, OrgImportedByAnotherProcessIsUsedByTheServer) {
  TempDir dir;
  FakeClock clock;
  Org v1 = test_org();
  {
    ServerDb admin(dir.path().string());
    commit_server_change(admin, TemplateRegistry::builtin(), clock, op::kOrgSet, "org",
                         json(v1).dump());
  }
  ServerDb server(dir.path().string());
  EXPECT_EQ(server.org().unit, v1.unit);
  server.meta("no-such-key");  // ends the read snapshot (the stale-snapshot bug is separate)

  Org v2 = v1;
  v2.unit = "Dinas setelah impor ulang";
  v2.bidang.push_back({"pariwisata", "Bidang Pariwisata"});
  {
    ServerDb admin(dir.path().string());
    commit_server_change(admin, TemplateRegistry::builtin(), clock, op::kOrgSet, "org",
                         json(v2).dump());
  }
  auto stored = server.meta("org");
  ASSERT_TRUE(stored.has_value());
  ASSERT_NE(stored->find("pariwisata"), std::string::npos) << "the server's snapshot is stale";
  server.meta("no-such-key");
  EXPECT_EQ(server.org().unit, v2.unit);
  EXPECT_NE(server.org().find_bidang("pariwisata"), nullptr);
}

}  // namespace
}  // namespace alur::server::testing
