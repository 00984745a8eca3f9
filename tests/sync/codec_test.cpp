// Tests of the binary encoding of changes and protocol messages: round trips, the hash
// chain's inputs, and a decoder that must survive any hostile byte string.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <iterator>
#include <new>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/sync/change.h"
#include "alur/sync/messages.h"
#include "common/test_support.h"

// The decoder promises that a hostile length cannot make it allocate. To check that, this
// binary counts the largest single allocation while a test asks it to. The replacement
// is the standard one (malloc/free), so other tests in this binary are unaffected.
namespace {
thread_local bool t_track_allocations = false;
thread_local std::size_t t_largest_allocation = 0;
}  // namespace

// (noinline: once inlined, GCC sees free() on memory from operator new and warns.)
__attribute__((noinline)) void* operator new(std::size_t n) {
  if (t_track_allocations && n > t_largest_allocation) t_largest_allocation = n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
__attribute__((noinline)) void* operator new[](std::size_t n) { return ::operator new(n); }
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them): every form must
// pair with the free() above, or AddressSanitizer reports an alloc-dealloc mismatch.
__attribute__((noinline)) void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return std::malloc(n == 0 ? 1 : n);
}
__attribute__((noinline)) void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return std::malloc(n == 0 ? 1 : n);
}
__attribute__((noinline)) void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
__attribute__((noinline)) void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace alur::sync {
namespace {

// --- sample values with every field set -------------------------------------------------

std::string bytes32(char fill) { return std::string(32, fill); }

Change sample_change(std::uint64_t counter = 7) {
  Change c;
  c.record = "task/5e0c1d2a3b4c5d6e/2.koperasi";
  c.op = op::kTaskComplete;
  c.dot = {"replica-a", counter};
  c.context.add({"replica-a", counter - 1});
  c.context.add({"server", 3});
  c.author = "kabid_kop";
  c.hlc = (std::uint64_t{1780000000000} << 16) | 5;
  c.body = R"({"round":0,"text":"Siapkan bahan rapat \u00e9"})";
  c.prev = bytes32('\x01');
  return c;
}

CommittedEntry sample_entry(std::uint64_t seq) {
  CommittedEntry e;
  e.seq = seq;
  e.committed_at = 1780000000123 + static_cast<std::int64_t>(seq);
  e.change = sample_change(seq + 1);
  e.log_hash = bytes32(static_cast<char>(0x80 + seq));
  return e;
}

// One of each alternative of Message, every field non-default (binary bytes included).
std::vector<Message> sample_messages() {
  std::vector<Message> out;
  out.push_back(Hello{kProtocolVersion, "replica-a", std::string("tok\0en", 6), 42, "alur 0.1.0"});
  out.push_back(
      Enroll{kProtocolVersion, "sekdis", "rahasia-123", bytes32('\xee'), "PC-SEKRETARIAT"});
  out.push_back(Enrolled{"replica-b", "token-once", "sekdis", "Drs. Sekretaris", "Dinas Koperasi"});
  out.push_back(Welcome{1000, 17, bytes32('\x02'), "sekdis", -5});
  {
    Push p;
    p.changes = {sample_change(1), sample_change(2)};
    p.head_signature = std::string(64, '\x33');
    out.push_back(p);
  }
  {
    PushResult r;
    r.results.push_back({1, Outcome::kAccepted, 100, "", ""});
    r.results.push_back({2, Outcome::kDuplicate, 99, "", ""});
    r.results.push_back({3, Outcome::kRejected, 0, "wrong_role", "Anda tidak memegang peran"});
    out.push_back(r);
  }
  out.push_back(Pull{123456789012345ull, 500});
  {
    Entries e;
    e.entries = {sample_entry(1), sample_entry(2)};
    e.server_head = 2;
    out.push_back(e);
  }
  out.push_back(Notify{0xfedcba9876543210ull});
  out.push_back(BlobQuery{bytes32('\x04'), 1 << 20});
  out.push_back(BlobState{bytes32('\x05'), 4096});
  out.push_back(BlobChunk{bytes32('\x06'), 65536, 1 << 20, std::string("chunk\0data\xff", 11)});
  out.push_back(BlobGet{bytes32('\x07'), 8192});
  out.push_back(ErrorMsg{"bad_token", "Token perangkat tidak dikenal.", false});
  out.push_back(CertQuery{});
  out.push_back(CertChain{R"([{"at":1,"new_fingerprint":"sha256:ab"}])"});
  return out;
}

// --- field-by-field comparison ----------------------------------------------------------

void expect_same(const Hello& a, const Hello& b) {
  EXPECT_EQ(a.protocol, b.protocol);
  EXPECT_EQ(a.replica, b.replica);
  EXPECT_EQ(a.token, b.token);
  EXPECT_EQ(a.cursor, b.cursor);
  EXPECT_EQ(a.client_version, b.client_version);
}
void expect_same(const Enroll& a, const Enroll& b) {
  EXPECT_EQ(a.protocol, b.protocol);
  EXPECT_EQ(a.username, b.username);
  EXPECT_EQ(a.password, b.password);
  EXPECT_EQ(a.device_key, b.device_key);
  EXPECT_EQ(a.device_name, b.device_name);
}
void expect_same(const Enrolled& a, const Enrolled& b) {
  EXPECT_EQ(a.replica, b.replica);
  EXPECT_EQ(a.token, b.token);
  EXPECT_EQ(a.username, b.username);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.unit, b.unit);
}
void expect_same(const Welcome& a, const Welcome& b) {
  EXPECT_EQ(a.server_head, b.server_head);
  EXPECT_EQ(a.highest_counter, b.highest_counter);
  EXPECT_EQ(a.last_hash, b.last_hash);
  EXPECT_EQ(a.username, b.username);
  EXPECT_EQ(a.server_time, b.server_time);
}
void expect_same(const Push& a, const Push& b) {
  EXPECT_EQ(a.changes, b.changes);
  EXPECT_EQ(a.head_signature, b.head_signature);
}
void expect_same(const PushResult& a, const PushResult& b) {
  ASSERT_EQ(a.results.size(), b.results.size());
  for (std::size_t i = 0; i < a.results.size(); ++i) {
    EXPECT_EQ(a.results[i].counter, b.results[i].counter);
    EXPECT_EQ(a.results[i].outcome, b.results[i].outcome);
    EXPECT_EQ(a.results[i].seq, b.results[i].seq);
    EXPECT_EQ(a.results[i].code, b.results[i].code);
    EXPECT_EQ(a.results[i].message, b.results[i].message);
  }
}
void expect_same(const Pull& a, const Pull& b) {
  EXPECT_EQ(a.after, b.after);
  EXPECT_EQ(a.max, b.max);
}
void expect_same(const Entries& a, const Entries& b) {
  EXPECT_EQ(a.entries, b.entries);
  EXPECT_EQ(a.server_head, b.server_head);
}
void expect_same(const Notify& a, const Notify& b) { EXPECT_EQ(a.server_head, b.server_head); }
void expect_same(const BlobQuery& a, const BlobQuery& b) {
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.size, b.size);
}
void expect_same(const BlobState& a, const BlobState& b) {
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.have, b.have);
}
void expect_same(const BlobChunk& a, const BlobChunk& b) {
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.total, b.total);
  EXPECT_EQ(a.data, b.data);
}
void expect_same(const BlobGet& a, const BlobGet& b) {
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.offset, b.offset);
}
void expect_same(const ErrorMsg& a, const ErrorMsg& b) {
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.message, b.message);
  EXPECT_EQ(a.fatal, b.fatal);
}

