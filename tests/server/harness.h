// Test harness for the server: a temporary office (data dir, ServerDb with an imported org
// and users, SyncService on a fake clock) and hand-made clients that build changes the way
// the real client does (client/src/replica.cpp next_change + sync_client.cpp push) — and
// can deliberately break them (wrong author, bad signature, broken chain, reused dot,
// skipped counter).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "alur/server/pg_store.h"
#include "alur/server/server_db.h"
#include "alur/server/sync_service.h"
#include "alur/shared/clock.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/change.h"
#include "alur/sync/messages.h"
#include "common/test_support.h"
#include "pg_test_db.h"

namespace alur::server::testing {

using nlohmann::json;
using sync::Message;

using alur::testing::FakeClock;
using alur::testing::TempDir;

// The office of the tests: two bidang, one person per role of the LAKIP SOP, and one
// person who is no longer active.
inline Org test_org() {
  Org org;
  org.unit = "Dinas Koperasi dan UKM (uji)";
  org.bidang = {{"koperasi", "Bidang Koperasi"}, {"ukm", "Bidang UKM"}};
  org.people = {
      {"kadis", "Kepala Dinas", {{"kadis", std::nullopt}}, true},
      {"sekre", "Sekretaris", {{"sekretaris", std::nullopt}}, true},
      {"kabid_kop", "Kabid Koperasi", {{"kabid", std::string("koperasi")}}, true},
      {"kabid_ukm", "Kabid UKM", {{"kabid", std::string("ukm")}}, true},
      {"kasubag", "Kasubag KPE", {{"kasubag_kpe", std::nullopt}}, true},
      {"pelaksana", "Pelaksana KPE", {{"pelaksana_kpe", std::nullopt}}, true},
      {"pensiun", "Mantan Pegawai", {{"sekretaris", std::nullopt}}, false},
  };
  return org;
}

inline std::string password_of(const std::string& username) { return "rahasia-" + username; }

// Fast scrypt for tests (the server reads N from the stored hash).
inline std::string fast_hash(const std::string& password) {
  return crypto::hash_password(password, crypto::KdfParams{.n = 1024});
}

template <class T>
const T& as(const Message& m) {
  if (const T* p = std::get_if<T>(&m)) return *p;
  std::string extra;
  if (auto* e = std::get_if<sync::ErrorMsg>(&m)) extra = " (" + e->code + ": " + e->message + ")";
  throw std::runtime_error(std::string("expected another message, got ") + sync::message_name(m) +
                           extra);
}

using alur::testing::error_code_of;

// Every change of a push was accepted (each failure names its reason).
inline void expect_all_accepted(const sync::PushResult& r) {
  for (const auto& x : r.results)
    EXPECT_EQ(x.outcome, sync::Outcome::kAccepted) << x.code << ": " << x.message;
}

// A device enrolled by hand: its key, replica id and token, and its hash chain (counter,
// last hash, HLC), plus its session with the service for the handle()-level tests.
class HandClient {
 public:
  HandClient(std::string user, const Clock& clock, std::string pw = {})
      : username(std::move(user)),
        password(pw.empty() ? password_of(username) : std::move(pw)),
        key(crypto::Ed25519Key::generate()),
        clock_(clock) {}

  std::string username, password;
  crypto::Ed25519Key key;
  std::string replica, token;
  std::uint64_t counter = 0;  // last counter used
  std::string last_hash;      // hash of the last change built ("" before the first)
  std::uint64_t hlc = 0;
  SyncService::Session session;  // the handle()-level session (sockets use their own)

  sync::Enroll enroll_message() const {
    return sync::Enroll{sync::kProtocolVersion, username, password, key.public_raw(),
                        "pc-" + username};
  }
  void adopt(const sync::Enrolled& e) {
    replica = e.replica;
    token = e.token;
  }
  sync::Hello hello_message(std::uint64_t cursor = 0) const {
    return sync::Hello{sync::kProtocolVersion, replica, token, cursor, "alur-test"};
  }

