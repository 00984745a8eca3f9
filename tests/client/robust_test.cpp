// Faults an official's PC meets, through the real client and server logic: the server's
// disk full during a sync, a PC clock days off, a replica restored from an older copy, and
// a replica that is corrupted, truncated or deleted (`alur repair`).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "client_harness.h"

namespace alur::client::testing {
namespace {

namespace fs = std::filesystem;
constexpr Millis kDay = 24 * 3'600'000;

std::int64_t page_count(sql::Database& db) {
  sql::Statement s(db, "PRAGMA page_count");
  s.step();
  return s.get_int(0);
}

// An office with an open case whose step 1 the sekretaris has done offline, followed by
// `rewrites` disposition rewrites, all pending. Returns the case id.
std::string pending_work(Office& o, Api& pc, int rewrites, std::size_t text_bytes = 64) {
  Api& kasubag = o.officials.count("kasubag") ? o["kasubag"] : o.enroll("kasubag");
  std::string id = kasubag.case_open("LAKIP", "2026-Q3")["case"];
  kasubag.sync();
  pc.sync();
  pc.act(task(id, "1"), "Disposisi awal", std::nullopt);
  for (int i = 0; i < rewrites; ++i) {
    std::string text = "PENANDA-" + std::to_string(i + 2) + "-";
    text.resize(std::max(text_bytes, text.size()), 'x');
    pc.disposition_set(task(id, "1"), text);
  }
  return id;
}

std::string replica_file(Api& a) { return (fs::path(a.home()) / Replica::kFileName).string(); }

int page_size(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char h[18];
  in.read(reinterpret_cast<char*>(h), 18);
  int size = (h[16] << 8) | h[17];
  return size == 1 ? 65536 : size;
}

// Overwrites page `page` (1-based) of the file with garbage.
void smash_page(const std::string& file, std::int64_t page) {
  int size = page_size(file);
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp((page - 1) * size);
  std::string junk(static_cast<std::size_t>(size), '\xA5');
  f.write(junk.data(), size);
}

// The page of the file holding `marker` (0 if none).
std::int64_t page_of(const std::string& file, const std::string& marker) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto at = bytes.find(marker);
  return at == std::string::npos ? 0 : static_cast<std::int64_t>(at / page_size(file)) + 1;
}

std::int64_t root_page(Api& a, const std::string& table) {
  sql::Statement s(a.replica().db(), "SELECT rootpage FROM sqlite_schema WHERE name = ?");
  s.bind_text(1, table);
  s.step();
  return s.get_int(0);
}

std::set<std::string> ids_of(const json& list) {
  std::set<std::string> out;
  for (const auto& x : list) out.insert(x["change"].get<std::string>());
  return out;
}

std::set<std::string> pending_ids(Api& a) { return ids_of(a.status()["pending"]); }

// Every change in `ids` is in the server's committed log exactly once.
void expect_on_server(Office& o, const std::set<std::string>& ids) {
  for (const auto& id : ids) {
    auto colon = id.rfind(':');
    EXPECT_EQ(o.times_in_log(id.substr(0, colon), std::stoull(id.substr(colon + 1))), 1u) << id;
  }
}

// ---------------------------------------------------------------------------------------
// The server's disk is full during a sync.

TEST(RobustServerDiskFull, SyncReportsItTheOutboxStaysAndTheNextSyncSendsEverything) {
  Office o;
  Api& pc = o.enroll("sekretaris");
  pending_work(o, pc, 5, 60 * 1024);
  auto before = pending_ids(pc);
  ASSERT_EQ(before.size(), 6u);
  const auto head = o.db.head();
  o.db.db().set_max_page_count(page_count(o.db.db()) + 80);  // the first change or two fit

  EXPECT_EQ(error_code_of([&] { pc.sync(); }), "server_disk_full");
  EXPECT_EQ(o.db.head(), head);  // nothing of the batch committed
  json st = pc.status();
  EXPECT_EQ(pending_ids(pc), before);  // the outbox is intact, all still pending
  EXPECT_EQ(st["rejected"].size(), 0u);
  ASSERT_FALSE(st["last_sync_error"].is_null());
  EXPECT_EQ(st["last_sync_error"]["code"], "server_disk_full");
  EXPECT_NE(st["last_sync_error"]["message"].get<std::string>().find("penuh"), std::string::npos);

  o.db.db().set_max_page_count(1 << 30);  // the admin frees space
  json r = pc.sync();
  EXPECT_EQ(r["accepted"], 6);
  EXPECT_TRUE(pc.status()["last_sync_error"].is_null());
  expect_on_server(o, before);
}

// The disk fills between two of the batches the client keeps in flight: the first batch is
// committed and acknowledged, the second refused with server_disk_full, the ones sent behind
// it refused whole (they no longer continue the stored chain); the official sees why, every
// unacknowledged change stays in the outbox, and once there is room the next sync commits
// each of them exactly once.
TEST(RobustServerDiskFull, FullBetweenBatchesInFlightKeepsTheRestForTheNextSync) {
  Office o;
  Api& pc = o.enroll("sekretaris");
  const int rewrites = 3 * 500 + 30;  // four push batches of 500: all in flight at once
  const std::string id = pending_work(o, pc, rewrites);
  const std::size_t n = pc.replica().count_pending();
  ASSERT_EQ(n, static_cast<std::size_t>(rewrites + 1));
  const std::string rid = pc.replica().require_meta("replica");
  const std::uint64_t first = std::stoull(pc.replica().require_meta("counter")) - n + 1;
  const std::uint64_t head = o.db.head();

  // The disk fills once the first batch is committed: the next transaction finds no room.
  bool filled = false;
  o.db.db().set_fault_hook([&](sql::FaultPoint where, std::string_view stmt) {
    if (filled || where != sql::FaultPoint::kBefore || !stmt.starts_with("BEGIN")) return;
    if (o.db.head() < head + 500) return;
    filled = true;
    o.db.db().set_max_page_count(page_count(o.db.db()));
  });
  EXPECT_EQ(error_code_of([&] { pc.sync(); }), "server_disk_full");
  o.db.db().set_fault_hook({});
  ASSERT_TRUE(filled);
  EXPECT_EQ(o.db.head(), head + 500) << "only the first batch is committed";
  EXPECT_EQ(pc.replica().count_pending(), n - 500) << "the first batch was acknowledged";
  json st = pc.status();
  EXPECT_EQ(st["rejected"].size(), 0u);
  ASSERT_FALSE(st["last_sync_error"].is_null());
  EXPECT_EQ(st["last_sync_error"]["code"], "server_disk_full");

  o.db.db().set_max_page_count(1 << 30);  // the admin frees space
  json r = pc.sync();
  EXPECT_EQ(r["accepted"], n - 500);
  EXPECT_EQ(r["rejected"], 0);
  EXPECT_EQ(pc.replica().count_pending(), 0u);
  EXPECT_TRUE(pc.status()["last_sync_error"].is_null());
  EXPECT_EQ(o.db.head(), head + n);
  for (std::uint64_t c : {first, first + 499, first + 500, first + 999, first + n - 1})
    EXPECT_EQ(o.times_in_log(rid, c), 1u) << c;
  // Another PC sees the last disposition written, and only it.
  Api& kasubag = o["kasubag"];
  kasubag.sync();
  auto last = kasubag.replica().load_case(id)->dispositions.at("1").value.siblings();
  ASSERT_EQ(last.size(), 1u);
  EXPECT_TRUE(last.front().value.text.starts_with("PENANDA-" + std::to_string(rewrites + 1) + "-"))
      << last.front().value.text.substr(0, 40);
}

// ---------------------------------------------------------------------------------------
// Clocks days off.

TEST(RobustClockSkew, ClocksDaysAheadAndBehindStillSyncAndTheOfficialIsTold) {
  Office o;
  FakeClock ahead(o.clock.now_ms() + 3 * kDay), behind(o.clock.now_ms() - 2 * kDay);
  Api fast(o.dir.sub("home-fast"), ahead, o.net.connector());
  Api slow(o.dir.sub("home-slow"), behind, o.net.connector());
  fast.enroll(kServerUrl, "kasubag", o.passwords.at("kasubag"), test_fingerprint());
  slow.enroll(kServerUrl, "sekretaris", o.passwords.at("sekretaris"), test_fingerprint());

  std::string id = fast.case_open("LAKIP", "2026-Q3")["case"];
  o.clock.advance(1000);
  json r = fast.sync();
  EXPECT_EQ(r["accepted"], 1);
  ASSERT_EQ(r["warnings"].size(), 1u);
  EXPECT_EQ(r["warnings"][0]["code"], "clock_ahead");
  EXPECT_NE(r["clock_warning"].get<std::string>().find("lebih cepat 3 hari"), std::string::npos);
  EXPECT_NE(fast.status()["clock_warning"].get<std::string>().find("lebih cepat 3 hari"),
            std::string::npos);

  json s = slow.sync();
  EXPECT_NE(s["clock_warning"].get<std::string>().find("lebih lambat 2 hari"), std::string::npos);
  // The slow PC saw the fast PC's change: its clock is pulled up to that change's commit
  // time (causality), but not to the fast PC's future.
  json done = slow.act(task(id, "1"), "Lanjutkan", std::nullopt);
  auto out = slow.replica().outbox("pending");
  ASSERT_EQ(out.size(), 1u);
  Millis stamped = HybridClock::to_ms(out[0].change.hlc);
  EXPECT_GE(stamped, o.clock.now_ms() - 1000);
  EXPECT_LT(stamped, o.clock.now_ms() + kDay);
  o.clock.advance(1000);
  EXPECT_EQ(slow.sync()["accepted"], 1);
  fast.sync();
  // Everyone shows the server's order and times; nothing dated in the future.
  json shown = without_tentative(fast.case_show(id));
  EXPECT_EQ(shown, without_tentative(slow.case_show(id)));
  EXPECT_EQ(sync::case_to_json(*o.db.load_case(id)),
            sync::case_to_json(*fast.replica().load_case(id)));
  EXPECT_LE(o.db.load_case(id)->opened_at, o.clock.now_ms());
  EXPECT_LE(o.db.load_case(id)->task("1")->at, o.clock.now_ms());
}

// A sync that fails after the server's Welcome (here: the server's disk is full) still
// leaves the measured clock difference for `alur status`, stored with the error.
TEST(RobustClockSkew, ASyncThatFailsStillLeavesTheClockWarningInStatus) {
  Office o;
  FakeClock own(o.clock.now_ms());
  Api pc(o.dir.sub("home-pc"), own, o.net.connector());
  pc.enroll(kServerUrl, "sekretaris", o.passwords.at("sekretaris"), test_fingerprint());
  pending_work(o, pc, 2, 60 * 1024);
  EXPECT_TRUE(pc.status()["clock_warning"].is_null());
  own.advance(3 * kDay);  // the PC's clock is set three days ahead
  o.db.db().set_max_page_count(page_count(o.db.db()) + 10);

  EXPECT_EQ(error_code_of([&] { pc.sync(); }), "server_disk_full");
  json st = pc.status();
  EXPECT_EQ(st["last_sync_error"]["code"], "server_disk_full");
  ASSERT_TRUE(st["clock_warning"].is_string()) << st.dump();
  EXPECT_NE(st["clock_warning"].get<std::string>().find("lebih cepat 3 hari"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// A replica restored from an older copy continues after the server's head of its chain.

TEST(RobustRestoredReplica, ContinuesAfterTheServersHighestCounterInsteadOfReusingIt) {
  Office o;
  Api& pc = o.enroll("sekretaris");
  std::string id = pending_work(o, pc, 1);
  pc.sync();
  pc.close();
  fs::copy_file(replica_file(pc), o.dir.sub("backup.db"));
  pc.disposition_set(task(id, "1"), "Sesudah cadangan dibuat");
  pc.sync();
  pc.close();
  fs::copy_file(o.dir.sub("backup.db"), replica_file(pc), fs::copy_options::overwrite_existing);

  pc.sync();  // the Welcome says the server has counter 3
  EXPECT_EQ(pc.replica().meta("counter"), "3");
  json w = pc.disposition_set(task(id, "1"), "Sesudah dipulihkan");
  EXPECT_EQ(w["change"].get<std::string>().substr(w["change"].get<std::string>().rfind(':') + 1),
            "4");
  json r = pc.sync();
  EXPECT_EQ(r["accepted"], 1);
  EXPECT_EQ(r["rejected"], 0) << r.dump();
}

// ---------------------------------------------------------------------------------------
// Damaged replicas and `alur repair`.

class RobustRepair : public ::testing::Test {
 protected:
  Office o;
  Api* pc = nullptr;
  std::string id;
  std::set<std::string> unsent;
  void SetUp() override {
    pc = &o.enroll("sekretaris");
    id = pending_work(o, *pc, 0);
    pc->sync();  // step 1 committed: the log has entries of its own
  }
  // `n` unsent changes, then the replica closed (checkpointed into one file).
  void write_unsent(int n, std::size_t bytes = 64) {
    for (int i = 0; i < n; ++i) {
      std::string text = "PENANDA-" + std::to_string(i) + "-";
      text.resize(std::max(bytes, text.size()), 'y');
      pc->disposition_set(task(id, "1"), text);
    }
    unsent = pending_ids(*pc);
    ASSERT_EQ(unsent.size(), static_cast<std::size_t>(n));
  }
  // After a repair: every unsent change is saved or reported lost, never both; the saved
  // ones reached the server; the lost ones did not; the damaged file is kept.
  void expect_accounted(const json& r) {
    auto saved = ids_of(r["saved"]), lost = ids_of(r["lost"]);
    std::set<std::string> all = saved;
    all.insert(lost.begin(), lost.end());
    EXPECT_EQ(all, unsent) << r.dump();
    for (const auto& x : saved) EXPECT_FALSE(lost.count(x)) << x;
    expect_on_server(o, saved);
    for (const auto& x : lost) {
      auto colon = x.rfind(':');
      EXPECT_EQ(o.times_in_log(x.substr(0, colon), std::stoull(x.substr(colon + 1))), 0u);
    }
    EXPECT_TRUE(fs::exists(r["damaged_file"].get<std::string>()));
    EXPECT_TRUE(pc->status()["pending"].empty());
    EXPECT_EQ(pc->replica().full_check(), std::vector<std::string>{});
    EXPECT_EQ(sync::case_to_json(*pc->replica().load_case(id)),
              sync::case_to_json(*o.db.load_case(id)));
  }
};

TEST_F(RobustRepair, AHealthyReplicaIsLeftAlone) {
  write_unsent(2);
  json r = pc->repair(false);
  EXPECT_FALSE(r["repaired"]);
  EXPECT_EQ(pending_ids(*pc), unsent);
}

TEST_F(RobustRepair, DeletedLogRowsAreFoundOnOpenAndRebuiltWithNothingLost) {
  write_unsent(3);
  pc->replica().db().exec("DELETE FROM log WHERE seq = 2");
  pc->close();
  EXPECT_EQ(error_code_of([&] { pc->status(); }), "replica_damaged");
  json r = pc->repair(false);
  EXPECT_TRUE(r["repaired"]);
  EXPECT_TRUE(r["lost"].empty());
  expect_accounted(r);
}

TEST_F(RobustRepair, ACorruptedLogPageIsDetectedAndEveryUnsentChangeSaved) {
  write_unsent(3);
  auto page = root_page(*pc, "log");
  pc->close();
  smash_page(replica_file(*pc), page);
  std::string code = error_code_of([&] { pc->status(); });
  EXPECT_TRUE(code == "db_corrupt" || code == "replica_damaged") << code;
  json r = pc->repair(false);
  EXPECT_TRUE(r["repaired"]);
  EXPECT_TRUE(r["lost"].empty()) << r.dump();
  expect_accounted(r);
}

TEST_F(RobustRepair, ACorruptedOutboxPageLosesOnlyWhatWasOnItAndSaysWhich) {
  write_unsent(30, 1500);  // about two changes per page
  pc->close();
  auto page = page_of(replica_file(*pc), "PENANDA-15-");
  ASSERT_GT(page, 0);
  smash_page(replica_file(*pc), page);
  json r = pc->repair(false);
  EXPECT_TRUE(r["repaired"]);
  EXPECT_FALSE(r["lost"].empty());
  EXPECT_FALSE(r["saved"].empty());
  // PENANDA-15 is change #17 (#1 is step 1): on the smashed page, so it cannot be saved.
  EXPECT_TRUE(ids_of(r["lost"]).count(pc->replica().require_meta("replica") + ":17")) << r.dump();
  expect_accounted(r);
}

TEST_F(RobustRepair, AnOverwrittenHeaderIsRecoveredWholly) {
  write_unsent(3);
  pc->close();
  {
    std::fstream f(replica_file(*pc), std::ios::in | std::ios::out | std::ios::binary);
    f.write("NOT A DATABASE!!", 16);
  }
  EXPECT_EQ(error_code_of([&] { pc->status(); }), "db_corrupt");
  json r = pc->repair(false);
  EXPECT_TRUE(r["lost"].empty());
  expect_accounted(r);
}

TEST_F(RobustRepair, ATruncatedFileSavesWhatCanBeReadOrSaysReEnrol) {
  write_unsent(20, 1500);
  pc->close();
  fs::resize_file(replica_file(*pc), fs::file_size(replica_file(*pc)) / 2);
  try {
    json r = pc->repair(false);
    EXPECT_TRUE(r["repaired"]);
    expect_accounted(r);
  } catch (const Error& e) {
    // The enrolment settings were on the lost half: say so plainly, keep the evidence.
    EXPECT_EQ(e.code(), "reenroll_needed") << e.what();
    std::cout << e.what() << "\n";
  }
}

TEST_F(RobustRepair, ADeletedReplicaSaysPlainlyThatTheDeviceMustBeEnrolledAgain) {
  write_unsent(1);
  pc->close();
  fs::remove(replica_file(*pc));
  EXPECT_EQ(error_code_of([&] { pc->status(); }), "replica_deleted");
  EXPECT_EQ(error_code_of([&] { pc->repair(false); }), "replica_deleted");
  json e = pc->enroll(kServerUrl, "sekretaris", o.passwords.at("sekretaris"), test_fingerprint());
  EXPECT_TRUE(e["synced"]);
  EXPECT_EQ(sync::case_to_json(*pc->replica().load_case(id)),
            sync::case_to_json(*o.db.load_case(id)));
}

}  // namespace
}  // namespace alur::client::testing