void expect_same(const CertQuery&, const CertQuery&) {}
void expect_same(const CertChain& a, const CertChain& b) {
  EXPECT_EQ(a.renewals_json, b.renewals_json);
}

void expect_same(const Message& a, const Message& b) {
  ASSERT_EQ(a.index(), b.index());
  std::visit([&](const auto& x) { expect_same(x, std::get<std::decay_t<decltype(x)>>(b)); }, a);
}

// Runs decode and returns the alur::Error code it throws ("" if it returned a message).
// Any other exception fails the test.
std::string decode_error(std::string_view bytes) {
  try {
    decode(bytes);
    return "";
  } catch (const Error& e) {
    return e.code();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "decode threw a non-alur exception: " << e.what();
    return "<foreign exception>";
  }
}

std::string u64_le(std::uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

// The envelope, cereal's endianness flag (1 = little-endian) and the variant index.
std::string header(std::uint8_t index) {
  return std::string("AL\x01\x00", 4) + '\x01' + static_cast<char>(index);
}

std::size_t largest_allocation_during(const std::function<void()>& f) {
  t_largest_allocation = 0;
  t_track_allocations = true;
  try {
    f();
  } catch (...) {
    t_track_allocations = false;
    throw;
  }
  t_track_allocations = false;
  return t_largest_allocation;
}

// --- round trips ------------------------------------------------------------------------

TEST(CodecTest, SamplesCoverEveryMessageAlternative) {
  std::set<std::size_t> indices;
  for (const auto& m : sample_messages()) indices.insert(m.index());
  EXPECT_EQ(indices.size(), std::variant_size_v<Message>);
}

TEST(CodecTest, EveryMessageRoundTrips) {
  for (const auto& m : sample_messages()) {
    SCOPED_TRACE(message_name(m));
    std::string bytes = encode(m);
    Message back = decode(bytes);
    expect_same(m, back);
    EXPECT_EQ(encode(back), bytes) << "the encoding is canonical";
  }
}

TEST(CodecTest, DefaultMessagesRoundTrip) {
  for (std::size_t i = 0; i < std::variant_size_v<Message>; ++i) {
    Message m = sample_messages()[i];
    std::visit([](auto& x) { x = std::decay_t<decltype(x)>{}; }, m);
    SCOPED_TRACE(message_name(m));
    expect_same(m, decode(encode(m)));
  }
}

TEST(CodecTest, EnvelopeLayoutIsAsDocumented) {
  // sync/PROTOCOL.md: "AL", u16 version LE, endianness flag, u8 index, fields LE.
  std::string expected = header(8) + u64_le(0x0102030405060708ull);
  EXPECT_EQ(encode(Notify{0x0102030405060708ull}), expected);
  // Strings: u64 length, then the bytes. ErrorMsg: code, message, fatal (one byte).
  std::string error = header(13) + u64_le(1) + "x" + u64_le(2) + "yz" + '\x01';
  EXPECT_EQ(encode(ErrorMsg{"x", "yz", true}), error);
  auto m = decode(error);
  ASSERT_TRUE(std::holds_alternative<ErrorMsg>(m));
  EXPECT_EQ(std::get<ErrorMsg>(m).message, "yz");
}

TEST(CodecTest, EntriesSplicedFromEncodedEntriesEqualTheEncodedMessage) {
  // The server encodes each log entry once and splices it into every session's pull.
  for (std::size_t n : {0, 1, 3}) {
    Entries m;
    for (std::size_t i = 1; i <= n; ++i) m.entries.push_back(sample_entry(i));
    m.server_head = 41 + n;
    std::vector<std::string> pieces;
    for (const auto& e : m.entries) pieces.push_back(encode_entry(e));
    std::vector<std::string_view> views(pieces.begin(), pieces.end());
    std::string bytes = encode_entries(views, m.server_head);
    SCOPED_TRACE(n);
    EXPECT_EQ(bytes, encode(m));
    expect_same(m, std::get<Entries>(decode(bytes)));
  }
}

TEST(CodecTest, APushFromItsChangesEncodingsIsTheEncodedMessage) {
  // The client encodes each pending change once and splices it into the Push it sends.
  for (std::size_t n : {0, 1, 3}) {
    Push m;
    for (std::size_t i = 1; i <= n; ++i) m.changes.push_back(sample_change(i));
    if (!m.changes.empty()) m.changes.back().body.append(std::string(300, 'x'));
    m.head_signature = std::string(64, static_cast<char>(n));
    std::vector<std::string> pieces;
    for (const auto& c : m.changes) pieces.push_back(encode_change(c));
    std::string bytes = encode_push(pieces, m.head_signature);
    SCOPED_TRACE(n);
    EXPECT_EQ(bytes, encode(m));
    expect_same(m, std::get<Push>(decode(bytes)));
  }
  // An encoding without the archive's flag is not a change's: refused, not sent.
  using alur::testing::error_code_of;
  EXPECT_EQ(error_code_of([] { encode_push({"\x02abc"}, "sig"); }), "malformed");
  EXPECT_EQ(error_code_of([] { encode_push({""}, "sig"); }), "malformed");
}

TEST(CodecTest, AnEntryFromItsStoredChangeEncodingIsTheEncodedEntry) {
  // A pull splices the change's stored bytes (log.encoded) instead of decoding it and
  // encoding it again: the bytes must be the archive's, whatever the entry holds.
  for (std::uint64_t seq : {1ull, 300ull, ~0ull}) {
    CommittedEntry e = sample_entry(seq);
    e.committed_at = seq == 300 ? -5 : e.committed_at;
    SCOPED_TRACE(seq);
    EXPECT_EQ(encode_entry_from(e.seq, e.committed_at, encode_change(e.change), e.log_hash),
              encode_entry(e));
  }
  CommittedEntry e = sample_entry(2);
  e.change.context = {};
  e.change.prev.clear();
  e.log_hash.clear();
  EXPECT_EQ(encode_entry_from(e.seq, e.committed_at, encode_change(e.change), e.log_hash),
            encode_entry(e));
  // A stored encoding that is not one (no archive flag) is refused, not sent on.
  for (std::string bad : {std::string(), std::string("\0abc", 4)}) {
    try {
      encode_entry_from(1, 2, bad, e.log_hash);
      ADD_FAILURE() << "accepted a stored encoding without the flag";
    } catch (const Error& err) {
      EXPECT_EQ(err.code(), "malformed");
    }
  }
}

TEST(CodecTest, LinkEntriesChecksEachEntryAgainstTheOneBeforeItInTheBatch) {
  // A chain of four entries as a server commits them.
  std::vector<CommittedEntry> batch;
  std::string prev = bytes32('\x11');  // the log hash before the batch
  for (std::uint64_t seq = 7; seq <= 10; ++seq) {
    CommittedEntry e = sample_entry(seq);
    e.log_hash = log_hash(prev, e.seq, e.change.hash(), e.committed_at);
    prev = e.log_hash;
    batch.push_back(e);
  }
  EntryLinks links = link_entries(batch);
  ASSERT_EQ(links.encodings.size(), batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i)
    EXPECT_EQ(links.encodings[i], encode_change(batch[i].change)) << i;
  // The first entry's link is to what came before the batch: left to the replica.
  EXPECT_EQ(links.linked, (std::vector<bool>{false, true, true, true}));

  // An entry whose change, commit time or log hash changed after the commit breaks its own
  // link; a changed log hash breaks the next entry's link too.
  auto edited = batch;
  edited[1].change.body = "{}";
  EXPECT_EQ(link_entries(edited).linked, (std::vector<bool>{false, false, true, true}));
  auto moved = batch;
  moved[3].committed_at += 1;
  EXPECT_EQ(link_entries(moved).linked, (std::vector<bool>{false, true, true, false}));
  auto tampered = batch;
  tampered[2].log_hash[0] = static_cast<char>(tampered[2].log_hash[0] ^ 1);
  EXPECT_EQ(link_entries(tampered).linked, (std::vector<bool>{false, true, false, false}));
  EXPECT_TRUE(link_entries({}).encodings.empty());
}

TEST(CodecTest, MessageNamesAreDistinct) {
  std::set<std::string> names;
  for (const auto& m : sample_messages()) names.insert(message_name(m));
  EXPECT_EQ(names.size(), std::variant_size_v<Message>);
  EXPECT_STREQ(message_name(Message{ErrorMsg{}}), "Error");
}

TEST(CodecTest, ChangeRoundTrips) {
  Change c = sample_change();
  EXPECT_EQ(decode_change(encode_change(c)), c);
  Change empty;
  EXPECT_EQ(decode_change(encode_change(empty)), empty);
}

TEST(CodecTest, DecodeChangeRejectsTruncationAndTrailingBytes) {
  std::string bytes = encode_change(sample_change());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    try {
      decode_change(std::string_view(bytes).substr(0, n));
      ADD_FAILURE() << "a change truncated to " << n << " bytes decoded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "malformed");
    }
  }
  try {
    decode_change(bytes + '\0');
    ADD_FAILURE() << "trailing byte accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "malformed");
  }
}

