// alur_load: drives a real alur-server process over wss:// on loopback with simulated
// replicas that speak the real protocol (the codebase's codec, WsClient and Replica), and
// prints one line per figure: metric=NAME value=NUMBER unit=UNIT target=NUMBER.
//
//   alur_load push      --changes N   one replica pushes N pending changes; also the raw
//                                     SQLite floor and the ratio between the two; then the
//                                     server is killed (SIGKILL) and restarted: how long
//                                     until it serves again; the database's bytes per
//                                     change; `alur-server verify` of the whole record
//   alur_load bootstrap --changes N --client-bin ALUR [--runs R]
//                                     a new replica (the real `alur sync`, whole process)
//                                     pulls and materializes N committed changes; the
//                                     median of R such replicas (default 3); then
//                                     `alur verify` and `alur status` of that replica
//   alur_load live      --replicas N [--compression on]  N idle sessions: server memory
//                                     per connection, and how long one commit takes to
//                                     reach all of them (Notify); compressed, each session
//                                     has first pulled a few KiB the server deflated
//   alur_load office-day --replicas N [--seconds S] [--units U]  N replicas each pushing a
//                                     small batch every 3 s and pulling what they were
//                                     notified of; with U > 1 they belong to U units (dinas)
//                                     of one server (a pemda's), N / U each
//   alur_load conflict  --changes N   two replicas mark the same N corrections offline in
//                                     conflicting ways, then both sync until converged
//   alur_load inbox     --changes N --client-bin ALUR
//                                     a replica with N cases (several SOPs and periods)
//                                     of which a few wait for its official: `alur inbox`,
//                                     whole process
//   alur_load live-nodes --replicas N --store postgresql://…  two server nodes on one
//                                     database: N idle sessions on one, a commit through
//                                     the other, how long until all of them have a Notify
//   alur_load field     --changes N --client-bin ALUR [--kbit K] [--rtt MS]
//                       [--compression on|off]
//                                     a field laptop back after a month offline: the real
//                                     `alur sync` pulls N changes through a slow line (a
//                                     proxy: K kbit/s each way, MS ms round trip; default
//                                     1,000 kbit/s and 150 ms): how long, and bytes per
//                                     change; then another laptop pushes N of its own.
//                                     Compressed (permessage-deflate) unless told off: a
//                                     laptop asks for it off loopback, and the proxy is a
//                                     remote server's stand-in
//   alur_load rollout   --replicas M --changes N  M new replicas pull a record of N
//                                     changes at once from a freshly restarted server:
//                                     entries delivered per second in all, the slowest
// --store URL (any scenario): the server's records in that (empty) database, not in DATA.
//
// Set-up (not timed): `alur-server init` and `org import` through the real binary; devices
// are written straight into the server's database (enrolment runs scrypt on purpose, which
// is not what these figures measure); then `alur-server serve` is started as a process.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "alur/net/ws_client.h"
#include "alur/server/server_db.h"
#include "alur/server/units.h"
#ifdef ALUR_WITH_POSTGRESQL
#include "alur/server/pg_store.h"
#endif
#include "alur/shared/clock.h"
#include "alur/shared/crypto.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/messages.h"
#include "bench/workload.h"

namespace fs = std::filesystem;
using namespace alur;
using Clk = std::chrono::steady_clock;
using bench::Device;
using bench::kDraftText;
using bench::next_change;
using bench::office_workload;

namespace {

constexpr std::size_t kBatch = 1000;  // the server's kMaxChangesPerPush
constexpr std::size_t kPushWindow = 4;  // batches in flight, as the real client
constexpr std::chrono::milliseconds kTimeout{120'000};

double seconds_since(Clk::time_point t0) {
  return std::chrono::duration<double>(Clk::now() - t0).count();
}

double median_ms(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void metric(const std::string& name, double value, const std::string& unit, double target) {
  std::cout << "metric=" << name << " value=" << value << " unit=" << unit
            << " target=" << target << std::endl;
}

// Resident memory of a process, in bytes (/proc/PID/status VmRSS).
std::int64_t rss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + command);
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error("failed: " + command + "\n" + out);
  return out;
}

const char* kOrg = R"json({
  "unit": "Dinas Uji Beban",
  "bidang": [{"code": "koperasi", "name": "Bidang Koperasi"}],
  "users": [
    {"username": "kadis", "name": "Kepala", "password": "kadis-rahasia-1", "roles": [{"role": "kadis"}]},
    {"username": "sekretaris", "name": "Sekretaris", "password": "sekre-rahasia-1", "roles": [{"role": "sekretaris"}]},
    {"username": "kabid", "name": "Kabid", "password": "kabid-rahasia-1", "roles": [{"role": "kabid", "bidang": "koperasi"}]},
    {"username": "kasubag", "name": "Kasubag", "password": "kasubag-rahasia", "roles": [{"role": "kasubag_kpe"}]},
    {"username": "pelaksana", "name": "Pelaksana", "password": "pelaksana-rahasia", "roles": [{"role": "pelaksana_kpe"}]}
  ]})json";

// --store: where the server keeps its records ("": DATA/alur-server.db).
std::string store_url;

// live --compression on: every idle session asks for compression and pulls once.
bool live_compressed = false;

std::string store_option() { return store_url.empty() ? "" : " --store '" + store_url + "'"; }

std::unique_ptr<server::ServerStore> open_store(const fs::path& dir) {
  if (store_url.empty()) return std::make_unique<server::ServerDb>(dir.string());
#ifdef ALUR_WITH_POSTGRESQL
  return std::make_unique<server::PgStore>(store_url);
#else
  throw std::runtime_error("alur_load was built without PostgreSQL");
#endif
}

// A real alur-server in a temporary data folder, started as a process.
class Server {
 public:
  Server(std::string bin, fs::path dir) : bin_(std::move(bin)), dir_(std::move(dir)) {
    fs::create_directories(dir_);
    run_capture(bin_ + " init --data " + dir_.string() + " --names 127.0.0.1" + store_option() +
                " 2>&1");
    std::ofstream(dir_ / "org.json") << kOrg;
    run_capture(bin_ + " org import --data " + dir_.string() + " " + (dir_ / "org.json").string() +
                store_option() + " 2>&1");
    fingerprint_ = run_capture(bin_ + " fingerprint --data " + dir_.string());
    fingerprint_.erase(fingerprint_.find_last_not_of("\n") + 1);
  }
  ~Server() { stop(); }
  // Another node of the same store (--store), with the same TLS identity; not started.
  struct AnotherNode {};
  Server(const Server& first, AnotherNode)
      : bin_(first.bin_), dir_(first.dir_), fingerprint_(first.fingerprint_), node_(first.node_ + 1) {}

  // A unit (dinas) of this server (`alur-server unit add`) with the same organisation.
  void add_unit(const std::string& code) {
    if (!store_url.empty()) throw std::runtime_error("units: SQLite only (no --store)");
    run_capture(bin_ + " unit add --data " + dir_.string() + " " + code + " 2>&1");
    run_capture(bin_ + " org import --data " + dir_.string() + " --unit " + code + " " +
                (dir_ / "org.json").string() + " 2>&1");
  }

