// The sequencer at the SyncService::handle level: who may do what in which order, the
// device's hash chain and signature, duplicates, and what the server stores.
#include <map>
#include <set>

#include "alur/server/tuning.h"
#include "harness.h"

namespace alur::server::testing {
namespace {

class ServerSequencer : public StoreTest {};
ALUR_ON_BOTH_STORES(ServerSequencer);
class ServerSequencerRegression : public StoreTest {};
ALUR_ON_BOTH_STORES(ServerSequencerRegression);

using namespace alur::sync;

constexpr const char* kCase = "5e0c1d2a3b4c5d6e";

// Opens kCase as sekre and completes step 1; returns sekre's client.
HandClient case_with_step1_done(Office& o) {
  HandClient sekre = o.enrolled("sekre");
  auto r = o.push(sekre, {sekre.open_case(kCase), sekre.complete(kCase, "1", disposition())});
  expect_all_accepted(r);
  return sekre;
}

TEST_P(ServerSequencer, CaseOpenBySekretarisIsAcceptedWithTheNextSeq) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  auto r = o.push1(sekre, sekre.open_case(kCase));
  EXPECT_EQ(r.outcome, Outcome::kAccepted) << r.code;
  EXPECT_EQ(r.counter, 1u);
  EXPECT_EQ(r.seq, 2u);  // seq 1 is the org import
  EXPECT_EQ(o.db.head(), 2u);
  auto c = o.case_state(kCase);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->opened_by, "sekre");
  EXPECT_EQ(o.task_state(kCase, "1"), "ready");
  EXPECT_EQ(o.task_state(kCase, "2.koperasi"), "pending");
  EXPECT_EQ(o.task_state(kCase, "2.ukm"), "pending");
  auto row = o.change_row(sekre.replica, 1);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->status, "accepted");
  EXPECT_EQ(row->seq, 2u);
}

TEST_P(ServerSequencer, OpeningByARoleThatMayNotOpenIsWrongRole) {
  Office o(store());
  HandClient kabid = o.enrolled("kabid_kop");
  auto r = o.push1(kabid, kabid.open_case(kCase));
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.code, "wrong_role");
  EXPECT_FALSE(o.case_state(kCase).has_value());
  EXPECT_EQ(o.db.head(), 1u);
}

TEST_P(ServerSequencer, Step1CompletedBySekretarisMakesStep2And3Ready) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  o.push1(sekre, sekre.open_case(kCase));
  auto r = o.push1(sekre, sekre.complete(kCase, "1", disposition()));
  EXPECT_EQ(r.outcome, Outcome::kAccepted) << r.code << ": " << r.message;
  EXPECT_EQ(r.seq, 3u);
  EXPECT_EQ(o.task_state(kCase, "1"), "done");
  EXPECT_EQ(o.task_state(kCase, "2.koperasi"), "ready");
  EXPECT_EQ(o.task_state(kCase, "2.ukm"), "ready");
  EXPECT_EQ(o.task_state(kCase, "3"), "ready");
  EXPECT_EQ(o.task_state(kCase, "4"), "pending");
}

TEST_P(ServerSequencer, StepByTheWrongRoleIsRejectedAndChangesNothing) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  o.push1(sekre, sekre.open_case(kCase));
  HandClient kasubag = o.enrolled("kasubag");
  auto head = o.db.head();
  auto r = o.push1(kasubag, kasubag.complete(kCase, "1", disposition()));
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.code, "wrong_role");
  EXPECT_FALSE(r.message.empty());
  EXPECT_EQ(r.seq, 0u);
  EXPECT_EQ(o.task_state(kCase, "1"), "ready");
  EXPECT_EQ(o.db.head(), head);
}

