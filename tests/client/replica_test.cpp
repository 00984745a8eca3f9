// client::Replica alone, without a server: the schema, the device's hash chain of changes,
// local validation before anything is written, the tentative overlay, applying the
// server's committed log (gaps, hash chain, all-or-nothing, idempotence), and how results
// of a push are kept (client/SCHEMA.md, sync/PROTOCOL.md §4, §5, §7).
#include "alur/client/replica.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/case_state.h"
#include "alur/sync/change.h"
#include "alur/sync/memory_state.h"
#include "alur/sync/messages.h"
#include "client_harness.h"

namespace alur::client::testing {
namespace {

namespace fs = std::filesystem;
using sync::Change;
using sync::ChangeResult;
using sync::CommittedEntry;
using sync::Outcome;

const TemplateRegistry& templates() { return TemplateRegistry::builtin(); }

// Another device's hash chain (or the server's), building changes the way the real
// client does (Replica::next_change).
struct Writer {
  Writer(std::string r, std::string a) : replica(std::move(r)), author(std::move(a)) {}
  std::string replica, author;
  std::uint64_t counter = 0;
  std::string last_hash;
  std::uint64_t hlc = HybridClock::from_ms(1'790'000'000'000);

  Change make(const std::string& record, const std::string& op, const json& body) {
    Change c;
    c.record = record;
    c.op = op;
    c.dot = {replica, ++counter};
    c.author = author;
    c.hlc = ++hlc;
    c.body = body.dump();
    c.prev = last_hash;
    last_hash = c.hash();
    return c;
  }
};

// The server's committed log, hash-chained as sync/PROTOCOL.md §5.2 says.
struct LogBuilder {
  std::uint64_t seq = 0;
  Millis at = 1'790'000'100'000;
  std::string prev;

