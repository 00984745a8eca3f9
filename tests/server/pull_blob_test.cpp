// Pull (committed entries after a cursor) and blob transfer at the SyncService::handle level.
#include "harness.h"

namespace alur::server::testing {
namespace {

class ServerPull : public StoreTest {};
ALUR_ON_BOTH_STORES(ServerPull);
class ServerBlob : public StoreTest {};
ALUR_ON_BOTH_STORES(ServerBlob);
class ServerBlobRegression : public StoreTest {};
ALUR_ON_BOTH_STORES(ServerBlobRegression);

using namespace alur::sync;

constexpr const char* kCase = "c0ffee0000000001";

// Puts head at 1 (org) + n accepted changes by sekre (one case per quarter... and then
// dispositions). Returns the pushed changes.
std::vector<Change> commit_n(Office& o, HandClient& sekre, int n) {
  std::vector<Change> out;
  out.push_back(sekre.open_case(kCase));
  out.push_back(sekre.complete(kCase, "1", disposition()));
  for (int i = 2; i < n; ++i)
    out.push_back(sekre.make("disp/" + std::string(kCase) + "/1", op::kDispositionSet,
                             {{"text", "Arahan ke-" + std::to_string(i)}}));
  out.resize(n);
  auto r = o.push(sekre, out);
  expect_all_accepted(r);
  return out;
}

TEST_P(ServerPull, ReturnsEntriesAfterTheCursorInOrderBoundedByMax) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  auto pushed = commit_n(o, sekre, 6);  // seq 2..7
  HandClient kasubag = o.enrolled("kasubag");
  ASSERT_EQ(o.db.head(), 7u);

  auto all = as<Entries>(o.one(kasubag, Pull{0, 0}));
  ASSERT_EQ(all.entries.size(), 7u);
  EXPECT_EQ(all.server_head, o.db.head());
  EXPECT_EQ(all.entries[0].change.op, op::kOrgSet);
  for (std::size_t i = 0; i < all.entries.size(); ++i) EXPECT_EQ(all.entries[i].seq, i + 1);
  for (std::size_t i = 0; i < pushed.size(); ++i) EXPECT_EQ(all.entries[i + 1].change, pushed[i]);

  auto page = as<Entries>(o.one(kasubag, Pull{2, 3}));
  ASSERT_EQ(page.entries.size(), 3u);
  EXPECT_EQ(page.entries[0].seq, 3u);
  EXPECT_EQ(page.entries[2].seq, 5u);
  EXPECT_EQ(page.server_head, 7u);
  EXPECT_EQ(page.entries[0], all.entries[2]);

  auto tail = as<Entries>(o.one(kasubag, Pull{5, 100}));
  ASSERT_EQ(tail.entries.size(), 2u);
  EXPECT_EQ(tail.entries[0].seq, 6u);
  EXPECT_EQ(tail.entries[1].seq, 7u);

  auto none = as<Entries>(o.one(kasubag, Pull{7, 10}));
  EXPECT_TRUE(none.entries.empty());
  EXPECT_EQ(none.server_head, o.db.head());
  auto beyond = as<Entries>(o.one(kasubag, Pull{1000, 10}));
  EXPECT_TRUE(beyond.entries.empty());
  EXPECT_EQ(beyond.server_head, 7u);
}

TEST_P(ServerPull, EntriesCarryTheLogHashAndCommitTime) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  o.clock.advance(12'345);
  commit_n(o, sekre, 2);
  auto e = as<Entries>(o.one(sekre, Pull{0, 0}));
  auto log = o.log();
  ASSERT_EQ(e.entries.size(), log.size());
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(e.entries[i].log_hash, log[i].log_hash);
    EXPECT_EQ(e.entries[i].committed_at, log[i].committed_at);
  }
  EXPECT_EQ(e.entries.back().committed_at, o.clock.now_ms());
}

TEST_P(ServerPull, RejectedChangesAreNotPulled) {
  Office o(store());
  HandClient kabid = o.enrolled("kabid_kop");
  o.push1(kabid, kabid.open_case(kCase));  // wrong_role
  auto e = as<Entries>(o.one(kabid, Pull{0, 0}));
  ASSERT_EQ(e.entries.size(), 1u);
  EXPECT_EQ(e.entries[0].change.op, op::kOrgSet);
}

// --- blobs ---------------------------------------------------------------------------------

std::string content(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 7 % 251);
  return s;
}