// --- hashes -----------------------------------------------------------------------------

TEST(ChangeHashTest, StableForEqualChangesAnd32Bytes) {
  Change a = sample_change(), b = sample_change();
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(a.hash().size(), 32u);
  // A decoded copy hashes the same: the server hashes what it decoded.
  EXPECT_EQ(decode_change(encode_change(a)).hash(), a.hash());
}

TEST(ChangeHashTest, IsSha256OfDomainTagAndStandaloneEncoding) {
  // sync/PROTOCOL.md: hash = SHA-256("alur/change/v1" || encode_change(change)), where
  // encode_change is the endianness flag and the change's fields, without an envelope.
  Change c = sample_change();
  std::string bytes = encode_change(c);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes[0], '\x01');
  EXPECT_EQ(bytes.substr(1, 8), u64_le(c.record.size()));
  EXPECT_EQ(c.hash(), crypto::sha256("alur/change/v1" + bytes));
  // A change inside a Push is the same bytes after the envelope, index and count.
  Push p;
  p.changes = {c};
  EXPECT_EQ(encode(p).substr(6 + 8, bytes.size() - 1), bytes.substr(1));
}

TEST(ChangeHashTest, ChangesWhenAnySingleFieldChanges) {
  const Change base = sample_change();
  std::vector<std::pair<std::string, std::function<void(Change&)>>> edits = {
      {"record", [](Change& c) { c.record += "x"; }},
      {"op", [](Change& c) { c.op = op::kCaseReturn; }},
      {"dot.replica", [](Change& c) { c.dot.replica = "replica-b"; }},
      {"dot.counter", [](Change& c) { c.dot.counter += 1; }},
      {"context add",
       [](Change& c) {
         c.context.add({"other", 1});
       }},
      {"context raise",
       [](Change& c) {
         c.context.add({"server", 4});
       }},
      {"author", [](Change& c) { c.author = "kabid_ukm"; }},
      {"hlc", [](Change& c) { c.hlc += 1; }},
      {"body", [](Change& c) { c.body = R"({"round":1,"text":"Siapkan bahan rapat"})"; }},
      {"prev", [](Change& c) { c.prev[31] ^= 1; }},
      {"prev empty", [](Change& c) { c.prev.clear(); }},
  };
  std::set<std::string> hashes{base.hash()};
  for (const auto& [name, edit] : edits) {
    Change c = base;
    edit(c);
    EXPECT_NE(c.hash(), base.hash()) << name;
    hashes.insert(c.hash());
  }
  EXPECT_EQ(hashes.size(), edits.size() + 1);
}