  CommittedEntry commit(const Change& c) {
    CommittedEntry e;
    e.seq = ++seq;
    e.committed_at = at += 1000;
    e.change = c;
    e.log_hash = sync::log_hash(prev, e.seq, c.hash(), e.committed_at);
    prev = e.log_hash;
    return e;
  }
};

Org small_org() {
  Org org;
  org.unit = "Dinas uji";
  org.bidang = {{"koperasi", "Bidang Koperasi"}, {"ukm", "Bidang UKM"}};
  org.people = {
      {"kadis", "Kepala Dinas", {{"kadis", std::nullopt}}, true},
      {"sekretaris", "Sekretaris", {{"sekretaris", std::nullopt}}, true},
      {"kabid_kop", "Kabid Koperasi", {{"kabid", std::string("koperasi")}}, true},
      {"kabid_ukm", "Kabid UKM", {{"kabid", std::string("ukm")}}, true},
      {"kasubag", "Kasubag KPE", {{"kasubag_kpe", std::nullopt}}, true},
      {"pelaksana", "Pelaksana KPE", {{"pelaksana_kpe", std::nullopt}}, true},
  };
  return org;
}

json open_body() { return {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q3"}}; }
json disposition_body(const std::string& text = "Laksanakan rapat koordinasi.", int round = 0) {
  return {{"round", round}, {"text", text}};
}

// A replica in a temp home, "enrolled" by hand as the sekretaris on replica r1, plus the
// server's log and other devices to feed it.
class ReplicaTest : public ::testing::Test {
 protected:
  ReplicaTest() : replica(dir.sub("home")) {
    replica.set_meta("replica", "r1");
    replica.set_meta("username", "sekretaris");
    org_change = server.make("org", sync::op::kOrgSet, json(small_org()));
  }

  std::int64_t count(const std::string& sql) {
    sql::Statement s(replica.db(), sql);
    s.step();
    return s.get_int(0);
  }
  // The committed state of a case as stored (the server's format).
  std::string committed(const std::string& id) {
    auto c = replica.load_case(id);
    return c ? sync::case_to_json(*c).dump() : "<none>";
  }
  std::string task_state(sync::StateAccess& s, const std::string& id, const std::string& key) {
    auto c = s.load_case(id);
    if (!c) return "<no case>";
    const auto* t = c->task(key);
    return t ? t->state : "<no task>";
  }
  // Writes this device's next change (as Api::write does).
  Change write(const std::string& record, const std::string& op, const json& body,
               const std::optional<std::string>& attachment = std::nullopt) {
    Change c = replica.next_change(record, op, body.dump(), {}, clock);
    replica.write(c, templates(), attachment);
    return c;
  }
  // The log entries that bring org + an open case (opened by the kasubag on another device).
  std::vector<CommittedEntry> org_and_case() {
    return {log.commit(org_change),
            log.commit(kasubag.make("case/c1", sync::op::kCaseOpen, open_body()))};
  }

  TempDir dir;
  FakeClock clock;
  Replica replica;
  Writer server{"server", "system"};
  Writer kasubag{"rk", "kasubag"};
  Writer laptop{"r2", "sekretaris"};  // the sekretaris' other device
  LogBuilder log;
  Change org_change;
};

TEST(ReplicaSchemaTest, CreatesSchemaInTempHome) {
  TempDir dir;
  const std::string home = dir.sub("nested/home");  // parents are created too
  {
    Replica r(home);
    EXPECT_TRUE(fs::exists(fs::path(home) / Replica::kFileName));
    std::set<std::string> tables;
    sql::Statement s(r.db(), "SELECT name FROM sqlite_master WHERE type = 'table'");
    while (s.step()) tables.insert(s.get_text(0));
    for (const char* t :
         {"meta", "outbox", "log", "cases", "blobs", "templates", "overlay", "doomed"})
      EXPECT_TRUE(tables.count(t)) << t;
    // 2: imported templates; 3: the stored overlay; 4: the log's count index
    EXPECT_EQ(r.meta("schema_version"), "4");
    EXPECT_EQ(r.cursor(), 0u);
    EXPECT_FALSE(r.enrolled());
    EXPECT_EQ(r.count_pending(), 0u);
    EXPECT_TRUE(r.outbox().empty());
    EXPECT_EQ(error_code_of([&] { r.require_meta("replica"); }), "not_enrolled");
    FakeClock clock;
    EXPECT_EQ(error_code_of([&] { r.next_change("case/x", sync::op::kCaseOpen, "{}", {}, clock); }),
              "not_enrolled");
    r.set_meta("replica", "r1");
  }
  // The folder is the owner's alone (it holds the device key and token).
  auto perms = fs::status(home).permissions();
  EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  // Reopening keeps what was stored and does not reset the schema version.
  Replica again(home);
  EXPECT_TRUE(again.enrolled());
  EXPECT_EQ(again.meta("schema_version"), "4");
}

// Every command's open counts the log (quick_check, to find deleted rows); that count must
// read the narrow index, not the whole log table, or every command slows as the log grows.
TEST(ReplicaSchemaTest, TheOpensCountOfTheLogReadsItsNarrowIndex) {
  TempDir dir;
  Replica r(dir.sub("h"));
  sql::Statement plan(r.db(), "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM log");
  std::string detail;
  while (plan.step()) detail += plan.get_text(3) + ";";
  EXPECT_NE(detail.find("COVERING INDEX log_count"), std::string::npos) << detail;
}

TEST(ReplicaSchemaTest, RefusesADatabaseFromANewerVersion) {
  TempDir dir;
  {
    Replica r(dir.sub("h"));
    r.set_meta("schema_version", "99");
  }
  EXPECT_EQ(error_code_of([&] { Replica r(dir.sub("h")); }), "schema_too_new");
}

// Regression: Api::write took the next counter outside the write transaction, so two
// processes writing to one replica at once collided on outbox.counter with a raw database
// error. Replica::append takes the counter inside the transaction.
TEST_F(ReplicaTest, TwoWritersOnOneReplicaQueueInsteadOfColliding) {
  replica.apply_entries({log.commit(org_change)}, templates());
  write("case/c1", sync::op::kCaseOpen, open_body());
  write("task/c1/1", sync::op::kTaskComplete, disposition_body());
  auto writer = [&](int n) {
    Replica mine(dir.sub("home"));  // its own connection, like a second process
    for (int i = 0; i < n; ++i)
      mine.append("disp/c1/1", sync::op::kDispositionSet,
                  json{{"text", "arahan " + std::to_string(i)}}.dump(), {}, clock, templates(),
                  std::nullopt);
  };
  std::thread a(writer, 25), b(writer, 25);
  a.join();
  b.join();
  auto rows = replica.outbox();
  ASSERT_EQ(rows.size(), 52u);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].counter, rows[i - 1].counter + 1);
    EXPECT_EQ(rows[i].change.prev, rows[i - 1].change.hash());  // one unbroken chain
  }
}

// A full disk while writing: a clear disk_full error, the outbox and chain as they were,
// and work continues once there is room again.
TEST_F(ReplicaTest, FullDiskRefusesTheWriteAndKeepsTheOutbox) {
  replica.apply_entries({log.commit(org_change)}, templates());
  write("case/c1", sync::op::kCaseOpen, open_body());
  const auto counter = replica.meta("counter");
  const auto last_hash = replica.meta("last_hash");
  sql::Statement pages(replica.db(), "PRAGMA page_count");
  ASSERT_TRUE(pages.step());
  replica.db().set_max_page_count(pages.get_int(0));
  std::string big(256 * 1024, 'x');  // an attachment that needs new pages
  EXPECT_EQ(
      error_code_of([&] { write("task/c1/1", sync::op::kTaskComplete, disposition_body(), big); }),
      "disk_full");
  EXPECT_EQ(replica.outbox().size(), 1u);
  EXPECT_EQ(replica.meta("counter"), counter);
  EXPECT_EQ(replica.meta("last_hash"), last_hash);
  replica.db().set_max_page_count(1 << 30);  // space freed
  Change c = write("task/c1/1", sync::op::kTaskComplete, disposition_body());
  EXPECT_EQ(c.dot.counter, 2u);
  EXPECT_EQ(replica.outbox().size(), 2u);
}

TEST_F(ReplicaTest, NextChangeIncrementsCounterAndChainsPrev) {
  replica.apply_entries({log.commit(org_change)}, templates());
  // next_change alone moves nothing: only a write takes the counter.
  Change a = replica.next_change("case/c1", sync::op::kCaseOpen, open_body().dump(), {}, clock);
  Change b = replica.next_change("case/c1", sync::op::kCaseOpen, open_body().dump(), {}, clock);
  EXPECT_EQ(a.dot.counter, 1u);
  EXPECT_EQ(b.dot.counter, 1u);

  Change c1 = write("case/c1", sync::op::kCaseOpen, open_body());
  Change c2 = write("task/c1/1", sync::op::kTaskComplete, disposition_body());
  Change c3 = write("disp/c1/1", sync::op::kDispositionSet, {{"text", "Revisi arahan."}});

  EXPECT_EQ(c1.dot, (sync::Dot{"r1", 1}));
  EXPECT_EQ(c2.dot, (sync::Dot{"r1", 2}));
  EXPECT_EQ(c3.dot, (sync::Dot{"r1", 3}));
  EXPECT_EQ(c1.prev, "");
  EXPECT_EQ(c2.prev, c1.hash());
  EXPECT_EQ(c3.prev, c2.hash());
  EXPECT_EQ(c2.prev.size(), 32u);
  for (const auto& c : {c1, c2, c3}) EXPECT_EQ(c.author, "sekretaris");
  // The clock did not move, yet every stamp is later than the one before.
  EXPECT_LT(c1.hlc, c2.hlc);
  EXPECT_LT(c2.hlc, c3.hlc);
  EXPECT_EQ(replica.meta("counter"), "3");
  EXPECT_EQ(replica.meta("last_hash"), crypto::to_hex(c3.hash()));

  // The outbox holds them in counter order, byte for byte, all pending.
  auto rows = replica.outbox();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].change, c1);
  EXPECT_EQ(rows[1].change, c2);
  EXPECT_EQ(rows[2].change, c3);
  for (const auto& r : rows) EXPECT_EQ(r.status, "pending");
  EXPECT_EQ(replica.count_pending(), 3u);

  // The chain survives reopening the replica.
  Replica reopened(dir.sub("home"));
  Change c4 =
      reopened.next_change("disp/c1/1", sync::op::kDispositionSet, R"({"text":"x"})", {}, clock);
  EXPECT_EQ(c4.dot.counter, 4u);
  EXPECT_EQ(c4.prev, c3.hash());
  EXPECT_GT(c4.hlc, c3.hlc);
}

