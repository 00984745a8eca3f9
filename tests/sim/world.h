// The simulator's world (see sim.h): one event queue with a simulated clock, links between
// clients and the server, the nodes, and the Sim that runs one seed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "alur/client/api.h"
#include "alur/client/transport.h"
#include "alur/net/ws_server.h"
#include "alur/server/server_db.h"
#include "alur/server/sync_service.h"
#include "alur/shared/clock.h"
#include "alur/shared/org.h"
#include "alur/shared/sop_template.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/case_state.h"
#include "coop.h"
#include "sim.h"

namespace alur::sim {

// A node dies here: thrown by the SQLite fault hooks between statements. Deliberately not
// a std::exception, so that no handler of the code under test swallows it.
struct Crash {};

class World {
 public:
  Millis now = 0;
  std::mt19937_64 rng;

  void at(Millis t, std::function<void()> fn);  // t in the past means now
  bool step();                                  // runs the next event; false if none
  std::uint64_t uniform(std::uint64_t n);       // 0 .. n-1
  bool chance(double p);

 private:
  struct Event {
    Millis at;
    std::uint64_t seq;  // ties run in the order they were scheduled
    std::function<void()> fn;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::uint64_t next_seq_ = 0;
};

// A node's wall clock: the simulated time, off by the node's skew.
class SimClock final : public Clock {
 public:
  SimClock(const World& w, Millis skew) : world_(w), skew_(skew) {}
  Millis now_ms() const override { return world_.now + skew_; }

 private:
  const World& world_;
  Millis skew_;
};

// One connection. Messages keep their order in each direction (it is a TCP stream), and
// take a random delay.
struct Link {
  int client = -1;
  std::uint64_t id = 0;
  int epoch = 0;         // the server incarnation it was opened to
  bool dead = false;     // closed or cut: both ends know (eventually)
  bool stalled = false;  // a black hole: carries nothing, tells nobody
  bool ghost = false;    // a replay of another link's bytes; its replies go nowhere
  bool server_closing = false;
  Millis last_c2s = 0, last_s2c = 0;
  std::deque<std::string> inbox;  // delivered to the client, not yet read
  std::vector<std::string> sent;  // what the client sent (for replays)
  int waiter = -1;                // the client parked in receive(), if any
  std::uint64_t wait_token = 0;
  std::shared_ptr<net::Connection> conn;
};

// How hostile this seed's run is.
struct Chaos {
  bool on = true;
  std::uint64_t max_delay_ms = 10;
  double server_crash_per_stmt = 0;
  double client_crash_per_stmt = 0;
  double kill_client_in_session = 0;
  double cut_per_connection = 0;
  double stall_per_connection = 0;
  double replay_after_cut = 0;
  double connect_fail = 0;
};

struct ServerNode {
  std::string uri;
  std::unique_ptr<sql::Database> keeper;  // keeps the in-memory "disk" while the node is down
  std::unique_ptr<SimClock> clock;
  std::unique_ptr<server::ServerDb> db;
  std::unique_ptr<server::SyncService> service;
  bool up = true;
  int epoch = 0;
  std::vector<std::weak_ptr<Link>> links;
};

struct Client {
  std::string user;
  std::string replica;
  std::string uri;
  std::unique_ptr<sql::Database> keeper;
  std::unique_ptr<SimClock> clock;
  std::unique_ptr<client::Api> api;
  std::unique_ptr<Coop> session;  // a sync in progress
  std::uint64_t sessions = 0;     // serial number of the latest session
  bool up = true;
  bool crashed_in_session = false;
  bool last_sync_ok = false;
  std::uint64_t max_cursor = 0, max_counter = 0;
  std::set<std::uint64_t> made;  // counters of the changes this official wrote
};

class Sim {
 public:
  Sim(std::uint64_t seed, const Options& options);
  ~Sim();
  Result run();

  // Network (called by SimTransport / SimConn).
  std::unique_ptr<client::Transport> connect(int client);
  void client_send(const std::shared_ptr<Link>& link, const std::string& message);
  void server_send(const std::shared_ptr<Link>& link, const std::string& message);
  void server_close(const std::shared_ptr<Link>& link, const std::string& reason);
  void end_link(const std::shared_ptr<Link>& link, const std::string& why);
  void park(const std::shared_ptr<Link>& link, Millis deadline);

  World world;

 private:
  static const TemplateRegistry& templates();
  void setup();
  void install_server_hook();
  void open_client(int i);
  void crash_server(const std::string& where);
  void restart_server();
  void crash_client(int i, const std::string& where);
  void start_sync(int i);
  void resume_client(int i);
  bool busy(int i) const;
  void wake(const std::shared_ptr<Link>& link);
  void deliver_to_server(const std::shared_ptr<Link>& link, const std::string& message);
  void cut(const std::shared_ptr<Link>& link);
  Millis delay();
  void tick();
  void schedule_action(int i);
  void act(int i);
  void rogue(int i, const std::string& case_id, const sync::CaseState& cs, const Template& tpl);
  void made(int i, const std::string& what);
  // The second template and acting officials (workload, see "Templates and delegations").
  void import_data_template();
  void plan_delegation();
  void admin(const std::string& what, std::function<void()> change);
  bool may_do(const Client& c, const Org& org, const Template& tpl, const sync::TaskState& t) const;
  std::string choose_outcome(const StepDef& s, std::string& words);
  std::string text(int lines);
  std::string draft_text(client::Replica& r, const sync::CaseState& c, const std::string& draft);
  void run_until(const std::function<bool()>& done, Millis limit);
  void heal_and_drain();
  void check();  // checks.cpp
  void check_growth(int i, const std::string& when);
  void check_server_growth(const std::string& when);
  void fail(const std::string& what);
  void log(const std::string& line);

  std::uint64_t seed;
  Options options;
  std::mt19937_64 random_;  // the source of random_bytes (ids, tokens, keys)
  Chaos chaos;
  int steps = 0, steps_done = 0;
  std::string first_sop_;  // the SOP of the first cases opened (two opens race)
  std::string delegation_;  // the id of this seed's Plt./Plh. appointment, once made
  bool draining_ = false, quiet_ = false;
  // Set while the simulator itself reads a node's database: no crash points there.
  bool observing_ = false;
  struct Observing {
    explicit Observing(bool& flag) : flag_(flag), was_(flag) { flag_ = true; }
    ~Observing() { flag_ = was_; }
    bool& flag_;
    bool was_;
  };
  std::uint64_t next_link_ = 0;
  ServerNode server;
  std::vector<Client> clients;
  Org org;
  Stats stats;
  std::string failure;
  std::map<std::string, std::uint64_t> server_vv_;  // highest received counter per device
  std::uint64_t server_head_ = 0;
};

}  // namespace alur::sim