  // The next change, as the real client builds it (counter + 1, prev = last hash, fresh
  // HLC, author = this user), without moving the chain: edit it to break it, then
  // `chain()` it if the device should consider it written.
  sync::Change next(const std::string& record, const std::string& op, const json& body) const {
    sync::Change c;
    c.record = record;
    c.op = op;
    c.dot = {replica, counter + 1};
    c.author = username;
    HybridClock h(clock_, hlc);
    c.hlc = h.now();
    c.body = body.dump();
    c.prev = last_hash;
    return c;
  }
  // Records c as this device's latest change.
  const sync::Change& chain(const sync::Change& c) {
    counter = c.dot.counter;
    last_hash = c.hash();
    hlc = std::max(hlc, c.hlc);
    return c;
  }
  // next + chain.
  sync::Change make(const std::string& record, const std::string& op, const json& body) {
    return chain(next(record, op, body));
  }

  // A Push whose head signature is the device's signature of its last change.
  sync::Push push(std::vector<sync::Change> changes) const {
    sync::Push p;
    p.changes = std::move(changes);
    const auto& last = p.changes.back();
    p.head_signature =
        key.sign(sync::chain_head_message(last.dot.replica, last.dot.counter, last.hash()));
    return p;
  }
  // A Push signed with another key (the signature does not verify).
  sync::Push push_badly_signed(std::vector<sync::Change> changes) const {
    sync::Push p;
    p.changes = std::move(changes);
    const auto& last = p.changes.back();
    p.head_signature = crypto::Ed25519Key::generate().sign(
        sync::chain_head_message(last.dot.replica, last.dot.counter, last.hash()));
    return p;
  }

  // Change builders for the LAKIP SOP.
  sync::Change open_case(const std::string& case_id, const std::string& period = "2026-Q3") {
    return make("case/" + case_id, sync::op::kCaseOpen,
                {{"sop", "LAKIP"}, {"version", 1}, {"period", period}});
  }
  sync::Change complete(const std::string& case_id, const std::string& task_key, json body) {
    if (!body.contains("round")) body["round"] = 0;
    return make("task/" + case_id + "/" + task_key, sync::op::kTaskComplete, body);
  }

 private:
  const Clock& clock_;
};

// A row of the committed log, as stored.
struct LogRow {
  std::uint64_t seq;
  std::string replica;
  std::uint64_t counter;
  Millis committed_at;
  std::string log_hash;
  std::string encoded;
};

// A row of `changes`.
struct ChangeRow {
  std::string status, code;
  std::optional<std::uint64_t> seq;
};

// Which ServerStore an Office runs on; the tests that exercise the store run on both
// (TEST_P over StoreTest).
enum class StoreKind { kSqlite, kPostgres };

inline std::string store_name(StoreKind k) {
  return k == StoreKind::kSqlite ? "SQLite" : "PostgreSQL";
}

// The rows of a test's own query: each value as text (integers in decimal) or raw bytes
// (blobs), nullopt for NULL. Test-only SQL without parameters, portable to both stores.
using Rows = std::vector<std::vector<std::optional<std::string>>>;

// A temporary office: the data dir, the store (SQLite in the data dir, or a fresh schema
// of the test PostgreSQL cluster) with the org imported the way `alur-server org import`
// does it, and the SyncService.
class Office {
 public:
  explicit Office(StoreKind kind = StoreKind::kSqlite)
      : kind_(kind),
        store_(open_store()),
        db(*store_),
        service(db, TemplateRegistry::builtin(), clock) {
    Org org = test_org();
    {
      auto tx = db.begin();
      for (const auto& p : org.people)
        db.upsert_user(p.username, p.name, fast_hash(password_of(p.username)));
      tx->commit();
    }
    commit_server_change(db, TemplateRegistry::builtin(), clock, sync::op::kOrgSet, "org",
                         json(org).dump());
  }