TEST(ChangeHashTest, FieldBoundariesAreUnambiguous) {
  // Moving bytes from one string field to the next must change the hash.
  Change a = sample_change(), b = sample_change();
  a.record = "task/x";
  a.op = "y";
  b.record = "task/";
  b.op = "xy";
  EXPECT_NE(a.hash(), b.hash());
}

TEST(ChangeHashTest, CaseIdIsTheSecondPathSegment) {
  Change c;
  c.record = "task/5e0c/2.koperasi";
  EXPECT_EQ(c.case_id(), "5e0c");
  c.record = "case/5e0c";
  EXPECT_EQ(c.case_id(), "5e0c");
  c.record = "org";
  EXPECT_EQ(c.case_id(), "");
  EXPECT_EQ(sample_change(9).id(), "replica-a:9");
}

TEST(ChainHashTest, ChainHeadMessageAndLogHashBindEveryInput) {
  std::string h = bytes32('\x09');
  std::string m = chain_head_message("replica-a", 7, h);
  EXPECT_EQ(m, "alur/chain-head/v1\nreplica-a\n7\n" + crypto::to_hex(h));
  EXPECT_NE(m, chain_head_message("replica-a", 8, h));
  EXPECT_NE(m, chain_head_message("replica-b", 7, h));

  std::string prev = bytes32('\x0a');
  std::string l = log_hash(prev, 5, h, 1000);
  EXPECT_EQ(l.size(), 32u);
  EXPECT_EQ(l, log_hash(prev, 5, h, 1000));
  EXPECT_NE(l, log_hash(bytes32('\x0b'), 5, h, 1000));
  EXPECT_NE(l, log_hash(prev, 6, h, 1000));
  EXPECT_NE(l, log_hash(prev, 5, bytes32('\x0c'), 1000));
  EXPECT_NE(l, log_hash(prev, 5, h, 1001));
  EXPECT_EQ(l, crypto::sha256("alur/log/v1\n" + crypto::to_hex(prev) + "\n5\n" + crypto::to_hex(h) +
                              "\n1000"));
}

