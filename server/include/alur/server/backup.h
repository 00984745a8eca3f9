// Backups of a server's data folder, made while `serve` runs, and their restore.
//
// A backup is a folder: every database (the data folder's own unit and each unit in
// DATA/units/<code>, or one unit with --unit) copied with SQLite's online backup API, so
// each copy is one consistent moment of that database while the server keeps committing;
// the TLS key and certificate and tls/renewals.json (what `serve` needs besides the
// databases, and what enrolled PCs have pinned); and last, alur-backup.json, the manifest
// naming every file with its size and SHA-256. A folder without the manifest is an
// unfinished backup. Everything is private to its owner (folders 0700, files 0600).
//
// Restore checks the manifest, every file's SHA-256 and every database's integrity before
// it writes anything, then copies the backup into a new (or empty) data folder; with force
// the folder's previous contents are kept aside in DATA/sebelum-pulih-<time>/, never
// deleted. A unit's backup restores as that unit into an initialised data folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace alur::server {

// The manifest's file name, at the top of a backup folder.
inline constexpr const char* kBackupManifest = "alur-backup.json";

struct BackupSummary {
  std::filesystem::path folder;
  std::optional<std::string> unit;  // set for a backup of one unit
  std::vector<std::string> files;   // relative paths, in manifest order
  std::uint64_t bytes = 0;
  // Each database's committed log head at the moment it was copied: "" (the data folder's
  // own unit) or the unit's code -> head.
  std::vector<std::pair<std::string, std::uint64_t>> heads;
};

// Backs up the initialised data folder `data_dir` (all units, or only `unit`) into
// `out_dir`, which must not exist yet or be empty.
BackupSummary make_backup(const std::filesystem::path& data_dir,
                          const std::filesystem::path& out_dir,
                          const std::optional<std::string>& unit, std::int64_t now_ms);

// Restores the backup in `backup_dir` into `data_dir` (see the file comment).
BackupSummary restore_backup(const std::filesystem::path& backup_dir,
                             const std::filesystem::path& data_dir, bool force,
                             std::int64_t now_ms);

}  // namespace alur::server