TEST_F(ReplicaTest, WriteOfARejectedChangeThrowsTheRuleCodeAndWritesNothing) {
  replica.apply_entries({log.commit(org_change)}, templates());
  Change open = write("case/c1", sync::op::kCaseOpen, open_body());
  const auto counter_before = replica.meta("counter");
  const auto hash_before = replica.meta("last_hash");
  const auto hlc_before = replica.meta("hlc");
  const auto outbox_before = count("SELECT COUNT(*) FROM outbox");

  auto attempt = [&](const std::string& record, const std::string& op, const json& body,
                     const std::optional<std::string>& attachment = std::nullopt) {
    Change c = replica.next_change(record, op, body.dump(), {}, clock);
    return error_code_of([&] { replica.write(c, templates(), attachment); });
  };
  // No such case.
  EXPECT_EQ(attempt("task/nope/1", sync::op::kTaskComplete, disposition_body()), "unknown_case");
  // Step 2 belongs to the kabid of the bidang, not the sekretaris.
  EXPECT_EQ(attempt("task/c1/2.koperasi", sync::op::kTaskComplete, disposition_body()),
            "wrong_role");
  // Step 4 waits for steps 2 and 3 — and its file must not be stored either.
  const std::string file = "Notulen rapat\n";
  json meeting = {{"round", 0},
                  {"text", "Notulen"},
                  {"revision",
                   {{"sha256", crypto::sha256_hex(file)},
                    {"size", file.size()},
                    {"filename", "notulen.txt"},
                    {"media", "text"},
                    {"parents", json::array()}}}};
  EXPECT_EQ(attempt("task/c1/4", sync::op::kTaskComplete, meeting, file), "not_ready");
  // One case per SOP and period.
  EXPECT_EQ(attempt("case/c2", sync::op::kCaseOpen, open_body()), "case_exists");
  // A disposition that does not exist yet; a body that is not an object.
  EXPECT_EQ(attempt("disp/c1/1", sync::op::kDispositionSet, {{"text", "x"}}), "unknown_record");
  EXPECT_EQ(attempt("task/c1/1", sync::op::kTaskComplete, json::array()), "bad_body");
  EXPECT_EQ(attempt("task/c1/1", sync::op::kTaskComplete, {{"round", 0}}), "bad_action");
  EXPECT_EQ(attempt("org", sync::op::kOrgSet, json(small_org())), "forbidden_op");

  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox"), outbox_before);
  EXPECT_EQ(count("SELECT COUNT(*) FROM blobs"), 0);
  EXPECT_FALSE(replica.has_blob(crypto::sha256_hex(file)));
  EXPECT_EQ(replica.meta("counter"), counter_before);
  EXPECT_EQ(replica.meta("last_hash"), hash_before);
  EXPECT_EQ(replica.meta("hlc"), hlc_before);

  // The next valid write continues the chain right after the last stored change.
  Change ok = write("task/c1/1", sync::op::kTaskComplete, disposition_body());
  EXPECT_EQ(ok.dot.counter, 2u);
  EXPECT_EQ(ok.prev, open.hash());
}