// --- rejection of bad input ---------------------------------------------------------------

TEST(CodecTest, RejectsEmptyAndShortInput) {
  EXPECT_EQ(decode_error(""), "malformed");
  EXPECT_EQ(decode_error("A"), "malformed");
  EXPECT_EQ(decode_error("AL"), "malformed");
  EXPECT_EQ(decode_error(std::string("AL\x01\x00", 4)), "malformed");
  // The endianness flag alone, without a variant index.
  EXPECT_EQ(decode_error(std::string("AL\x01\x00\x01", 5)), "malformed");
}

TEST(CodecTest, RejectsWrongMagic) {
  std::string bytes = encode(Notify{5});
  for (std::size_t i : {0, 1}) {
    std::string bad = bytes;
    bad[i] = 'X';
    EXPECT_EQ(decode_error(bad), "malformed");
  }
  EXPECT_EQ(decode_error("GET / HTTP/1.1\r\n\r\n"), "malformed");
}

TEST(CodecTest, RejectsOtherProtocolVersion) {
  std::string bytes = encode(Notify{5});
  for (std::uint16_t v : {0, 2, 0x0100, 0xffff}) {
    std::string bad = bytes;
    bad[2] = static_cast<char>(v & 0xff);
    bad[3] = static_cast<char>(v >> 8);
    EXPECT_EQ(decode_error(bad), "protocol_version") << v;
  }
}

