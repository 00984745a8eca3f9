// Google Benchmark micro-benchmarks of the sync core: version vectors, the change codec,
// the hash chains, signatures, and the sequencer's validate-and-commit per change (the
// real SyncService on a real SQLite file, without sockets).
#include <benchmark/benchmark.h>

#include <boost/beast/zlib.hpp>
#include <filesystem>

#include "alur/server/server_db.h"
#include "alur/server/sync_service.h"
#include "alur/shared/crypto.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/memory_state.h"
#include "alur/sync/messages.h"
#include "alur/sync/version_vector.h"
#include "bench/workload.h"

namespace fs = std::filesystem;
using namespace alur;

namespace {

sync::VersionVector vector_of(int replicas, int offset) {
  sync::VersionVector v;
  for (int i = 0; i < replicas; ++i)
    v.add({"replica" + std::to_string(i), static_cast<std::uint64_t>(100 + (i + offset) % 7)});
  return v;
}

void BM_VersionVectorCompare(benchmark::State& state) {
  auto a = vector_of(static_cast<int>(state.range(0)), 0);
  auto b = vector_of(static_cast<int>(state.range(0)), 3);
  for (auto _ : state) benchmark::DoNotOptimize(a.compare(b));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VersionVectorCompare)->Arg(2)->Arg(8)->Arg(64);

void BM_VersionVectorMerge(benchmark::State& state) {
  auto a = vector_of(static_cast<int>(state.range(0)), 0);
  auto b = vector_of(static_cast<int>(state.range(0)), 3);
  for (auto _ : state) {
    auto m = a;
    m.merge(b);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VersionVectorMerge)->Arg(2)->Arg(8)->Arg(64);

std::vector<sync::Change> workload(std::size_t n) {
  bench::Device d;
  d.replica = "0123456789abcdef";
  d.username = "sekretaris";
  return bench::office_workload(d, n);
}

void BM_ChangeEncode(benchmark::State& state) {
  auto changes = workload(100);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(sync::encode_change(changes[i++ % 100]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChangeEncode);

void BM_ChangeDecode(benchmark::State& state) {
  std::vector<std::string> encoded;
  for (const auto& c : workload(100)) encoded.push_back(sync::encode_change(c));
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(sync::decode_change(encoded[i++ % 100]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChangeDecode);

// A whole Push message of 1,000 changes, as the server receives it.
void BM_PushDecode(benchmark::State& state) {
  sync::Push p;
  p.changes = workload(1000);
  std::string bytes = sync::encode(p);
  for (auto _ : state) benchmark::DoNotOptimize(sync::decode(bytes));
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * bytes.size());
}
BENCHMARK(BM_PushDecode);

// A Push of 1,000 changes as a client sends it: each change encoded once, for the batch's
// size and its head's hash, then spliced into the message (sync::encode_push).
void BM_PushEncode(benchmark::State& state) {
  auto changes = workload(1000);
  const std::string signature(64, 's');
  for (auto _ : state) {
    std::vector<std::string> encodings;
    encodings.reserve(changes.size());
    for (const auto& c : changes) encodings.push_back(sync::encode_change(c));
    benchmark::DoNotOptimize(sync::change_hash_of(encodings.back()));
    benchmark::DoNotOptimize(sync::encode_push(encodings, signature));
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_PushEncode);

// The same batch the way the client made it before encode_push: each change encoded for
// its size, copied into a Push, the last one hashed, and the Push encoded through cereal.
void BM_PushEncodeThroughCereal(benchmark::State& state) {
  auto changes = workload(1000);
  for (auto _ : state) {
    sync::Push p;
    for (const auto& c : changes) {
      benchmark::DoNotOptimize(sync::encode_change(c).size());
      p.changes.push_back(c);
    }
    benchmark::DoNotOptimize(p.changes.back().hash());
    p.head_signature = std::string(64, 's');
    benchmark::DoNotOptimize(sync::encode(p));
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_PushEncodeThroughCereal);

// A pull's Entries message of 1,000 committed changes of the workload, as the server sends
// it (each entry's log hash chained from the one before, as the real log's are).
std::string entries_message(std::size_t n) {
  std::vector<std::string> pieces;
  std::string log_hash;
  std::uint64_t seq = 0;
  for (const auto& c : workload(n)) {
    ++seq;
    const std::int64_t at = 1764000000000 + static_cast<std::int64_t>(seq);
    log_hash = sync::log_hash(log_hash, seq, c.hash(), at);
    pieces.push_back(sync::encode_entry_from(seq, at, sync::encode_change(c), log_hash));
  }
  return sync::encode_entries({pieces.begin(), pieces.end()}, seq);
}

// permessage-deflate (RFC 7692) as Beast runs it on a slow line's connection (its own zlib
// port; one message from a fresh stream): what a pull of 1,000 entries compresses to
// (counter ratio: compressed/raw) and the server CPU it costs, per compression level and
// window size. The window is memory a connection keeps once it has compressed: 2^bits * 4
// bytes of deflate state (plus the hash table and symbol buffer of memLevel 4, 8 KiB).
void BM_DeflateEntries(benchmark::State& state) {
  namespace zlib = boost::beast::zlib;
  const std::string raw = entries_message(1000);
  std::string out(raw.size() + 4096, '\0');
  std::size_t compressed = 0;
  for (auto _ : state) {
    zlib::deflate_stream zo;
    zo.reset(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)), 4,
             zlib::Strategy::normal);
    zlib::z_params zs;
    zs.next_in = raw.data();
    zs.avail_in = raw.size();
    zs.next_out = out.data();
    zs.avail_out = out.size();
    boost::beast::error_code ec;
    zo.write(zs, zlib::Flush::sync, ec);
    if (ec || zs.avail_in != 0) state.SkipWithError("deflate failed");
    compressed = zs.total_out;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
  state.counters["ratio"] = static_cast<double>(compressed) / raw.size();
  state.counters["bytes_per_entry"] = static_cast<double>(compressed) / 1000;
}
BENCHMARK(BM_DeflateEntries)->ArgsProduct({{1, 3, 6}, {10, 12, 15}});

void BM_ChangeHash(benchmark::State& state) {
  auto changes = workload(100);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(changes[i++ % 100].hash());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChangeHash);

void BM_LogHash(benchmark::State& state) {
  std::string prev(32, 'p'), change(32, 'c');
  std::uint64_t seq = 0;
  for (auto _ : state) benchmark::DoNotOptimize(sync::log_hash(prev, ++seq, change, 1700000000000));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LogHash);

void BM_Ed25519Sign(benchmark::State& state) {
  auto key = crypto::Ed25519Key::generate();
  std::string message = sync::chain_head_message("0123456789abcdef", 42, std::string(32, 'h'));
  for (auto _ : state) benchmark::DoNotOptimize(key.sign(message));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Sign);

void BM_Ed25519Verify(benchmark::State& state) {
  auto key = crypto::Ed25519Key::generate();
  std::string message = sync::chain_head_message("0123456789abcdef", 42, std::string(32, 'h'));
  std::string signature = key.sign(message);
  for (auto _ : state)
    benchmark::DoNotOptimize(crypto::ed25519_verify(key.public_raw(), message, signature));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Verify);

// A case as a busy official leaves it (opened, a draft, 98 corrections; the workload of
// the push benchmarks), materialized by the rules.
sync::CaseState busy_case() {
  sync::MemoryState state;
  Org org;
  org.unit = "Dinas Uji";
  org.people = {{"sekretaris", "Sekretaris", {{"sekretaris", std::nullopt}}, true}};
  state.set_org(org);
  bench::Device d;
  d.replica = "0123456789abcdef";
  d.username = "sekretaris";
  for (const auto& c : bench::office_workload(d, 100))
    if (auto v = sync::apply_change(state, TemplateRegistry::builtin(), c, HybridClock::to_ms(c.hlc));
        !v.ok())
      throw std::runtime_error(v.message);
  return state.cases().begin()->second;
}

// The case's canonical text, as every batch that touches it writes it (items = cases):
// written straight (case_json_text, what the stores use) and through the JSON tree (the
// same bytes).
void BM_CaseJsonText(benchmark::State& state) {
  const sync::CaseState c = busy_case();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string text = sync::case_json_text(c);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["json_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_CaseJsonText);

void BM_CaseJsonTree(benchmark::State& state) {
  const sync::CaseState c = busy_case();
  for (auto _ : state) benchmark::DoNotOptimize(sync::case_to_json(c).dump());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CaseJsonTree);

// ...and read back, as a batch that touches a stored case first does.
void BM_CaseFromJson(benchmark::State& state) {
  const std::string text = sync::case_to_json(busy_case()).dump();
  for (auto _ : state)
    benchmark::DoNotOptimize(sync::case_from_json(nlohmann::json::parse(text)));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CaseFromJson);

// The sequencer: SyncService validates and commits pushes of 1,000 changes into a real
// SQLite file (WAL, synchronous=FULL); items = changes.
void BM_SequencerPush(benchmark::State& state) {
  fs::path dir = fs::temp_directory_path() / ("alur-micro-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    server::ServerDb db(dir.string());
    Org org;
    org.unit = "Dinas Uji";
    org.bidang = {{"koperasi", "Bidang Koperasi"}};
    org.people = {{"sekretaris", "Sekretaris", {{"sekretaris", std::nullopt}}, true}};
    db.set_org(org);
    bench::Device d;
    d.replica = "0123456789abcdef";
    d.username = "sekretaris";
    db.upsert_user(d.username, "Sekretaris", "unused: no login here");
    db.add_device({d.replica, d.username, d.key.public_raw(), "bench", 0, {}, 0, ""}, "token");
    {
      auto tx = db.begin();
      db.put_blob_chunk(crypto::sha256_hex(bench::kDraftText), 0, bench::kDraftText.size(),
                        bench::kDraftText);
      tx->commit();
    }
    server::SyncService service(db, TemplateRegistry::builtin(), Clock::system());
    server::SyncService::Session session{d.replica, d.username};
    const std::size_t batch = 1000;
    std::vector<sync::Change> all = bench::office_workload(d, batch * 5);
    std::size_t next = 0;
    for (auto _ : state) {
      if (next + batch > all.size()) {
        state.SkipWithError("workload exhausted");
        break;
      }
      sync::Push p;
      p.changes.assign(all.begin() + next, all.begin() + next + batch);
      next += batch;
      const auto& last = p.changes.back();
      p.head_signature =
          d.key.sign(sync::chain_head_message(d.replica, last.dot.counter, last.hash()));
      auto replies = service.handle(session, p, "127.0.0.1:1");
      auto* r = std::get_if<sync::PushResult>(&replies.front());
      if (!r || r->results.back().outcome != sync::Outcome::kAccepted) {
        state.SkipWithError("push not accepted");
        break;
      }
    }
    state.SetItemsProcessed(state.iterations() * batch);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_SequencerPush)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