  // n devices of `username`, in `unit` ("" for the data folder's own).
  std::vector<Device> add_devices(const std::string& username, std::size_t n,
                                  const std::string& unit = "") {
    auto store = unit.empty() ? open_store(dir_)
                              : std::make_unique<server::ServerDb>(server::unit_dir(dir_.string(), unit).string());
    server::ServerStore& db = *store;
    std::vector<Device> out(n);
    auto tx = db.begin();
    for (auto& d : out) {
      d.replica = crypto::to_hex(crypto::random_bytes(8));
      d.token = crypto::to_hex(crypto::random_bytes(32));
      d.username = username;
      d.unit = unit;
      server::Device row{d.replica, username, d.key.public_raw(), "bench", 0, {}, 0, ""};
      db.add_device(row, crypto::sha256(d.token));
    }
    tx->commit();
    return out;
  }

  void start() {
    fs::path log = dir_ / (node_ ? "serve" + std::to_string(node_) + ".log" : "serve.log");
    fs::remove(log);  // a restart's: not to read the address the last run printed
    pid_ = fork();
    if (pid_ == 0) {
      std::freopen(log.c_str(), "w", stdout);
      std::freopen(log.c_str(), "a", stderr);
      if (store_url.empty())
        execl(bin_.c_str(), bin_.c_str(), "serve", "--data", dir_.c_str(), "--listen",
              "127.0.0.1:0", "--heartbeat", "3600", static_cast<char*>(nullptr));
      else
        execl(bin_.c_str(), bin_.c_str(), "serve", "--data", dir_.c_str(), "--listen",
              "127.0.0.1:0", "--heartbeat", "3600", "--store", store_url.c_str(),
              static_cast<char*>(nullptr));
      _exit(127);
    }
    const std::string marker = "wss://127.0.0.1:";
    for (int i = 0; i < 6000; ++i) {
      std::ifstream in(log);
      std::string line;
      while (std::getline(in, line))
        if (auto p = line.find(marker); p != std::string::npos) {
          url_ = "wss://127.0.0.1:" + line.substr(p + marker.size());
          return;
        }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // start-up is measured
    }
    throw std::runtime_error("alur-server did not start; see " + log.string());
  }

  // Ends the server as an operator would (SIGTERM), or as a power cut would (SIGKILL).
  void stop(int signal = SIGTERM) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }
  const std::string& bin() const { return bin_; }
  const std::string& url() const { return url_; }
  const std::string& fingerprint() const { return fingerprint_; }
  const fs::path& dir() const { return dir_; }

 private:
  std::string bin_;
  fs::path dir_;
  std::string fingerprint_, url_;
  pid_t pid_ = -1;
  int node_ = 0;  // 0: the first node (serve.log); n: serveN.log
};

// One simulated replica's session: the real messages over a real WsClient.
class Session {
 public:
  // Through `url` when given (a SlowLine), else straight to the server.
  Session(const Server& server, Device& device, std::uint64_t cursor = 0,
          const std::string& url = "", bool compress = false)
      : device_(device) {
    net::ClientOptions o;
    o.pinned_fingerprint = server.fingerprint();
    o.heartbeat = std::chrono::milliseconds(0);
    o.compression = compress ? net::Compression::kAlways : net::Compression::kNever;
    ws_ = net::WsClient::connect(
        (url.empty() ? server.url() : url) + (device.unit.empty() ? "" : "/" + device.unit), o);
    sync::Hello h;
    h.replica = device.replica;
    h.token = device.token;
    h.cursor = cursor;
    h.client_version = "alur_load";
    welcome_ = expect<sync::Welcome>(call(h));
  }

  // Sends m and returns its answer; a Notify of other commits on the way is passed over.
  sync::Message call(const sync::Message& m) {
    send(m);
    for (;;) {
      sync::Message r = receive();
      if (!std::holds_alternative<sync::Notify>(r)) return r;
    }
  }
  void send(const sync::Message& m) { ws_->send(sync::encode(m), kTimeout); }
  sync::Message receive(std::chrono::milliseconds timeout = kTimeout) {
    auto bytes = ws_->receive(timeout);
    if (!bytes) throw std::runtime_error("no answer from the server");
    return sync::decode(*bytes);
  }

  template <class T>
  static T expect(sync::Message m) {
    if (auto* e = std::get_if<sync::ErrorMsg>(&m))
      throw std::runtime_error("server error " + e->code + ": " + e->message);
    if (auto* t = std::get_if<T>(&m)) return std::move(*t);
    throw std::runtime_error(std::string("unexpected ") + sync::message_name(m));
  }

  // Pushes `changes` (this device's next run of its chain) in batches, up to kPushWindow of
  // them in flight as the real client sends them (client/src/sync_client.cpp); every change
  // must be accepted.
  void push_all(const std::vector<sync::Change>& changes) {
    std::size_t next = 0, in_flight = 0;
    while (next < changes.size() || in_flight > 0) {
      for (; in_flight < kPushWindow && next < changes.size(); ++in_flight, next += kBatch)
        ws_->send(signed_push(changes, next), kTimeout);
      --in_flight;
      for (const auto& c : expect<sync::PushResult>(receive_reply()).results)
        if (c.outcome != sync::Outcome::kAccepted)
          throw std::runtime_error("change " + std::to_string(c.counter) + " not accepted: " +
                                   c.code + " " + c.message);
    }
  }

  // The batch of changes[first..first + kBatch), with the device's signature of its head,
  // encoded as the real client does it (sync::encode_push: each change encoded once).
  std::string signed_push(const std::vector<sync::Change>& changes, std::size_t first) const {
    std::vector<std::string> encodings;
    for (std::size_t i = first; i < std::min(changes.size(), first + kBatch); ++i)
      encodings.push_back(sync::encode_change(changes[i]));
    const auto& last = changes[first + encodings.size() - 1];
    return sync::encode_push(
        encodings, device_.key.sign(sync::chain_head_message(device_.replica, last.dot.counter,
                                                             sync::change_hash_of(encodings.back()))));
  }

  // Pulls until the cursor reaches the server's head, one request ahead (as the real
  // client); returns the entries received.
  std::size_t pull_to_head(std::uint64_t& cursor) {
    std::size_t received = 0;
    send(sync::Pull{cursor, 0});
    for (;;) {
      auto e = expect<sync::Entries>(receive_reply());
      if (e.entries.empty()) return received;
      received += e.entries.size();
      cursor = e.entries.back().seq;
      if (cursor >= e.server_head) return received;
      send(sync::Pull{cursor, 0});
    }
  }

  // The next message that is not a Notify.
  sync::Message receive_reply() {
    for (;;)
      if (sync::Message m = receive(); !std::holds_alternative<sync::Notify>(m)) return m;
  }

  const sync::Welcome& welcome() const { return welcome_; }

 private:
  Device& device_;
  std::unique_ptr<net::WsClient> ws_;
  sync::Welcome welcome_;
};

void upload_draft(Session& s) {
  const std::string sha = crypto::sha256(kDraftText);
  Session::expect<sync::BlobState>(
      s.call(sync::BlobChunk{sha, 0, kDraftText.size(), kDraftText}));
}

// The office's record for a scenario to read: `device` uploads the draft and pushes n
// changes of the workload, then disconnects.
void write_record(const Server& server, Device& device, std::size_t n) {
  Session w(server, device);
  upload_draft(w);
  w.push_all(office_workload(device, n));
}