TEST(CodecTest, RejectsEveryTruncationOfEveryMessage) {
  for (const auto& m : sample_messages()) {
    SCOPED_TRACE(message_name(m));
    std::string bytes = encode(m);
    for (std::size_t n = 0; n < bytes.size(); ++n)
      ASSERT_EQ(decode_error(std::string_view(bytes).substr(0, n)), "malformed")
          << "truncated to " << n << " of " << bytes.size() << " bytes";
  }
}

TEST(CodecTest, RejectsTrailingBytes) {
  for (const auto& m : sample_messages()) {
    SCOPED_TRACE(message_name(m));
    EXPECT_EQ(decode_error(encode(m) + '\0'), "malformed");
    EXPECT_EQ(decode_error(encode(m) + encode(m)), "malformed");
  }
}

TEST(CodecTest, HugeStringLengthIsRejectedWithoutAllocating) {
  // Hello: protocol u16, then replica: u64 length 2^62 and a few bytes.
  std::string bytes =
      header(0) + std::string("\x01\x00", 2) + u64_le(std::uint64_t{1} << 62) + "abc";
  std::string code;
  std::size_t largest = largest_allocation_during([&] { code = decode_error(bytes); });
  EXPECT_EQ(code, "malformed");
  EXPECT_LT(largest, 4096u) << "the decoder allocated for a length the message cannot hold";

  // The same in a blob chunk's data and in a change's body inside a Push.
  std::string chunk = header(11) + u64_le(32) + bytes32('\x01') + u64_le(0) + u64_le(10) +
                      u64_le(std::uint64_t{1} << 62) + "data";
  largest = largest_allocation_during([&] { code = decode_error(chunk); });
  EXPECT_EQ(code, "malformed");
  EXPECT_LT(largest, 4096u);

  // A length just one past what is left.
  std::string one_past = header(13) + u64_le(4) + "abc";
  EXPECT_EQ(decode_error(one_past), "malformed");
}

