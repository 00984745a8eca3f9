// File helpers (alur/shared/files.h).
#include "alur/shared/files.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/paths.h"

namespace fs = std::filesystem;

namespace alur {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error("io", "Tidak dapat membaca berkas " + u8_string(p));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_private_file(const fs::path& p, const std::string& content) {
  fs::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("io", "Tidak dapat menulis berkas " + u8_string(tmp));
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    out << content;
    if (!out.flush()) throw Error("io", "Gagal menulis berkas " + u8_string(tmp));
  }
  fs::rename(tmp, p);
}

std::string sha256_file_hex(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error("io", "Tidak dapat membaca berkas " + u8_string(p));
  crypto::Sha256 h;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())));
  }
  if (in.bad()) throw Error("io", "Gagal membaca berkas " + u8_string(p));
  return crypto::to_hex(h.finish());
}

void make_private_dir(const fs::path& dir) {
  std::error_code ec;
  // Every folder made here is private, not only the last one.
  std::vector<fs::path> made;
  for (fs::path p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    made.push_back(p);
    if (p == p.parent_path()) break;
  }
  fs::create_directories(dir, ec);
  if (made.empty() && !ec) made.push_back(dir);
  for (const fs::path& p : made)
    if (!ec) fs::permissions(p, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) throw Error("io", "Tidak dapat membuat folder " + u8_string(dir) + ": " + ec.message());
}

}  // namespace alur