// The same rows as the server's `changes` table, inserted raw: C API, one transaction,
// one prepared statement, WAL and synchronous=FULL like the server.
double raw_sqlite_rows_per_s(const fs::path& file, const std::vector<sync::Change>& changes) {
  sqlite3* db = nullptr;
  sqlite3_open(file.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE changes (replica TEXT NOT NULL, counter INTEGER NOT NULL, hash BLOB "
               "NOT NULL, op TEXT NOT NULL, record TEXT NOT NULL, author TEXT NOT NULL, encoded "
               "BLOB NOT NULL, PRIMARY KEY (replica, counter))",
               nullptr, nullptr, nullptr);
  std::vector<std::string> encoded, hashes;
  for (const auto& c : changes) {
    encoded.push_back(sync::encode_change(c));
    hashes.push_back(c.hash());
  }
  auto t0 = Clk::now();
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &st, nullptr);
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    sqlite3_bind_text(st, 1, c.dot.replica.data(), c.dot.replica.size(), SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(c.dot.counter));
    sqlite3_bind_blob(st, 3, hashes[i].data(), hashes[i].size(), SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c.op.data(), c.op.size(), SQLITE_STATIC);
    sqlite3_bind_text(st, 5, c.record.data(), c.record.size(), SQLITE_STATIC);
    sqlite3_bind_text(st, 6, c.author.data(), c.author.size(), SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, encoded[i].data(), encoded[i].size(), SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db));
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  double s = seconds_since(t0);
  sqlite3_close(db);
  return changes.size() / s;
}

int scenario_push(Server& server, std::size_t n) {
  auto devices = server.add_devices("sekretaris", 1);
  server.start();
  auto changes = office_workload(devices[0], n);
  Session s(server, devices[0]);
  upload_draft(s);
  std::int64_t rss0 = rss_bytes(server.pid());
  auto t0 = Clk::now();
  s.push_all(changes);
  double rate = n / seconds_since(t0);
  std::int64_t rss1 = rss_bytes(server.pid());
  double floor = raw_sqlite_rows_per_s(server.dir() / "floor.db", changes);
  const std::string size = std::to_string(n);
  metric("push_changes_per_s@" + size, rate, "changes/s", 50000);
  metric("push_server_rss_mib@" + size, rss1 / 1048576.0, "MiB", 0);
  metric("push_server_rss_growth_mib@" + size, (rss1 - rss0) / 1048576.0, "MiB", 0);
  metric("raw_sqlite_insert_per_s@" + size, floor, "rows/s", 0);
  metric("floor_ratio@" + size, rate / floor, "ratio", 0.25);

  // After a power cut (the server killed as it stood once the last batch was acknowledged):
  // how long until a replica is served again, the store's recovery included.
  server.stop(SIGKILL);
  auto t1 = Clk::now();
  server.start();
  Session(server, devices[0]);
  metric("server_restart_ms@" + size, seconds_since(t1) * 1000, "ms", 0);
  server.stop();
  if (store_url.empty()) {  // the whole record on disk: the file SQLite leaves when closed
    std::uintmax_t bytes = 0;
    for (const auto& f : fs::directory_iterator(server.dir()))
      if (f.path().filename().string().rfind("alur-server.db", 0) == 0) bytes += f.file_size();
    metric("server_db_bytes_per_change@" + size, static_cast<double>(bytes) / n, "bytes", 0);
  }
  // The audit of the record: `alur-server verify` (SQLite's integrity check, every link of
  // the hash chain, every change replayed through the SOP's rules and the state compared,
  // every paraf and signature checked), whole process.
  auto t2 = Clk::now();
  run_capture(server.bin() + " verify --data " + server.dir().string() + store_option() +
              " >/dev/null 2>&1");
  metric("verify_changes_per_s@" + size, n / seconds_since(t2), "changes/s", 0);
  return 0;
}

// Runs a command to its end; returns its peak resident memory in bytes (wait4's rusage).
std::int64_t run_measured(const std::vector<std::string>& args, const std::string& stdin_text) {
  int in[2];
  if (pipe(in) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    close(in[1]);
    if (!std::freopen("/dev/null", "w", stdout)) _exit(126);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in[0]);
  if (write(in[1], stdin_text.data(), stdin_text.size()) < 0) {}
  close(in[1]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(args[0] + " " + args[1] + " failed");
  return static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
}

// A whole command, run `times` times in turn: the median of its wall times, in ms.
double median_run_ms(const std::vector<std::string>& args, int times) {
  std::vector<double> runs;
  for (int r = 0; r < times; ++r) {
    auto t0 = Clk::now();
    run_measured(args, "");
    runs.push_back(seconds_since(t0) * 1000);
  }
  return median_ms(runs);
}

// A slow line between a client and the server: a TCP proxy on loopback that delivers each
// direction's bytes no faster than `bytes_per_s` and `one_way` later than they were sent
// (a rural 3G/4G link, say). Every chunk read is queued with the moment the line has
// carried it; a writer thread per direction delivers it then. Counts the bytes each way.
class SlowLine {
 public:
  SlowLine(int server_port, double bytes_per_s, std::chrono::microseconds one_way)
      : server_port_(server_port), bytes_per_s_(bytes_per_s), one_way_(one_way) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(0);
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(listener_, 16) != 0)
      throw std::runtime_error("slow line: cannot listen");
    socklen_t len = sizeof a;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~SlowLine() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
    for (int fd : fds_) close(fd);
  }
  int port() const { return port_; }
  std::int64_t down_bytes() const { return down_; }  // server to client
  std::int64_t up_bytes() const { return up_; }
  void reset_counts() { down_ = up_ = 0; }

 private:
  using Time = Clk::time_point;
  struct Direction {
    int from, to;
    std::atomic<std::int64_t>* count;
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<std::pair<Time, std::string>> queue;
    bool ended = false;
    Time line_free{};
  };

  static sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

  void accept_loop() {
    for (;;) {
      int client = accept(listener_, nullptr, nullptr);
      if (client < 0) return;  // closed by the destructor
      int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a = loopback(server_port_);
      if (connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(client);
        close(server);
        continue;
      }
      std::lock_guard lock(mutex_);
      fds_.push_back(client);
      fds_.push_back(server);
      auto up = std::make_shared<Direction>();
      up->from = client, up->to = server, up->count = &up_;
      auto down = std::make_shared<Direction>();
      down->from = server, down->to = client, down->count = &down_;
      for (auto& d : {up, down}) {
        threads_.emplace_back([this, d] { read_side(*d); });
        threads_.emplace_back([d] { write_side(*d); });
      }
    }
  }

  void read_side(Direction& d) {
    char buf[1400];  // about one packet: the line's pace is kept per packet
    for (;;) {
      ssize_t n = read(d.from, buf, sizeof buf);
      std::lock_guard lock(d.mutex);
      if (n <= 0) {
        d.ended = true;
        d.ready.notify_one();
        return;
      }
      *d.count += n;
      Time now = Clk::now();
      d.line_free =
          std::max(d.line_free, now) + std::chrono::duration_cast<Clk::duration>(
                                           std::chrono::duration<double>(n / bytes_per_s_));
      d.queue.emplace_back(d.line_free + one_way_, std::string(buf, static_cast<std::size_t>(n)));
      d.ready.notify_one();
    }
  }

  static void write_side(Direction& d) {
    for (;;) {
      std::pair<Time, std::string> chunk;
      {
        std::unique_lock lock(d.mutex);
        d.ready.wait(lock, [&] { return !d.queue.empty() || d.ended; });
        if (d.queue.empty()) {
          shutdown(d.to, SHUT_WR);  // the sender closed: pass it on
          return;
        }
        chunk = std::move(d.queue.front());
        d.queue.pop_front();
      }
      std::this_thread::sleep_until(chunk.first);
      for (std::size_t off = 0; off < chunk.second.size();) {
        ssize_t w = send(d.to, chunk.second.data() + off, chunk.second.size() - off,
                         MSG_NOSIGNAL);  // a closed peer ends this side, not the process
        if (w <= 0) return;
        off += static_cast<std::size_t>(w);
      }
    }
  }

  int server_port_;
  double bytes_per_s_;
  std::chrono::microseconds one_way_;
  int listener_ = -1, port_ = 0;
  std::atomic<std::int64_t> down_{0}, up_{0};
  std::mutex mutex_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// The real `alur` client enrolled as `username` in DATA/name (scrypt: not timed).