TEST(CodecTest, HugeElementCountIsRejectedWithoutAllocating) {
  // Push with 2^62 changes; PushResult with 2^62 results; a change whose context claims
  // 2^62 entries.
  std::uint64_t huge = std::uint64_t{1} << 62;
  std::string code;
  std::size_t largest = largest_allocation_during(
      [&] { code = decode_error(header(4) + u64_le(huge) + std::string(64, '\0')); });
  EXPECT_EQ(code, "malformed");
  EXPECT_LT(largest, 4096u);

  largest = largest_allocation_during(
      [&] { code = decode_error(header(5) + u64_le(huge) + std::string(64, '\0')); });
  EXPECT_EQ(code, "malformed");
  EXPECT_LT(largest, 4096u);

  // Change: record "", op "", dot ("", 1), then the context's entry count.
  std::string change = u64_le(0) + u64_le(0) + u64_le(0) + u64_le(1) + u64_le(huge);
  largest = largest_allocation_during(
      [&] { code = decode_error(header(4) + u64_le(1) + change + std::string(64, '\0')); });
  EXPECT_EQ(code, "malformed");
  EXPECT_LT(largest, 4096u);
}

// An element count that fits the message's size but not its content: the decoder must
// not allocate far more than the message could ever decode to. Every element needs at
// least 8 wire bytes, but an in-memory Change or CommittedEntry is ~30-40 times that,
// so reserving `count` elements up front turns an 8 MiB hostile Push into a ~256 MiB
// allocation (and an Entries message into more) before the decoder notices the lie.
TEST(CodecTest, PlausibleElementCountDoesNotAmplifyAllocation) {
  const std::size_t payload = 64 * 1024;
  for (std::uint8_t index : {std::uint8_t{4}, std::uint8_t{5}, std::uint8_t{7}}) {
    std::string bytes = header(index) + u64_le(payload / 8) + std::string(payload, '\0');
    std::string code;
    std::size_t largest = largest_allocation_during([&] { code = decode_error(bytes); });
    EXPECT_EQ(code, "malformed") << int(index);
    EXPECT_LE(largest, 8 * bytes.size())
        << "message " << int(index) << " of " << bytes.size() << " bytes made the decoder allocate "
        << largest << " bytes at once";
  }
}

TEST(CodecTest, RejectsUnknownVariantIndex) {
  for (int index : {16, 17, 100, 255}) {
    EXPECT_EQ(decode_error(header(static_cast<std::uint8_t>(index)) + u64_le(0)), "malformed")
        << index;
    EXPECT_EQ(decode_error(header(static_cast<std::uint8_t>(index))), "malformed") << index;
  }
}

TEST(CodecTest, RejectsBoolOtherThanZeroOrOne) {
  std::string bytes = encode(ErrorMsg{"x", "y", true});
  ASSERT_EQ(bytes.back(), '\x01');
  for (char b : {'\x02', '\x07', '\xff'}) {
    bytes.back() = b;
    EXPECT_EQ(decode_error(bytes), "malformed") << int(static_cast<unsigned char>(b));
  }
  bytes.back() = '\0';
  auto m = decode(bytes);
  EXPECT_FALSE(std::get<ErrorMsg>(m).fatal);
}

