// alur.conf (alur/client/config.h).
#include "alur/client/config.h"

#include <sstream>

#include "alur/shared/error.h"
#include "alur/shared/files.h"
#include "alur/shared/paths.h"

#ifdef _WIN32
#include <windows.h>
#endif

namespace fs = std::filesystem;

namespace alur::client {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// The folder of the running binary ("" if unknown).
fs::path executable_dir() {
#ifdef _WIN32
  wchar_t buf[MAX_PATH];
  DWORD n = GetModuleFileNameW(nullptr, buf, MAX_PATH);
  if (n == 0 || n == MAX_PATH) return {};
  return fs::path(std::wstring(buf, n)).parent_path();
#else
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
#endif
}

}  // namespace

net::Compression compression_named(const std::string& word) {
  if (word == "auto") return net::Compression::kAuto;
  if (word == "on") return net::Compression::kAlways;
  if (word == "off") return net::Compression::kNever;
  throw Error("usage", "compression harus auto, on atau off (bukan \"" + word + "\")");
}

ClientConfig parse_client_config(const std::string& text, const std::string& source) {
  ClientConfig c;
  std::istringstream in(text);
  std::string line;
  int no = 0;
  const auto bad = [&](const std::string& why) {
    throw Error("bad_config", source + " baris " + std::to_string(no) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++no;
    if (no == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // Notepad's BOM
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const auto eq = t.find('=');
    if (eq == std::string::npos) bad("harus berbentuk kunci=nilai");
    const std::string key = trim(t.substr(0, eq));
    const std::string value = trim(t.substr(eq + 1));
    if (value.empty()) bad("nilai " + key + " kosong");
    std::optional<std::string>* slot = key == "server"        ? &c.server
                                       : key == "fingerprint" ? &c.fingerprint
                                       : key == "compression" ? &c.compression
                                                              : nullptr;
    if (!slot)
      bad("kunci tidak dikenal \"" + key + "\" (yang dikenal: server, fingerprint, compression)");
    if (*slot) bad(key + " disebut dua kali");
    if (slot == &c.compression) {
      try {
        compression_named(value);
      } catch (const Error& e) {
        bad(e.what());
      }
    }
    *slot = value;
  }
  return c;
}

std::vector<fs::path> client_config_paths(const std::string& home) {
  std::vector<fs::path> out{u8_path(home) / kConfigFileName};
  if (fs::path dir = executable_dir(); !dir.empty()) out.push_back(dir / kConfigFileName);
#ifndef _WIN32
  out.push_back(fs::path("/etc/alur") / kConfigFileName);
#endif
  return out;
}

ClientConfig load_client_config(const std::string& home) {
  ClientConfig merged;
  for (const fs::path& p : client_config_paths(home)) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) continue;
    ClientConfig c = parse_client_config(read_file(p), u8_string(p));
    if (!merged.server) merged.server = c.server;
    if (!merged.fingerprint) merged.fingerprint = c.fingerprint;
    if (!merged.compression) merged.compression = c.compression;
  }
  return merged;
}

}  // namespace alur::client
