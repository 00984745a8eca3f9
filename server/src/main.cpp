// alur-server: the office's sync server. Commands: init, org import, fingerprint, serve,
// device list, device revoke, calendar import, calendar list. Errors: one line on stderr, exit code
// 1 (2 for usage).
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "alur/net/ws_server.h"
#include "alur/server/calendars.h"
#include "alur/server/server_db.h"
#include "alur/server/sync_service.h"
#include "alur/server/tuning.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/change.h"

namespace fs = std::filesystem;
using namespace alur;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error("io", "Tidak dapat membaca berkas " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_private_file(const fs::path& p, const std::string& content) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("io", "Tidak dapat menulis berkas " + p.string());
    out << content;
    if (!out.flush()) throw Error("io", "Gagal menulis berkas " + p.string());
  }
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

fs::path cert_path(const std::string& dir) { return fs::path(dir) / "tls" / "server.crt"; }
fs::path key_path(const std::string& dir) { return fs::path(dir) / "tls" / "server.key"; }

void require_initialized(const std::string& dir) {
  if (!fs::exists(fs::path(dir) / server::ServerDb::kFileName) || !fs::exists(cert_path(dir)))
    throw Error(
        "not_initialized",
        "Direktori data " + dir + " belum disiapkan; jalankan: alur-server init --data " + dir);
}

void log_line(const std::string& s) {
  std::cerr << format_time_utc(Clock::system().now_ms()) << " " << s << std::endl;
}

int cmd_init(const std::string& dir, const std::string& names) {
  fs::create_directories(fs::path(dir) / "tls");
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  if (fs::exists(cert_path(dir))) {
    std::cout << "Sudah disiapkan: " << dir << "\n";
  } else {
    auto ck = crypto::make_self_signed_certificate("alur-server", 3650, names);
    write_private_file(key_path(dir), ck.key_pem);
    write_private_file(cert_path(dir), ck.cert_pem);
  }
  server::ServerDb db(dir);  // creates the schema
  if (!db.meta("created_at")) db.set_meta("created_at", std::to_string(Clock::system().now_ms()));
  std::cout << "Server disiapkan di " << dir << "\n"
            << "Sidik jari sertifikat: "
            << crypto::certificate_fingerprint_pem(read_file(cert_path(dir))) << "\n";
  return 0;
}

int cmd_org_import(const std::string& dir, const std::string& file) {
  require_initialized(dir);
  OrgFile of = parse_org_file(read_file(file));
  server::ServerDb db(dir);
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
  require_initialized(dir);
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

int cmd_serve(const std::string& dir, const std::string& listen, int heartbeat_seconds) {
  require_initialized(dir);
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw Error("usage", "--listen harus berbentuk HOST:PORT");
  std::string host = listen.substr(0, colon);
  int port = std::stoi(listen.substr(colon + 1));
  if (port < 0 || port > 65535) throw Error("usage", "Port tidak valid: " + listen);

  server::ServerDb db(dir);
  boost::asio::io_context io;
  server::SyncService service(db, TemplateRegistry::builtin(), Clock::system());
  service.set_logger(log_line);
  net::ServerLimits limits;
  limits.max_message_bytes = server::kMaxMessageBytes;
  limits.idle_timeout = std::chrono::seconds(heartbeat_seconds);
  limits.send_pings = true;
  ClosingLogger handler(service);
  net::WsServer ws(io, read_file(cert_path(dir)), read_file(key_path(dir)), host,
                   static_cast<std::uint16_t>(port), handler, limits);
  ws.start();
  boost::asio::steady_timer ticker(io);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    log_line("signal " + std::to_string(sig) + ": berhenti");
    ticker.cancel();
    ws.stop();
    io.stop();
  });
  // Commits and revocations by other processes on the same data (org import, device
  // revoke) reach live sessions within a tick.
  std::function<void()> schedule_tick = [&] {
    ticker.expires_after(std::chrono::seconds(2));
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      try {
        service.tick();
      } catch (const std::exception& e) {
        log_line(std::string("tick: ") + e.what());
      }
      schedule_tick();
    });
  };
  schedule_tick();
  std::cout << "alur-server mendengarkan di wss://" << host << ":" << ws.port() << std::endl;
  log_line("siap: data " + dir + ", head " + std::to_string(db.head()));
  io.run();
  return 0;
}