// Through `url` when given (a SlowLine), else straight to the server.
fs::path enroll_client(Server& server, const std::string& client_bin, const std::string& name,
                       const std::string& username, const std::string& password,
                       const std::string& url = "") {
  fs::path home = server.dir() / name;
  run_measured(
      {client_bin, "enroll", "--home", home.string(), "--server", url.empty() ? server.url() : url,
       "--username", username, "--password-stdin", "--trust-fingerprint", server.fingerprint()},
      password + "\n");
  return home;
}

// Bootstrap: the real `alur` client (whole process, its own SQLite file) enrolled while the
// server was empty, then `alur sync` pulls and materializes the n committed changes. `runs`
// replicas (each enrolled beforehand, each a fresh file) bootstrap one after the other; the
// figures are the median run's (on a shared VM one run can be 20 % off either way).
int scenario_bootstrap(Server& server, std::size_t n, const std::string& client_bin,
                       std::size_t runs) {
  auto writer = server.add_devices("sekretaris", 1);
  server.start();
  std::vector<fs::path> homes;
  for (std::size_t r = 0; r < std::max<std::size_t>(runs, 1); ++r)
    homes.push_back(enroll_client(server, client_bin, "bootstrap-replica-" + std::to_string(r),
                                  "kadis", "kadis-rahasia-1"));
  write_record(server, writer[0], n);
  struct Run {
    double rate;
    std::int64_t peak;
    fs::path home;
  };
  std::vector<Run> done;
  for (const auto& home : homes) {
    auto t0 = Clk::now();
    std::int64_t peak = run_measured({client_bin, "sync", "--home", home.string()}, "");
    done.push_back({n / seconds_since(t0), peak, home});
  }
  std::sort(done.begin(), done.end(), [](const Run& a, const Run& b) { return a.rate < b.rate; });
  const Run& median = done[done.size() / 2];
  const std::string size = std::to_string(n);
  std::cout << "# bootstrap@" << size << ": " << done.size() << " runs, "
            << static_cast<long>(done.front().rate) << " to " << static_cast<long>(done.back().rate)
            << " changes/s" << std::endl;
  metric("bootstrap_changes_per_s@" + size, median.rate, "changes/s", 100000);
  metric("bootstrap_client_peak_rss_mib@" + size, median.peak / 1048576.0, "MiB", 0);
  metric("bootstrap_replica_file_mib@" + size,
         fs::file_size(median.home / "replica.db") / 1048576.0, "MiB", 0);
  // The laptop's own audit of what it pulled: `alur verify` (every hash link, every change
  // replayed through the rules and each stored case compared), whole process.
  auto t1 = Clk::now();
  run_measured({client_bin, "verify", "--home", median.home.string()}, "");
  metric("replica_verify_changes_per_s@" + size, n / seconds_since(t1), "changes/s", 0);
  // Does every command get slower as the replica grows? `alur status` (open the replica,
  // its quick check, counts), whole process, the median of 5.
  metric("replica_status_ms@" + size,
         median_run_ms({client_bin, "status", "--home", median.home.string()}, 5), "ms", 0);
  // A sync with nothing to send or fetch (what most syncs of a day are): `alur sync` on the
  // replica now level with the server, whole process (TLS connection, Hello, an empty
  // pull), the median of 5.
  metric("sync_idle_ms@" + size,
         median_run_ms({client_bin, "sync", "--home", median.home.string()}, 5), "ms", 0);
  return 0;
}

// Field: laptops back after a month away on a slow line (SlowLine: `kbit` each way,
// `rtt_ms` round trip), the line's bytes counted each way.
// - Down: a laptop enrolled before the office's n changes were made; the real `alur sync`,
//   whole process, pulls and materializes them.
// - Up: a laptop that made n changes of its own while away pushes them all (a simulated
//   replica: the real codec and WsClient, batches of 1,000, four in flight as `alur sync`).
// Line use: the bytes the line carried in the direction that matters over the time taken,
// against what it could carry. Both laptops ask for compression when `compress` (the real
// one with --compression on, since the line's end is on loopback).
int scenario_field(Server& server, std::size_t n, const std::string& client_bin, double kbit,
                   double rtt_ms, bool compress) {
  auto writer = server.add_devices("sekretaris", 2);
  server.start();
  const double bytes_per_s = kbit * 1000 / 8;
  SlowLine line(std::stoi(server.url().substr(server.url().rfind(':') + 1)), bytes_per_s,
                std::chrono::microseconds(static_cast<std::int64_t>(rtt_ms * 500)));
  const std::string via = "wss://127.0.0.1:" + std::to_string(line.port());
  fs::path home =
      enroll_client(server, client_bin, "field-replica", "kadis", "kadis-rahasia-1", via);
  write_record(server, writer[0], n);
  const std::string size = std::to_string(n) + "_" + std::to_string(static_cast<int>(kbit)) +
                           "kbit_" + std::to_string(static_cast<int>(rtt_ms)) + "ms" +
                           (compress ? "" : "_uncompressed");
  line.reset_counts();
  auto t0 = Clk::now();
  std::int64_t peak = run_measured(
      {client_bin, "sync", "--home", home.string(), "--compression", compress ? "on" : "off"}, "");
  double elapsed = seconds_since(t0);
  metric("field_sync_s@" + size, elapsed, "s", 0);
  metric("field_down_bytes_per_change@" + size, static_cast<double>(line.down_bytes()) / n, "bytes",
         0);
  metric("field_line_use@" + size, line.down_bytes() / (bytes_per_s * elapsed), "ratio", 0);
  metric("field_client_peak_rss_mib@" + size, peak / 1048576.0, "MiB", 0);

  // Cases of its own, numbered after the office's.
  auto away = office_workload(writer[1], n, 100, (n + 99) / 100);
  line.reset_counts();
  t0 = Clk::now();
  {
    Session laptop(server, writer[1], 0, via, compress);  // connecting is part of coming back
    laptop.push_all(away);
  }
  elapsed = seconds_since(t0);
  metric("field_push_s@" + size, elapsed, "s", 0);
  metric("field_up_bytes_per_change@" + size, static_cast<double>(line.up_bytes()) / n, "bytes", 0);
  metric("field_push_line_use@" + size, line.up_bytes() / (bytes_per_s * elapsed), "ratio", 0);
  return 0;
}