TEST_F(ReplicaTest, ViewOverlaysPendingChangesOnCommittedState) {
  replica.apply_entries(org_and_case(), templates());
  EXPECT_EQ(task_state(replica, "c1", "1"), "ready");

  Change act = write("task/c1/1", sync::op::kTaskComplete, disposition_body());
  // Committed state is untouched; the view shows the change at once, with its effects.
  EXPECT_EQ(task_state(replica, "c1", "1"), "ready");
  {
    View v = replica.view(templates());
    EXPECT_EQ(task_state(v, "c1", "1"), "done");
    EXPECT_EQ(task_state(v, "c1", "2.koperasi"), "ready");
    EXPECT_EQ(task_state(v, "c1", "3"), "ready");
    EXPECT_EQ(v.load_case("c1")->task("1")->by, "sekretaris");
    EXPECT_EQ(v.load_case("c1")->task("1")->change, act.id());
    EXPECT_TRUE(v.doomed().empty());
    EXPECT_EQ(v.org().people.size(), small_org().people.size());
  }
  // Accepted by the server but not pulled yet: still shown through the overlay.
  replica.record_results({ChangeResult{act.dot.counter, Outcome::kAccepted, 3, "", ""}});
  EXPECT_EQ(replica.count_pending(), 0u);
  EXPECT_EQ(task_state(replica, "c1", "1"), "ready");
  {
    View v = replica.view(templates());
    EXPECT_EQ(task_state(v, "c1", "1"), "done");
  }

  // Pulled: now committed, and the view equals the committed state.
  EXPECT_EQ(replica.apply_entries({log.commit(act)}, templates()), 1u);
  EXPECT_EQ(task_state(replica, "c1", "1"), "done");
  View v = replica.view(templates());
  EXPECT_EQ(sync::case_to_json(*v.load_case("c1")).dump(), committed("c1"));
  EXPECT_TRUE(v.doomed().empty());
}

TEST_F(ReplicaTest, PendingChangeOvertakenByTheLogIsShownAsDoomed) {
  replica.apply_entries(org_and_case(), templates());
  Change mine = write("task/c1/1", sync::op::kTaskComplete, disposition_body("dari PC"));
  // The sekretaris' laptop did step 1 first and the server committed that.
  Change theirs =
      laptop.make("task/c1/1", sync::op::kTaskComplete, disposition_body("dari laptop"));
  replica.apply_entries({log.commit(theirs)}, templates());
  View v = replica.view(templates());
  ASSERT_EQ(v.doomed().count(mine.dot.counter), 1u);
  EXPECT_EQ(v.doomed().at(mine.dot.counter).code, "already_done");
  EXPECT_EQ(v.load_case("c1")->task("1")->change, theirs.id());
  EXPECT_EQ(v.load_case("c1")->task("1")->text, "dari laptop");
  // Still in the outbox, still pending: only the server decides.
  EXPECT_EQ(replica.count_pending(), 1u);
}