TEST_P(ServerBlob, UploadInTwoChunksThenDownload) {
  Office o(store());
  HandClient c = o.enrolled("kasubag");
  std::string data = content(3000, 'a');
  std::string sha = crypto::sha256(data);

  auto q = as<BlobState>(o.one(c, BlobQuery{sha, data.size()}));
  EXPECT_EQ(q.sha256, sha);
  EXPECT_EQ(q.have, 0u);

  auto s1 = as<BlobState>(o.one(c, BlobChunk{sha, 0, data.size(), data.substr(0, 1000)}));
  EXPECT_EQ(s1.have, 1000u);
  EXPECT_FALSE(o.db.has_blob(crypto::to_hex(sha)));
  // A resumed upload asks first: the server still has the first part.
  EXPECT_EQ(as<BlobState>(o.one(c, BlobQuery{sha, data.size()})).have, 1000u);

  auto s2 = as<BlobState>(o.one(c, BlobChunk{sha, 1000, data.size(), data.substr(1000)}));
  EXPECT_EQ(s2.have, data.size());
  EXPECT_TRUE(o.db.has_blob(crypto::to_hex(sha)));
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM blob_uploads"), 0);

  auto g = as<BlobChunk>(o.one(c, BlobGet{sha, 0}));
  EXPECT_EQ(g.sha256, sha);
  EXPECT_EQ(g.offset, 0u);
  EXPECT_EQ(g.total, data.size());
  EXPECT_TRUE(g.data == data);

  // From an offset, and by another device.
  HandClient other = o.enrolled("sekre");
  auto g2 = as<BlobChunk>(o.one(other, BlobGet{sha, 2500}));
  EXPECT_EQ(g2.offset, 2500u);
  EXPECT_EQ(g2.total, data.size());
  EXPECT_TRUE(g2.data == data.substr(2500));

  // Re-sending a complete blob changes nothing.
  EXPECT_EQ(as<BlobState>(o.one(c, BlobChunk{sha, 0, data.size(), data})).have, data.size());
}

TEST_P(ServerBlob, WrongOffsetIsBlobOffsetAndKeepsWhatWasThere) {
  Office o(store());
  HandClient c = o.enrolled("kasubag");
  std::string data = content(2000, 'b');
  std::string sha = crypto::sha256(data);
  o.one(c, BlobChunk{sha, 0, data.size(), data.substr(0, 500)});
  // handle() throws; on_message turns the Error into a fatal ErrorMsg with its code (the
  // socket test checks that on the wire).
  EXPECT_EQ(error_code_of([&] {
              o.one(c, BlobChunk{sha, 800, data.size(), data.substr(800, 200)});
            }),
            "blob_offset");
  EXPECT_EQ(error_code_of([&] {
              o.one(c, BlobChunk{sha, 0, data.size(), data.substr(0, 200)});
            }),
            "blob_offset");
  EXPECT_EQ(as<BlobState>(o.one(c, BlobQuery{sha, data.size()})).have, 500u);
  // A first chunk not at 0 is out of order too.
  std::string sha2 = crypto::sha256("lain");
  EXPECT_EQ(error_code_of([&] { o.one(c, BlobChunk{sha2, 1, 4, "ain"}); }), "blob_offset");
  EXPECT_EQ(as<BlobState>(o.one(c, BlobQuery{sha2, 4})).have, 0u);
}

// The code a chunk is refused with: a fatal ErrorMsg reply or, before anything is
// written, a thrown alur::Error (both reach the wire as a fatal ErrorMsg).
template <class Office, class Client>
std::string chunk_refusal(Office& o, Client& c, const BlobChunk& chunk) {
  try {
    auto reply = o.one(c, chunk);
    if (auto* e = std::get_if<ErrorMsg>(&reply)) return e->code;
    return "<no error>";
  } catch (const alur::Error& e) {
    return e.code();
  }
}

TEST_P(ServerBlob, ContentNotMatchingItsHashIsBlobMismatchAndNothingIsStored) {
  Office o(store());
  HandClient c = o.enrolled("kasubag");
  std::string data = content(1500, 'c');
  std::string sha = crypto::sha256(data);
  std::string wrong = data;
  wrong[700] ^= 1;
  EXPECT_EQ(chunk_refusal(o, c, BlobChunk{sha, 0, wrong.size(), wrong}), "blob_mismatch");
  EXPECT_FALSE(o.db.has_blob(crypto::to_hex(sha)));
  EXPECT_EQ(as<BlobState>(o.one(c, BlobQuery{sha, data.size()})).have, 0u);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM blobs"), 0);
  EXPECT_EQ(as<ErrorMsg>(o.one(c, BlobGet{sha, 0})).code, "blob_unknown");
  // More data than the stated total is a mismatch too.
  EXPECT_EQ(chunk_refusal(o, c, BlobChunk{sha, 0, 10, data.substr(0, 11)}), "blob_mismatch");
  // The right content is then accepted.
  EXPECT_EQ(as<BlobState>(o.one(c, BlobChunk{sha, 0, data.size(), data})).have, data.size());
}

