// Backups of a running server's data folder and their restore (alur/server/backup.h).
#include "alur/server/backup.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "alur/server/data_lock.h"
#include "alur/server/server_db.h"
#include "alur/server/units.h"
#include "alur/shared/clock.h"
#include "alur/shared/error.h"
#include "alur/shared/files.h"
#include "alur/shared/paths.h"
#include "alur/shared/sqlite.h"

namespace fs = std::filesystem;

namespace alur::server {
namespace {

constexpr const char* kFormat = "alur-backup/1";

// Every path a manifest may name: a database, or a file of the server's TLS identity. A
// manifest naming anything else (../x, /etc/...) is refused before anything is written.
const std::regex kAllowedPath(
    R"((alur-server\.db|units/[a-z0-9_-]{1,32}/alur-server\.db|tls/server\.(crt|key)|)"
    R"(tls/renewals\.json|tls/server\.crt\.sampai-[0-9]{1,20}))");

bool is_database(const std::string& rel) { return rel.ends_with(ServerDb::kFileName); }

std::string unit_db(const std::optional<std::string>& unit) {
  return unit ? "units/" + *unit + "/" + ServerDb::kFileName : ServerDb::kFileName;
}

// The lock file (data_lock.h) is not content: a folder holding only it is empty.
bool is_lock_file(const fs::path& p) { return p.filename() == DataLock::kFileName; }

bool empty_or_missing(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  if (!fs::is_directory(dir, ec)) return false;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (!is_lock_file(e.path())) return false;
  return !ec;
}

std::uint64_t log_head(const fs::path& db_file) {
  sql::Database db(u8_string(db_file), sql::OpenOptions{.create = false, .read_only = true, .wal = false});
  sql::Statement s(db, "SELECT COALESCE(MAX(seq), 0) FROM log");
  s.step();
  return static_cast<std::uint64_t>(s.get_int(0));
}

// Copies one database with the online backup API into a private file.
void copy_database(const fs::path& from, const fs::path& to, bool read_only_source) {
  make_private_dir(to.parent_path());
  sql::Database src(u8_string(from), sql::OpenOptions{.create = false,
                                                    .read_only = read_only_source,
                                                    .wal = !read_only_source});
  src.backup_to(u8_string(to));
  fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

// "" for the data folder's own database, else the unit's code.
std::string unit_label(const std::string& rel) {
  return rel == ServerDb::kFileName ? "" : u8_string(u8_path(rel).parent_path().filename());
}

// The files of the TLS identity that exist in the data folder, relative to it.
std::vector<std::string> tls_files(const fs::path& data_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_dir / "tls", ec)) {
    const std::string rel = "tls/" + u8_string(e.path().filename());
    if (e.is_regular_file() && std::regex_match(rel, kAllowedPath)) out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

[[noreturn]] void corrupt(const fs::path& backup_dir, const std::string& what) {
  throw Error("backup_corrupt", "Cadangan di " + u8_string(backup_dir) + " rusak: " + what +
                                    ". Pakai cadangan lain.");
}

// Reads and checks the manifest and every file it names (size, SHA-256, and each
// database's integrity); writes nothing.
nlohmann::json checked_manifest(const fs::path& backup_dir) {
  const fs::path mpath = backup_dir / kBackupManifest;
  if (!fs::is_directory(backup_dir))
    throw Error("backup_missing", "Folder cadangan " + u8_string(backup_dir) + " tidak ada.");
  if (!fs::exists(mpath))
    throw Error("backup_incomplete", "Folder " + u8_string(backup_dir) +
                                         " bukan cadangan alur yang lengkap (tidak ada " +
                                         kBackupManifest + ").");
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(read_file(mpath));
    if (m.at("format").get<std::string>() != kFormat) corrupt(backup_dir, "format tidak dikenal");
    for (const auto& f : m.at("files")) {
      const std::string rel = f.at("path").get<std::string>();
      if (!std::regex_match(rel, kAllowedPath)) corrupt(backup_dir, "nama berkas tidak sah: " + rel);
      const fs::path p = backup_dir / rel;
      if (!fs::is_regular_file(p)) corrupt(backup_dir, rel + " tidak ada");
      if (fs::file_size(p) != f.at("size").get<std::uint64_t>() ||
          sha256_file_hex(p) != f.at("sha256").get<std::string>())
        corrupt(backup_dir, rel + " berubah sejak dicadangkan (SHA-256 tidak cocok)");
      if (is_database(rel)) {
        sql::Database db(u8_string(p), sql::OpenOptions{.create = false, .read_only = true, .wal = false});
        if (const std::string r = db.integrity_check(); r != "ok") corrupt(backup_dir, rel + ": " + r);
      }
    }
  } catch (const nlohmann::json::exception&) {
    corrupt(backup_dir, std::string(kBackupManifest) + " tidak dapat dibaca");
  }
  const auto unit = m.value("unit", nlohmann::json());
  const std::string must = unit.is_string() ? unit_db(unit.get<std::string>()) : ServerDb::kFileName;
  bool has_db = false;
  for (const auto& f : m["files"]) {
    has_db = has_db || f["path"] == must;
    // A unit's backup brings that unit's database and nothing of the server around it.
    if (unit.is_string() && f["path"] != must)
      corrupt(backup_dir, "cadangan unit memuat " + f["path"].get<std::string>());
  }
  if (!has_db) corrupt(backup_dir, must + " tidak tercantum");
  return m;
}

// Moves what `what` holds (a folder) into `aside`, so a forced restore loses nothing.
void move_aside(const fs::path& what, const fs::path& aside) {
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(what))
    if (e.path() != aside && !is_lock_file(e.path())) entries.push_back(e.path());
  make_private_dir(aside);
  for (const fs::path& p : entries) fs::rename(p, aside / p.filename());
}

}  // namespace