TEST_P(ServerSequencer, KabidOfAnotherBidangIsWrongRole) {
  Office o(store());
  case_with_step1_done(o);
  HandClient kop = o.enrolled("kabid_kop");
  auto r = o.push1(kop, kop.complete(kCase, "2.ukm", disposition("Siapkan bahan UKM.")));
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.code, "wrong_role");
  EXPECT_EQ(o.task_state(kCase, "2.ukm"), "ready");
  // Their own bidang's task is theirs.
  auto ok = o.push1(kop, kop.complete(kCase, "2.koperasi", disposition("Siapkan bahan koperasi.")));
  EXPECT_EQ(ok.outcome, Outcome::kAccepted) << ok.code;
  EXPECT_EQ(o.task_state(kCase, "2.koperasi"), "done");
}

TEST_P(ServerSequencer, Step4BeforeEveryStep2TaskIsNotReady) {
  Office o(store());
  HandClient sekre = case_with_step1_done(o);
  HandClient kop = o.enrolled("kabid_kop");
  HandClient kasubag = o.enrolled("kasubag");
  EXPECT_EQ(o.push1(kop, kop.complete(kCase, "2.koperasi", disposition())).outcome,
            Outcome::kAccepted);
  EXPECT_EQ(
      o.push1(kasubag, kasubag.complete(kCase, "3", {{"text", "Capaian triwulan terlampir."}}))
          .outcome,
      Outcome::kAccepted);
  // 2.ukm is still open.
  auto head = o.db.head();
  auto r = o.push1(sekre, sekre.complete(kCase, "4", {{"text", "Notulen rapat."}}));
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.code, "not_ready");
  EXPECT_EQ(o.task_state(kCase, "4"), "pending");
  EXPECT_EQ(o.db.head(), head);

  HandClient ukm = o.enrolled("kabid_ukm");
  EXPECT_EQ(o.push1(ukm, ukm.complete(kCase, "2.ukm", disposition())).outcome, Outcome::kAccepted);
  EXPECT_EQ(o.task_state(kCase, "4"), "ready");
  auto r2 = o.push1(sekre, sekre.complete(kCase, "4", {{"text", "Notulen rapat."}}));
  EXPECT_EQ(r2.outcome, Outcome::kAccepted) << r2.code;
}

TEST_P(ServerSequencer, DoubleCompletionFromTwoDevicesSecondIsAlreadyDone) {
  Office o(store());
  HandClient sekre_pc = o.enrolled("sekre");
  o.push1(sekre_pc, sekre_pc.open_case(kCase));
  HandClient sekre_laptop = o.enrolled("sekre");
  // Both devices complete step 1 while offline; the server decides in commit order.
  auto a = sekre_pc.complete(kCase, "1", disposition("Dari PC."));
  auto b = sekre_laptop.complete(kCase, "1", disposition("Dari laptop."));
  auto ra = o.push1(sekre_pc, a);
  auto rb = o.push1(sekre_laptop, b);
  EXPECT_EQ(ra.outcome, Outcome::kAccepted);
  EXPECT_EQ(rb.outcome, Outcome::kRejected);
  EXPECT_EQ(rb.code, "already_done");
  auto c = o.case_state(kCase);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->task("1")->change, a.id());
  EXPECT_EQ(c->task("1")->text, "Dari PC.");
}

TEST_P(ServerSequencer, ChangeAuthoredByAnotherUserIsWrongAuthor) {
  Office o(store());
  HandClient kasubag = o.enrolled("kasubag");
  // kasubag's device claims a change written by sekre (who could open the case).
  auto c = kasubag.next("case/" + std::string(kCase), op::kCaseOpen,
                        {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q3"}});
  c.author = "sekre";
  kasubag.chain(c);
  auto r = o.push1(kasubag, c);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.code, "wrong_author");
  EXPECT_FALSE(o.case_state(kCase).has_value());
  EXPECT_EQ(o.db.head(), 1u);
  auto row = o.change_row(kasubag.replica, 1);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->status, "rejected");
  EXPECT_EQ(row->code, "wrong_author");
}