int cmd_device_list(const std::string& dir, bool json_out) {
  require_initialized(dir);
  server::ServerDb db(dir);
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
  require_initialized(dir);
  std::string text = read_file(file);
  server::ServerDb db(dir);
  CalendarYear cal =
      server::import_calendar(db, TemplateRegistry::builtin(), Clock::system(), text);
  std::cout << "Kalender " << cal.year << " diimpor: " << cal.days.size()
            << " hari libur/cuti bersama, " << cal.amendments.size()
            << " perubahan; berlaku di semua perangkat setelah sinkronisasi.\n"
            << "Dasar: " << cal.decree.number << " (" << cal.decree.date << ")\n";
  return 0;
}

int cmd_calendar_list(const std::string& dir, bool json_out) {
  require_initialized(dir);
  server::ServerDb db(dir);
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
  require_initialized(dir);
  server::ServerDb db(dir);
  if (!db.device(replica)) throw Error("unknown_device", "Perangkat tidak dikenal: " + replica);
  db.revoke_device(replica, Clock::system().now_ms());
  std::cout << "Perangkat " << replica << " dicabut.\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"alur-server — server sinkronisasi alur (SOP sebagai alur kerja)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("alur-server ") + ALUR_VERSION);
  std::string dir, file, listen = "127.0.0.1:8443", names, replica;
  bool json_out = false;

  auto* init = app.add_subcommand("init", "Siapkan direktori data, basis data dan sertifikat TLS");
  init->add_option("--data", dir, "Direktori data")->required();
  init->add_option("--names", names,
                   "Nama DNS/IP tambahan untuk sertifikat (pisahkan dengan koma)");
  auto* org = app.add_subcommand("org", "Data organisasi");
  org->require_subcommand(1);
  auto* org_import = org->add_subcommand("import", "Impor bidang dan pengguna dari berkas JSON");
  org_import->add_option("--data", dir, "Direktori data")->required();
  org_import->add_option("file", file, "Berkas organisasi (JSON)")->required();
  auto* fp = app.add_subcommand("fingerprint", "Cetak sidik jari SHA-256 sertifikat server");
  fp->add_option("--data", dir, "Direktori data")->required();
  auto* serve = app.add_subcommand("serve", "Jalankan server");
  serve->add_option("--data", dir, "Direktori data")->required();
  serve->add_option("--listen", listen, "HOST:PORT (port 0 = pilih port bebas)");
  int heartbeat = static_cast<int>(server::kHeartbeat.count());
  serve
      ->add_option("--heartbeat", heartbeat,
                   "Detik tanpa tanda dari klien sebelum koneksinya ditutup (ping di separuhnya)")
      ->check(CLI::Range(1, 3600));
  auto* device = app.add_subcommand("device", "Perangkat terdaftar");
  device->require_subcommand(1);
  auto* dlist = device->add_subcommand("list", "Daftar perangkat");
  dlist->add_option("--data", dir, "Direktori data")->required();
  dlist->add_flag("--json", json_out, "Keluaran JSON");
  auto* drevoke = device->add_subcommand("revoke", "Cabut perangkat");
  drevoke->add_option("--data", dir, "Direktori data")->required();
  drevoke->add_option("replica", replica, "Id replika perangkat")->required();

  auto* calendar =
      app.add_subcommand("calendar", "Kalender hari kerja (hari libur dan cuti bersama)");
  calendar->require_subcommand(1);
  auto* cal_import = calendar->add_subcommand(
      "import", "Impor kalender satu tahun (JSON alur.calendar/1) dan kirim ke semua perangkat");
  cal_import->add_option("--data", dir, "Direktori data")->required();
  cal_import->add_option("file", file, "Berkas kalender (JSON)")->required();
  auto* cal_list = calendar->add_subcommand("list", "Daftar kalender yang berlaku");
  cal_list->add_option("--data", dir, "Direktori data")->required();
  cal_list->add_flag("--json", json_out, "Keluaran JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (*init) return cmd_init(dir, names);
    if (*org_import) return cmd_org_import(dir, file);
    if (*fp) return cmd_fingerprint(dir);
    if (*serve) return cmd_serve(dir, listen, heartbeat);
    if (*dlist) return cmd_device_list(dir, json_out);
    if (*drevoke) return cmd_device_revoke(dir, replica);
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
