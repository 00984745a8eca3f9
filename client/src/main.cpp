// alur: the official's command line. Every command works on the local replica, offline;
// only enroll and sync talk to the server. See README "Command line" for the contract.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "alur/client/commands.h"
#include "alur/shared/console.h"
#include "alur/client/config.h"
#include "alur/client/replica.h"
#include "alur/shared/error.h"
#include "alur/shared/paths.h"

using namespace alur;

namespace {

// Asks for a secret (password, passphrase) on the terminal without echoing it
// (console::read_line_hidden is the one place that touches the console mode).
std::string prompt_secret(const char* prompt) {
  std::cerr << prompt << std::flush;
  std::string secret = console::read_line_hidden();
  std::cerr << std::endl;
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  return secret;
}

// A passphrase: the first line of `file`, else asked on the terminal (twice when it is a
// new one), else none (a script that gave no file).
std::optional<std::string> passphrase_from(const std::string& file, bool is_new,
                                           const char* prompt = "Frasa sandi: ") {
  if (!file.empty()) {
    std::ifstream in(u8_path(file), std::ios::binary);
    if (!in) throw Error("io", "Tidak dapat membaca berkas frasa sandi " + file);
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (!console::stdin_is_terminal()) return std::nullopt;
  std::string first = prompt_secret(prompt);
  if (is_new && prompt_secret("Ulangi frasa sandi: ") != first)
    throw Error("passphrase_mismatch", "Kedua frasa sandi tidak sama; tidak ada yang disimpan.");
  return first;
}

}  // namespace

int main(int argc, char** argv) {
  console::Utf8Args utf8_args(argc, argv);
  client::Options opt;
  CLI::App app{"alur — SOP sebagai alur kerja, bekerja tanpa koneksi"};
  app.fallthrough();
  app.set_version_flag("--version", std::string("alur ") + ALUR_VERSION);
  app.require_subcommand(1);
  app.add_option("--home", opt.home, "Folder data lokal (bawaan: $ALUR_HOME atau folder pengguna)");
  app.add_flag("--json", opt.json, "Keluaran JSON untuk mesin");

  std::string server, username, fingerprint, sop, period, text, file, reason, out, rev;
  bool password_stdin = false, watch = false;
  int to_step = 0;
  std::string case_id, task, name;

  auto* enroll = app.add_subcommand("enroll", "Daftarkan perangkat ini ke server");
  enroll->add_option("--server", server, "wss://HOST:PORT (bawaan: server di alur.conf)");
  enroll->add_option("--username", username, "Nama pengguna")->required();
  enroll->add_flag("--password-stdin", password_stdin, "Baca kata sandi dari stdin");
  enroll
      ->add_option("--trust-fingerprint", fingerprint,
                   "Sidik jari sertifikat server (alur-server fingerprint; bawaan: alur.conf)");
  std::string passphrase_file, new_passphrase_file, import_key;
  enroll->add_option("--passphrase-file", passphrase_file,
                     "Frasa sandi kunci tanda tangan (baris pertama berkas; tanpa ini ditanyakan)");
  enroll->add_option("--import-key", import_key,
                     "Pakai kunci tanda tangan dari PC lama (alur key export)");

  auto* kasus = app.add_subcommand("case", "Kasus (satu jalannya SOP)");
  kasus->require_subcommand(1);
  auto* case_open = kasus->add_subcommand("open", "Buka kasus baru");
  case_open->add_option("--sop", sop, "Kode SOP, mis. LAKIP")->required();
  case_open->add_option("--period", period, "Periode, mis. 2026-Q3")->required();
  auto* case_show = kasus->add_subcommand("show", "Tampilkan kasus");
  case_show->add_option("case", case_id, "Nomor kasus (awalan unik cukup)")->required();
  auto* case_list = kasus->add_subcommand("list", "Daftar kasus");

  auto* inbox = app.add_subcommand("inbox", "Kotak masuk: tugas saya yang siap dikerjakan");

  auto* act = app.add_subcommand("act", "Kerjakan dan selesaikan tugas");
  act->add_option("task", task, "Nomor tugas (dari inbox)")->required();
  act->add_option("--text", text, "Isi disposisi, notulen, catatan atau koreksi");
  act->add_option("--file", file, "Berkas draft (revisi baru)");
  std::string outcome;
  act->add_option("--outcome", outcome,
                  "Keputusan pada langkah keputusan (mis. setuju, tolak; lihat case show)");
  act->add_option("--passphrase-file", passphrase_file,
                  "Frasa sandi untuk paraf/tanda tangan (tanpa ini ditanyakan)");

  auto* key_cmd = app.add_subcommand("key", "Kunci tanda tangan pribadi");
  key_cmd->require_subcommand(1);
  auto* key_show = key_cmd->add_subcommand("show", "Kunci publik dan apakah server mencatatnya");
  auto* key_export = key_cmd->add_subcommand(
      "export", "Simpan kunci (tetap terkunci frasa sandi) untuk dipindah ke PC baru");
  key_export->add_option("--out", out, "Berkas tujuan")->required();
  auto* key_new = key_cmd->add_subcommand(
      "new", "Buat kunci baru di perangkat ini (kunci lama tetap sah untuk tanda tangan lama)");
  key_new->add_option("--passphrase-file", passphrase_file, "Frasa sandi kunci baru");

  auto* pass_cmd = app.add_subcommand("passphrase", "Frasa sandi kunci tanda tangan");
  pass_cmd->require_subcommand(1);
  auto* pass_change = pass_cmd->add_subcommand("change", "Ganti frasa sandi");
  pass_change->add_option("--passphrase-file", passphrase_file, "Frasa sandi lama");
  pass_change->add_option("--new-passphrase-file", new_passphrase_file, "Frasa sandi baru");

  auto* exp = app.add_subcommand(
      "export", "Ekspor kasus yang dapat diperiksa tanpa server: dokumen, hash, paraf, tanda tangan");
  exp->add_option("case", case_id, "Nomor kasus");
  exp->add_option("--out", out, "Folder tujuan");
  auto* exp_verify = exp->add_subcommand("verify", "Periksa ulang folder ekspor tanpa server");
  std::string export_dir;
  exp_verify->add_option("dir", export_dir, "Folder ekspor")->required();

  auto* ret =
      app.add_subcommand("return", "Kembalikan kasus ke langkah sebelumnya untuk diperbaiki");
  ret->add_option("task", task, "Nomor tugas saya yang siap")->required();
  ret->add_option("--to-step", to_step, "Langkah tujuan")->required();
  ret->add_option("--reason", reason, "Alasan pengembalian")->required();

  auto* sync = app.add_subcommand("sync", "Sinkronkan dengan server");
  sync->add_flag("--watch", watch, "Tetap terhubung dan terima perubahan baru seketika");
  int heartbeat = static_cast<int>(client::kDefaultHeartbeat.count());
  sync->add_option("--heartbeat", heartbeat,
                   "Detik tanpa tanda dari server sebelum koneksi dianggap putus (ping di "
                   "separuhnya)")
      ->check(CLI::Range(1, 3600));
  std::string compression;  // empty: alur.conf's, else auto
  sync->add_option("--compression", compression,
                   "Kompresi koneksi: auto (kecuali server di komputer ini), on, off; bawaan "
                   "dari alur.conf, atau auto")
      ->check(CLI::IsMember({"auto", "on", "off"}));

  auto* status = app.add_subcommand("status", "Perubahan menunggu sinkronisasi dan yang ditolak");

  bool force = false;
  auto* verify = app.add_subcommand(
      "verify", "Periksa data lokal: rantai hash log dan perubahan, keadaan kasus (keluar 1 bila rusak)");
  auto* repair = app.add_subcommand(
      "repair",
      "Periksa data lokal; bila rusak, bangun ulang dari server tanpa kehilangan "
      "perubahan yang belum terkirim");
  repair->add_flag("--force", force, "Bangun ulang walaupun pemeriksaan tidak menemukan kerusakan");

  auto* draft = app.add_subcommand("draft", "Draft dokumen kasus");
  draft->require_subcommand(1);
  auto* draft_put =
      draft->add_subcommand("put", "Tambah revisi draft (menggabungkan semua versi terakhir)");
  draft_put->add_option("case", case_id)->required();
  draft_put->add_option("name", name)->required();
  draft_put->add_option("--file", file, "Berkas revisi")->required();
  auto* draft_show = draft->add_subcommand("show", "Riwayat revisi draft");
  draft_show->add_option("case", case_id)->required();
  draft_show->add_option("name", name)->required();
  auto* draft_get = draft->add_subcommand("get", "Simpan isi revisi ke berkas");
  draft_get->add_option("case", case_id)->required();
  draft_get->add_option("name", name)->required();
  draft_get->add_option("--rev", rev, "Revisi (bawaan: versi terakhir)");
  draft_get->add_option("--out", out, "Berkas tujuan")->required();
  auto* draft_merge =
      draft->add_subcommand("merge", "Gabungkan otomatis dua versi terakhir draft teks");
  draft_merge->add_option("case", case_id)->required();
  draft_merge->add_option("name", name)->required();

  auto* disp = app.add_subcommand("disposition", "Ubah disposisi yang sudah diberikan");
  disp->require_subcommand(1);
  auto* disp_set = disp->add_subcommand("set", "Tulis ulang disposisi (menyelesaikan konflik)");
  disp_set->add_option("task", task)->required();
  disp_set->add_option("--text", text)->required();

  auto* corr = app.add_subcommand("correction", "Koreksi pada revisi draft");
  corr->require_subcommand(1);
  auto* corr_add = corr->add_subcommand("add", "Tambah koreksi pada versi terakhir draft");
  corr_add->add_option("case", case_id)->required();
  corr_add->add_option("name", name)->required();
  corr_add->add_option("--text", text)->required();
  auto* corr_resolve = corr->add_subcommand("resolve", "Tandai koreksi selesai");
  corr_resolve->add_option("case", case_id)->required();
  corr_resolve->add_option("id", task)->required();
  auto* corr_reopen = corr->add_subcommand("reopen", "Buka kembali koreksi");
  corr_reopen->add_option("case", case_id)->required();
  corr_reopen->add_option("id", task)->required();

  std::string csv_file, html_file;
  auto* report = app.add_subcommand(
      "report", "Laporan kinerja: hari kerja tiap langkah terhadap waktu baku, keterlambatan");
  report->add_option("--period", period, "Periode: 2026-Q3, atau tahun 2026 (bawaan: semua)");
  report->add_option("--case", case_id, "Hanya satu kasus");
  report->add_option("--csv", csv_file, "Simpan juga sebagai CSV");
  report->add_option("--html", html_file, "Simpan juga sebagai halaman HTML siap cetak");

  auto* sop_cmd = app.add_subcommand("sop", "Dokumen SOP");
  sop_cmd->require_subcommand(1);
  auto* sop_show = sop_cmd->add_subcommand("show", "Tampilkan SOP dalam format SOP AP");
  sop_show->add_option("sop", sop, "Kode SOP, mis. LAKIP")->required();
  sop_show->add_option("--html", html_file, "Simpan sebagai halaman HTML siap cetak");

  bool no_browser = false;
  int ui_port = 0;
  auto* ui = app.add_subcommand(
      "ui", "Buka aplikasi di peramban (hanya di komputer ini; sinkronisasi berjalan di latar)");
  ui->add_flag("--no-browser", no_browser, "Jangan buka peramban; cetak alamatnya saja");
  ui->add_option("--port", ui_port, "Port di 127.0.0.1 (bawaan: port bebas)")
      ->check(CLI::Range(0, 65535));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  // Test-only (documented in README, "What is tested"): runs this client with its clock
  // moved, to test a PC whose clock is days off.
  if (const char* off = std::getenv("ALUR_TEST_CLOCK_OFFSET_MS"); off && *off)
    opt.clock_offset_ms = std::stoll(off);
  opt.heartbeat = std::chrono::seconds(heartbeat);
  client::Commands cmd(opt);
  try {
    if (*enroll) {
      // What IT preset in alur.conf fills what the command line leaves out.
      if (server.empty() || fingerprint.empty()) {
        auto conf = client::load_client_config(opt.home.empty() ? client::default_home() : opt.home);
        if (server.empty()) server = conf.server.value_or("");
        if (fingerprint.empty()) fingerprint = conf.fingerprint.value_or("");
      }
      if (server.empty() || fingerprint.empty()) {
        cmd.fail("usage", std::string(server.empty() ? "--server" : "--trust-fingerprint") +
                              " tidak diberikan dan tidak ada di alur.conf");
        return 2;
      }
      std::string password;
      if (password_stdin) {
        std::getline(std::cin, password);
        if (!password.empty() && password.back() == '\r') password.pop_back();
      } else if (auto p = env_utf8("ALUR_PASSWORD")) {  // UTF-8 on Windows too
        password = *p;
      } else {
        password = prompt_secret("Kata sandi: ");
      }
      return cmd.enroll(server, username, password, fingerprint,
                        passphrase_from(passphrase_file, import_key.empty()), import_key);
    }
    if (*act)
      return cmd.act(task, text, file, outcome, [&] { return passphrase_from(passphrase_file, false); });
    if (*key_show) return cmd.key_show();
    if (*key_export) return cmd.key_export(out);
    if (*key_new) return cmd.key_new(passphrase_from(passphrase_file, true));
    if (*pass_change) {
      auto old_p = passphrase_from(passphrase_file, false, "Frasa sandi lama: ");
      return cmd.passphrase_change(old_p, passphrase_from(new_passphrase_file, true,
                                                          "Frasa sandi baru: "));
    }
    if (*exp_verify) return cmd.export_verify(export_dir);
    if (*exp) {
      if (case_id.empty() || out.empty()) {
        cmd.fail("usage", "Pakai: alur export KASUS --out FOLDER, atau alur export verify FOLDER");
        return 2;
      }
      return cmd.export_case(case_id, out);
    }
    if (*case_open) return cmd.case_open(sop, period);
    if (*case_show) return cmd.case_show(case_id);
    if (*case_list) return cmd.case_list();
    if (*inbox) return cmd.inbox();
    if (*ret) return cmd.return_task(task, to_step, reason);
    if (*sync || *ui) {
      if (compression.empty())
        compression =
            client::load_client_config(opt.home.empty() ? client::default_home() : opt.home)
                .compression.value_or("auto");
      cmd.use_compression(client::compression_named(compression));
    }
    if (*sync) return cmd.sync(watch);
    if (*status) return cmd.status();
    if (*repair) return cmd.repair(force);
    if (*verify) return cmd.verify();
    if (*draft_put) return cmd.draft_put(case_id, name, file);
    if (*draft_show) return cmd.draft_show(case_id, name);
    if (*draft_get) return cmd.draft_get(case_id, name, rev, out);
    if (*draft_merge) return cmd.draft_merge(case_id, name);
    if (*disp_set) return cmd.disposition_set(task, text);
    if (*corr_add) return cmd.correction_add(case_id, name, text);
    if (*corr_resolve) return cmd.correction_status(case_id, task, "resolved");
    if (*corr_reopen) return cmd.correction_status(case_id, task, "reopened");
    if (*report) return cmd.report(period, case_id, csv_file, html_file);
    if (*sop_show) return cmd.sop_show(sop, html_file);
    if (*ui) return cmd.ui(no_browser, ui_port);
  } catch (const Error& e) {
    return cmd.fail(e.code(), e.what());
  } catch (const std::exception& e) {
    return cmd.fail("internal", e.what());
  }
  return 2;
}