// Regression (fixed; this test pinned it): server_db.cpp put_blob_chunk(): on a hash mismatch it
// DELETEs the partial upload and then throws blob_mismatch; the throw unwinds
// SyncService::blob_chunk's sql::Transaction, which rolls the DELETE back. So the corrupt first
// part stays in blob_uploads, BlobQuery keeps answering have = its size, and a client that resumes
// from `have` (as sync_client.cpp upload_blob does) resends only the tail and fails again, forever.
// The message even says "kirim ulang" (send again) — which cannot succeed.
TEST_P(ServerBlobRegression, MismatchAfterAPartialUploadKeepsTheCorruptPart) {
  Office o(store());
  HandClient c = o.enrolled("kasubag");
  std::string data = content(2000, 'd');
  std::string sha = crypto::sha256(data);
  std::string corrupt_head = data.substr(0, 1000);
  corrupt_head[10] ^= 0x55;  // e.g. a flipped bit on a bad disk / cable
  EXPECT_EQ(as<BlobState>(o.one(c, BlobChunk{sha, 0, data.size(), corrupt_head})).have, 1000u);
  EXPECT_EQ(chunk_refusal(o, c, BlobChunk{sha, 1000, data.size(), data.substr(1000)}),
            "blob_mismatch");
  // Expected: nothing stored, the upload starts again from 0.
  EXPECT_EQ(as<BlobState>(o.one(c, BlobQuery{sha, data.size()})).have, 0u);
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM blob_uploads"), 0);
  // What a client does next: resume from `have` with the (correct) rest of the file.
  auto have = as<BlobState>(o.one(c, BlobQuery{sha, data.size()})).have;
  EXPECT_EQ(chunk_refusal(o, c, BlobChunk{sha, have, data.size(), data.substr(have)}), "<no error>")
      << "the upload can never complete";
  EXPECT_TRUE(o.db.has_blob(crypto::to_hex(sha)));
}

TEST_P(ServerBlob, BadHashSizeIsBadBlob) {
  Office o(store());
  HandClient c = o.enrolled("kasubag");
  EXPECT_EQ(as<ErrorMsg>(o.one(c, BlobQuery{"short", 1})).code, "bad_blob");
  EXPECT_EQ(as<ErrorMsg>(o.one(c, BlobChunk{"short", 0, 1, "x"})).code, "bad_blob");
  EXPECT_EQ(as<ErrorMsg>(o.one(c, BlobGet{"short", 0})).code, "bad_blob");
}

TEST_P(ServerBlob, TooLargeBlobIsRefusedBeforeAnyData) {
  Office o(store());
  HandClient c = o.enrolled("kasubag");
  std::string sha = crypto::sha256("x");
  auto e = as<ErrorMsg>(o.one(c, BlobQuery{sha, (64ull << 20) + 1}));
  EXPECT_EQ(e.code, "too_large");
  EXPECT_EQ(as<ErrorMsg>(o.one(c, BlobChunk{sha, 0, (64ull << 20) + 1, "x"})).code, "too_large");
  EXPECT_EQ(o.count("SELECT COUNT(*) FROM blob_uploads"), 0);
}

TEST_P(ServerBlob, RevisionWhoseBlobWasNeverUploadedIsBlobMissing) {
  Office o(store());
  HandClient sekre = o.enrolled("sekre");
  o.push(sekre, {sekre.open_case(kCase), sekre.complete(kCase, "1", disposition())});
  HandClient kasubag = o.enrolled("kasubag");
  std::string file = "Capaian kinerja triwulan III\n";
  auto head = o.db.head();
  auto r = o.push1(kasubag, kasubag.complete(kCase, "3", {{"revision", revision_of(file)}}));
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_EQ(r.code, "blob_missing");
  EXPECT_EQ(o.db.head(), head);
  EXPECT_EQ(o.task_state(kCase, "3"), "ready");
  EXPECT_TRUE(o.case_state(kCase)->drafts.empty());

  // Upload it, then write again: accepted, and the revision names the blob.
  std::string sha = crypto::sha256(file);
  o.one(kasubag, BlobChunk{sha, 0, file.size(), file});
  auto r2 = o.push1(kasubag, kasubag.complete(kCase, "3", {{"revision", revision_of(file)}}));
  EXPECT_EQ(r2.outcome, Outcome::kAccepted) << r2.code << ": " << r2.message;
  auto c = o.case_state(kCase);
  ASSERT_EQ(c->drafts.count("laporan-persiapan-rapat"), 1u);
  EXPECT_EQ(c->drafts.at("laporan-persiapan-rapat").revisions.begin()->second.sha256,
            crypto::to_hex(sha));
}

}  // namespace
}  // namespace alur::server::testing