  TempDir dir;
  FakeClock clock;

 private:
  StoreKind kind_;
  std::unique_ptr<PgTestSchema> schema_;  // PostgreSQL only
  std::unique_ptr<ServerStore> store_;

  std::unique_ptr<ServerStore> open_store() {
    if (kind_ == StoreKind::kSqlite) return std::make_unique<ServerDb>(dir.path().string());
    schema_ = std::make_unique<PgTestSchema>();
    return std::make_unique<PgStore>(schema_->url());
  }

 public:
  ServerStore& db;
  SyncService service;

  StoreKind kind() const { return kind_; }
  // The SQLite store, for the tests that reach into the file (page count, integrity).
  ServerDb& sqlite() {
    auto* d = dynamic_cast<ServerDb*>(store_.get());
    if (!d) throw std::logic_error("this Office runs on PostgreSQL, not SQLite");
    return *d;
  }
  // A second store on the same data (another process, another node).
  std::unique_ptr<ServerStore> open_again() {
    if (kind_ == StoreKind::kSqlite) return std::make_unique<ServerDb>(dir.path().string());
    return std::make_unique<PgStore>(schema_->url());
  }

  HandClient client(const std::string& username) { return HandClient(username, clock); }

  std::vector<Message> handle(SyncService::Session& s, const Message& m) {
    return service.handle(s, m, "127.0.0.1:40000");
  }
  // One message in, exactly one reply out.
  Message one(SyncService::Session& s, const Message& m) {
    auto replies = handle(s, m);
    if (replies.size() != 1)
      throw std::runtime_error("expected exactly one reply, got " + std::to_string(replies.size()));
    return replies.front();
  }
  Message one(HandClient& c, const Message& m) { return one(c.session, m); }

  // Enrols c in an enrolment session of its own, then opens its sync session (Hello).
  void enroll(HandClient& c) {
    SyncService::Session s;
    c.adopt(as<sync::Enrolled>(one(s, c.enroll_message())));
    hello(c);
  }
  sync::Welcome hello(HandClient& c, std::uint64_t cursor = 0) {
    c.session = {};
    return as<sync::Welcome>(one(c.session, c.hello_message(cursor)));
  }
  HandClient enrolled(const std::string& username) {
    HandClient c = client(username);
    enroll(c);
    return c;
  }

  sync::PushResult push(HandClient& c, const std::vector<sync::Change>& changes) {
    return as<sync::PushResult>(one(c, c.push(changes)));
  }
  sync::ChangeResult push1(HandClient& c, const sync::Change& change) {
    auto r = push(c, {change});
    if (r.results.size() != 1) throw std::runtime_error("expected one result");
    return r.results.front();
  }

  // --- reading the stored state ---------------------------------------------------------