TEST_P(ServerSequencer, BadHeadSignatureIsFatalAndCommitsNothing) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  auto a = sekre.open_case(kCase);
  auto b = sekre.complete(kCase, "1", disposition());
  auto e = as<ErrorMsg>(o.one(sekre, sekre.push_badly_signed({a, b})));
  EXPECT_EQ(e.code, "bad_signature");
  EXPECT_TRUE(e.fatal);
  EXPECT_EQ(o.db.head(), 1u);
  EXPECT_FALSE(o.case_state(kCase).has_value());
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes WHERE replica <> 'server'"), 0);
  EXPECT_EQ(o.db.device(sekre.replica)->last_counter, 0u);

  // A signature made by the device's key over another head does not verify either.
  auto p = sekre.push({a, b});
  p.head_signature = sekre.key.sign(chain_head_message(sekre.replica, 1, a.hash()));
  EXPECT_EQ(as<ErrorMsg>(o.one(sekre, p)).code, "bad_signature");
  p.head_signature.clear();
  EXPECT_EQ(as<ErrorMsg>(o.one(sekre, p)).code, "bad_signature");
  EXPECT_EQ(o.db.head(), 1u);
}

TEST_P(ServerSequencer, SkippedCounterIsChainBrokenAndCommitsNothing) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  auto c = sekre.next("case/" + std::string(kCase), op::kCaseOpen,
                      {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q3"}});
  c.dot.counter = 2;  // the device skipped #1
  sekre.chain(c);
  auto e = as<ErrorMsg>(o.one(sekre, sekre.push({c})));
  EXPECT_EQ(e.code, "chain_broken");
  EXPECT_TRUE(e.fatal);
  EXPECT_EQ(o.db.head(), 1u);
  EXPECT_FALSE(o.case_state(kCase).has_value());
  EXPECT_FALSE(o.change_row(sekre.replica, 2).has_value());
  EXPECT_EQ(o.db.device(sekre.replica)->last_counter, 0u);
}

TEST_P(ServerSequencer, WrongPrevIsChainBrokenAndCommitsNothing) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  EXPECT_EQ(o.push1(sekre, sekre.open_case(kCase)).outcome, Outcome::kAccepted);
  auto head = o.db.head();
  auto c = sekre.next("task/" + std::string(kCase) + "/1", op::kTaskComplete, disposition());
  c.prev = crypto::sha256("not the previous change");
  sekre.chain(c);
  auto e = as<ErrorMsg>(o.one(sekre, sekre.push({c})));
  EXPECT_EQ(e.code, "chain_broken");
  EXPECT_TRUE(e.fatal);
  EXPECT_EQ(o.db.head(), head);
  EXPECT_EQ(o.task_state(kCase, "1"), "ready");
  EXPECT_FALSE(o.change_row(sekre.replica, 2).has_value());
  EXPECT_EQ(o.db.device(sekre.replica)->last_counter, 1u);

  // A first change must have an empty prev.
  HandClient kasubag = o.enrolled("kasubag");
  auto f = kasubag.next("case/other", op::kCaseOpen,
                        {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q4"}});
  f.prev = crypto::sha256("x");
  kasubag.chain(f);
  EXPECT_EQ(as<ErrorMsg>(o.one(kasubag, kasubag.push({f}))).code, "chain_broken");
  EXPECT_FALSE(o.case_state("other").has_value());
}

TEST_P(ServerSequencer, ChainBrokenInTheMiddleOfABatchCommitsNoneOfIt) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  auto a = sekre.open_case(kCase);
  auto b = sekre.next("task/" + std::string(kCase) + "/1", op::kTaskComplete, disposition());
  b.prev = "";  // does not chain after a
  sekre.chain(b);
  EXPECT_EQ(as<ErrorMsg>(o.one(sekre, sekre.push({a, b}))).code, "chain_broken");
  EXPECT_EQ(o.db.head(), 1u);
  EXPECT_FALSE(o.case_state(kCase).has_value());
  EXPECT_FALSE(o.change_row(sekre.replica, 1).has_value());
}

TEST_P(ServerSequencer, ResentAcceptedBatchIsDuplicateWithTheOriginalSeqs) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  auto batch =
      std::vector<Change>{sekre.open_case(kCase), sekre.complete(kCase, "1", disposition())};
  auto first = o.push(sekre, batch);
  ASSERT_EQ(first.results.size(), 2u);
  auto log_before = o.log().size();
  auto changes_before = o.count("SELECT COUNT(*) FROM changes");

  // The acknowledgement was lost: the client reconnects and sends the same batch.
  o.hello(sekre);
  auto again = o.push(sekre, batch);
  ASSERT_EQ(again.results.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(again.results[i].outcome, Outcome::kDuplicate);
    EXPECT_EQ(again.results[i].seq, first.results[i].seq);
    EXPECT_EQ(again.results[i].counter, first.results[i].counter);
  }
  EXPECT_EQ(o.log().size(), log_before);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes"), changes_before);
  EXPECT_EQ(o.db.device(sekre.replica)->last_counter, 2u);

  // A batch of an old change followed by a new one: duplicate, then accepted.
  auto c = sekre.make("disp/" + std::string(kCase) + "/1", op::kDispositionSet,
                      {{"text", "Arahan baru."}});
  auto mixed = o.push(sekre, {batch[1], c});
  EXPECT_EQ(mixed.results[0].outcome, Outcome::kDuplicate);
  EXPECT_EQ(mixed.results[1].outcome, Outcome::kAccepted) << mixed.results[1].code;
}

