// alur-server: the office's sync server. Commands: init, org import, fingerprint, serve,
// backup, restore,
// device list, device revoke, verify, sop validate|import|list, delegate add|list|end,
// schedule add|list|remove, calendar import|list. Errors: one line on stderr, exit code 1
// (2 for usage).
#ifndef _WIN32
#include <sys/resource.h>
#endif
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "alur/net/ws_server.h"
#include "alur/server/admin.h"
#include "alur/server/backup.h"
#include "alur/server/schedule.h"
#include "alur/server/calendars.h"
#include "alur/server/data_lock.h"
#include "alur/server/server_db.h"
#ifdef ALUR_WITH_POSTGRESQL
#include "alur/server/pg_listener.h"
#include "alur/server/pg_store.h"
#endif
#include "alur/server/sync_service.h"
#include "alur/server/verify.h"
#include "alur/server/tuning.h"
#include "alur/server/units.h"
#include "alur/shared/cert_renewal.h"
#include "alur/shared/console.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/files.h"
#include "alur/shared/paths.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/change.h"
#include "alur/sync/templates.h"

namespace fs = std::filesystem;
using namespace alur;

namespace {

fs::path cert_path(const std::string& dir) { return u8_path(dir) / "tls" / "server.crt"; }
fs::path key_path(const std::string& dir) { return u8_path(dir) / "tls" / "server.key"; }
fs::path renewals_path(const std::string& dir) { return u8_path(dir) / "tls" / "renewals.json"; }

// The folder of one unit's database: the data folder itself, or DATA/units/<code>.
void require_initialized(const std::string& dir) {
  if (!fs::exists(u8_path(dir) / server::ServerDb::kFileName))
    throw Error(
        "not_initialized",
        "Direktori data " + dir + " belum disiapkan; jalankan: alur-server init --data " + dir);
}

// Where the records live: `--store` (sqlite:FILE or postgresql://…), or by default
// DATA/alur-server.db. Set once from the command line before any command runs.
std::string store_option;

bool is_postgresql(const std::string& store) {
  return store.starts_with("postgresql://") || store.starts_with("postgres://");
}

// Opens the store that `--store` names (creating its schema), or DATA/alur-server.db.
// `creating`: init may make a new SQLite file; every other command wants an existing one.
std::unique_ptr<server::ServerStore> open_store(const std::string& dir, bool creating = false) {
  if (store_option.empty()) {
    if (!creating) require_initialized(dir);
    return std::make_unique<server::ServerDb>(dir);
  }
  if (store_option.starts_with("sqlite:")) {
    const std::string file = store_option.substr(7);
    if (file.empty()) throw Error("usage", "--store sqlite: perlu nama berkas, mis. sqlite:/srv/alur.db");
    if (!creating && !fs::exists(u8_path(file)))
      throw Error("not_initialized", "Basis data " + file + " belum ada; jalankan: alur-server init --data " +
                                         dir + " --store " + store_option);
    return std::make_unique<server::ServerDb>(sql::File{file});
  }
  if (is_postgresql(store_option)) {
#ifdef ALUR_WITH_POSTGRESQL
    return std::make_unique<server::PgStore>(store_option);
#else
    throw Error("usage", "alur-server ini dibangun tanpa dukungan PostgreSQL; pakai sqlite:BERKAS");
#endif
  }
  throw Error("usage", "--store harus berbentuk sqlite:BERKAS atau postgresql://…, bukan \"" +
                           store_option + "\"");
}

// The commands that work on SQLite files only (a PostgreSQL database has its own tools).
void refuse_postgresql(const std::string& command, const std::string& instead) {
  if (is_postgresql(store_option))
    throw Error("unsupported_store", "alur-server " + command +
                                         " hanya untuk penyimpanan SQLite; untuk PostgreSQL pakai " +
                                         instead);
}

// The node's TLS identity (init): in the data folder whichever store holds the records.
void require_tls(const std::string& dir) {
  if (!fs::exists(cert_path(dir)))
    throw Error(
        "not_initialized",
        "Direktori data " + dir + " belum disiapkan; jalankan: alur-server init --data " + dir);
}

// One write per line: the units' workers log from several threads.
void log_line(const std::string& s) {
  std::cerr << (format_time_utc(Clock::system().now_ms()) + " " + s + "\n") << std::flush;
}

int cmd_init(const std::string& dir, const std::string& names) {
  fs::create_directories(u8_path(dir) / "tls");
  fs::permissions(u8_path(dir), fs::perms::owner_all, fs::perm_options::replace);
  if (fs::exists(cert_path(dir))) {
    std::cout << "Sudah disiapkan: " << dir << "\n";
  } else {
    auto ck = crypto::make_self_signed_certificate("alur-server", 3650, names);
    write_private_file(key_path(dir), ck.key_pem);
    write_private_file(cert_path(dir), ck.cert_pem);
  }
  auto store = open_store(dir, true);  // creates the schema
  server::ServerStore& db = *store;
  if (!db.meta("created_at")) db.set_meta("created_at", std::to_string(Clock::system().now_ms()));
  std::cout << "Server disiapkan di " << dir << "\n"
            << "Sidik jari sertifikat: "
            << crypto::certificate_fingerprint_pem(read_file(cert_path(dir))) << "\n";
  return 0;
}

// A new certificate that the old one vouches for (shared/cert_renewal.h): enrolled PCs
// re-pin by themselves at their next sync. The old key is destroyed (overwritten by the new
// one), so a copy of it stolen later cannot vouch for a certificate of the thief's; the old
// certificate is kept beside it for the record.
int cmd_cert_renew(const std::string& dir, const std::string& names) {
  require_tls(dir);
  const std::string old_cert = read_file(cert_path(dir));
  const std::string old_key = read_file(key_path(dir));
  const Millis now = Clock::system().now_ms();
  auto next = crypto::make_self_signed_certificate("alur-server", 3650, names);
  std::vector<CertRenewal> chain;
  if (fs::exists(renewals_path(dir))) chain = cert_renewals_from_json(read_file(renewals_path(dir)));
  chain.push_back(make_cert_renewal(old_cert, old_key, next.cert_pem, now));
  // The statement first: a crash before the new certificate is in place leaves the old one
  // serving, and a link to a certificate nobody presents harms no one.
  write_private_file(renewals_path(dir), cert_renewals_to_json(chain));
  write_private_file(u8_path(dir) / "tls" / ("server.crt.sampai-" + std::to_string(now)), old_cert);
  write_private_file(key_path(dir), next.key_pem);
  write_private_file(cert_path(dir), next.cert_pem);
  std::cout << "Sertifikat baru: " << crypto::certificate_fingerprint_pem(next.cert_pem) << "\n"
            << "Sertifikat lama (" << crypto::certificate_fingerprint_pem(old_cert)
            << ") menjaminnya; perangkat terdaftar beralih sendiri pada sinkronisasi berikutnya.\n"
            << "Mulai ulang server (alur-server serve) agar sertifikat baru dipakai.\n";
  return 0;
}

int cmd_org_import(const std::string& dir, const std::string& file) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  OrgFile of = parse_org_file(read_file(u8_path(file)));
  // Hash passwords before the transaction (scrypt is deliberately slow).
  std::vector<std::pair<std::string, std::string>> hashed;
  for (const auto& [user, pw] : of.passwords) hashed.emplace_back(user, crypto::hash_password(pw));
  {
    auto tx = db.begin();
    for (std::size_t i = 0; i < hashed.size(); ++i)
      db.upsert_user(hashed[i].first, of.org.people[i].name, hashed[i].second);
    tx->commit();
  }
  nlohmann::json j = of.org;
  server::commit_server_change(db, TemplateRegistry::builtin(), Clock::system(), sync::op::kOrgSet,
                               "org", j.dump());
  std::cout << "Organisasi " << of.org.unit << ": " << of.org.bidang.size() << " bidang, "
            << of.org.people.size() << " pengguna diimpor.\n";
  return 0;
}