TEST_F(ReplicaTest, ApplyEntriesWithAGapThrowsLogGap) {
  auto entries = org_and_case();  // seq 1, 2
  auto third =
      log.commit(kasubag.make("disp/c1/1", sync::op::kDispositionSet, {{"text", "x"}}));  // seq 3
  // A gap at the start.
  EXPECT_EQ(error_code_of([&] { replica.apply_entries({entries[1]}, templates()); }), "log_gap");
  EXPECT_EQ(replica.cursor(), 0u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM log"), 0);
  // A gap inside a batch: nothing of it is applied.
  EXPECT_EQ(error_code_of([&] {
              replica.apply_entries({entries[0], third}, templates());
            }),
            "log_gap");
  EXPECT_EQ(replica.cursor(), 0u);
  EXPECT_EQ(count("SELECT COUNT(*) FROM log"), 0);
  EXPECT_TRUE(replica.org().people.empty());
  // In order it applies.
  EXPECT_EQ(replica.apply_entries({entries[0]}, templates()), 1u);
  EXPECT_EQ(error_code_of([&] { replica.apply_entries({third}, templates()); }), "log_gap");
  EXPECT_EQ(replica.cursor(), 1u);
}

TEST_F(ReplicaTest, ApplyEntriesWithAWrongLogHashThrowsLogMismatchAndKeepsTheCursor) {
  auto entries = org_and_case();
  replica.apply_entries({entries[0]}, templates());
  const auto last_log = replica.meta("last_log_hash");

  auto tampered = entries[1];
  tampered.log_hash[0] = static_cast<char>(tampered.log_hash[0] ^ 1);
  EXPECT_EQ(error_code_of([&] { replica.apply_entries({tampered}, templates()); }), "log_mismatch");
  EXPECT_EQ(replica.cursor(), 1u);
  EXPECT_EQ(replica.meta("last_log_hash"), last_log);
  EXPECT_FALSE(replica.load_case("c1"));

  // A change edited after it was committed breaks the chain too (the log hash covers it).
  auto edited = entries[1];
  edited.change.body = json{{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q4"}}.dump();
  EXPECT_EQ(error_code_of([&] { replica.apply_entries({edited}, templates()); }), "log_mismatch");
  // So does a commit time moved after the fact.
  auto moved = entries[1];
  moved.committed_at += 1;
  EXPECT_EQ(error_code_of([&] { replica.apply_entries({moved}, templates()); }), "log_mismatch");
  EXPECT_EQ(replica.cursor(), 1u);
  EXPECT_FALSE(replica.load_case("c1"));

  EXPECT_EQ(replica.apply_entries({entries[1]}, templates()), 1u);
  EXPECT_EQ(replica.cursor(), 2u);
  EXPECT_EQ(replica.meta("last_log_hash"), crypto::to_hex(entries[1].log_hash));
}

TEST_F(ReplicaTest, ApplyEntriesIsAllOrNothing) {
  replica.apply_entries({log.commit(org_change)}, templates());
  const auto cursor = replica.cursor();
  const auto last_log = replica.meta("last_log_hash");
  const auto hlc = replica.meta("hlc");

  // Third entry: step 5 completed before its predecessors — the replica cannot replay it.
  LogBuilder bad_log = log;
  Writer k = kasubag;
  std::vector<CommittedEntry> batch = {
      bad_log.commit(k.make("case/c1", sync::op::kCaseOpen, open_body())),
      bad_log.commit(laptop.make("task/c1/1", sync::op::kTaskComplete, disposition_body())),
      bad_log.commit(
          k.make("task/c1/5", sync::op::kTaskComplete, {{"round", 0}, {"text", "telaah"}})),
  };
  EXPECT_EQ(error_code_of([&] { replica.apply_entries(batch, templates()); }), "replay_failed");
  EXPECT_EQ(replica.cursor(), cursor);
  EXPECT_EQ(replica.meta("last_log_hash"), last_log);
  EXPECT_EQ(replica.meta("hlc"), hlc);
  EXPECT_FALSE(replica.load_case("c1"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM cases"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM log"), 1);

  // Same with a third entry whose log hash is wrong.
  {
    LogBuilder l = log;
    Writer k2 = kasubag, lp = laptop;
    std::vector<CommittedEntry> b = {
        l.commit(k2.make("case/c1", sync::op::kCaseOpen, open_body())),
        l.commit(lp.make("task/c1/1", sync::op::kTaskComplete, disposition_body())),
        l.commit(lp.make("disp/c1/1", sync::op::kDispositionSet, {{"text", "x"}})),
    };
    b[2].log_hash = std::string(32, '\0');
    EXPECT_EQ(error_code_of([&] { replica.apply_entries(b, templates()); }), "log_mismatch");
    EXPECT_EQ(replica.cursor(), cursor);
    EXPECT_FALSE(replica.load_case("c1"));
    EXPECT_EQ(count("SELECT COUNT(*) FROM log"), 1);
  }

  // A failing batch that carries an org change leaves the org as it was.
  TempDir other;
  Replica fresh(other.sub("h"));
  LogBuilder l2;
  Writer s2{"server", "system"}, k2{"rk", "kasubag"};
  std::vector<CommittedEntry> b2 = {
      l2.commit(s2.make("org", sync::op::kOrgSet, json(small_org()))),
      l2.commit(k2.make("case/c1", sync::op::kCaseOpen, open_body())),
      l2.commit(k2.make("task/c1/5", sync::op::kTaskComplete, {{"round", 0}, {"text", "telaah"}})),
  };
  EXPECT_EQ(error_code_of([&] { fresh.apply_entries(b2, templates()); }), "replay_failed");
  EXPECT_EQ(fresh.cursor(), 0u);
  EXPECT_TRUE(fresh.org().people.empty());
  EXPECT_FALSE(fresh.meta("org"));
  // And the good prefix applies afterwards.
  b2.pop_back();
  EXPECT_EQ(fresh.apply_entries(b2, templates()), 2u);
  EXPECT_EQ(fresh.org().people.size(), small_org().people.size());
}

TEST_F(ReplicaTest, ApplyingTheSameEntriesTwiceIsANoOp) {
  auto entries = org_and_case();
  entries.push_back(
      log.commit(laptop.make("task/c1/1", sync::op::kTaskComplete, disposition_body())));
  entries.push_back(log.commit(
      kasubag.make("task/c1/3", sync::op::kTaskComplete, {{"round", 0}, {"text", "data"}})));
  ASSERT_EQ(replica.apply_entries({entries[0], entries[1], entries[2]}, templates()), 3u);
  const std::string state = committed("c1");
  const auto hash = replica.meta("last_log_hash");

  EXPECT_EQ(replica.apply_entries({entries[0], entries[1], entries[2]}, templates()), 0u);
  EXPECT_EQ(committed("c1"), state);
  EXPECT_EQ(replica.cursor(), 3u);
  EXPECT_EQ(replica.meta("last_log_hash"), hash);
  EXPECT_EQ(count("SELECT COUNT(*) FROM log"), 3);

  // A resent batch that overlaps what is applied applies only what is new.
  EXPECT_EQ(replica.apply_entries({entries[1], entries[2], entries[3]}, templates()), 1u);
  EXPECT_EQ(replica.cursor(), 4u);
  EXPECT_EQ(task_state(replica, "c1", "3"), "done");
  EXPECT_EQ(count("SELECT COUNT(*) FROM log"), 4);
  const std::string after = committed("c1");
  EXPECT_EQ(replica.apply_entries(entries, templates()), 0u);
  EXPECT_EQ(committed("c1"), after);
}

TEST_F(ReplicaTest, RecordResultsKeepsRejectedChangesWithCodeAndMessageAfterLaterPulls) {
  replica.apply_entries(org_and_case(), templates());
  Change act = write("task/c1/1", sync::op::kTaskComplete, disposition_body());
  Change disp = write("disp/c1/1", sync::op::kDispositionSet, {{"text", "Arahan kedua"}});
  Change later = write("disp/c1/1", sync::op::kDispositionSet, {{"text", "Arahan ketiga"}});

  replica.record_results({
      ChangeResult{act.dot.counter, Outcome::kAccepted, 3, "", ""},
      ChangeResult{disp.dot.counter, Outcome::kRejected, 0, "wrong_role", "Bukan peran Anda."},
  });
  auto rows = replica.outbox();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].status, "accepted");
  EXPECT_EQ(rows[0].seq, 3u);
  EXPECT_EQ(rows[1].status, "rejected");
  EXPECT_EQ(rows[1].code, "wrong_role");
  EXPECT_EQ(rows[1].message, "Bukan peran Anda.");
  EXPECT_EQ(rows[2].status, "pending");
  EXPECT_EQ(replica.count_pending(), 1u);

  // Later pulls (our accepted change and others' work) leave the rejection as it is.
  replica.apply_entries({log.commit(act)}, templates());
  replica.apply_entries({log.commit(kasubag.make("task/c1/3", sync::op::kTaskComplete,
                                                 {{"round", 0}, {"text", "d"}}))},
                        templates());
  // A late, different answer for it (e.g. a resend) does not turn a rejection around.
  replica.record_results({ChangeResult{disp.dot.counter, Outcome::kAccepted, 9, "", ""}});
  auto rejected = replica.outbox("rejected");
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].counter, disp.dot.counter);
  EXPECT_EQ(rejected[0].code, "wrong_role");
  EXPECT_EQ(rejected[0].message, "Bukan peran Anda.");
  EXPECT_EQ(rejected[0].change, disp);
  EXPECT_EQ(replica.outbox("accepted").size(), 1u);
  EXPECT_EQ(replica.count_pending(), 1u);
  // A rejected change is not part of the overlay.
  View v = replica.view(templates());
  std::set<std::string> texts;
  const sync::CaseState shown = *v.load_case("c1");
  for (const auto& s : shown.dispositions.at("1").value.siblings()) texts.insert(s.value.text);
  EXPECT_FALSE(texts.count("Arahan kedua"));
  EXPECT_TRUE(texts.count("Arahan ketiga"));
}