// Inbox: n cases opened by the sekretaris (LAKIP and copies of it under other SOP codes,
// 1,200 periods each), step 1 done in kInboxWork of them, so that the Kabid has that many
// tasks among n cases. The Kabid's real `alur` client pulls them all (not timed); then
// `alur inbox`, whole process, is timed: the median of kInboxRuns runs; then `alur case
// list` and `alur act` alike.
constexpr std::size_t kInboxWork = 20;
constexpr int kInboxRuns = 5;
constexpr std::size_t kPeriodsPerSop = 1200;  // 1900-Q1 .. 2199-Q4

std::vector<std::string> import_sop_copies(Server& server, const std::string& server_bin,
                                           std::size_t n_cases) {
  std::vector<std::string> sops{"LAKIP"};
  std::ifstream in(ALUR_LAKIP_TEMPLATE);
  nlohmann::json tpl = nlohmann::json::parse(in);
  for (std::size_t k = 1; k * kPeriodsPerSop < n_cases; ++k) {
    tpl["sop"] = "BEBAN-" + std::to_string(k);
    tpl["title"] = "Uji beban " + std::to_string(k);
    fs::path file = server.dir() / (tpl["sop"].get<std::string>() + ".json");
    std::ofstream(file) << tpl.dump();
    run_capture(server_bin + " sop import --data " + server.dir().string() + " " +
                file.string() + store_option() + " 2>&1");
    sops.push_back(tpl["sop"]);
  }
  return sops;
}

int scenario_inbox(Server& server, const std::string& server_bin, std::size_t n,
                   const std::string& client_bin) {
  auto sops = import_sop_copies(server, server_bin, n);
  auto writer = server.add_devices("sekretaris", 1);
  server.start();
  fs::path home =
      enroll_client(server, client_bin, "inbox-replica", "kabid", "kabid-rahasia-1");
  {
    HybridClock hlc(Clock::system());
    std::vector<sync::Change> changes;
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t p = i % kPeriodsPerSop;
      std::string period = std::to_string(1900 + p / 4) + "-Q" + std::to_string(p % 4 + 1);
      changes.push_back(next_change(writer[0], hlc, "case/n" + std::to_string(i),
                                    sync::op::kCaseOpen,
                                    {{"sop", sops[i / kPeriodsPerSop]}, {"version", 1},
                                     {"period", period}}));
    }
    for (std::size_t i = 0; i < std::min(n, kInboxWork); ++i)
      changes.push_back(next_change(writer[0], hlc, "task/n" + std::to_string(i) + "/1",
                                    sync::op::kTaskComplete,
                                    {{"round", 0}, {"text", "Siapkan bahan rapat LAKIP."}}));
    Session w(server, writer[0]);
    w.push_all(changes);
  }
  run_measured({client_bin, "sync", "--home", home.string()}, "");
  // A whole `alur` command on that replica: the median of kInboxRuns runs, in ms.
  auto command_ms = [&](std::vector<std::string> args) {
    args.insert(args.begin(), client_bin);
    args.insert(args.end(), {"--home", home.string(), "--json"});
    return median_run_ms(args, kInboxRuns);
  };
  const double inbox_ms = command_ms({"inbox"});
  const std::string items = run_capture(client_bin + " inbox --home " + home.string() + " --json");
  const std::size_t shown = nlohmann::json::parse(items).size();
  if (shown != std::min(n, kInboxWork))
    throw std::runtime_error("inbox: " + std::to_string(shown) + " tasks shown, expected " +
                             std::to_string(std::min(n, kInboxWork)));
  metric("inbox_ms", inbox_ms, "ms", 50);
  metric("inbox_cases", static_cast<double>(n), "cases", 0);
  metric("inbox_tasks", static_cast<double>(shown), "tasks", 0);
  // The other screen that reads every case: `alur case list` (the web app's Kasus page).
  metric("case_list_ms", command_ms({"case", "list"}), "ms", 0);
  // What an official waits for after finishing a step: `alur act` on kInboxRuns of those
  // tasks in turn (the rules checked against the replica, the change signed, committed
  // and synced to disk; no network), whole process, the median.
  const nlohmann::json tasks = nlohmann::json::parse(items);
  std::vector<double> act_runs;
  for (int r = 0; r < kInboxRuns && r < static_cast<int>(tasks.size()); ++r) {
    auto t0 = Clk::now();
    run_measured({client_bin, "act", tasks[r]["task"].get<std::string>(), "--text",
                  "Lanjutkan ke kasubid, bahan paling lambat Jumat.", "--home", home.string()},
                 "");
    act_runs.push_back(seconds_since(t0) * 1000);
  }
  const std::string after = run_capture(client_bin + " inbox --home " + home.string() + " --json");
  if (nlohmann::json::parse(after).size() != shown - act_runs.size())
    throw std::runtime_error("act: the inbox still shows the tasks acted on");
  metric("act_ms", median_ms(act_runs), "ms", 0);
  return 0;
}

// An idle session of the live scenario. Compressed (live_compressed), it pulls the log
// first: the server has then deflated a message on it, so its zlib state is allocated and
// counted, as on a field laptop that came back and stayed connected.
std::unique_ptr<Session> idle_session(const Server& server, Device& device) {
  auto s = std::make_unique<Session>(server, device, 0, "", live_compressed);
  if (live_compressed) {
    std::uint64_t cursor = 0;
    if (s->pull_to_head(cursor) == 0) throw std::runtime_error("live: nothing to pull");
  }
  return s;
}

// The commit whose Notify the live scenarios time: a case opened by `writer`.
sync::Change live_commit(Device& writer) {
  HybridClock hlc(Clock::system());
  return next_change(writer, hlc, "case/live", sync::op::kCaseOpen,
                     {{"sop", "LAKIP"}, {"version", 1}, {"period", "2026-Q3"}});
}

// Reads each session's Notify in turn; ms since t0 each (an upper bound: it includes the
// reading of the sessions before it).
std::vector<double> read_notifies_ms(std::vector<std::unique_ptr<Session>>& sessions,
                                     Clk::time_point t0) {
  std::vector<double> ms;
  ms.reserve(sessions.size());
  for (auto& s : sessions) {
    auto note = Session::expect<sync::Notify>(s->receive());
    if (note.server_head == 0) throw std::runtime_error("Notify without a head");
    ms.push_back(std::chrono::duration<double, std::milli>(Clk::now() - t0).count());
  }
  return ms;
}

// One commit pushed by `w` as `writer`; then each session's Notify is read in turn.
// Returns the latencies in ms, sorted.
std::vector<double> notify_latencies_ms(Session& w, Device& writer,
                                        std::vector<std::unique_ptr<Session>>& sessions) {
  auto open = live_commit(writer);
  auto t0 = Clk::now();
  w.push_all({open});
  std::vector<double> ms = read_notifies_ms(sessions, t0);
  std::sort(ms.begin(), ms.end());
  return ms;
}

// Each WsClient has its own io_context (an epoll, an eventfd and a timerfd besides its
// socket: four descriptors), so one process holds at most this many sessions within a
// hard descriptor limit of 20,000; more are spread over forked worker processes.
constexpr std::size_t kSessionsPerProcess = 3000;