int cmd_fingerprint(const std::string& dir) {
  require_tls(dir);
  std::cout << crypto::certificate_fingerprint_pem(read_file(cert_path(dir))) << "\n";
  return 0;
}

// Logs why each connection ended (a heartbeat timeout shows as "waktu habis"), then hands
// on to the sync service.
class ClosingLogger final : public net::Handler {
 public:
  explicit ClosingLogger(net::Handler& inner) : inner_(inner) {}
  void on_open(const std::shared_ptr<net::Connection>& conn) override { inner_.on_open(conn); }
  void on_message(const std::shared_ptr<net::Connection>& conn, std::string message) override {
    inner_.on_message(conn, std::move(message));
  }
  void on_close(const std::shared_ptr<net::Connection>& conn, const std::string& why) override {
    log_line("koneksi " + std::to_string(conn->id()) + " (" + conn->remote_address() +
             ") berakhir: " + why);
    inner_.on_close(conn, why);
  }

 private:
  net::Handler& inner_;
};

// One unit as serve runs it: its own database and sync service (server/units.h).
struct ServedUnit {
  ServedUnit(std::string unit_code, std::unique_ptr<server::ServerStore> opened)
      : code(std::move(unit_code)),
        store(std::move(opened)),
        db(*store),
        service(db, TemplateRegistry::builtin(), Clock::system()) {
    const std::string prefix = code.empty() ? "" : "[" + code + "] ";
    log = [prefix](const std::string& line) { log_line(prefix + line); };
    service.set_logger(log);
  }
  // Runs f on the unit's strand (set by serve): everything a unit's service and store do
  // runs there, one at a time, in order.
  void post(std::function<void()> f) const { strand_post(std::move(f)); }

  std::string code;  // "" for the unit at "/"
  std::unique_ptr<server::ServerStore> store;
  server::ServerStore& db;
  server::SyncService service;
  std::function<void(const std::string&)> log;
  std::function<void(std::function<void()>)> strand_post;
};

// The node's LISTEN connection (server/pg_listener.h), with a PostgreSQL store.
#ifdef ALUR_WITH_POSTGRESQL
using CommitListener = server::CommitListener;
#else
struct CommitListener {
  bool listening() const { return false; }
  void stop() {}
};
#endif

// Listens for commits through the other nodes of a PostgreSQL store (null for SQLite).
std::shared_ptr<CommitListener> start_commit_listener([[maybe_unused]] boost::asio::io_context& io,
                                                      [[maybe_unused]] ServedUnit& unit) {
#ifdef ALUR_WITH_POSTGRESQL
  if (!is_postgresql(store_option)) return nullptr;
  auto listener = std::make_shared<server::CommitListener>(
      io, store_option, [&unit] { unit.post([&unit] { unit.service.notify_commits(); }); },
      unit.log);
  listener->start();
  return listener;
#else
  return nullptr;
#endif
}