TEST_F(ReplicaTest, PullingOurOwnChangeMarksItAcceptedEvenWithoutAPushResult) {
  replica.apply_entries(org_and_case(), templates());
  Change act = write("task/c1/1", sync::op::kTaskComplete, disposition_body());
  // The PushResult was lost, but the change arrives in the committed log.
  replica.apply_entries({log.commit(act)}, templates());
  auto rows = replica.outbox();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "accepted");
  EXPECT_EQ(rows[0].seq, 3u);
  EXPECT_EQ(replica.count_pending(), 0u);
}

TEST_F(ReplicaTest, BlobsAreContentAddressedAndMissingOnesAreListed) {
  replica.apply_entries(org_and_case(), templates());
  const std::string content = "Capaian kinerja\nIKU 1: 82%\n";
  const std::string sha = crypto::sha256_hex(content);
  json body = {{"sha256", sha},
               {"size", content.size()},
               {"filename", "a.txt"},
               {"media", "text"},
               {"parents", json::array()}};
  replica.apply_entries({log.commit(kasubag.make("draft/c1/bahan", sync::op::kDraftRevise, body))},
                        templates());
  EXPECT_EQ(replica.missing_blobs(), std::vector<std::string>{sha});
  replica.put_blob(content);
  replica.put_blob(content);  // idempotent
  EXPECT_TRUE(replica.has_blob(sha));
  EXPECT_EQ(replica.blob(sha), content);
  EXPECT_TRUE(replica.missing_blobs().empty());
  EXPECT_FALSE(replica.blob(crypto::sha256_hex("lain")));
}

// --- the stored overlay -----------------------------------------------------------------

// Everything a person sees through a view, as one text: the cases with ready tasks at step 1
// and at other steps (asked first, from the stored ready tasks, before the view has read any
// case), every case (and the case list, which must agree with them), the org, and the
// verdicts on the tentative changes that no longer apply.
std::string seen(View& v) {
  json out = {{"ready_at_1", v.cases_with_ready_tasks([](auto&, int, int s) { return s == 1; })},
              {"ready_later", v.cases_with_ready_tasks([](auto&, int, int s) { return s > 1; })},
              {"cases", json::object()},
              {"org", json(v.org())},
              {"doomed", json::object()}};
  json summaries = json::array(), loaded = json::array();
  for (const auto& c : v.case_summaries())  // from the stored rows: no case read yet
    summaries.push_back({c.id, c.title, c.state, c.sop, c.period});
  for (const auto& id : v.case_ids()) {
    sync::CaseState c = *v.load_case(id);
    out["cases"][id] = sync::case_to_json(c);
    loaded.push_back({id, c.title, c.state, c.sop, c.period});
  }
  EXPECT_EQ(summaries, loaded) << "the case list differs from the cases it lists";
  for (const auto& [counter, verdict] : v.doomed())
    out["doomed"][std::to_string(counter)] = {verdict.code, verdict.message};
  return out.dump();
}

