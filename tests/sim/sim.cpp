// The simulated world: event queue and clock, network, nodes and their crashes, and the
// officials' workload. The invariants checked after each run live in checks.cpp.
#include "sim.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <sstream>

#include "alur/client/api.h"
#include "alur/client/replica.h"
#include "alur/client/transport.h"
#include "alur/net/ws_server.h"
#include "alur/server/admin.h"
#include "alur/server/server_db.h"
#include "alur/server/sync_service.h"
#include "alur/shared/clock.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/case_state.h"
#include "alur/sync/change.h"
#include "alur/sync/templates.h"
#include "client/memory_transport.h"  // enrolment during setup only
#include "client/unchecked_write.h"
#include "common/demo_org.h"
#include "common/fixtures.h"
#include "common/signing.h"
#include "coop.h"
#include "world.h"

namespace alur::sim {

using nlohmann::json;

void Stats::add(const Stats& o) {
  seeds += o.seeds;
  actions += o.actions;
  refused_locally += o.refused_locally;
  changes_made += o.changes_made;
  rogue_changes += o.rogue_changes;
  accepted += o.accepted;
  rejected += o.rejected;
  syncs += o.syncs;
  sync_failures += o.sync_failures;
  server_crashes += o.server_crashes;
  client_crashes += o.client_crashes;
  cuts += o.cuts;
  stalls += o.stalls;
  replays += o.replays;
  messages += o.messages;
  entries_checked += o.entries_checked;
  cases += o.cases;
  cases_completed += o.cases_completed;
  steps_done += o.steps_done;
  returns += o.returns;
  data_cases += o.data_cases;
  decision_returns += o.decision_returns;
  delegations += o.delegations;
  delegations_ended += o.delegations_ended;
  acting_tasks += o.acting_tasks;
}

std::string Stats::line() const {
  std::ostringstream s;
  s << "seeds=" << seeds << " actions=" << actions << " refused_locally=" << refused_locally
    << " changes_made=" << changes_made << " rogue=" << rogue_changes
    << " accepted=" << accepted << " rejected=" << rejected << " syncs=" << syncs
    << " sync_failures=" << sync_failures << " server_crashes=" << server_crashes
    << " client_crashes=" << client_crashes << " cuts=" << cuts << " stalls=" << stalls
    << " replays=" << replays << " messages=" << messages
    << " entries_checked=" << entries_checked << " cases=" << cases
    << " cases_completed=" << cases_completed << " tasks_done=" << steps_done
    << " returns=" << returns << " data_cases=" << data_cases
    << " decision_returns=" << decision_returns << " delegations=" << delegations
    << " delegations_ended=" << delegations_ended << " acting_tasks=" << acting_tasks;
  return s.str();
}

// --- World -----------------------------------------------------------------------------------

void World::at(Millis t, std::function<void()> fn) {
  queue_.push(Event{std::max(t, now), next_seq_++, std::move(fn)});
}

bool World::step() {
  if (queue_.empty()) return false;
  Event e = queue_.top();
  queue_.pop();
  now = e.at;
  e.fn();
  return true;
}

std::uint64_t World::uniform(std::uint64_t n) {
  return n == 0 ? 0 : std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng);
}