// Each connection holds one descriptor: the soft limit (often 1,024) is raised to the hard
// one (`ulimit -Hn`), which is then what bounds the number of connections. Windows has no
// such limit on sockets.
void raise_descriptor_limit() {
#ifndef _WIN32
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) != 0 || l.rlim_cur >= l.rlim_max) return;
  l.rlim_cur = l.rlim_max;
  setrlimit(RLIMIT_NOFILE, &l);
#endif
}

int cmd_serve(const std::string& dir, const std::string& listen, int heartbeat_seconds,
              bool compression) {
  raise_descriptor_limit();
  if (store_option.empty()) require_initialized(dir);
  require_tls(dir);
  // One server per data folder with SQLite files (restore waits for it); the nodes of one
  // PostgreSQL database may share a folder's TLS identity.
  std::optional<server::DataLock> lock;
  if (!is_postgresql(store_option)) lock.emplace(u8_path(dir));
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw Error("usage", "--listen harus berbentuk HOST:PORT");
  std::string host = listen.substr(0, colon);
  int port = std::stoi(listen.substr(colon + 1));
  if (port < 0 || port > 65535) throw Error("usage", "Port tidak valid: " + listen);

  std::vector<std::unique_ptr<ServedUnit>> units;
  units.push_back(std::make_unique<ServedUnit>("", open_store(dir)));
  if (store_option.empty())  // units are folders of DATA; a --store serves one database
    for (const std::string& code : server::unit_codes(dir))
      units.push_back(std::make_unique<ServedUnit>(
          code, std::make_unique<server::ServerDb>(u8_string(server::unit_dir(dir, code)))));
  std::string renewals = "[]";
  if (fs::exists(renewals_path(dir))) {
    renewals = read_file(renewals_path(dir));
    (void)cert_renewals_from_json(renewals);  // refuses to start on a damaged file
  }
  // The I/O thread (io) reads and writes the sockets; each unit's service runs on a strand
  // of the worker pool, so that units commit in parallel, each waiting for its own disk,
  // while the network goes on (server/units.h, PostedHandler). Within a unit everything
  // stays one at a time and in order, as SyncService requires.
  boost::asio::io_context io;
  server::UnitRouter router;
  std::vector<std::unique_ptr<server::PostedHandler>> posted;
  // Declared after what its work uses, before the strands; the strands are owned here and
  // the units' functions point at them, so that on any way out the pool stops and joins
  // first (joined), then the strands go while their pool still exists (strands), then the
  // pool.
  boost::asio::thread_pool workers(std::max(2u, std::thread::hardware_concurrency()));
  using Strand = boost::asio::strand<boost::asio::thread_pool::executor_type>;
  std::vector<std::unique_ptr<Strand>> strands;
  struct JoinFirst {
    boost::asio::thread_pool& pool;
    ~JoinFirst() {
      pool.stop();
      pool.join();
    }
  } joined{workers};
  for (auto& u : units) {
    // What escapes a unit's work (its store lost, say) is logged: on the I/O thread it
    // was logged by the network layer or the listener; on a worker it would end the server.
    strands.push_back(std::make_unique<Strand>(boost::asio::make_strand(workers)));
    u->strand_post = [strand = strands.back().get(), log = u->log](std::function<void()> f) {
      boost::asio::post(*strand, [f = std::move(f), log] {
        try {
          f();
        } catch (const std::exception& e) {
          log(std::string("kesalahan: ") + e.what());
        }
      });
    };
    u->service.set_cert_renewals(renewals);
    posted.push_back(std::make_unique<server::PostedHandler>(u->service, u->strand_post, u->log));
    router.add(u->code, *posted.back());
    // Group commit: a push is committed with the others that arrived with it (SyncService).
    u->service.set_defer(u->strand_post);
  }
  net::ServerLimits limits;
  limits.max_message_bytes = server::kMaxMessageBytes;
  limits.idle_timeout = std::chrono::seconds(heartbeat_seconds);
  limits.send_pings = true;
  limits.compression = compression;
  ClosingLogger handler(router);
  net::WsServer ws(io, read_file(cert_path(dir)), read_file(key_path(dir)), host,
                   static_cast<std::uint16_t>(port), handler, limits);
  ws.start();
  // Commits through the other nodes of a PostgreSQL database reach live sessions at once.
  std::shared_ptr<CommitListener> listener = start_commit_listener(io, *units.front());
  boost::asio::steady_timer ticker(io);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    log_line("signal " + std::to_string(sig) + ": berhenti");
    ticker.cancel();
    if (listener) listener->stop();
    ws.stop();
    io.stop();
  });
  // Commits and revocations by other processes on the same data (org import, device
  // revoke) reach live sessions within a tick; with PostgreSQL, commits are looked for
  // only as a safety net while the listener is connected.
  auto last_poll = std::chrono::steady_clock::now();
  std::function<void()> schedule_tick = [&] {
    ticker.expires_after(server::kCommitPoll);
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      const auto now = std::chrono::steady_clock::now();
      const bool poll = !listener || !listener->listening() ||
                        now - last_poll >= server::kCommitPollListening;
      if (poll) last_poll = now;
      for (auto& u : units)
        u->post([unit = u.get(), poll] {
          try {
            server::run_schedules(unit->db, TemplateRegistry::builtin(), Clock::system(),
                                  unit->log);
            if (poll)
              unit->service.tick();
            else
              unit->service.close_revoked_sessions();
          } catch (const std::exception& e) {
            unit->log(std::string("tick: ") + e.what());
          }
        });
      schedule_tick();
    });
  };
  schedule_tick();
  std::cout << "alur-server mendengarkan di wss://" << host << ":" << ws.port() << std::endl;
  for (auto& u : units)
    u->log("siap: unit " + (u->code.empty() ? std::string("/") : "/" + u->code) + ", head " +
           std::to_string(u->db.head()));
  io.run();
  workers.join();  // what the units were doing ends before they are destroyed
  return 0;
}

