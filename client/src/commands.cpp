// The alur CLI's commands: the Api's results, printed for people or as JSON.
#include "alur/client/commands.h"

#include <atomic>
#include <csignal>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "alur/shared/error.h"
#include "alur/shared/files.h"
#include "alur/shared/paths.h"

namespace alur::client {

using nlohmann::json;

namespace {

std::string read_file(const std::string& path) { return alur::read_file(u8_path(path)); }

Attachment attachment(const std::string& path) { return {read_file(path), path}; }

const char* state_label(const std::string& s) {
  if (s == "done") return "selesai";
  if (s == "ready") return "siap";
  return "menunggu";
}

std::string str(const json& j) { return j.is_string() ? j.get<std::string>() : std::string(); }

// "tenggat 2026-07-10 (3 hari kerja lagi)", "tenggat 2026-07-10 (lewat 2 hari kerja)",
// with "belum pasti" when a year without a calendar was counted.
std::string deadline_text(const json& t) {
  std::string out = "tenggat " + str(t["due"]);
  if (!t["due_certain"].get<bool>()) out += " (belum pasti, paling cepat)";
  if (t["remaining_days"].is_number()) {
    int n = t["remaining_days"].get<int>();
    if (n >= 0 && !t["overdue"].get<bool>())
      out += " (" + std::to_string(n) + " hari kerja lagi)";
    else if (n < 0)
      out += " (lewat " + std::to_string(-n) + " hari kerja)";
    else
      out += " (lewat tenggat)";
  }
  return out;
}

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

}  // namespace

Commands::Commands(Options options)
    : options_(options),
      clock_(options.clock_offset_ms),
      api_(options.home, clock_, wss_connector(options.heartbeat, options.compression)) {}

void Commands::use_compression(net::Compression compression) {
  options_.compression = compression;
  api_.set_connector(wss_connector(options_.heartbeat, compression));
}

int Commands::fail(const std::string& code, const std::string& m) {
  // SQLite found damage before alur's own checks did: say what to do about it.
  std::string message = code == "db_corrupt" ? m + " — data lokal rusak; jalankan: alur repair" : m;
  std::cerr << "alur: " << message << " [" << code << "]" << std::endl;
  if (options_.json)
    std::cout << json{{"error", {{"code", code}, {"message", message}}}}.dump() << std::endl;
  return 1;
}

int Commands::written(const json& r) {
  if (options_.json)
    std::cout << r.dump() << std::endl;
  else
    std::cout << str(r["message"]) << " (perubahan " << str(r["change"])
              << ", menunggu sinkronisasi)" << std::endl;
  return 0;
}

int Commands::enroll(const std::string& server, const std::string& username,
                     const std::string& password, const std::string& fingerprint,
                     const std::optional<std::string>& passphrase, const std::string& import_key) {
  std::optional<std::string> key_file;
  if (!import_key.empty()) key_file = read_file(import_key);
  json r = api_.enroll(server, username, password, fingerprint, passphrase, key_file);
  if (!passphrase)
    std::cerr << "alur: tanpa frasa sandi, perangkat ini belum dapat memaraf atau "
                 "menandatangani; buat kuncinya dengan: alur key new" << std::endl;
  if (options_.json) {
    std::cout << r.dump() << std::endl;
    return 0;
  }
  std::cout << "Terdaftar sebagai " << str(r["name"]) << " (" << str(r["username"]) << ") di "
            << str(r["unit"]) << ".\nData lokal: " << api_.home() << std::endl;
  if (!r["synced"].get<bool>())
    std::cout << "Sinkronisasi pertama belum berhasil: " << str(r["sync_error"]) << std::endl;
  return 0;
}

int Commands::sync(bool watch) {
  if (watch) {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    api_.watch(g_stop, [&](const std::string& line) {
      std::string at = format_time_utc(Clock::system().now_ms());
      if (options_.json)
        std::cout << json{{"event", line}, {"at", at}}.dump() << std::endl;
      else
        std::cout << "[" << at << "] " << line << std::endl;
    });
    return 0;
  }
  json r = api_.sync();
  if (options_.json) {
    std::cout << r.dump() << std::endl;
    return 0;
  }
  if (r.contains("clock_warning")) std::cout << "PERINGATAN: " << str(r["clock_warning"]) << "\n";
  if (r.contains("certificate_renewed"))
    std::cout << "Sertifikat server telah diperbarui dan dijamin oleh sertifikat lama; perangkat ini "
                 "kini mempercayai "
              << str(r["certificate_renewed"]["to"]) << "\n";
  std::cout << "Sinkron: dikirim " << r["pushed"] << " (diterima " << r["accepted"] << ", ditolak "
            << r["rejected"] << "), ditarik " << r["pulled"] << " perubahan." << std::endl;
  for (const auto& x : r["rejections"])
    std::cout << "  DITOLAK " << str(x["change"]) << " [" << str(x["code"])
              << "]: " << str(x["message"]) << std::endl;
  for (const auto& x : r["warnings"])
    std::cout << "  PERINGATAN " << str(x["change"]) << " [" << str(x["code"])
              << "]: " << str(x["message"]) << std::endl;
  return 0;
}

int Commands::verify() {
  json r = api_.verify();
  const bool ok = r["ok"].get<bool>();
  if (options_.json) {
    std::cout << r.dump() << std::endl;
  } else if (ok) {
    std::cout << "Data lokal utuh: " << r["entries"] << " entri log diperiksa (rantai hash, "
              << "perubahan sendiri, keadaan kasus)." << std::endl;
  } else {
    std::cout << "DATA LOKAL RUSAK — yang pertama: " << str(r["problems"][0]) << "\n";
    for (std::size_t i = 1; i < r["problems"].size(); ++i)
      std::cout << "  " << str(r["problems"][i]) << "\n";
    std::cout << "Jalankan: alur repair" << std::endl;
  }
  return ok ? 0 : 1;
}

int Commands::repair(bool force) {
  json r = api_.repair(force);
  if (options_.json) {
    std::cout << r.dump() << std::endl;
    return r["lost"].empty() ? 0 : 1;
  }
  if (!r["repaired"].get<bool>()) {
    std::cout << "Data lokal utuh: pemeriksaan lengkap tidak menemukan kerusakan." << std::endl;
    return 0;
  }
  std::cout << "Data lokal rusak:\n";
  for (const auto& p : r["problems"]) std::cout << "  - " << str(p) << "\n";
  std::cout << "Berkas rusak disimpan sebagai " << str(r["damaged_file"]) << "\n"
            << "Data dibangun ulang dari server: " << r["pulled"] << " perubahan ditarik.\n"
            << "Perubahan belum terkirim yang diselamatkan: " << r["saved"].size() << "\n";
  for (const auto& x : r["saved"])
    std::cout << "  ✓ " << str(x["op"]) << " " << str(x["record"]) << "\n";
  if (!r["lost"].empty()) {
    std::cout << "TIDAK DAPAT DISELAMATKAN: " << r["lost"].size()
              << " perubahan (kerjakan ulang):\n";
    for (const auto& x : r["lost"])
      std::cout << "  ✗ " << str(x["change"]) << " " << str(x["op"]) << " " << str(x["record"])
                << "\n";
  }
  if (r.contains("sync_error"))
    std::cout << "Sinkronisasi belum berhasil (" << str(r["sync_error"]["message"])
              << "); perubahan menunggu di kotak keluar.\n";
  std::cout << std::flush;
  return r["lost"].empty() ? 0 : 1;
}

int Commands::status() {
  json r = api_.status();
  if (options_.json) {
    std::cout << r.dump() << std::endl;
    return 0;
  }
  if (!r["clock_warning"].is_null()) std::cout << "PERINGATAN: " << str(r["clock_warning"]) << "\n";
  if (!r["last_sync_error"].is_null())
    std::cout << "Sinkronisasi terakhir GAGAL (" << str(r["last_sync_error"]["at"])
              << "): " << str(r["last_sync_error"]["message"]) << " ["
              << str(r["last_sync_error"]["code"]) << "]\n";
  std::cout << "Pengguna: " << str(r["name"]) << " (" << str(r["username"]) << ")\n"
            << "Sinkron terakhir: "
            << (r["last_sync"].is_null() ? "belum pernah" : str(r["last_sync"])) << "\n"
            << "Menunggu sinkronisasi: " << r["tentative"] << " perubahan\n";
  for (const auto& x : r["pending"])
    std::cout << "  • " << str(x["op"]) << " " << str(x["record"]) << "\n";
  for (const auto& x : r["conflicting"])
    std::cout << "  ! perubahan #" << x["counter"] << " kemungkinan ditolak: " << str(x["message"])
              << "\n";
  std::cout << "Ditolak server: " << r["rejected"].size() << "\n";
  for (const auto& x : r["rejected"])
    std::cout << "  ✗ " << str(x["op"]) << " " << str(x["record"]) << " [" << str(x["code"])
              << "]: " << str(x["message"]) << "\n";
  std::cout << std::flush;
  return 0;
}

int Commands::case_open(const std::string& sop, const std::string& period) {
  json r = api_.case_open(sop, period);
  if (options_.json)
    std::cout << r.dump() << std::endl;
  else
    std::cout << str(r["case"]) << "\n"
              << str(r["title"]) << " dibuka (menunggu sinkronisasi)." << std::endl;
  return 0;
}

int Commands::case_list() {
  json r = api_.case_list();
  if (options_.json) {
    std::cout << r.dump() << std::endl;
    return 0;
  }
  for (const auto& c : r)
    std::cout << str(c["case"]) << "  " << str(c["title"]) << "  ["
              << (c["state"] == "open" ? "berjalan" : "selesai") << "]\n";
  std::cout << std::flush;
  return 0;
}

int Commands::case_show(const std::string& ref) {
  json c = api_.case_show(ref);
  if (options_.json) {
    std::cout << c.dump() << std::endl;
    return 0;
  }
  auto name_of = [&](const json& u) {
    std::string user = str(u);
    return c["people"].contains(user) ? str(c["people"][user]) : user;
  };
  std::cout << str(c["title"]) << "  [" << (c["state"] == "open" ? "berjalan" : "selesai")
            << "]\nKasus " << str(c["case"]) << "\n\n";
  std::cout << std::left << std::setw(4) << "No" << std::setw(42) << "Langkah" << std::setw(30)
            << "Pelaksana" << std::setw(11) << "Status"
            << "Oleh / waktu\n";
  bool any_tentative = false;
  for (const auto& s : c["steps"])
    for (const auto& t : s["tasks"]) {
      std::string actor = t["bidang"].is_null() ? role_short(str(t["role"])) : str(t["actor"]);
      std::string who = t["by"].is_null() ? (str(t["due"]).empty() ? "" : deadline_text(t))
                                          : name_of(t["by"]) + " " + str(t["at"]);
      if (!t["late_days"].is_null() && t["late_days"].get<int>() > 0)
        who += " (terlambat " + std::to_string(t["late_days"].get<int>()) + " hari kerja)";
      // "Plt. Kepala Dinas: H. Ahmad" — the acting role and the person.
      if (!t["by"].is_null() && t.contains("acting") && !t["acting"].is_null())
        who = str(t["as"]) + ": " + who;
      if (t.contains("outcome")) who += " [" + str(t["outcome"]) + "]";
      std::string title = str(s["title"]);
      if (title.size() > 40) title = title.substr(0, 39) + "…";
      bool tentative = t["tentative"].get<bool>();
      any_tentative = any_tentative || tentative;
      std::cout << std::setw(4) << s["step"].get<int>() << std::setw(42) << title << std::setw(30)
                << actor.substr(0, 29) << std::setw(11)
                << (std::string(state_label(str(t["state"]))) + (tentative ? "*" : "")) << who
                << "\n";
    }
  if (!c["drafts"].empty()) std::cout << "\nDraft:\n";
  for (const auto& d : c["drafts"])
    std::cout << "  " << str(d["name"]) << ": " << d["revisions"] << " revisi, versi terakhir "
              << d["heads"].dump() << "\n";
  for (const auto& x : c["conflicts"]) std::cout << "  KONFLIK " << x.dump() << "\n";
  for (const auto& x : c["corrections"])
    std::cout << "  Koreksi " << str(x["id"]) << " (" << str(x["state"]) << ") oleh "
              << name_of(x["by"]) << ": " << str(x["text"]) << "\n";
  if (c.contains("related") && !c["related"].empty()) std::cout << "\nKasus terkait:\n";
  if (c.contains("related"))
    for (const auto& x : c["related"])
      std::cout << "  " << str(x["case"]) << "  " << str(x["title"]) << "  ["
                << (x["state"] == "open" ? "berjalan" : "selesai") << "]  (alur case show "
                << str(x["case"]) << ")\n";
  for (const auto& x : c["returns"])
    std::cout << "  Dikembalikan ke langkah " << x["to_step"] << " oleh " << name_of(x["by"])
              << ": " << str(x["reason"]) << "\n";
  for (const auto& a : c["approvals"])
    std::cout << "  " << (a["kind"] == "paraf" ? "Paraf" : "Tanda tangan") << " " << str(a["role"])
              << " (" << name_of(a["by"]) << ") atas revisi " << str(a["revision"]) << " sha256 "
              << str(a["sha256"]).substr(0, 16) << "…"
              << (a["superseded"].get<bool>() ? " (batal: kasus dikembalikan)" : "") << "\n";
  if (any_tentative) std::cout << "\n* menunggu sinkronisasi\n";
  std::cout << std::flush;
  return 0;
}

int Commands::inbox() {
  json items = api_.inbox();
  if (options_.json) {
    std::cout << items.dump() << std::endl;
    return 0;
  }
  if (items.empty()) std::cout << "Kotak masuk kosong: tidak ada tugas yang siap untuk Anda.\n";
  for (const auto& i : items) {
    std::cout << (i["overdue"].get<bool>() ? "TERLAMBAT " : "") << str(i["task"]) << "\n  "
              << str(i["title"]) << " — langkah " << i["step"] << ": " << str(i["what"]) << "\n  "
              << deadline_text(i) << "; waktu baku " << i["days"] << " hari kerja; kelengkapan: ";
    for (std::size_t k = 0; k < i["inputs"].size(); ++k)
      std::cout << (k ? ", " : "") << str(i["inputs"][k]);
    std::cout << "\n";
    if (!i["due_certain"].get<bool>()) std::cout << "  " << str(i["due_note"]) << "\n";
  }
  std::cout << std::flush;
  return 0;
}

int Commands::act(const std::string& task, const std::string& text, const std::string& file,
                  const std::string& outcome,
                  const std::function<std::optional<std::string>()>& ask_passphrase) {
  std::optional<Attachment> a;
  if (!file.empty()) a = attachment(file);
  try {
    return written(api_.act(task, text, a, outcome));
  } catch (const Error& e) {
    // A paraf or signature: now ask the passphrase (or read its file) and sign.
    if (e.code() != "passphrase_required" || !ask_passphrase) throw;
    auto passphrase = ask_passphrase();
    if (!passphrase) throw;
    return written(api_.act(task, text, a, outcome, passphrase));
  }
}

int Commands::return_task(const std::string& task, int to_step, const std::string& reason) {
  return written(api_.return_task(task, to_step, reason));
}

int Commands::draft_put(const std::string& case_ref, const std::string& name,
                        const std::string& file) {
  return written(api_.draft_put(case_ref, name, attachment(file)));
}

int Commands::draft_show(const std::string& case_ref, const std::string& name) {
  json r = api_.draft_show(case_ref, name);
  if (options_.json) {
    std::cout << r.dump() << std::endl;
    return 0;
  }
  std::cout << "Draft " << name << ": " << r["revisions"].size()
            << " revisi; versi terakhir: " << r["heads"].dump() << "\n";
  for (const auto& x : r["revisions"])
    std::cout << "  " << str(x["rev"]) << "  " << str(x["by"]) << "  " << str(x["at"]) << "  "
              << str(x["filename"]) << "  sha256 " << str(x["sha256"]).substr(0, 16) << "…  induk "
              << x["parents"].dump() << "\n";
  std::cout << std::flush;
  return 0;
}

int Commands::draft_get(const std::string& case_ref, const std::string& name,
                        const std::string& rev, const std::string& out) {
  auto [meta, data] = api_.draft_get(case_ref, name, rev);
  std::ofstream o(u8_path(out), std::ios::binary);
  o << data;
  if (!o.flush()) throw Error("io", "Gagal menulis " + out);
  meta["out"] = out;
  if (options_.json)
    std::cout << meta.dump() << std::endl;
  else
    std::cout << "Revisi " << str(meta["rev"]) << " disimpan ke " << out << std::endl;
  return 0;
}

int Commands::draft_merge(const std::string& case_ref, const std::string& name) {
  return written(api_.draft_merge(case_ref, name));
}

int Commands::disposition_set(const std::string& task, const std::string& text) {
  return written(api_.disposition_set(task, text));
}

int Commands::correction_add(const std::string& case_ref, const std::string& name,
                             const std::string& text) {
  return written(api_.correction_add(case_ref, name, text));
}

int Commands::correction_status(const std::string& case_ref, const std::string& id,
                                const std::string& status) {
  return written(api_.correction_status(case_ref, id, status));
}

}  // namespace alur::client
