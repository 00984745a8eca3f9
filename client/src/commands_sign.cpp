// The alur CLI's signing-key and export commands (commands.h).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "alur/client/commands.h"
#include "alur/client/export.h"
#include "alur/shared/error.h"
#include "alur/shared/paths.h"

namespace alur::client {

using nlohmann::json;

namespace {

std::string str(const json& j) { return j.is_string() ? j.get<std::string>() : std::string(); }

const std::string& required(const std::optional<std::string>& passphrase) {
  if (!passphrase)
    throw Error("passphrase_required",
                "Frasa sandi diperlukan: --passphrase-file BERKAS, atau jalankan di terminal.");
  return *passphrase;
}

}  // namespace

int Commands::key_show() {
  json r = api_.key_show();
  if (options_.json)
    std::cout << r.dump() << std::endl;
  else if (r["public_key"].is_null())
    std::cout << "Belum ada kunci tanda tangan pribadi di perangkat ini (alur key new)." << std::endl;
  else
    std::cout << "Kunci " << str(r["key_id"]) << " (" << str(r["public_key"]) << ")"
              << (r["recorded"].get<bool>() ? ", tercatat di server"
                                            : ", belum tercatat (menunggu sinkronisasi)")
              << std::endl;
  return 0;
}

int Commands::key_export(const std::string& out) {
  std::string data = api_.key_export();
  {
    // Private from the first byte: the key is sealed, but its file is still nobody else's.
    std::ofstream o(u8_path(out), std::ios::binary | std::ios::trunc);
    std::filesystem::permissions(
        u8_path(out), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    o << data;
    if (!o.flush()) throw Error("io", "Gagal menulis " + out);
  }
  if (options_.json)
    std::cout << json{{"out", out}}.dump() << std::endl;
  else
    std::cout << "Kunci (tetap terkunci frasa sandi) disimpan ke " << out
              << ". Di PC baru: alur enroll ... --import-key " << out << std::endl;
  return 0;
}

int Commands::key_new(const std::optional<std::string>& passphrase) {
  json r = api_.key_new(required(passphrase));
  if (options_.json)
    std::cout << r.dump() << std::endl;
  else
    std::cout << "Kunci tanda tangan baru " << str(r["key_id"])
              << " dibuat; tercatat di server setelah alur sync." << std::endl;
  return 0;
}

int Commands::passphrase_change(const std::optional<std::string>& old_passphrase,
                                const std::optional<std::string>& new_passphrase) {
  json r = api_.passphrase_change(required(old_passphrase), required(new_passphrase));
  if (options_.json)
    std::cout << r.dump() << std::endl;
  else
    std::cout << "Frasa sandi diganti. Kunci tanda tangan tetap sama." << std::endl;
  return 0;
}

int Commands::export_case(const std::string& case_ref, const std::string& out_dir) {
  json r = api_.export_case(case_ref, out_dir);
  if (options_.json)
    std::cout << r.dump() << std::endl;
  else
    std::cout << "Ekspor kasus " << str(r["case"]) << " ke " << out_dir << ": " << r["documents"]
              << " dokumen, " << r["revisions"] << " revisi, " << r["approvals"]
              << " paraf/tanda tangan. Buka verifikasi.html, atau: alur export verify " << out_dir
              << std::endl;
  return 0;
}

int Commands::export_verify(const std::string& dir) {
  json r = verify_export(dir);
  const bool ok = r["ok"].get<bool>();
  if (options_.json) {
    std::cout << r.dump() << std::endl;
  } else if (ok) {
    std::cout << "Ekspor utuh: " << r["approvals"] << " paraf/tanda tangan sah, " << r["documents"]
              << " dokumen cocok dengan hash-nya." << std::endl;
  } else {
    std::cout << "EKSPOR TIDAK UTUH — yang pertama: " << str(r["problems"][0]) << "\n";
    for (std::size_t i = 1; i < r["problems"].size(); ++i)
      std::cout << "  " << str(r["problems"][i]) << "\n";
    std::cout << std::flush;
  }
  return ok ? 0 : 1;
}

}  // namespace alur::client