TEST_P(ServerSequencer, ResentRejectedChangeGetsTheSameRejection) {
  Office o(store());
  HandClient kabid = o.enrolled("kabid_kop");
  auto c = kabid.open_case(kCase);
  auto r1 = o.push1(kabid, c);
  ASSERT_EQ(r1.code, "wrong_role");
  auto r2 = o.push1(kabid, c);
  EXPECT_EQ(r2.outcome, Outcome::kRejected);
  EXPECT_EQ(r2.code, "wrong_role");
  EXPECT_EQ(r2.message, r1.message);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes WHERE replica = '" + kabid.replica + "'"), 1);
  EXPECT_EQ(o.db.head(), 1u);
}

TEST_P(ServerSequencer, DifferentChangeReusingAReceivedCounterIsDotReused) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  auto a = sekre.open_case(kCase);
  EXPECT_EQ(o.push1(sekre, a).outcome, Outcome::kAccepted);
  auto head = o.db.head();
  // A device restored from an old backup writes counter 1 again, with other content.
  HandClient restored = sekre;
  restored.counter = 0;
  restored.last_hash.clear();
  auto b = restored.open_case("lain");
  ASSERT_EQ(b.dot, a.dot);
  ASSERT_NE(b.hash(), a.hash());
  auto r = o.push1(restored, b);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.code, "dot_reused");
  EXPECT_EQ(o.db.head(), head);
  EXPECT_FALSE(o.case_state("lain").has_value());
  // The stored change under that dot is still the original.
  EXPECT_EQ(o.db.stored_change(sekre.replica, 1)->hash, a.hash());
  EXPECT_EQ(o.db.device(sekre.replica)->last_counter, 1u);
}

TEST_P(ServerSequencer, OrgSetFromAClientIsForbiddenOp) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  Org evil = test_org();
  evil.people[0].roles = {{"sekretaris", std::nullopt}};
  auto r = o.push1(sekre, sekre.make("org", op::kOrgSet, json(evil)));
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.code, "forbidden_op");
  EXPECT_EQ(o.db.head(), 1u);
  EXPECT_TRUE(o.db.org().holds("kadis", "kadis", std::nullopt));
  EXPECT_FALSE(o.db.org().holds("kadis", "sekretaris", std::nullopt));
}

TEST_P(ServerSequencer, ChangeFromAnotherReplicaIsRefused) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  HandClient other = o.enrolled("sekre");
  auto c = other.open_case(kCase);
  auto e = as<ErrorMsg>(o.one(sekre, sekre.push({c})));
  EXPECT_EQ(e.code, "wrong_replica");
  EXPECT_EQ(o.db.head(), 1u);
}