TEST(CodecTest, RejectsUnknownOutcome) {
  PushResult r;
  r.results.push_back({1, Outcome::kAccepted, 5, "", ""});
  std::string bytes = encode(r);
  // header (6) + count (8) + counter (8), then the outcome byte.
  const std::size_t at = 6 + 8 + 8;
  ASSERT_EQ(bytes[at], '\x01');
  for (char b : {'\x00', '\x04', '\x09', '\xff'}) {
    std::string bad = bytes;
    bad[at] = b;
    EXPECT_EQ(decode_error(bad), "malformed") << int(static_cast<unsigned char>(b));
  }
  std::string ok = bytes;
  ok[at] = '\x03';
  EXPECT_EQ(std::get<PushResult>(decode(ok)).results[0].outcome, Outcome::kRejected);
}

TEST(CodecTest, RejectsZeroCounterInVersionVector) {
  Push p;
  p.changes = {sample_change()};
  std::string bytes = encode(p);
  // The context of the change is {replica-a: 6, server: 3}; zero the counter of "server".
  std::string needle = u64_le(6) + u64_le(6) + "server" + u64_le(3);
  auto pos = bytes.find(needle);
  ASSERT_NE(pos, std::string::npos);
  bytes.replace(pos + needle.size() - 8, 8, u64_le(0));
  EXPECT_EQ(decode_error(bytes), "malformed");
}

// Random mutations of valid encodings: decode must return a message or throw
// alur::Error — never crash, hang, or throw anything else — and whatever it returns must
// re-encode canonically.
TEST(CodecTest, FuzzedInputOnlyDecodesOrThrowsError) {
  std::vector<std::string> seeds;
  for (const auto& m : sample_messages()) seeds.push_back(encode(m));
  std::mt19937_64 rng(20260930);
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  int decoded = 0, rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = seeds[pick(seeds.size())];
    int mutations = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < mutations; ++k) {
      switch (rng() % 8) {
        case 0:  // flip a bit
          if (!bytes.empty()) bytes[pick(bytes.size())] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 1:  // set a random byte
          if (!bytes.empty()) bytes[pick(bytes.size())] = static_cast<char>(rng());
          break;
        case 2:  // insert random bytes
          bytes.insert(pick(bytes.size() + 1),
                       std::string(1 + rng() % 9, static_cast<char>(rng())));
          break;
        case 3:  // delete a range
          if (!bytes.empty()) {
            std::size_t at = pick(bytes.size());
            bytes.erase(at, 1 + pick(16));
          }
          break;
        case 4:  // truncate
          bytes.resize(pick(bytes.size() + 1));
          break;
        case 5:  // overwrite 8 bytes with an interesting u64 (a length or a count)
          if (bytes.size() >= 8) {
            static const std::uint64_t values[] = {0,
                                                   1,
                                                   7,
                                                   8,
                                                   9,
                                                   255,
                                                   0x7fffffff,
                                                   0xffffffff,
                                                   std::uint64_t{1} << 62,
                                                   ~std::uint64_t{0}};
            std::uint64_t v = rng() % 2 ? values[pick(std::size(values))] : rng() % 300;
            bytes.replace(pick(bytes.size() - 7), 8, u64_le(v));
          }
          break;
        case 6:  // duplicate a range
          if (!bytes.empty()) {
            std::size_t at = pick(bytes.size());
            bytes.insert(at, bytes.substr(at, 1 + pick(24)));
          }
          break;
        case 7:  // splice the tail of another message
        {
          const std::string& other = seeds[pick(seeds.size())];
          bytes = bytes.substr(0, pick(bytes.size() + 1)) + other.substr(pick(other.size() + 1));
          break;
        }
      }
    }
    try {
      Message m = decode(bytes);
      ++decoded;
      std::string again = encode(m);
      Message back = decode(again);
      ASSERT_EQ(encode(back), again) << "iteration " << i;
    } catch (const Error& e) {
      ++rejected;
      ASSERT_TRUE(e.code() == "malformed" || e.code() == "protocol_version")
          << "iteration " << i << ": " << e.code();
    } catch (const std::exception& e) {
      FAIL() << "iteration " << i << ": foreign exception " << e.what() << " on "
             << crypto::to_hex(bytes);
    }
  }
  // Both paths were exercised.
  EXPECT_GT(decoded, 100);
  EXPECT_GT(rejected, 10000);
}

}  // namespace
}  // namespace alur::sync