  Rows query(const std::string& sql) {
    Rows out;
    if (auto* pg = dynamic_cast<PgStore*>(store_.get())) {
      auto r = pg->connection().query(sql);
      for (int i = 0; i < r.rows(); ++i) {
        auto& row = out.emplace_back();
        for (int c = 0; c < r.columns(); ++c)
          row.push_back(r.is_null(i, c) ? std::nullopt
                        : r.is_bytea(c) ? std::optional(r.bytes(i, c))
                                        : std::optional(r.text(i, c)));
      }
      return out;
    }
    sql::Statement s(sqlite().db(), sql);
    while (s.step()) {
      auto& row = out.emplace_back();
      for (int c = 0; s.column_count() > c; ++c)
        row.push_back(s.is_null(c) ? std::nullopt : std::optional(s.get_blob(c)));
    }
    return out;
  }
  // Runs test SQL without results (to tamper with the record, say).
  void exec(const std::string& sql) {
    if (auto* pg = dynamic_cast<PgStore*>(store_.get()))
      pg->connection().exec(sql);
    else
      sqlite().db().exec(sql);
  }
  std::int64_t count(const std::string& sql) { return std::stoll(query(sql).at(0).at(0).value()); }
  std::vector<LogRow> log() {
    std::vector<LogRow> out;
    for (const auto& r : query(
             "SELECT seq, replica, counter, committed_at, log_hash, encoded FROM log ORDER BY seq"))
      out.push_back(
          {std::stoull(*r[0]), *r[1], std::stoull(*r[2]), std::stoll(*r[3]), *r[4], *r[5]});
    return out;
  }
  std::optional<ChangeRow> change_row(const std::string& replica, std::uint64_t counter) {
    auto rows = query("SELECT status, code, seq FROM changes WHERE replica = '" + replica +
                      "' AND counter = " + std::to_string(counter));
    if (rows.empty()) return std::nullopt;
    const auto& r = rows.front();
    ChangeRow out{*r[0], *r[1], std::nullopt};
    if (r[2]) out.seq = std::stoull(*r[2]);
    return out;
  }
  std::optional<sync::CaseState> case_state(const std::string& id) { return db.load_case(id); }
  std::string task_state(const std::string& case_id, const std::string& key) {
    auto c = db.load_case(case_id);
    if (!c) return "<no case>";
    const auto* t = c->task(key);
    return t ? t->state : "<no task>";
  }
};

// --- SyncService over a fake connection (its on_open / on_message / on_close side) ------------

// Keeps what the service sends (decoded) and why it closed the connection.
class FakeConnection : public net::Connection {
 public:
  explicit FakeConnection(std::uint64_t id) : id_(id) {}
  void send(std::shared_ptr<const std::string> message) override {
    sent.push_back(sync::decode(*message));
  }
  void close(const std::string& reason) override { closed.push_back(reason); }
  std::string remote_address() const override { return "127.0.0.1:5555"; }
  std::uint64_t id() const override { return id_; }

  std::vector<Message> sent;
  std::vector<std::string> closed;

 private:
  std::uint64_t id_;
};

struct Wired {
  std::shared_ptr<FakeConnection> conn;
  SyncService& service;
  void send(const Message& m) { service.on_message(conn, sync::encode(m)); }
};

inline Wired connect(Office& o, std::uint64_t id) {
  auto conn = std::make_shared<FakeConnection>(id);
  o.service.on_open(conn);
  return {conn, o.service};
}

// The service's deferred flushes (SyncService::set_defer), run when the test says; serve
// posts them to its I/O thread, behind the messages that are ready.
struct Deferred {
  std::vector<std::function<void()>> pending;
  void attach(SyncService& s) {
    s.set_defer([this](std::function<void()> f) { pending.push_back(std::move(f)); });
  }
  void run() {
    for (auto& f : std::exchange(pending, {})) f();
  }
};

// A disposition body (steps 1 and 2 of LAKIP).
inline json disposition(const std::string& text = "Laksanakan rapat koordinasi.") {
  return {{"round", 0}, {"text", text}};
}

// A revision body for content never or already uploaded.
inline json revision_of(const std::string& content, const std::string& filename = "bahan.txt") {
  return {{"sha256", crypto::sha256_hex(content)},
          {"size", content.size()},
          {"filename", filename},
          {"media", "text"},
          {"parents", json::array()}};
}

// A test that runs once on each store: TEST_P(Suite, Name) { Office o(store()); ... } with
// ALUR_ON_BOTH_STORES(Suite).
class StoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  StoreKind store() const { return GetParam(); }
};

#define ALUR_ON_BOTH_STORES(Suite)                                                \
  INSTANTIATE_TEST_SUITE_P(                                                       \
      Stores, Suite,                                                              \
      ::testing::Values(::alur::server::testing::StoreKind::kSqlite,              \
                        ::alur::server::testing::StoreKind::kPostgres),           \
      [](const ::testing::TestParamInfo<::alur::server::testing::StoreKind>& i) { \
        return ::alur::server::testing::store_name(i.param);                      \
      })

}  // namespace alur::server::testing