TEST_P(ServerSequencer, RejectedChangesAreStoredWithTheirCode) {
  Office o(store());
  HandClient kabid = o.enrolled("kabid_kop");
  HandClient sekre = o.enrolled("sekre");
  o.push1(kabid, kabid.open_case(kCase));                            // wrong_role
  o.push1(sekre, sekre.complete("tidak-ada", "1", disposition()));   // unknown_case
  o.push1(sekre, sekre.make("org", op::kOrgSet, json(test_org())));  // forbidden_op
  o.push1(sekre, sekre.open_case(kCase));                            // accepted

  struct Row {
    std::string status, code;
    bool has_message, has_seq;
  };
  std::map<std::pair<std::string, std::int64_t>, Row> rows;
  for (const auto& r : o.query("SELECT replica, counter, status, code, message, seq FROM changes "
                               "WHERE replica <> 'server'"))
    rows[{*r[0], std::stoll(*r[1])}] = {*r[2], *r[3], !r[4]->empty(), r[5].has_value()};
  ASSERT_EQ(rows.size(), 4u);
  auto check = [&](const std::string& replica, std::int64_t counter, const std::string& status,
                   const std::string& code) {
    SCOPED_TRACE(replica + ":" + std::to_string(counter));
    const Row& r = rows[{replica, counter}];
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.code, code);
    EXPECT_EQ(r.has_message, status == "rejected");  // the human reason is kept too
    EXPECT_EQ(r.has_seq, status == "accepted");
  };
  check(kabid.replica, 1, "rejected", "wrong_role");
  check(sekre.replica, 1, "rejected", "unknown_case");
  check(sekre.replica, 2, "rejected", "forbidden_op");
  check(sekre.replica, 3, "accepted", "");
  // The stored encoding is the change as received: a rejected change's in `changes`, an
  // accepted one's in the log only (kept once).
  const std::string where_accepted = " WHERE c.replica = '" + sekre.replica + "' AND c.counter = 3";
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM changes c" + where_accepted + " AND c.encoded IS NULL"),
            1);
  auto accepted = o.query("SELECT l.encoded, c.hash FROM changes c JOIN log l ON l.seq = c.seq" +
                          where_accepted);
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(decode_change(*accepted[0][0]).hash(), *accepted[0][1]);
  auto e = o.query("SELECT encoded, hash FROM changes WHERE replica = '" + kabid.replica +
                   "' AND counter = 1");
  ASSERT_EQ(e.size(), 1u);
  auto decoded = decode_change(*e[0][0]);
  EXPECT_EQ(decoded.hash(), *e[0][1]);
  EXPECT_EQ(decoded.op, op::kCaseOpen);
  EXPECT_EQ(decoded.author, "kabid_kop");
}