TEST_F(ReplicaTest, AVersion2ReplicaWithPendingChangesUpgradesAndKeepsThem) {
  replica.apply_entries(org_and_case(), templates());
  write("task/c1/1", sync::op::kTaskComplete, disposition_body());
  write("disp/c1/1", sync::op::kDispositionSet, {{"text", "Arahan kedua"}});
  write("case/c2", sync::op::kCaseOpen, {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q4"}});
  const std::string expected = [&] {
    View v = replica.replayed_view(templates());
    return seen(v);
  }();
  // The layout of version 2: what version 3 added, removed.
  replica.db().exec(
      "DROP TABLE overlay; DROP TABLE doomed; DROP TABLE ready_tasks; "
      "DROP INDEX cases_by_period; DROP INDEX outbox_by_seq; "
      "DELETE FROM meta WHERE key IN ('overlay_head', 'overlay_org'); "
      "UPDATE meta SET value = '2' WHERE key = 'schema_version'");

  Replica upgraded(dir.sub("home"));  // the new version opens the old file
  EXPECT_EQ(upgraded.meta("schema_version"), "4");
  EXPECT_EQ(upgraded.count_pending(), 3u);
  View v = upgraded.view(templates());
  EXPECT_EQ(task_state(v, "c1", "1"), "done");
  std::set<std::string> texts;
  const std::optional<sync::CaseState> c1 = v.load_case("c1");  // kept: the loop reads into it
  ASSERT_TRUE(c1);
  for (const auto& sib : c1->dispositions.at("1").value.siblings()) texts.insert(sib.value.text);
  EXPECT_TRUE(texts.count("Arahan kedua"));
  EXPECT_EQ(v.case_for_period("LAKIP", "2026-Q4"), "c2");
  EXPECT_EQ(seen(v), expected);
  // The overlay is now stored: the two cases with tentative changes.
  sql::Statement rows(upgraded.db(), "SELECT COUNT(*) FROM overlay");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.get_int(0), 2);
}

TEST_F(ReplicaTest, AStaleOverlayThatCannotBeStoredIsStillShownFromTheReplay) {
  replica.apply_entries(org_and_case(), templates());
  Change mine = write("task/c1/1", sync::op::kTaskComplete, disposition_body("dari PC"));
  write("case/c2", sync::op::kCaseOpen, {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q4"}});
  // A pull makes the stored overlay stale; then the disk is full when someone looks.
  replica.apply_entries({log.commit(laptop.make("task/c1/1", sync::op::kTaskComplete,
                                                disposition_body("dari laptop")))},
                        templates());
  replica.db().set_fault_hook([](sql::FaultPoint where, std::string_view stmt) {
    if (where == sql::FaultPoint::kBefore && stmt.starts_with("INSERT INTO overlay"))
      throw Error("disk_full", "Disk penuh.");
  });
  View v = replica.view(templates());
  ASSERT_EQ(v.doomed().count(mine.dot.counter), 1u);
  EXPECT_EQ(v.doomed().at(mine.dot.counter).code, "already_done");
  EXPECT_EQ(v.load_case("c1")->task("1")->text, "dari laptop");
  EXPECT_EQ(task_state(v, "c2", "1"), "ready");
  View full = replica.replayed_view(templates());
  EXPECT_EQ(seen(v), seen(full));
  EXPECT_FALSE(replica.meta("overlay_head")) << "nothing of the rebuild was stored";
  // Space again: the next view stores the rebuilt overlay.
  replica.db().set_fault_hook({});
  View stored = replica.view(templates());
  EXPECT_EQ(seen(stored), seen(full));
  EXPECT_TRUE(replica.meta("overlay_head"));
}

// The server of the property test below: it validates each change on its committed state
// as the sequencer does, and logs the accepted ones.
struct ModelServer {
  explicit ModelServer(LogBuilder& l) : log(l) {}
  sync::Verdict offer(const Change& c) {
    sync::Verdict v =
        sync::apply_change(state, templates(), c, log.at + 1000, {.check_blobs = false});
    if (v.ok()) entries.push_back(log.commit(c));
    return v;
  }
  LogBuilder& log;
  sync::MemoryState state;
  std::vector<CommittedEntry> entries;
  std::map<std::uint64_t, ChangeResult> answers;  // the replica's counter -> the answer
};

// The overlay that local writes keep up to date equals the full replay (the committed state
// and every tentative change in counter order), whatever mix of local writes, other devices'
// work, pushes, lost answers, rejections and pulls came before; also as a second process
// that opens the file sees it.
class OverlayProperty : public ReplicaTest, public ::testing::WithParamInterface<unsigned> {};

TEST_P(OverlayProperty, IncrementalOverlayEqualsTheFullReplay) {
  std::mt19937 rng(GetParam());
  auto pick = [&](const std::vector<std::string>& from) { return from[rng() % from.size()]; };
  // More cases than periods: some case.open of either side collides for good.
  const std::vector<std::string> cases = {"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"};
  const std::vector<std::string> periods = {"2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4",
                                            "2027-Q1", "2027-Q2", "2027-Q3"};
  ModelServer srv(log);
  srv.offer(org_change);
  srv.offer(kasubag.make("case/c1", sync::op::kCaseOpen, open_body()));
  std::size_t delivered = 0;
  auto pull = [&](std::size_t n) {
    std::size_t end = std::min(srv.entries.size(), delivered + n);
    replica.apply_entries({srv.entries.begin() + delivered, srv.entries.begin() + end},
                          templates());
    delivered = end;
  };
  pull(2);
  // One of the three kinds of change a sekretaris makes, on a random case, handed to build.
  auto make = [&](sync::StateAccess& state, auto&& build) {
    std::string id = pick(cases);
    switch (rng() % 3) {
      case 0:
        return build("case/" + id, sync::op::kCaseOpen,
                     json{{"sop", "LAKIP"}, {"version", 1}, {"period", pick(periods)}},
                     sync::VersionVector{});
      case 1:
        return build("task/" + id + "/1", sync::op::kTaskComplete,
                     disposition_body("langkah 1 #" + std::to_string(rng() % 1000)),
                     sync::VersionVector{});
      default: {
        sync::VersionVector context;  // sometimes none: concurrent with what is there
        auto c = state.load_case(id);
        if (c && c->dispositions.count("1") && rng() % 4)
          context = c->dispositions.at("1").value.vv();
        return build("disp/" + id + "/1", sync::op::kDispositionSet,
                     json{{"text", "arahan #" + std::to_string(rng() % 1000)}}, context);
      }
    }
  };
  std::map<std::string, int> done;
  int fresh_checks = 0;
  for (int step = 0; step < 300; ++step) {
    const unsigned roll = rng() % 100;
    if (roll < 45) {  // a local write (refused when it would not apply here)
      View v = replica.view(templates());
      make(v, [&](const std::string& record, const char* op, const json& body,
                  const sync::VersionVector& context) {
        try {
          replica.append(record, op, body.dump(), context, clock, templates(), std::nullopt);
          ++done["written"];
        } catch (const Error&) {
          ++done["refused"];
        }
        return 0;
      });
    } else if (roll < 60) {  // another device's work reaches the server
      make(srv.state, [&](const std::string& record, const char* op, const json& body,
                          const sync::VersionVector& context) {
        Writer& w = std::string(op) == sync::op::kCaseOpen ? kasubag : laptop;
        Change c = w.make(record, op, body);
        c.context = context;
        ++done[srv.offer(c).ok() ? "theirs" : "theirs_refused"];
        return 0;
      });
    } else if (roll < 80) {  // a push of the first pending changes; some answers get lost
      auto pending = replica.outbox("pending");
      std::vector<ChangeResult> results;
      const std::size_t n = 1 + rng() % 4;
      for (std::size_t i = 0; i < pending.size() && i < n; ++i) {
        const Change& c = pending[i].change;
        auto known = srv.answers.find(c.dot.counter);
        if (known == srv.answers.end()) {
          sync::Verdict v = srv.offer(c);
          ChangeResult r{c.dot.counter, v.ok() ? Outcome::kAccepted : Outcome::kRejected,
                         v.ok() ? srv.entries.back().seq : 0, v.code, v.message};
          known = srv.answers.emplace(c.dot.counter, r).first;
          ++done[v.ok() ? "accepted" : "rejected"];
        }
        results.push_back(known->second);
      }
      if (rng() % 5) replica.record_results(results);
    } else if (roll < 97) {  // a pull of some of what the server has
      pull(1 + rng() % 6);
    } else {
      pull(srv.entries.size());
    }
    if (replica.meta("overlay_head")) ++fresh_checks;
    View incremental = replica.view(templates());
    View full = replica.replayed_view(templates());
    const std::string expected = seen(full);
    done["doomed"] += static_cast<int>(full.doomed().size());
    ASSERT_EQ(seen(incremental), expected) << "step " << step;
    if (step % 16 == 0) {
      Replica other(dir.sub("home"));  // a second process
      View theirs = other.view(templates());
      ASSERT_EQ(seen(theirs), expected) << "step " << step;
    }
  }
  // The run did what it is meant to test.
  for (const char* what : {"written", "refused", "theirs", "accepted", "rejected", "doomed"})
    EXPECT_GT(done[what], 0) << what << " in " << json(done).dump();
  EXPECT_GT(fresh_checks, 75);
}

// Seeds whose runs each include rejections and doomed changes (of seeds 1-30, these eight).
INSTANTIATE_TEST_SUITE_P(Seeds, OverlayProperty,
                         ::testing::Values(1u, 2u, 4u, 6u, 12u, 14u, 22u, 29u));

}  // namespace
}  // namespace alur::client::testing