// A forked process that holds devices[first, first + count) as idle sessions. It says
// "ready" once all are open, then waits for t0 (steady_clock nanoseconds, which every
// process shares), reads each session's Notify and answers with the latencies in ms.
class SessionWorker {
 public:
  SessionWorker(const Server& server, std::vector<Device>& devices, std::size_t first,
                std::size_t count) {
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) throw std::runtime_error("pipe failed");
    std::cout.flush();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      close(down[1]);
      close(up[0]);
      run_child(server, devices, first, count, fdopen(down[0], "r"), fdopen(up[1], "w"));
    }
    close(down[0]);
    close(up[1]);
    to_child_ = fdopen(down[1], "w");
    from_child_ = fdopen(up[0], "r");
  }
  ~SessionWorker() {
    if (to_child_) fclose(to_child_);
    if (from_child_) fclose(from_child_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  SessionWorker(const SessionWorker&) = delete;
  SessionWorker& operator=(const SessionWorker&) = delete;

  void wait_ready() {
    const std::string line = read_line();
    if (line != "ready") throw std::runtime_error("session worker: " + line);
  }
  void start_reading(Clk::time_point t0) {
    std::fprintf(to_child_, "%lld\n",
                 static_cast<long long>(t0.time_since_epoch().count()));
    std::fflush(to_child_);
  }
  std::vector<double> latencies_ms() {
    std::istringstream in(read_line());
    std::string word;
    in >> word;
    if (word != "ok") throw std::runtime_error("session worker: " + in.str());
    std::vector<double> ms;
    for (double v; in >> v;) ms.push_back(v);
    return ms;
  }

 private:
  [[noreturn]] static void run_child(const Server& server, std::vector<Device>& devices,
                                     std::size_t first, std::size_t count, FILE* in, FILE* out) {
    int rc = 0;
    try {
      std::vector<std::unique_ptr<Session>> sessions;
      sessions.reserve(count);
      for (std::size_t i = first; i < first + count; ++i)
        sessions.push_back(idle_session(server, devices[i]));
      std::fprintf(out, "ready\n");
      std::fflush(out);
      long long t0_ns = 0;
      if (std::fscanf(in, "%lld", &t0_ns) != 1) _exit(1);
      const Clk::time_point t0{Clk::duration(t0_ns)};
      std::ostringstream line;
      line << "ok";
      for (double v : read_notifies_ms(sessions, t0)) line << ' ' << v;
      std::fprintf(out, "%s\n", line.str().c_str());
    } catch (const std::exception& e) {
      std::fprintf(out, "%s\n", e.what());
      rc = 1;
    }
    std::fflush(out);
    _exit(rc);  // no destructors: the parent's Server and sessions are not this process's
  }

  std::string read_line() {
    std::string line;
    for (int c; (c = std::fgetc(from_child_)) != EOF && c != '\n';) line += static_cast<char>(c);
    return line.empty() ? "ended without an answer" : line;
  }

  pid_t pid_ = -1;
  FILE* to_child_ = nullptr;
  FILE* from_child_ = nullptr;
};

// `live` with more sessions than one process holds: the sessions in worker processes that
// read their Notify in parallel.
std::vector<double> live_in_workers(Server& server, Session& w, Device& writer,
                                    std::vector<Device>& idle, std::int64_t& rss1,
                                    double& connect_s) {
  const std::size_t n = idle.size();
  std::vector<std::unique_ptr<SessionWorker>> workers;
  auto t_connect = Clk::now();
  for (std::size_t first = 0; first < n; first += kSessionsPerProcess)
    workers.push_back(std::make_unique<SessionWorker>(
        server, idle, first, std::min(kSessionsPerProcess, n - first)));
  for (auto& worker : workers) worker->wait_ready();
  connect_s = seconds_since(t_connect);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  rss1 = rss_bytes(server.pid());
  auto open = live_commit(writer);
  auto t0 = Clk::now();
  for (auto& worker : workers) worker->start_reading(t0);
  w.push_all({open});
  std::vector<double> ms;
  for (auto& worker : workers) {
    auto part = worker->latencies_ms();
    ms.insert(ms.end(), part.begin(), part.end());
  }
  if (ms.size() != n) throw std::runtime_error("live: not every session had its Notify");
  std::sort(ms.begin(), ms.end());
  return ms;
}

// The server holds one descriptor per session (it raises its soft limit to the hard one,
// as alur_load does in main()): refuse at once, not after minutes of connecting.
void require_descriptors(std::size_t n) {
  constexpr std::size_t kSpare = 64;  // the server's databases, logs, listener
  rlimit l{};
  getrlimit(RLIMIT_NOFILE, &l);
  if (l.rlim_max != RLIM_INFINITY && l.rlim_max < n + kSpare)
    throw std::runtime_error(std::to_string(n) + " sessions need a descriptor limit of at least " +
                             std::to_string(n + kSpare) + "; the hard limit is " +
                             std::to_string(l.rlim_max) + " (raise it: ulimit -Hn, as root)");
}

int scenario_live(Server& server, std::size_t n) {
  require_descriptors(n);
  auto idle = server.add_devices("kadis", n);
  auto writer = server.add_devices("sekretaris", 1);
  server.start();
  if (live_compressed) write_record(server, writer[0], 10);  // a few KiB for each pull
  Session w(server, writer[0]);
  std::int64_t rss0 = rss_bytes(server.pid()), rss1 = 0;
  double connect_s = 0;
  std::vector<double> ms;
  if (n > kSessionsPerProcess) {
    ms = live_in_workers(server, w, writer[0], idle, rss1, connect_s);
  } else {
    std::vector<std::unique_ptr<Session>> sessions;
    sessions.reserve(n);
    auto t_connect = Clk::now();
    for (auto& d : idle) sessions.push_back(idle_session(server, d));
    connect_s = seconds_since(t_connect);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    rss1 = rss_bytes(server.pid());
    ms = notify_latencies_ms(w, writer[0], sessions);
  }
  const std::string size = std::to_string(n) + (live_compressed ? "_compressed" : "");
  metric("server_bytes_per_connection@" + size, double(rss1 - rss0) / n, "bytes", 65536);
  metric("connect_sessions_per_s@" + size, n / connect_s, "sessions/s", 0);
  metric("live_fanout_p50_ms@" + size, ms[ms.size() / 2], "ms", 0);
  metric("live_fanout_p99_ms@" + size, ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], "ms",
         1000);
  return 0;
}

// Live across nodes (--store postgresql://…): n idle sessions on a second node, one commit
// through the first; the second learns of it from the database (LISTEN/NOTIFY) and
// notifies its sessions. Read in turn as in scenario_live, so an upper bound.
int scenario_live_nodes(Server& first, std::size_t n) {
  if (store_url.empty()) throw std::runtime_error("live-nodes needs --store postgresql://…");
  auto idle = first.add_devices("kadis", n);
  auto writer = first.add_devices("sekretaris", 1);
  first.start();
  Server second(first, Server::AnotherNode{});
  second.start();
  Session w(first, writer[0]);
  std::vector<std::unique_ptr<Session>> sessions;
  sessions.reserve(n);
  for (auto& d : idle) sessions.push_back(std::make_unique<Session>(second, d));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const std::vector<double> ms = notify_latencies_ms(w, writer[0], sessions);
  const std::string size = std::to_string(n);
  metric("live_nodes_fanout_p50_ms@" + size, ms[ms.size() / 2], "ms", 0);
  metric("live_nodes_fanout_p99_ms@" + size, ms[std::min(ms.size() - 1, ms.size() * 99 / 100)],
         "ms", 1000);
  return 0;
}