// Drives a small office through a few pushes with accepted, rejected and duplicate changes.
void busy_day(Office& o) {
  HandClient sekre = o.enrolled("sekre");
  HandClient kop = o.enrolled("kabid_kop");
  HandClient ukm = o.enrolled("kabid_ukm");
  HandClient kasubag = o.enrolled("kasubag");
  auto open = sekre.open_case(kCase);
  auto s1 = sekre.complete(kCase, "1", disposition());
  o.push(sekre, {open, s1});
  o.clock.advance(60'000);
  o.push(kop, {kop.complete(kCase, "2.ukm", disposition()),
               kop.complete(kCase, "2.koperasi", disposition())});
  o.push(sekre, {open, s1});  // duplicates
  o.clock.advance(1'000);
  o.push(ukm, {ukm.complete(kCase, "2.ukm", disposition())});
  o.push(sekre, {sekre.complete(kCase, "4", {{"text", "Terlalu cepat."}})});  // not_ready
  o.push(kasubag, {kasubag.complete(kCase, "3", {{"text", "Bahan siap."}})});
  o.clock.advance(5'000);
  o.push(sekre, {sekre.complete(kCase, "4", {{"text", "Notulen."}}),
                 sekre.open_case("kasus-dua", "2026-Q4")});
}

TEST_P(ServerSequencer, EveryAcceptedChangeIsInTheLogExactlyOnceWithGapFreeSeq) {
  Office o(store());
  busy_day(o);
  auto log = o.log();
  ASSERT_GE(log.size(), 8u);
  std::set<std::pair<std::string, std::uint64_t>> in_log;
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].seq, i + 1);
    EXPECT_TRUE(in_log.insert({log[i].replica, log[i].counter}).second)
        << "logged twice: " << log[i].replica << ":" << log[i].counter;
  }
  EXPECT_EQ(o.db.head(), log.size());

  std::set<std::pair<std::string, std::uint64_t>> accepted;
  std::map<std::pair<std::string, std::uint64_t>, std::uint64_t> seq_of;
  for (const auto& r : log) seq_of[{r.replica, r.counter}] = r.seq;
  for (const auto& r : o.query("SELECT replica, counter, status, seq FROM changes")) {
    std::pair<std::string, std::uint64_t> dot{*r[0], std::stoull(*r[1])};
    if (*r[2] == "accepted") {
      accepted.insert(dot);
      EXPECT_EQ(std::stoull(r[3].value_or("0")), seq_of[dot]);
    } else {
      EXPECT_FALSE(r[3].has_value());
    }
  }
  EXPECT_EQ(accepted, in_log);
  // And the rejected ones are not in it.
  EXPECT_GT(o.count("SELECT COUNT(*) FROM changes WHERE status = 'rejected'"), 0);
}

TEST_P(ServerSequencer, LogHashChainRecomputes) {
  Office o(store());
  busy_day(o);
  auto log = o.log();
  ASSERT_FALSE(log.empty());
  std::string prev;
  for (const auto& r : log) {
    Change c = decode_change(r.encoded);
    EXPECT_EQ(c.dot.replica, r.replica);
    EXPECT_EQ(c.dot.counter, r.counter);
    std::string expect = log_hash(prev, r.seq, c.hash(), r.committed_at);
    EXPECT_EQ(crypto::to_hex(r.log_hash), crypto::to_hex(expect)) << "seq " << r.seq;
    // The change hash in `changes` is the hash of what the log holds.
    EXPECT_EQ(o.db.stored_change(r.replica, r.counter)->hash, c.hash());
    prev = r.log_hash;
  }
  // Commit times come from the server's clock.
  EXPECT_LT(log.front().committed_at, log.back().committed_at);
  EXPECT_EQ(log.back().committed_at, o.clock.now_ms());
}

TEST_P(ServerSequencer, BatchWithTheMiddleChangeRejectedAcceptsTheOthersAndAdvancesTheChain) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  auto c1 = sekre.open_case(kCase);
  auto c2 = sekre.complete(kCase, "4", {{"text", "Notulen."}});  // not_ready
  auto c3 = sekre.complete(kCase, "1", disposition());           // independent of c2
  auto r = o.push(sekre, {c1, c2, c3});
  ASSERT_EQ(r.results.size(), 3u);
  EXPECT_EQ(r.results[0].outcome, Outcome::kAccepted);
  EXPECT_EQ(r.results[1].outcome, Outcome::kRejected);
  EXPECT_EQ(r.results[1].code, "not_ready");
  EXPECT_EQ(r.results[2].outcome, Outcome::kAccepted) << r.results[2].code;
  EXPECT_EQ(r.results[0].seq, 2u);
  EXPECT_EQ(r.results[2].seq, 3u);  // no gap for the rejected one
  for (std::uint64_t i = 0; i < 3; ++i) EXPECT_EQ(r.results[i].counter, i + 1);

  EXPECT_EQ(o.change_row(sekre.replica, 1)->status, "accepted");
  EXPECT_EQ(o.change_row(sekre.replica, 2)->status, "rejected");
  EXPECT_EQ(o.change_row(sekre.replica, 2)->code, "not_ready");
  EXPECT_EQ(o.change_row(sekre.replica, 3)->status, "accepted");
  EXPECT_EQ(o.task_state(kCase, "1"), "done");
  EXPECT_EQ(o.task_state(kCase, "4"), "pending");

  auto d = o.db.device(sekre.replica);
  EXPECT_EQ(d->last_counter, 3u);
  EXPECT_EQ(d->last_hash, c3.hash());
  auto w = o.hello(sekre);
  EXPECT_EQ(w.highest_counter, 3u);
  EXPECT_EQ(w.last_hash, c3.hash());
  // The next change chains after c3.
  auto c4 = sekre.make("disp/" + std::string(kCase) + "/1", op::kDispositionSet,
                       {{"text", "Ubah arahan."}});
  EXPECT_EQ(o.push1(sekre, c4).outcome, Outcome::kAccepted);
}