bool World::chance(double p) {
  if (p <= 0) return false;
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

// --- Network ---------------------------------------------------------------------------------

// The server's end of a link, as the SyncService sees it.
class SimConn final : public net::Connection {
 public:
  SimConn(Sim& sim, std::weak_ptr<Link> link, std::uint64_t id)
      : sim_(sim), link_(std::move(link)), id_(id) {}
  void send(std::shared_ptr<const std::string> message) override {
    if (auto l = link_.lock()) sim_.server_send(l, *message);
  }
  void close(const std::string& reason) override {
    if (auto l = link_.lock()) sim_.server_close(l, reason);
  }
  std::string remote_address() const override { return "sim:" + std::to_string(id_); }
  std::uint64_t id() const override { return id_; }

 private:
  Sim& sim_;
  std::weak_ptr<Link> link_;
  std::uint64_t id_;
};

// The client's end: SyncClient's blocking calls park its Coop until the network acts.
class SimTransport final : public client::Transport {
 public:
  SimTransport(Sim& sim, std::shared_ptr<Link> link) : sim_(sim), link_(std::move(link)) {}
  ~SimTransport() override { close(); }

  void send(const std::string& message, std::chrono::milliseconds) override {
    sim_.client_send(link_, message);
  }

  std::optional<std::string> receive(std::chrono::milliseconds timeout) override {
    const Millis deadline = sim_.world.now + timeout.count();
    for (;;) {
      if (!link_->inbox.empty()) {
        std::string m = std::move(link_->inbox.front());
        link_->inbox.pop_front();
        return m;
      }
      if (link_->dead) throw Error("closed", "Koneksi terputus (simulasi).");
      if (sim_.world.now >= deadline) return std::nullopt;
      sim_.park(link_, deadline);
    }
  }

  void close() noexcept override {
    if (!link_->dead) sim_.end_link(link_, "client closed");
  }

 private:
  Sim& sim_;
  std::shared_ptr<Link> link_;
};

Millis Sim::delay() { return 1 + static_cast<Millis>(world.uniform(chaos.max_delay_ms)); }

void Sim::log(const std::string& line) {
  if (options.verbose) std::fprintf(stderr, "[%10lld] %s\n", (long long)world.now, line.c_str());
}

void Sim::wake(const std::shared_ptr<Link>& link) {
  if (link->waiter < 0) return;
  int client = link->waiter;
  link->waiter = -1;
  world.at(world.now, [this, client] { resume_client(client); });
}

void Sim::park(const std::shared_ptr<Link>& link, Millis deadline) {
  Client& c = clients[link->client];
  link->waiter = link->client;
  const std::uint64_t token = ++link->wait_token;
  world.at(deadline, [this, link, token] {
    if (link->wait_token == token) wake(link);
  });
  c.session->yield();
}

std::unique_ptr<client::Transport> Sim::connect(int client) {
  if (!server.up)
    throw Error("connect", "Server tidak dapat dihubungi (simulasi: server mati).");
  if (chaos.on && world.chance(chaos.connect_fail))
    throw Error("connect", "Server tidak dapat dihubungi (simulasi: jaringan putus).");
  auto link = std::make_shared<Link>();
  link->client = client;
  link->id = ++next_link_;
  link->epoch = server.epoch;
  link->conn = std::make_shared<SimConn>(*this, link, link->id);
  server.links.push_back(link);
  if (chaos.on && world.chance(chaos.stall_per_connection)) {
    // A black hole: some time after connecting, the link stops carrying bytes but nobody
    // is told; only the client's reply timeout notices.
    world.at(world.now + static_cast<Millis>(world.uniform(3000)), [this, link] {
      if (link->dead || link->stalled) return;
      link->stalled = true;
      ++stats.stalls;
      log("link " + std::to_string(link->id) + " stalls");
    });
  }
  if (chaos.on && world.chance(chaos.cut_per_connection)) {
    world.at(world.now + static_cast<Millis>(world.uniform(400)), [this, link] { cut(link); });
  }
  server.service->on_open(link->conn);
  return std::make_unique<SimTransport>(*this, link);
}

void Sim::client_send(const std::shared_ptr<Link>& link, const std::string& message) {
  if (link->dead) throw Error("closed", "Koneksi terputus (simulasi).");
  ++stats.messages;
  link->sent.push_back(message);
  if (link->stalled) return;
  Millis t = std::max(world.now + delay(), link->last_c2s);
  link->last_c2s = t;
  world.at(t, [this, link, message] { deliver_to_server(link, message); });
}

void Sim::deliver_to_server(const std::shared_ptr<Link>& link, const std::string& message) {
  if (link->dead || link->stalled || !server.up || link->epoch != server.epoch) return;
  try {
    server.service->on_message(link->conn, message);
  } catch (const Crash&) {
    crash_server("while handling a message");
  }
}

void Sim::server_send(const std::shared_ptr<Link>& link, const std::string& message) {
  if (link->dead || link->ghost || link->stalled) return;
  Millis t = std::max(world.now + delay(), link->last_s2c);
  link->last_s2c = t;
  world.at(t, [this, link, message] {
    if (link->dead) return;
    link->inbox.push_back(message);
    wake(link);
  });
}

void Sim::server_close(const std::shared_ptr<Link>& link, const std::string& reason) {
  if (link->server_closing) return;
  link->server_closing = true;
  Millis t = std::max(world.now + delay(), link->last_s2c) + 1;  // after what was sent
  world.at(t, [this, link, reason] { end_link(link, reason); });
}

void Sim::end_link(const std::shared_ptr<Link>& link, const std::string& why) {
  if (link->dead) return;
  link->dead = true;
  wake(link);
  // The server hears of it as a separate event, never inside one of its own callbacks.
  const int epoch = link->epoch;
  world.at(world.now, [this, link, why, epoch] {
    if (!server.up || server.epoch != epoch) return;
    server.service->on_close(link->conn, why);
  });
}

void Sim::cut(const std::shared_ptr<Link>& link) {
  if (link->dead) return;
  ++stats.cuts;
  log("link " + std::to_string(link->id) + " cut");
  end_link(link, "cut by the network");
  if (!link->ghost && chaos.on && world.chance(chaos.replay_after_cut) && !link->sent.empty()) {
    // Everything the client sent on the dead link arrives again on a new connection (a
    // confused middlebox replaying a stream); the server must answer each message as if it
    // were a resend, and the replies go nowhere.
    ++stats.replays;
    auto ghost = std::make_shared<Link>();
    ghost->client = link->client;
    ghost->ghost = true;
    ghost->id = ++next_link_;
    ghost->epoch = server.epoch;
    ghost->conn = std::make_shared<SimConn>(*this, ghost, ghost->id);
    Millis t = world.now + delay();
    world.at(t, [this, ghost] {
      if (server.up && server.epoch == ghost->epoch) server.service->on_open(ghost->conn);
    });
    for (const auto& m : link->sent) {
      t += delay();
      world.at(t, [this, ghost, m] { deliver_to_server(ghost, m); });
    }
    world.at(t + 1, [this, ghost] { end_link(ghost, "replay over"); });
  }
}

// --- Nodes -----------------------------------------------------------------------------------

namespace {

constexpr const char* kUrl = "wss://sim:1";
constexpr Millis kStart = 1'782'864'000'000;  // 2026-07-01T00:00:00Z
constexpr Millis kHour = 3'600'000;

std::string memdb_uri(std::uint64_t seed, const std::string& node) {
  return "file:/alur-sim-" + std::to_string(seed) + "-" + node + "?vfs=memdb";
}

sql::OpenOptions keeper_options() {
  sql::OpenOptions o;
  o.wal = false;
  return o;
}

}  // namespace

Sim::Sim(std::uint64_t s, const Options& opts)
    : seed(s), options(opts), random_(s ^ 0x9e3779b97f4a7c15ULL) {
  world.rng.seed(s);
  world.now = kStart;
  // Every random id, token and key comes from the seed: a replay is exact.
  crypto::set_random_source_for_testing([this](unsigned char* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<unsigned char>(random_() >> 56);
  });
  // The seed also decides how hostile this run is; some runs have no faults at all.
  const bool calm = world.chance(0.1);
  chaos.on = !calm;
  chaos.max_delay_ms = 1 + world.uniform(world.chance(0.3) ? 2000 : 50);
  chaos.server_crash_per_stmt = calm ? 0 : world.chance(0.5) ? 0.0008 * (world.uniform(4) + 1) : 0;
  chaos.client_crash_per_stmt = calm ? 0 : world.chance(0.5) ? 0.0005 * (world.uniform(4) + 1) : 0;
  chaos.kill_client_in_session = calm ? 0 : 0.05 * world.uniform(4);
  chaos.cut_per_connection = calm ? 0 : 0.1 * world.uniform(4);
  chaos.stall_per_connection = calm ? 0 : 0.02 * world.uniform(3);
  chaos.replay_after_cut = calm ? 0 : 0.3 * world.uniform(3);
  chaos.connect_fail = calm ? 0 : 0.05 * world.uniform(3);
  // Most runs are short; one in twenty is long enough to carry cases through all 13 steps.
  steps = opts.steps > 0             ? opts.steps
          : world.chance(0.05) ? 500 + static_cast<int>(world.uniform(200))
                               : 100 + static_cast<int>(world.uniform(150));
  first_sop_ = world.chance(0.5) ? "LAKIP" : "DATA-LAKIP";
}

Sim::~Sim() {
  for (auto& c : clients) {
    if (c.session && !c.session->finished()) c.session->kill();
    c.session.reset();
    c.api.reset();
  }
  server.service.reset();
  server.db.reset();
  crypto::set_random_source_for_testing(nullptr);
}

void Sim::setup() {
  server.uri = memdb_uri(seed, "server");
  server.keeper = std::make_unique<sql::Database>(server.uri, keeper_options());
  server.clock = std::make_unique<SimClock>(world, 0);
  server.db = std::make_unique<server::ServerDb>(sql::File{server.uri});
  server.service = std::make_unique<server::SyncService>(*server.db, templates(), *server.clock);
  OrgFile f = parse_org_file(testing::demo_org_json());
  for (const auto& [user, pw] : f.passwords) {
    const Person* p = f.org.find(user);
    server.db->upsert_user(user, p->name, crypto::hash_password(pw, crypto::KdfParams{.n = 16}));
  }
  org = f.org;
  server::commit_server_change(*server.db, templates(), *server.clock, sync::op::kOrgSet, "org",
                               json(org).dump());
  import_data_template();
  plan_delegation();
  // Each official enrols a device over the plain in-memory transport of the client tests:
  // enrolment is not what this simulation is about.
  client::testing::MemoryNetwork setup_net(*server.service);
  for (const auto& [user, pw] : f.passwords) {
    Client c;
    c.user = user;
    c.uri = memdb_uri(seed, "c-" + user);
    c.keeper = std::make_unique<sql::Database>(c.uri, keeper_options());
    // Hours of skew, either way, for some officials' PCs.
    Millis skew = world.chance(0.4) ? static_cast<Millis>(world.uniform(12 * kHour)) - 6 * kHour : 0;
    c.clock = std::make_unique<SimClock>(world, skew);
    client::Api setup(std::make_unique<client::Replica>(sql::File{c.uri}), *c.clock,
                      setup_net.connector());
    setup.set_kdf_for_testing(alur::testing::kFastKdf);  // thousands of seeds
    json r = setup.enroll(kUrl, user, pw, client::testing::test_fingerprint(),
                          alur::testing::passphrase_of(user));
    if (!r.value("synced", false)) throw std::runtime_error("setup: first sync failed");
    c.replica = r.at("replica").get<std::string>();
    clients.push_back(std::move(c));
  }
  server.service.reset();  // sessions of the setup network end here
  server.service = std::make_unique<server::SyncService>(*server.db, templates(), *server.clock);
  install_server_hook();
  for (std::size_t i = 0; i < clients.size(); ++i) open_client(static_cast<int>(i));
}

const TemplateRegistry& Sim::templates() { return TemplateRegistry::builtin(); }

void Sim::install_server_hook() {
  server.db->db().set_fault_hook([this](sql::FaultPoint, std::string_view) {
    if (chaos.on && !observing_ && world.chance(chaos.server_crash_per_stmt)) throw Crash{};
  });
}

void Sim::open_client(int i) {
  Client& c = clients[i];
  auto replica = std::make_unique<client::Replica>(sql::File{c.uri});
  // What `alur` checks on every start: a crash must never leave a damaged replica.
  if (auto problems = replica->quick_check(); !problems.empty())
    fail(c.user + ": replica damaged after a restart: " + problems.front());
  c.api = std::make_unique<client::Api>(
      std::move(replica), *c.clock,
      [this, i](const std::string&, const std::string&) { return connect(i); });
  c.api->replica().db().set_fault_hook([this](sql::FaultPoint, std::string_view) {
    if (chaos.on && !observing_ && world.chance(chaos.client_crash_per_stmt)) throw Crash{};
  });
  c.up = true;
  check_growth(i, "after opening the replica");
}

void Sim::crash_server(const std::string& where) {
  if (!server.up) return;
  ++stats.server_crashes;
  log("SERVER CRASH " + where);
  server.up = false;
  ++server.epoch;
  for (auto& weak : server.links)
    if (auto l = weak.lock()) {
      l->dead = true;
      wake(l);
    }
  server.links.clear();
  server.service.reset();
  server.db.reset();  // the connection closes; what was not committed is gone
  world.at(world.now + 1000 + static_cast<Millis>(world.uniform(30'000)), [this] { restart_server(); });
}

void Sim::restart_server() {
  if (server.up) return;
  server.db = std::make_unique<server::ServerDb>(sql::File{server.uri});
  server.service = std::make_unique<server::SyncService>(*server.db, templates(), *server.clock);
  install_server_hook();
  server.up = true;
  log("server restarted");
  check_server_growth("after a restart");
}

// The server's version vector — how far it has received each device's chain — and its
// commit head never go back, crashes included.
void Sim::check_server_growth(const std::string& when) {
  Observing quiet(observing_);
  for (const auto& d : server.db->devices()) {
    auto& seen = server_vv_[d.replica];
    if (d.last_counter < seen)
      fail("server: received counter of " + d.replica + " went back from " +
           std::to_string(seen) + " to " + std::to_string(d.last_counter) + " " + when);
    seen = std::max(seen, d.last_counter);
  }
  std::uint64_t head = server.db->head();
  if (head < server_head_)
    fail("server: commit head went back from " + std::to_string(server_head_) + " to " +
         std::to_string(head) + " " + when);
  server_head_ = std::max(server_head_, head);
}

void Sim::crash_client(int i, const std::string& where) {
  Client& c = clients[i];
  if (!c.up) return;
  ++stats.client_crashes;
  log(c.user + " CRASH " + where);
  if (c.session && !c.session->finished()) c.session->kill();
  c.session.reset();
  c.api.reset();
  c.up = false;
  world.at(world.now + 1000 + static_cast<Millis>(world.uniform(60'000)), [this, i] {
    if (!clients[i].up) open_client(i);
  });
}

// --- Sessions --------------------------------------------------------------------------------

void Sim::start_sync(int i) {
  Client& c = clients[i];
  ++stats.syncs;
  c.session = std::make_unique<Coop>([this, i] {
    Client& me = clients[i];
    try {
      json r = me.api->sync();
      me.last_sync_ok = true;
      log(me.user + " synced " + r.dump());
    } catch (const Error& e) {
      me.last_sync_ok = false;
      ++stats.sync_failures;
      log(me.user + " sync failed: " + e.code() + " " + e.what());
    } catch (const Crash&) {
      me.crashed_in_session = true;
    }
  });
  const std::uint64_t serial = ++c.sessions;
  if (chaos.on && world.chance(chaos.kill_client_in_session)) {
    world.at(world.now + static_cast<Millis>(world.uniform(200)), [this, i, serial] {
      Client& me = clients[i];
      if (chaos.on && me.sessions == serial && me.session && !me.session->finished())
        crash_client(i, "killed mid-sync");
    });
  }
  resume_client(i);
}

void Sim::resume_client(int i) {
  Client& c = clients[i];
  if (!c.session || c.session->finished()) return;
  bool done = c.session->resume();
  if (!done) return;
  c.session.reset();
  if (c.crashed_in_session) {
    c.crashed_in_session = false;
    crash_client(i, "inside a sync session");
    return;
  }
  check_growth(i, "after a sync");
}

bool Sim::busy(int i) const { return clients[i].session != nullptr; }

void Sim::check_growth(int i, const std::string& when) {
  Client& c = clients[i];
  if (!c.up) return;
  Observing quiet(observing_);
  client::Replica& r = c.api->replica();
  std::uint64_t cursor = r.cursor();
  std::uint64_t counter = std::stoull(r.meta("counter").value_or("0"));
  if (cursor < c.max_cursor)
    fail(c.user + ": cursor went back from " + std::to_string(c.max_cursor) + " to " +
         std::to_string(cursor) + " " + when);
  if (counter < c.max_counter)
    fail(c.user + ": change counter went back from " + std::to_string(c.max_counter) + " to " +
         std::to_string(counter) + " " + when);
  c.max_cursor = std::max(c.max_cursor, cursor);
  c.max_counter = std::max(c.max_counter, counter);
}

void Sim::fail(const std::string& what) {
  if (failure.empty()) failure = what;
}

// --- Templates and delegations ----------------------------------------------------------------
//
// Besides the built-in LAKIP SOP, every seed runs the synthetic DATA-LAKIP template
// (tests/fixtures/sop/data-lakip.json: a decision that returns the case, parallel branches
// that join, a step any of two roles may do), imported the way `alur-server sop import`
// does, so that the replicas receive it by syncing. Some seeds appoint a Plt./Plh. the way
// `alur-server delegate add` does, at the start or while officials work, and some end it
// early (`delegate end`) while the delegate may still hold unsynced actions.

namespace {

const std::string& data_template_text() {
  static const std::string text = alur::testing::fixture("sop/data-lakip.json");
  return text;
}

// Who may be appointed to act in which role (the demo org's officials).
struct Appointment {
  const char* username;
  const char* role;
  std::optional<std::string> bidang;
  const char* kind;
};
const Appointment kAppointments[] = {
    {"pelaksana", "sekretaris", std::nullopt, "plh"},
    {"kasubag", "kadis", std::nullopt, "plt"},
    {"sekretaris", "kasubag_kpe", std::nullopt, "plh"},
    {"kabid_ukm", "kabid", "koperasi", "plt"},
    {"kadis", "pelaksana_kpe", std::nullopt, "plh"},
};

}  // namespace

void Sim::import_data_template() {
  json r = server::import_template(*server.db, templates(), *server.clock, data_template_text());
  if (!r.value("imported", false)) throw std::runtime_error("setup: DATA-LAKIP not imported");
}

// An administrator's command, run the way the CLI runs it: its own connection to the
// server's database (the server may be up or down), one committed server change.
void Sim::admin(const std::string& what, std::function<void()> change) {
  try {
    change();
    log("admin: " + what);
  } catch (const Error& e) {
    log("admin refused: " + what + ": " + e.code() + " " + e.what());
  }
}

void Sim::plan_delegation() {
  if (!world.chance(0.4)) return;
  const Appointment& a = kAppointments[world.uniform(std::size(kAppointments))];
  Delegation d;
  d.username = a.username;
  d.role = a.role;
  d.bidang = a.bidang;
  d.kind = a.kind;
  d.from = format_date_wib(kStart);
  d.until = format_date_wib(kStart + 30 * 24 * kHour);
  d.note = "Surat Perintah (simulasi)";
  const bool at_start = world.chance(0.5);
  const Millis set_at = at_start ? 0 : static_cast<Millis>(world.uniform(3 * 60'000));
  const bool ends = world.chance(0.5);
  const Millis end_after = static_cast<Millis>(world.uniform(5 * 60'000));
  auto set = [this, d] {
    std::string what = "delegate add " + d.username + " as " + d.kind + " " + d.role;
    admin(what, [this, d] {
      server::ServerDb db(sql::File{server.uri});
      delegation_ = server::add_delegation(db, templates(), *server.clock, d);
    });
  };
  auto end = [this] {
    if (delegation_.empty()) return;
    admin("delegate end " + delegation_, [this] {
      server::ServerDb db(sql::File{server.uri});
      server::end_delegation(db, templates(), *server.clock, delegation_);
    });
  };
  if (at_start)
    set();
  else
    world.at(kStart + set_at, set);
  if (ends) world.at(kStart + set_at + 1 + end_after, end);
}

// May official c do task t now, as c's client sees it: holds one of the step's roles, or is
// delegated one that lasts by c's clock.
bool Sim::may_do(const Client& c, const Org& o, const Template& tpl, const sync::TaskState& t) const {
  const StepDef* s = tpl.step(t.step);
  if (!s) return false;
  for (const auto& role : s->actors)
    if (o.may_act(c.user, role, t.bidang, c.clock->now_ms())) return true;
  return false;
}

// The outcome chosen at a decision step: mostly one of the step's, now and then none (the
// client refuses it at once); a returning outcome needs its reason, mostly given.
std::string Sim::choose_outcome(const StepDef& s, std::string& words) {
  if (s.outcomes.empty() || world.chance(0.03)) return "";
  const DecisionOutcome& o = s.outcomes[world.uniform(s.outcomes.size())];
  if (o.return_to && words.empty() && world.chance(0.9)) words = "ditolak: " + text(1);
  return o.code;
}

// --- Workload --------------------------------------------------------------------------------

namespace {

const char* kWords[] = {"capaian", "kinerja", "triwulan", "indikator", "realisasi", "target",
                        "anggaran", "koperasi", "usaha", "mikro", "program", "kegiatan"};

}  // namespace

std::string Sim::text(int lines) {
  std::string out;
  for (int l = 0; l < lines; ++l) {
    int words = 2 + static_cast<int>(world.uniform(6));
    for (int w = 0; w < words; ++w) {
      if (w) out += ' ';
      out += kWords[world.uniform(std::size(kWords))];
    }
    out += '\n';
  }
  return out;
}

std::string Sim::draft_text(client::Replica& r, const sync::CaseState& c, const std::string& draft) {
  // Edit the newest head when its text is here: concurrent edits of one base are what makes
  // two heads, and a clean 3-way merge possible.
  auto d = c.drafts.find(draft);
  if (d != c.drafts.end() && !d->second.heads().empty()) {
    const auto& rev = d->second.revisions.at(d->second.heads().back());
    if (auto data = r.blob(rev.sha256)) {
      auto fresh_line = [this] {
        std::string l = text(1);
        l.pop_back();  // its newline
        return l;
      };
      std::vector<std::string> lines;
      std::istringstream in(*data);
      for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
      if (!lines.empty()) lines[world.uniform(lines.size())] = fresh_line();  // edit one line
      lines.insert(lines.begin() + static_cast<long>(world.uniform(lines.size() + 1)),
                   fresh_line());  // and add one
      std::string out;
      for (const auto& l : lines) out += l + "\n";
      return out;
    }
  }
  return text(3 + static_cast<int>(world.uniform(6)));
}

void Sim::schedule_action(int i) {
  world.at(world.now + 500 + static_cast<Millis>(world.uniform(40'000)), [this, i] {
    if (steps_done >= steps) return;
    if (!clients[i].up || busy(i)) {
      schedule_action(i);
      return;
    }
    ++steps_done;
    ++stats.actions;
    try {
      act(i);
    } catch (const Crash&) {
      crash_client(i, "during a local action");
    } catch (const Error& e) {
      ++stats.refused_locally;
      log(clients[i].user + " refused: " + e.code() + " " + e.what());
    }
    if (clients[i].up && !busy(i)) check_growth(i, "after an action");
    schedule_action(i);
  });
}

void Sim::made(int i, const std::string& what) {
  Client& c = clients[i];
  Observing quiet(observing_);
  std::uint64_t counter = std::stoull(c.api->replica().meta("counter").value_or("0"));
  c.made.insert(counter);
  ++stats.changes_made;
  log(c.user + " " + what + " #" + std::to_string(counter));
  // Many officials keep `sync --watch` running: their change leaves soon after it is made.
  if (world.chance(0.6))
    world.at(world.now + 200 + static_cast<Millis>(world.uniform(3000)), [this, i] {
      if (clients[i].up && !busy(i) && steps_done < steps) start_sync(i);
    });
}

void Sim::act(int i) {
  Client& c = clients[i];
  client::Api& api = *c.api;
  client::Replica& r = api.replica();
  if (world.chance(0.25)) {
    start_sync(i);
    return;
  }
  client::View v = r.view(templates());
  std::vector<std::string> cases = v.case_ids();
  // My inbox: ready tasks of mine (in any of their step's roles, held or delegated), in
  // every case of either SOP.
  std::vector<std::pair<std::string, std::string>> inbox;  // (case, task key)
  for (const auto& cid : cases) {
    const auto cc = v.load_case(cid);
    const auto ctpl = sync::find_template(v, templates(), cc->sop, cc->version);
    for (const auto& t : cc->tasks)
      if (t.state == "ready" && ctpl && may_do(c, v.org(), *ctpl, t)) inbox.emplace_back(cid, t.key);
  }
  if (inbox.empty() && !cases.empty() && world.chance(0.5)) {
    start_sync(i);  // nothing of mine is ready: has someone finished theirs?
    return;
  }
  const int roll = inbox.empty() ? 62 + static_cast<int>(world.uniform(38))
                                 : static_cast<int>(world.uniform(100));
  if (cases.empty() && !v.org().holds(c.user, "sekretaris", std::nullopt) &&
      !v.org().holds(c.user, "kasubag_kpe", std::nullopt) && world.chance(0.9)) {
    start_sync(i);  // nothing to do yet: see whether a case has been opened
    return;
  }
  if (cases.empty() || roll >= 96) {
    const char* periods[] = {"2026-Q1", "2026-Q2", "2026-Q3"};
    const std::string sop = cases.empty() ? first_sop_ : world.chance(0.5) ? "LAKIP" : "DATA-LAKIP";
    api.case_open(sop, periods[world.uniform(cases.empty() ? 1 : 3)]);
    made(i, "opened a case");
    return;
  }
  auto mine = inbox.empty() ? std::pair<std::string, std::string>{}
                            : inbox[world.uniform(inbox.size())];
  const std::string id = roll < 62 && !inbox.empty() ? mine.first
                                                     : cases[world.uniform(cases.size())];
  sync::CaseState cs = *v.load_case(id);
  const auto tpl = sync::find_template(v, templates(), cs.sop, cs.version);
  if (!tpl) throw std::runtime_error("a case of an unknown template on " + c.user + "'s replica");
  auto pick_task = [&](bool mine_ready) -> const sync::TaskState* {
    if (mine_ready && !inbox.empty() && mine.first == id) return cs.task(mine.second);
    std::vector<const sync::TaskState*> ts;
    for (const auto& t : cs.tasks)
      if (!mine_ready || (t.state == "ready" && may_do(c, v.org(), *tpl, t)))
        ts.push_back(&t);
    return ts.empty() ? nullptr : ts[world.uniform(ts.size())];
  };
  auto draft_names = [&] {
    std::vector<std::string> names;
    for (const auto& [name, d] : cs.drafts) names.push_back(name);
    return names;
  };

  if (roll < 62) {  // the official's own work: a ready task of theirs, done properly
    const sync::TaskState* t = pick_task(true);
    if (!t) t = pick_task(false);  // nothing of mine: try something that is not mine
    const StepDef* s = tpl->step(t->step);
    std::optional<client::Attachment> file;
    std::string words;
    if (s->kind == "draft" ||
        (!s->draft.empty() && (s->kind == "prepare" || s->kind == "meeting" ||
                               s->kind == "review") && world.chance(0.4)))
      file = client::Attachment{draft_text(r, cs, s->draft), s->draft + ".txt"};
    if (s->kind == "disposition" || s->kind == "meeting" || s->kind == "correct" ||
        world.chance(0.3))
      words = text(1);
    const std::string outcome = s->kind == "decision" ? choose_outcome(*s, words) : "";
    api.act(sync::task_id(id, t->key), words, file, outcome,
            alur::testing::passphrase_of(c.user));
    made(i, "did step " + t->key);
  } else if (roll < 64) {  // a return for revision, racing with the completions
    const sync::TaskState* t = pick_task(true);
    if (!t) t = pick_task(false);
    int to = 1 + static_cast<int>(world.uniform(static_cast<std::uint64_t>(std::max(1, t->step))));
    api.return_task(sync::task_id(id, t->key), to, "perbaiki: " + text(1));
    made(i, "returned " + t->key + " to " + std::to_string(to));
  } else if (roll < 73) {  // dispositions edited concurrently
    if (cs.dispositions.empty()) return;
    auto it = cs.dispositions.begin();
    std::advance(it, static_cast<long>(world.uniform(cs.dispositions.size())));
    api.disposition_set(sync::task_id(id, it->first), text(1));
    made(i, "edited a disposition");
  } else if (roll < 81) {  // concurrent draft revisions, and merging them
    auto names = draft_names();
    if (names.empty()) return;
    const std::string name = names[world.uniform(names.size())];
    if (cs.drafts.at(name).heads().size() == 2 && world.chance(0.5)) {
      api.draft_merge(id, name);
      made(i, "merged " + name);
    } else {
      api.draft_put(id, name, client::Attachment{draft_text(r, cs, name), name + ".txt"});
      made(i, "revised " + name);
    }
  } else if (roll < 89) {  // corrections added, resolved and reopened concurrently
    if (!cs.corrections.empty() && world.chance(0.6)) {
      auto it = cs.corrections.begin();
      std::advance(it, static_cast<long>(world.uniform(cs.corrections.size())));
      api.correction_status(id, it->first, world.chance(0.6) ? "resolved" : "reopened");
      made(i, "set a correction's status");
    } else {
      auto names = draft_names();
      if (names.empty()) return;
      api.correction_add(id, names[world.uniform(names.size())], "koreksi: " + text(1));
      made(i, "added a correction");
    }
  } else if (roll < 92) {  // any task at all, whoever it belongs to: mostly refused locally
    const sync::TaskState* t = pick_task(false);
    api.act(sync::task_id(id, t->key), text(1), std::nullopt, "",
            alur::testing::passphrase_of(c.user));
    made(i, "did someone's step " + t->key);
  } else {  // (92..95) a hand-made change that skips the client's checks: the server guards
    rogue(i, id, cs, *tpl);
  }
}

void Sim::rogue(int i, const std::string& case_id, const sync::CaseState& cs, const Template& tpl) {
  Client& c = clients[i];
  client::Replica& r = c.api->replica();
  const sync::TaskState& t = cs.tasks[world.uniform(cs.tasks.size())];
  json body{{"round", world.chance(0.8) ? t.round : t.round + 1}};
  if (world.chance(0.5)) body["text"] = text(1);
  if (const StepDef* s = tpl.step(t.step); s && !s->outcomes.empty() && world.chance(0.9))
    body["outcome"] = world.chance(0.9) ? s->outcomes[world.uniform(s->outcomes.size())].code
                                        : std::string("batal");
  const bool ret = world.chance(0.2);
  if (ret) {
    body["to_step"] = 1 + static_cast<int>(world.uniform(tpl.steps.size() + 1));
    body["reason"] = "kembali";
  }
  sync::Change ch = r.next_change("task/" + case_id + "/" + t.key,
                                  ret ? sync::op::kCaseReturn : sync::op::kTaskComplete, body.dump(),
                                  {}, *c.clock);
  client::testing::store_unchecked(r, ch);
  ++stats.rogue_changes;
  made(i, "ROGUE " + std::string(ret ? "return " : "complete ") + t.key);
}

// --- The run ---------------------------------------------------------------------------------

void Sim::run_until(const std::function<bool()>& done, Millis limit) {
  const Millis end = world.now + limit;
  while (!done() && failure.empty() && world.now <= end) {
    if (!world.step()) break;
  }
}

void Sim::tick() {
  world.at(world.now + 2000, [this] {
    if (server.up) {
      try {
        server.service->tick();
      } catch (const Crash&) {
        crash_server("during tick");
      }
    }
    if (server.up) check_server_growth("on a tick");
    if (!draining_ || !quiet_) tick();
  });
}

Result Sim::run() {
  Result result;
  try {
    setup();
    tick();
    for (std::size_t i = 0; i < clients.size(); ++i) schedule_action(static_cast<int>(i));
    run_until([this] { return steps_done >= steps; }, 48 * kHour);
    heal_and_drain();
    if (failure.empty()) check();
  } catch (const std::exception& e) {
    fail(std::string("unexpected exception: ") + e.what());
  } catch (const Coop::Killed&) {
    fail("a killed session escaped");
  } catch (const Crash&) {
    fail("a crash escaped its node");
  }
  result.ok = failure.empty();
  result.failure = failure;
  stats.seeds = 1;
  result.stats = stats;
  return result;
}

void Sim::heal_and_drain() {
  log("--- the network heals; every node restarts and drains ---");
  chaos.on = false;
  draining_ = true;
  // Whatever is still in flight lands or times out; crashed nodes come back.
  run_until([this] {
    if (!server.up) return false;
    for (std::size_t i = 0; i < clients.size(); ++i)
      if (!clients[i].up || busy(static_cast<int>(i))) return false;
    return true;
  }, 10 * 60'000);
  if (!server.up) restart_server();
  for (std::size_t i = 0; i < clients.size(); ++i)
    if (!clients[i].up) open_client(static_cast<int>(i));
  // Everyone syncs, round after round, until a whole round changes nothing.
  for (int round = 0; round < 8 && failure.empty(); ++round) {
    const std::uint64_t head_before = server.db->head();
    bool all_ok = true;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      if (!clients[i].up) {
        fail(clients[i].user + ": went down on a healed network");
        return;
      }
      start_sync(static_cast<int>(i));
      run_until([this, i] { return !busy(static_cast<int>(i)); }, 10 * 60'000);
      if (busy(static_cast<int>(i))) {
        fail(clients[i].user + ": a sync did not finish on a healed network");
        return;
      }
      all_ok = all_ok && clients[i].last_sync_ok;
    }
    if (!all_ok) continue;
    bool settled = server.db->head() == head_before;
    for (auto& c : clients)
      settled = settled && c.api->replica().count_pending() == 0 &&
                c.api->replica().cursor() == server.db->head();
    if (settled) {
      quiet_ = true;
      return;
    }
  }
  if (failure.empty()) {
    std::string why;
    for (auto& c : clients) {
      if (!c.last_sync_ok) why += " " + c.user + "'s last sync failed;";
      why += " " + c.user + " pending=" + std::to_string(c.api->replica().count_pending()) +
             " cursor=" + std::to_string(c.api->replica().cursor());
    }
    fail("did not converge after 8 rounds of syncing on a healed network (server head " +
         std::to_string(server.db->head()) + "):" + why);
  }
}

Result run_seed(std::uint64_t seed, const Options& options) {
  Sim sim(seed, options);
  return sim.run();
}

}  // namespace alur::sim