// Office day: `n` replicas, each pushing a small batch (3 corrections) every few seconds and
// pulling whatever was committed since its last turn when the server notified it, for a
// fixed time. Round trip = Push sent -> its PushResult. Worker threads each drive a share
// of the replicas, one session at a time, as the real client does. With `units` > 1 the
// replicas belong to that many units (dinas) of the one server, replica i to unit
// i % units, each unit with its own cases: a commit reaches only its unit's sessions, as
// on a pemda's server (a dinas has tens of officials, not thousands).
int scenario_office_day(Server& server, std::size_t n, double seconds, std::size_t units) {
  constexpr std::size_t kCases = 200, kPerTurn = 3;
  constexpr auto kInterval = std::chrono::milliseconds(3000);
  // Each thread drives its replicas one round trip at a time: about 16 replicas per thread
  // leave room for round trips of over 100 ms within a replica's 3 s (with only 16 threads,
  // 2,000 replicas could not be offered their rate: 125 round trips per thread in 3 s).
  const std::size_t kThreads = std::clamp<std::size_t>(n / 16, 16, 128);
  units = std::clamp<std::size_t>(units, 1, n);
  std::vector<std::string> codes;  // "": the data folder's own unit
  for (std::size_t u = 0; u < units; ++u) {
    codes.push_back(units == 1 ? "" : "u" + std::to_string(u + 1));
    if (!codes.back().empty()) server.add_unit(codes.back());
  }
  std::vector<Device> owner;
  std::vector<Device> officials(n);
  for (std::size_t u = 0; u < units; ++u) {
    owner.push_back(std::move(server.add_devices("sekretaris", 1, codes[u])[0]));
    auto mine = server.add_devices("kasubag", (n - u + units - 1) / units, codes[u]);
    for (std::size_t k = 0; k < mine.size(); ++k) officials[u + k * units] = std::move(mine[k]);
  }
  server.start();
  std::vector<std::vector<std::string>> revisions(units);  // each unit's drafts
  std::uint64_t head = 0;
  for (std::size_t u = 0; u < units; ++u) {
    // Set-up: the cases and their drafts, which the officials then correct.
    Session w(server, owner[u]);
    upload_draft(w);
    auto changes = office_workload(owner[u], kCases * 2, 2);
    w.push_all(changes);
    for (std::size_t i = 0; i < kCases; ++i) revisions[u].push_back(changes[i * 2 + 1].id());
    head = kCases * 2;  // in each unit's log
  }
  std::vector<std::unique_ptr<Session>> sessions;
  for (auto& d : officials) sessions.push_back(std::make_unique<Session>(server, d, head));
  std::mutex mu;
  std::vector<double> rtt_ms;
  std::size_t pulled = 0;
  auto t0 = Clk::now();
  const auto end = t0 + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  auto work = [&](std::size_t first) {
    HybridClock hlc(Clock::system());
    std::vector<double> mine;
    std::size_t my_pulled = 0;
    std::vector<std::uint64_t> cursor(n, head);
    for (std::size_t turn = 0;; ++turn) {
      for (std::size_t i = first; i < n; i += kThreads) {
        auto due = t0 + turn * kInterval + kInterval * i / n;
        if (due >= end) goto done;
        std::this_thread::sleep_until(due);
        Device& d = officials[i];
        Session& s = *sessions[i];
        const std::size_t cas = i / units % kCases;
        sync::Push p;
        for (std::size_t k = 0; k < kPerTurn; ++k) {
          std::string id = "b" + std::to_string(cas);
          std::string change_id = d.replica + ":" + std::to_string(d.counter + 1);
          p.changes.push_back(next_change(
              d, hlc, "corr/" + id + "/" + change_id, sync::op::kCorrectionAdd,
              {{"draft", "laporan"}, {"revision", revisions[i % units][cas]}, {"text", "Koreksi harian."}}));
        }
        const auto& last = p.changes.back();
        p.head_signature =
            d.key.sign(sync::chain_head_message(d.replica, last.dot.counter, last.hash()));
        auto sent = Clk::now();
        s.send(p);
        bool notified = false;
        for (;;) {
          sync::Message m = s.receive();
          if (std::holds_alternative<sync::Notify>(m)) {
            notified = true;
            continue;
          }
          Session::expect<sync::PushResult>(std::move(m));
          break;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clk::now() - sent).count());
        if (!notified) continue;
        for (;;) {
          auto e = Session::expect<sync::Entries>(s.call(sync::Pull{cursor[i], 0}));
          if (e.entries.empty()) break;
          cursor[i] = e.entries.back().seq;
          my_pulled += e.entries.size();
          if (cursor[i] >= e.server_head) break;
        }
      }
    }
  done:
    std::lock_guard lock(mu);
    rtt_ms.insert(rtt_ms.end(), mine.begin(), mine.end());
    pulled += my_pulled;
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < std::min(kThreads, n); ++t) threads.emplace_back(work, t);
  for (auto& t : threads) t.join();
  double elapsed = seconds_since(t0);
  std::sort(rtt_ms.begin(), rtt_ms.end());
  const std::string size = std::to_string(n) + (units > 1 ? "_" + std::to_string(units) + "units" : "");
  metric("office_day_offered_pushes_per_s@" + size, n * 1000.0 / kInterval.count(), "pushes/s", 0);
  metric("office_day_pushes_per_s@" + size, rtt_ms.size() / elapsed, "pushes/s", 0);
  metric("office_day_p50_ms@" + size, rtt_ms[rtt_ms.size() / 2], "ms", 0);
  metric("office_day_p99_ms@" + size, rtt_ms[std::min(rtt_ms.size() - 1, rtt_ms.size() * 99 / 100)],
         "ms", 100);
  metric("office_day_pulled_entries_per_s@" + size, pulled / elapsed, "entries/s", 0);
  return 0;
}