TEST_P(ServerSequencer, EmptyPushIsAnEmptyResult) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  Push p;
  auto r = as<PushResult>(o.one(sekre, p));
  EXPECT_TRUE(r.results.empty());
  EXPECT_EQ(o.db.head(), 1u);
}

TEST_P(ServerSequencer, BatchOverTheChangeLimitIsTooLargeAndCommitsNothing) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  std::vector<Change> batch;
  batch.push_back(sekre.open_case(kCase));
  while (batch.size() <= kMaxChangesPerPush)
    batch.push_back(
        sekre.make("disp/" + std::string(kCase) + "/1", op::kDispositionSet, {{"text", "x"}}));
  auto e = as<ErrorMsg>(o.one(sekre, sekre.push(batch)));
  EXPECT_EQ(e.code, "too_large");
  EXPECT_TRUE(e.fatal);
  EXPECT_EQ(o.db.head(), 1u);
  EXPECT_EQ(o.db.device(sekre.replica)->last_counter, 0u);
}

// Regression (fixed; this test pinned it): PROTOCOL.md §4/§5.1: the head signature is over "the
// batch's last change" and "one verification vouches for the whole batch" — through the hash chain,
// which only links changes *before* the signed one. The server does not require the batch to be in
// counter order (sync_service.cpp push(): resends `continue` past the chain check, and the
// signature is checked on m.changes.back() only), so a batch [new change, old change]
// signed with the old change's *replayed* signature commits the new change although no
// signature of the device covers it. Anyone holding a device token and one captured Push
// (but not the device key) can forge changes in that device's name.
TEST_P(ServerSequencerRegression, PushSignatureDoesNotCoverNewChangesBeforeAnOldTail) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  auto old = sekre.open_case(kCase);
  auto genuine = sekre.push({old});
  EXPECT_EQ(as<PushResult>(o.one(sekre, genuine)).results.at(0).outcome, Outcome::kAccepted);

  // The attacker: knows the token (Hello) and the captured Push, not the key. Welcome
  // tells it the device's chain head.
  HandClient attacker = sekre;
  attacker.key = crypto::Ed25519Key::generate();
  auto w = o.hello(attacker);
  attacker.counter = w.highest_counter;
  attacker.last_hash = w.last_hash;
  auto forged = attacker.complete(kCase, "1", disposition("Ditulis oleh penyusup."));
  Push p;
  p.changes = {forged, old};
  p.head_signature = genuine.head_signature;  // replayed
  auto reply = o.one(attacker, p);
  // Expected: refused (bad_signature or chain_broken), nothing committed.
  if (auto* e = std::get_if<ErrorMsg>(&reply)) {
    EXPECT_TRUE(e->code == "bad_signature" || e->code == "chain_broken") << e->code;
  } else {
    auto r = as<PushResult>(reply);
    ADD_FAILURE() << "a change not covered by any device signature was processed: outcome "
                  << int(r.results.at(0).outcome) << " seq " << r.results.at(0).seq;
  }
  EXPECT_EQ(o.task_state(kCase, "1"), "ready");
  EXPECT_FALSE(o.change_row(sekre.replica, 2).has_value());
}

}  // namespace
}  // namespace alur::server::testing