// `unit add`: a new unit with a database of its own (server/units.h).
int cmd_unit_add(const std::string& dir, const std::string& code) {
  require_initialized(dir);
  const fs::path udir = server::unit_dir(dir, code);
  if (fs::exists(udir / server::ServerDb::kFileName))
    throw Error("unit_exists", "Unit " + code + " sudah ada.");
  fs::create_directories(udir);
  fs::permissions(udir, fs::perms::owner_all, fs::perm_options::replace);
  server::ServerDb db(u8_string(udir));  // creates the schema
  if (!db.meta("created_at")) db.set_meta("created_at", std::to_string(Clock::system().now_ms()));
  std::cout << "Unit " << code << " disiapkan di " << u8_string(udir) << "\n"
            << "Impor organisasinya: alur-server org import --data " << dir << " --unit " << code
            << " FILE\n"
            << "Perangkat unit ini mendaftar ke wss://SERVER:PORT/" << code << "\n";
  return 0;
}

int cmd_unit_list(const std::string& dir, bool json_out) {
  require_initialized(dir);
  nlohmann::json arr = nlohmann::json::array();
  for (const std::string& code : server::unit_codes(dir)) {
    server::ServerDb db(u8_string(server::unit_dir(dir, code)));
    arr.push_back({{"unit", code}, {"name", db.org().unit}, {"head", db.head()}});
    if (!json_out) std::cout << code << "  " << db.org().unit << "  log: " << db.head() << "\n";
  }
  if (json_out) std::cout << arr.dump() << "\n";
  return 0;
}

int cmd_device_list(const std::string& dir, bool json_out) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& d : db.devices()) {
    arr.push_back({{"replica", d.replica},
                   {"username", d.username},
                   {"name", d.name},
                   {"created_at", format_time_utc(d.created_at)},
                   {"revoked", d.revoked_at.has_value()},
                   {"last_counter", d.last_counter}});
    if (!json_out)
      std::cout << d.replica << "  " << d.username << "  " << d.name << "  "
                << (d.revoked_at ? "DICABUT" : "aktif") << "  perubahan: " << d.last_counter
                << "\n";
  }
  if (json_out) std::cout << arr.dump() << "\n";
  return 0;
}

int cmd_calendar_import(const std::string& dir, const std::string& file) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  std::string text = read_file(u8_path(file));
  CalendarYear cal =
      server::import_calendar(db, TemplateRegistry::builtin(), Clock::system(), text);
  std::cout << "Kalender " << cal.year << " diimpor: " << cal.days.size()
            << " hari libur/cuti bersama, " << cal.amendments.size()
            << " perubahan; berlaku di semua perangkat setelah sinkronisasi.\n"
            << "Dasar: " << cal.decree.number << " (" << cal.decree.date << ")\n";
  return 0;
}

int cmd_calendar_list(const std::string& dir, bool json_out) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  nlohmann::json list = server::list_calendars(db);
  if (json_out) {
    std::cout << list.dump() << "\n";
    return 0;
  }
  for (const auto& c : list) {
    std::cout << c["year"].get<int>() << "  " << (c["origin"] == "impor" ? "diimpor" : "bawaan")
              << "  libur nasional " << c["libur_nasional"].get<int>() << ", cuti bersama "
              << c["cuti_bersama"].get<int>() << "\n    "
              << c["decree"]["number"].get<std::string>() << " ("
              << c["decree"]["date"].get<std::string>() << ")\n";
    for (const auto& a : c["amendments"])
      std::cout << "    diubah: " << a["number"].get<std::string>() << " ("
                << a["date"].get<std::string>() << ")\n";
  }
  return 0;
}

int cmd_device_revoke(const std::string& dir, const std::string& replica) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  if (!db.device(replica)) throw Error("unknown_device", "Perangkat tidak dikenal: " + replica);
  db.revoke_device(replica, Clock::system().now_ms());
  std::cout << "Perangkat " << replica << " dicabut.\n";
  return 0;
}

int cmd_verify(const std::string& dir, bool json_out) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  server::VerifyReport r = server::verify_server(db, TemplateRegistry::builtin());
  if (json_out) {
    std::cout << nlohmann::json{{"ok", r.ok()},
                                {"problems", r.problems},
                                {"entries", r.entries},
                                {"changes", r.changes},
                                {"devices", r.devices},
                                {"cases", r.cases}}
                     .dump()
              << "\n";
  } else if (r.ok()) {
    std::cout << "Catatan utuh: " << r.entries << " entri log, " << r.changes << " perubahan dari "
              << r.devices << " perangkat, " << r.cases << " kasus diperiksa.\n";
  } else {
    std::cout << "CATATAN RUSAK — yang pertama: " << r.problems.front() << "\n";
    for (std::size_t i = 1; i < r.problems.size(); ++i) std::cout << "  " << r.problems[i] << "\n";
  }
  return r.ok() ? 0 : 1;
}