// Rollout: a dinas's PCs set up afresh on one morning (new laptops, or a reinstall after a
// virus): `replicas` new replicas connect and pull the whole record of n changes at once.
// The server was restarted after the record was written, so every pull reads the database
// (a pull from the start of a record that has been growing for months would). The replicas
// speak the protocol and materialize nothing (one real `alur sync` is bootstrap's figure):
// this is the server's side, entries delivered per second to all of them together, and the
// time the slowest of them waited.
int scenario_rollout(Server& server, std::size_t replicas, std::size_t n) {
  auto writer = server.add_devices("sekretaris", 1);
  auto fresh = server.add_devices("kadis", replicas);
  server.start();
  write_record(server, writer[0], n);
  server.stop();
  server.start();
  std::vector<std::unique_ptr<Session>> sessions;
  for (auto& d : fresh) sessions.push_back(std::make_unique<Session>(server, d));
  const std::uint64_t head = sessions.front()->welcome().server_head;
  const std::int64_t rss0 = rss_bytes(server.pid());
  std::atomic<std::int64_t> peak{rss0};
  std::atomic<bool> pulling{true};
  std::thread sampler([&] {
    while (pulling) {
      peak = std::max<std::int64_t>(peak, rss_bytes(server.pid()));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  std::vector<double> seconds(replicas);
  std::vector<std::exception_ptr> failed(replicas);
  auto t0 = Clk::now();
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < replicas; ++i)
    threads.emplace_back([&, i] {
      try {
        std::uint64_t cursor = 0;
        sessions[i]->pull_to_head(cursor);
        if (cursor != head)
          throw std::runtime_error("rollout: a replica stopped at " + std::to_string(cursor) +
                                   " of " + std::to_string(head));
        seconds[i] = seconds_since(t0);
      } catch (...) {
        failed[i] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  const double elapsed = seconds_since(t0);
  pulling = false;
  sampler.join();
  for (auto& f : failed)
    if (f) std::rethrow_exception(f);
  const std::string size = std::to_string(replicas) + "x" + std::to_string(n);
  metric("rollout_entries_per_s@" + size, static_cast<double>(replicas * head) / elapsed,
         "entries/s", 0);
  metric("rollout_slowest_s@" + size, *std::max_element(seconds.begin(), seconds.end()), "s", 0);
  metric("rollout_server_rss_growth_mib@" + size, (peak - rss0) / 1048576.0, "MiB", 0);
  return 0;
}

// Conflict: two officials' replicas mark the same n corrections offline, one "resolved",
// the other "reopened", neither having seen the other's write, so every record becomes a
// sibling set (PROTOCOL.md §7); then both sync at once until converged: each pushes its n
// changes (pipelined) and pulls until its cursor reaches the head, the other's n included.
// The replicas speak the protocol but do not materialize what they pull (the real client's
// materializing is what bootstrap measures).
int scenario_conflict(Server& server, std::size_t n) {
  auto owner = server.add_devices("sekretaris", 1);
  auto kasubag = server.add_devices("kasubag", 1);
  auto kadis = server.add_devices("kadis", 1);
  server.start();
  // Set-up: cases with a draft and 98 corrections each, enough for n corrections.
  std::vector<std::string> corrections;
  std::uint64_t head = 0;
  {
    Session w(server, owner[0]);
    upload_draft(w);
    auto changes = office_workload(owner[0], (n / 98 + 1) * 100);
    w.push_all(changes);
    head = w.welcome().server_head + changes.size();
    for (const auto& c : changes)
      if (c.op == sync::op::kCorrectionAdd && corrections.size() < n)
        corrections.push_back(c.record);
  }
  auto offline_edits = [&](Device& d, const char* status) {
    HybridClock hlc(Clock::system());
    std::vector<sync::Change> out;
    for (const auto& record : corrections)
      out.push_back(next_change(d, hlc, record, sync::op::kCorrectionStatus, {{"status", status}}));
    return out;
  };
  auto resolved = offline_edits(kasubag[0], "resolved");
  auto reopened = offline_edits(kadis[0], "reopened");
  Session a(server, kasubag[0], head), b(server, kadis[0], head);
  std::uint64_t cursor_a = head, cursor_b = head;
  auto t0 = Clk::now();
  std::thread other([&] {
    b.push_all(reopened);
    b.pull_to_head(cursor_b);
  });
  a.push_all(resolved);
  a.pull_to_head(cursor_a);
  other.join();
  // Whichever finished first may not have seen the other's last commits yet.
  a.pull_to_head(cursor_a);
  b.pull_to_head(cursor_b);
  double elapsed = seconds_since(t0);
  if (cursor_a != head + 2 * n || cursor_b != cursor_a)
    throw std::runtime_error("conflict: the replicas stopped at " + std::to_string(cursor_a) +
                             " and " + std::to_string(cursor_b) + ", not at the head " +
                             std::to_string(head + 2 * n));
  metric("conflict_changes_per_s@" + std::to_string(n), 2 * n / elapsed, "changes/s", 20000);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2)
      throw std::runtime_error(
          "usage: alur_load push|bootstrap|live|office-day|conflict|live-nodes|inbox|field|rollout "
          "[options]");
    std::string scenario = argv[1], bin, client_bin;
    std::size_t count = 1000;
    double seconds = 20;
    std::size_t units = 1;
    std::size_t runs = 3;
    double kbit = 1000, rtt_ms = 150;
    std::optional<std::size_t> changes;  // rollout: its --replicas are count
    std::optional<bool> compress;  // field: on unless told off; live: off unless told on
    for (int i = 2; i + 1 < argc; i += 2) {
      std::string a = argv[i];
      if (a == "--server-bin")
        bin = argv[i + 1];
      else if (a == "--client-bin")
        client_bin = argv[i + 1];
      else if (a == "--changes" && scenario == "rollout")
        changes = std::stoull(argv[i + 1]);
      else if (a == "--changes" || a == "--replicas")
        count = std::stoull(argv[i + 1]);
      else if (a == "--seconds")
        seconds = std::stod(argv[i + 1]);
      else if (a == "--units")
        units = std::stoull(argv[i + 1]);
      else if (a == "--runs")
        runs = std::stoull(argv[i + 1]);
      else if (a == "--store")
        store_url = argv[i + 1];
      else if (a == "--kbit")
        kbit = std::stod(argv[i + 1]);
      else if (a == "--rtt")
        rtt_ms = std::stod(argv[i + 1]);
      else if (a == "--compression" &&
               (argv[i + 1] == std::string("on") || argv[i + 1] == std::string("off")))
        compress = argv[i + 1] == std::string("on");
      else
        throw std::runtime_error("unknown option " + a);
    }
    if (bin.empty()) throw std::runtime_error("--server-bin is required");
    if (scenario == "live" || scenario == "office-day" || scenario == "live-nodes") {
      rlimit l{};
      getrlimit(RLIMIT_NOFILE, &l);
      l.rlim_cur = l.rlim_max;
      setrlimit(RLIMIT_NOFILE, &l);  // the server process inherits it too
    }
    char tmpl[] = "/tmp/alur-load-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    int rc = 1;
    {
      Server server(bin, tmpl);
      if (scenario == "push") rc = scenario_push(server, count);
      else if (scenario == "bootstrap") rc = scenario_bootstrap(server, count, client_bin, runs);
      else if (scenario == "live") {
        live_compressed = compress.value_or(false);
        rc = scenario_live(server, count);
      } else if (scenario == "office-day")
        rc = scenario_office_day(server, count, seconds, units);
      else if (scenario == "conflict") rc = scenario_conflict(server, count);
      else if (scenario == "rollout")
        rc = scenario_rollout(server, count, changes.value_or(10000));
      else if (scenario == "live-nodes") rc = scenario_live_nodes(server, count);
      else if (scenario == "inbox") rc = scenario_inbox(server, bin, count, client_bin);
      else if (scenario == "field")
        rc = scenario_field(server, count, client_bin, kbit, rtt_ms, compress.value_or(true));
      else throw std::runtime_error("unknown scenario " + scenario);
    }
    fs::remove_all(tmpl);
    return rc;
  } catch (const std::exception& e) {
    std::cerr << "alur_load: " << e.what() << std::endl;
    return 1;
  }
}