BackupSummary make_backup(const fs::path& data_dir, const fs::path& out_dir,
                          const std::optional<std::string>& unit, std::int64_t now_ms) {
  if (!empty_or_missing(out_dir))
    throw Error("backup_exists", "Folder " + u8_string(out_dir) +
                                     " sudah berisi berkas; cadangan ditulis ke folder baru.");
  if (unit && !fs::exists(unit_dir(u8_string(data_dir), *unit) / ServerDb::kFileName))
    throw Error("unit_unknown", "Unit " + *unit + " tidak ada di " + u8_string(data_dir) + ".");
  make_private_dir(out_dir);
  std::vector<std::string> files;
  if (unit) {
    files.push_back(unit_db(unit));
  } else {
    files.push_back(ServerDb::kFileName);
    for (const std::string& code : unit_codes(u8_string(data_dir))) files.push_back(unit_db(code));
  }
  BackupSummary sum{out_dir, unit, {}, 0, {}};
  nlohmann::json listed = nlohmann::json::array();
  const auto add = [&](const std::string& rel) {
    const auto size = fs::file_size(out_dir / rel);
    listed.push_back({{"path", rel}, {"size", size}, {"sha256", sha256_file_hex(out_dir / rel)}});
    sum.files.push_back(rel);
    sum.bytes += size;
  };
  nlohmann::json heads = nlohmann::json::object();
  for (const std::string& rel : files) {
    copy_database(data_dir / rel, out_dir / rel, false);
    sum.heads.emplace_back(unit_label(rel), log_head(out_dir / rel));
    heads[unit_label(rel)] = sum.heads.back().second;
    add(rel);
  }
  if (!unit) {
    make_private_dir(out_dir / "tls");
    for (const std::string& rel : tls_files(data_dir)) {
      write_private_file(out_dir / rel, read_file(data_dir / rel));
      add(rel);
    }
  }
  nlohmann::json manifest = {{"format", kFormat},
                             {"alur_version", ALUR_VERSION},
                             {"created_at", format_time_utc(now_ms)},
                             {"source", u8_string(fs::absolute(data_dir).lexically_normal())},
                             {"unit", unit ? nlohmann::json(*unit) : nlohmann::json()},
                             {"heads", heads},
                             {"files", listed}};
  // Last: a folder without its manifest is an unfinished backup.
  write_private_file(out_dir / kBackupManifest, manifest.dump(2) + "\n");
  return sum;
}

BackupSummary restore_backup(const fs::path& backup_dir, const fs::path& data_dir, bool force,
                             std::int64_t now_ms) {
  const nlohmann::json m = checked_manifest(backup_dir);
  std::optional<std::string> unit;
  if (const auto u = m.value("unit", nlohmann::json()); u.is_string()) unit = u.get<std::string>();
  const fs::path target = unit ? unit_dir(u8_string(data_dir), *unit) : data_dir;
  if (unit && !fs::exists(data_dir / ServerDb::kFileName))
    throw Error("not_initialized", "Cadangan ini hanya berisi unit " + *unit +
                                       "; siapkan dulu servernya: alur-server init --data " +
                                       u8_string(data_dir));
  // Never under a running server: a folder a server has served has its lock file.
  std::optional<DataLock> lock;
  if (fs::exists(data_dir / DataLock::kFileName)) lock.emplace(data_dir);
  if (!empty_or_missing(target)) {
    if (!force)
      throw Error("restore_target_not_empty",
                  "Folder " + u8_string(target) +
                      " tidak kosong; pulihkan ke folder data baru, atau tambahkan --force "
                      "(isi lama dipindahkan ke " + u8_string(data_dir / "sebelum-pulih-WAKTU") + ").");
    std::string stamp = format_time_utc(now_ms);  // 2026-12-01T11:08:20Z, without ':'
    std::replace(stamp.begin(), stamp.end(), ':', '-');
    const fs::path aside = data_dir / ("sebelum-pulih-" + stamp);
    move_aside(target, unit ? aside / "units" / *unit : aside);
  }
  make_private_dir(data_dir);
  if (!lock) lock.emplace(data_dir);
  BackupSummary sum{data_dir, unit, {}, 0, {}};
  for (const auto& f : m.at("files")) {
    const std::string rel = f.at("path").get<std::string>();
    make_private_dir((data_dir / rel).parent_path());
    if (is_database(rel)) {
      copy_database(backup_dir / rel, data_dir / rel, true);
      sum.heads.emplace_back(unit_label(rel), log_head(data_dir / rel));
    } else {
      write_private_file(data_dir / rel, read_file(backup_dir / rel));
    }
    sum.files.push_back(rel);
    sum.bytes += f.at("size").get<std::uint64_t>();
  }
  return sum;
}

}  // namespace alur::server