// --- SOP templates ------------------------------------------------------------------

int cmd_sop_validate(const std::string& file, bool json_out) {
  TemplateCheck check = check_template(read_file(u8_path(file)));
  nlohmann::json issues = nlohmann::json::array();
  for (const auto& i : check.issues) {
    issues.push_back({{"line", i.line}, {"field", i.path}, {"message", i.message}});
    if (!json_out)
      std::cerr << file << ":" << i.line << ": " << i.path << ": " << i.message << "\n";
  }
  if (json_out) {
    nlohmann::json out = {{"valid", check.issues.empty()}, {"issues", issues}};
    if (check.template_)
      out.update({{"sop", check.template_->sop},
                  {"version", check.template_->version},
                  {"title", check.template_->title},
                  {"steps", check.template_->steps.size()}});
    std::cout << out.dump() << "\n";
  } else if (check.template_) {
    std::cout << "Templat valid: " << check.template_->sop << " versi " << check.template_->version
              << " (" << check.template_->title << "), " << check.template_->steps.size()
              << " langkah.\n";
  } else {
    std::cerr << check.issues.size() << " masalah ditemukan.\n";
  }
  return check.issues.empty() ? 0 : 1;
}

int cmd_sop_import(const std::string& dir, const std::string& file, bool json_out) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  auto r =
      server::import_template(db, TemplateRegistry::builtin(), Clock::system(), read_file(u8_path(file)));
  if (json_out)
    std::cout << r.dump() << "\n";
  else
    std::cout << "SOP " << r["sop"].get<std::string>() << " versi " << r["version"].get<int>()
              << (r["imported"].get<bool>() ? " diimpor" : " sudah ada dengan isi yang sama")
              << ": " << r["title"].get<std::string>() << "\n";
  return 0;
}

int cmd_sop_list(const std::string& dir, bool json_out) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  auto list = server::list_templates(db, TemplateRegistry::builtin());
  if (json_out) {
    std::cout << list.dump() << "\n";
    return 0;
  }
  for (const auto& t : list)
    std::cout << t["sop"].get<std::string>() << "  versi " << t["version"].get<int>() << "  "
              << t["source"].get<std::string>() << "  " << t["steps"].get<std::size_t>()
              << " langkah  " << t["title"].get<std::string>() << "\n";
  return 0;
}

// --- backups ---------------------------------------------------------------------------

std::string heads_text(const server::BackupSummary& s) {
  std::string out;
  for (const auto& [code, head] : s.heads)
    out += (out.empty() ? "" : ", ") + ("/" + code) + " " + std::to_string(head);
  return out;
}

nlohmann::json summary_json(const server::BackupSummary& s) {
  nlohmann::json heads = nlohmann::json::object();
  for (const auto& [code, head] : s.heads) heads[code] = head;
  return {{"folder", u8_string(s.folder)},
          {"unit", s.unit ? nlohmann::json(*s.unit) : nlohmann::json()},
          {"files", s.files},
          {"bytes", s.bytes},
          {"heads", heads}};
}

int cmd_backup(const std::string& dir, const std::string& out, const std::string& unit,
               bool json_out) {
  require_initialized(dir);
  auto s = server::make_backup(u8_path(dir), u8_path(out), unit.empty() ? std::nullopt : std::optional(unit),
                               Clock::system().now_ms());
  if (json_out) {
    std::cout << summary_json(s).dump() << "\n";
    return 0;
  }
  std::cout << "Cadangan dibuat di " << out << ": " << s.files.size() << " berkas, " << s.bytes
            << " bita; log per unit: " << heads_text(s) << "\n"
            << "Pulihkan dengan: alur-server restore --from " << out << " --data FOLDER_BARU\n";
  return 0;
}

int cmd_restore(const std::string& from, const std::string& dir, bool force, bool json_out) {
  auto s = server::restore_backup(u8_path(from), u8_path(dir), force, Clock::system().now_ms());
  if (json_out) {
    std::cout << summary_json(s).dump() << "\n";
    return 0;
  }
  std::cout << "Cadangan " << from << " dipulihkan ke " << dir << ": " << s.files.size()
            << " berkas; log per unit: " << heads_text(s) << "\n"
            << "Jalankan: alur-server serve --data " << dir << "\n";
  return 0;
}

// --- acting officials ------------------------------------------------------------------

int cmd_delegate_add(const std::string& dir, Delegation d, bool json_out) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  std::string id = server::add_delegation(db, TemplateRegistry::builtin(), Clock::system(), d);
  const Org& org = db.org();
  const Person* p = org.find(d.username);
  std::string label = acting_prefix(d.kind) + " " + org.role_label(d.role, d.bidang);
  if (json_out)
    std::cout << nlohmann::json{{"id", id}, {"label", label}}.dump() << "\n";
  else
    std::cout << label << ": " << (p ? p->name : d.username) << " (" << d.username << "), "
              << d.from << " s.d. " << d.until << " [" << id << "]\n";
  return 0;
}

int cmd_delegate_list(const std::string& dir, bool json_out) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  auto list = server::list_delegations(db, Clock::system().now_ms());
  if (json_out) {
    std::cout << list.dump() << "\n";
    return 0;
  }
  for (const auto& d : list)
    std::cout << d["id"].get<std::string>() << "  " << d["label"].get<std::string>() << "  "
              << d["name"].get<std::string>() << "  " << d["from"].get<std::string>() << " s.d. "
              << d["until"].get<std::string>() << "  " << d["state"].get<std::string>() << "\n";
  return 0;
}

int cmd_delegate_end(const std::string& dir, const std::string& id) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  server::end_delegation(db, TemplateRegistry::builtin(), Clock::system(), id);
  std::cout << "Plt./Plh. " << id << " diakhiri.\n";
  return 0;
}

// --- schedules -------------------------------------------------------------------------

int cmd_schedule_add(const std::string& dir, const std::string& sop, int day,
                     const std::string& period_of) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  auto tpl = sync::latest_template(db, TemplateRegistry::builtin(), sop);
  if (!tpl) throw Error("unknown_sop", "SOP \"" + sop + "\" tidak dikenal.");
  server::Schedule s{sop, day, period_of, Clock::system().now_ms()};
  {
    auto tx = db.begin();
    db.put_schedule(s);
    tx->commit();
  }
  std::cout << "Jadwal: kasus " << tpl->title << " tiap triwulan dibuka server pada tanggal " << day
            << " bulan pertama "
            << (period_of == "previous" ? "sesudah triwulan itu berakhir" : "triwulan itu")
            << ".\n";
  return 0;
}

int cmd_schedule_list(const std::string& dir, bool json_out) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& s : db.schedules()) {
    auto next = server::scheduled_period(s, Clock::system().now_ms());
    arr.push_back({{"sop", s.sop},
                   {"day", s.day},
                   {"for", s.period_of},
                   {"since", format_date_wib(s.created_at)},
                   {"due_period", next ? nlohmann::json(*next) : nlohmann::json()}});
    if (!json_out)
      std::cout << s.sop << "  tiap triwulan, tanggal " << s.day << "  ("
                << (s.period_of == "previous" ? "triwulan lalu" : "triwulan berjalan")
                << ")  sejak " << format_date_wib(s.created_at) << "\n";
  }
  if (json_out) std::cout << arr.dump() << "\n";
  return 0;
}

int cmd_schedule_remove(const std::string& dir, const std::string& sop) {
  auto store = open_store(dir);
  server::ServerStore& db = *store;
  auto tx = db.begin();
  bool removed = db.remove_schedule(sop);
  tx->commit();
  if (!removed) throw Error("unknown_schedule", "Tidak ada jadwal untuk SOP " + sop + ".");
  std::cout << "Jadwal " << sop << " dihapus.\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  console::Utf8Args utf8_args(argc, argv);
  CLI::App app{"alur-server — server sinkronisasi alur (SOP sebagai alur kerja)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("alur-server ") + ALUR_VERSION);
  std::string dir, file, listen = "127.0.0.1:8443", names, replica, unit;
  // A command on one unit's records: the data folder, and which unit (server/units.h).
  std::string store_help =
      "Basis data: sqlite:BERKAS atau postgresql://PENGGUNA@HOST:PORT/NAMA (bawaan: "
      "alur-server.db di direktori data)";
  const auto unit_scoped = [&](CLI::App* command) {
    command->add_option("--data", dir, "Direktori data")->required();
    command->add_option("--unit", unit, "Kode unit (bawaan: unit di direktori data sendiri)");
    command->add_option("--store", store_option, store_help);
  };
  bool json_out = false;

  auto* init = app.add_subcommand("init", "Siapkan direktori data, basis data dan sertifikat TLS");
  init->add_option("--data", dir, "Direktori data")->required();
  init->add_option("--store", store_option, store_help);
  init->add_option("--names", names,
                   "Nama DNS/IP tambahan untuk sertifikat (pisahkan dengan koma)");
  auto* org = app.add_subcommand("org", "Data organisasi");
  org->require_subcommand(1);
  auto* org_import = org->add_subcommand("import", "Impor bidang dan pengguna dari berkas JSON");
  unit_scoped(org_import);
  org_import->add_option("file", file, "Berkas organisasi (JSON)")->required();
  auto* fp = app.add_subcommand("fingerprint", "Cetak sidik jari SHA-256 sertifikat server");
  fp->add_option("--data", dir, "Direktori data")->required();
  auto* cert = app.add_subcommand("cert", "Sertifikat TLS server");
  cert->require_subcommand(1);
  auto* cert_renew = cert->add_subcommand(
      "renew", "Buat sertifikat baru yang dijamin sertifikat lama (perangkat tidak perlu didaftarkan ulang)");
  cert_renew->add_option("--data", dir, "Direktori data")->required();
  cert_renew->add_option("--names", names, "Nama DNS/IP tambahan, dipisah koma");
  auto* serve = app.add_subcommand("serve", "Jalankan server");
  serve->add_option("--data", dir, "Direktori data (sertifikat TLS; basis data bila tanpa --store)")
      ->required();
  serve->add_option("--store", store_option, store_help);
  serve->add_option("--listen", listen, "HOST:PORT (port 0 = pilih port bebas)");
  int heartbeat = static_cast<int>(server::kHeartbeat.count());
  serve
      ->add_option("--heartbeat", heartbeat,
                   "Detik tanpa tanda dari klien sebelum koneksinya ditutup (ping di separuhnya)")
      ->check(CLI::Range(1, 3600));
  bool no_compression = false;
  serve->add_flag("--no-compression", no_compression,
                  "Tolak permintaan kompresi klien (hemat CPU server; klien di jalur lambat "
                  "menjadi lebih lambat)");
  auto* device = app.add_subcommand("device", "Perangkat terdaftar");
  device->require_subcommand(1);
  auto* dlist = device->add_subcommand("list", "Daftar perangkat");
  unit_scoped(dlist);
  dlist->add_flag("--json", json_out, "Keluaran JSON");
  auto* drevoke = device->add_subcommand("revoke", "Cabut perangkat");
  unit_scoped(drevoke);
  drevoke->add_option("replica", replica, "Id replika perangkat")->required();

  auto* verify = app.add_subcommand(
      "verify", "Periksa seluruh rantai hash dan keadaan basis data (keluar 1 bila rusak)");
  unit_scoped(verify);
  verify->add_flag("--json", json_out, "Keluaran JSON");
  auto* sop = app.add_subcommand("sop", "Templat SOP");
  sop->require_subcommand(1);
  auto* sop_validate = sop->add_subcommand(
      "validate", "Periksa berkas templat: setiap masalah dengan baris dan kolomnya");
  sop_validate->add_option("file", file, "Berkas templat (JSON)")->required();
  sop_validate->add_flag("--json", json_out, "Keluaran JSON");
  auto* sop_import = sop->add_subcommand("import", "Impor templat (versi baru) ke semua klien");
  unit_scoped(sop_import);
  sop_import->add_option("file", file, "Berkas templat (JSON)")->required();
  sop_import->add_flag("--json", json_out, "Keluaran JSON");
  auto* sop_list = sop->add_subcommand("list", "Daftar templat (bawaan dan impor)");
  unit_scoped(sop_list);
  sop_list->add_flag("--json", json_out, "Keluaran JSON");

  Delegation delegation;
  std::string bidang_opt;
  auto* delegate = app.add_subcommand("delegate", "Pejabat Plt./Plh.");
  delegate->require_subcommand(1);
  auto* dadd = delegate->add_subcommand("add", "Tunjuk Plt./Plh. untuk suatu peran dan masa");
  unit_scoped(dadd);
  dadd->add_option("--user", delegation.username, "Nama pengguna yang ditunjuk")->required();
  dadd->add_option("--role", delegation.role, "Kode peran (kadis, sekretaris, kabid, ...)")
      ->required();
  dadd->add_option("--bidang", bidang_opt, "Kode bidang (untuk kabid)");
  dadd->add_option("--from", delegation.from, "Mulai (TTTT-BB-HH, WIB)")->required();
  dadd->add_option("--until", delegation.until, "Sampai dengan (TTTT-BB-HH, WIB)")->required();
  dadd->add_option("--kind", delegation.kind, "plt atau plh")
      ->required()
      ->check(CLI::IsMember({"plt", "plh"}));
  dadd->add_option("--note", delegation.note, "Dasar penunjukan (mis. nomor surat perintah)");
  dadd->add_flag("--json", json_out, "Keluaran JSON");
  auto* dlist2 = delegate->add_subcommand("list", "Daftar Plt./Plh.");
  unit_scoped(dlist2);
  dlist2->add_flag("--json", json_out, "Keluaran JSON");
  std::string delegation_id;
  auto* dend = delegate->add_subcommand("end", "Akhiri Plt./Plh. sekarang");
  unit_scoped(dend);
  dend->add_option("id", delegation_id, "Id penunjukan (lihat delegate list)")->required();

  std::string schedule_sop, period_of = "previous";
  int schedule_day = 1;
  bool quarterly = false;
  auto* schedule = app.add_subcommand("schedule", "Kasus triwulanan yang dibuka server");
  schedule->require_subcommand(1);
  auto* sadd =
      schedule->add_subcommand("add", "Buka kasus SOP tiap triwulan pada tanggal tertentu");
  unit_scoped(sadd);
  sadd->add_option("sop", schedule_sop, "Kode SOP, mis. LAKIP")->required();
  sadd->add_flag("--quarterly", quarterly, "Tiap triwulan (satu-satunya pilihan saat ini)")
      ->required();
  sadd->add_option("--day", schedule_day, "Tanggal pada bulan pertama triwulan (1..28)")
      ->check(CLI::Range(1, 28));
  sadd->add_option("--for", period_of,
                   "previous: triwulan yang baru berakhir (bawaan); current: triwulan berjalan")
      ->check(CLI::IsMember({"previous", "current"}));
  auto* slist = schedule->add_subcommand("list", "Daftar jadwal");
  unit_scoped(slist);
  slist->add_flag("--json", json_out, "Keluaran JSON");
  auto* sremove = schedule->add_subcommand("remove", "Hapus jadwal");
  unit_scoped(sremove);
  sremove->add_option("sop", schedule_sop, "Kode SOP")->required();
  auto* calendar =
      app.add_subcommand("calendar", "Kalender hari kerja (hari libur dan cuti bersama)");
  calendar->require_subcommand(1);
  auto* cal_import = calendar->add_subcommand(
      "import", "Impor kalender satu tahun (JSON alur.calendar/1) dan kirim ke semua perangkat");
  unit_scoped(cal_import);
  cal_import->add_option("file", file, "Berkas kalender (JSON)")->required();
  auto* cal_list = calendar->add_subcommand("list", "Daftar kalender yang berlaku");
  unit_scoped(cal_list);
  cal_list->add_flag("--json", json_out, "Keluaran JSON");

  std::string unit_code;
  auto* units = app.add_subcommand("unit", "Unit (dinas) lain di server ini, masing-masing dengan basis data sendiri");
  units->require_subcommand(1);
  auto* unit_add = units->add_subcommand("add", "Siapkan unit baru (alamatnya wss://SERVER:PORT/KODE)");
  unit_add->add_option("--data", dir, "Direktori data")->required();
  unit_add->add_option("code", unit_code, "Kode unit, mis. dkukm")->required();
  auto* unit_list = units->add_subcommand("list", "Daftar unit");
  unit_list->add_option("--data", dir, "Direktori data")->required();
  unit_list->add_flag("--json", json_out, "Keluaran JSON");

  std::string backup_out, backup_from;
  bool force = false;
  auto* backup = app.add_subcommand(
      "backup", "Cadangkan server yang sedang berjalan (basis data, kunci dan sertifikat TLS)");
  backup->add_option("--data", dir, "Direktori data")->required();
  backup->add_option("--out", backup_out, "Folder cadangan baru (belum ada atau kosong)")->required();
  backup->add_option("--unit", unit, "Hanya unit ini (bawaan: semua unit beserta identitas TLS)");
  backup->add_flag("--json", json_out, "Keluaran JSON");
  backup->add_option("--store", store_option, "Hanya SQLite; untuk PostgreSQL pakai pg_dump");
  auto* restore = app.add_subcommand("restore", "Pulihkan cadangan ke folder data baru");
  restore->add_option("--from", backup_from, "Folder cadangan (berisi alur-backup.json)")->required();
  restore->add_option("--data", dir, "Direktori data tujuan (baru atau kosong)")->required();
  restore->add_flag("--force", force,
                    "Folder tujuan boleh berisi: isinya dipindahkan ke DATA/sebelum-pulih-WAKTU");
  restore->add_flag("--json", json_out, "Keluaran JSON");
  restore->add_option("--store", store_option, "Hanya SQLite; untuk PostgreSQL pakai pg_restore");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (*init) return cmd_init(dir, names);
    if (*unit_add) return cmd_unit_add(dir, unit_code);
    if (*unit_list) return cmd_unit_list(dir, json_out);
    if (*backup || *restore) {
      refuse_postgresql(*backup ? "backup" : "restore",
                        *backup ? "pg_dump (dan replikasi PostgreSQL sendiri)" : "pg_restore");
      if (!store_option.empty())
        throw Error("unsupported_store", "alur-server backup/restore bekerja pada direktori data "
                                         "(--data), bukan pada --store");
      if (*backup) return cmd_backup(dir, backup_out, unit, json_out);
      return cmd_restore(backup_from, dir, force, json_out);
    }
    if (!unit.empty() && !store_option.empty())
      throw Error("usage", "--unit dan --store tidak dapat dipakai bersama: dengan --store, satu "
                           "basis data melayani satu unit");
    if (!unit.empty()) {  // the commands below then work on that unit's database
      const fs::path udir = server::unit_dir(dir, unit);
      if (!fs::exists(udir / server::ServerDb::kFileName))
        throw Error("unit_unknown", "Unit " + unit + " belum ada; jalankan: alur-server unit add --data " +
                                        dir + " " + unit);
      dir = u8_string(udir);
    }
    if (*org_import) return cmd_org_import(dir, file);
    if (*fp) return cmd_fingerprint(dir);
    if (*cert_renew) return cmd_cert_renew(dir, names);
    if (*serve) return cmd_serve(dir, listen, heartbeat, !no_compression);
    if (*dlist) return cmd_device_list(dir, json_out);
    if (*drevoke) return cmd_device_revoke(dir, replica);
    if (*verify) return cmd_verify(dir, json_out);
    if (*sop_validate) return cmd_sop_validate(file, json_out);
    if (*sop_import) return cmd_sop_import(dir, file, json_out);
    if (*sop_list) return cmd_sop_list(dir, json_out);
    if (*dadd) {
      if (!bidang_opt.empty()) delegation.bidang = bidang_opt;
      return cmd_delegate_add(dir, delegation, json_out);
    }
    if (*dlist2) return cmd_delegate_list(dir, json_out);
    if (*dend) return cmd_delegate_end(dir, delegation_id);
    if (*sadd) return cmd_schedule_add(dir, schedule_sop, schedule_day, period_of);
    if (*slist) return cmd_schedule_list(dir, json_out);
    if (*sremove) return cmd_schedule_remove(dir, schedule_sop);
    if (*cal_import) return cmd_calendar_import(dir, file);
    if (*cal_list) return cmd_calendar_list(dir, json_out);
  } catch (const Error& e) {
    std::cerr << "alur-server: " << e.what() << " [" << e.code() << "]\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "alur-server: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
