// The one process that owns a data folder: `serve` holds DATA/alur-server.lock for as long
// as it runs, and `restore` holds it while it writes, so that a restore can never replace
// the databases under a running server (which would keep committing into the files moved
// aside, and PCs would sync against work that is no longer there), and two servers never
// serve one folder. The lock is the operating system's (fcntl on POSIX, LockFileEx on
// Windows): a killed server releases it with its process, so no stale lock needs removing.
#pragma once

#include <filesystem>
#include <memory>

namespace alur::server {

class DataLock {
 public:
  // Name of the lock file inside the data folder; never part of a backup or moved aside.
  static constexpr const char* kFileName = "alur-server.lock";

  // Takes the lock of `data_dir` (which must exist), or throws Error("server_running")
  // naming the folder when another process holds it.
  explicit DataLock(const std::filesystem::path& data_dir);
  ~DataLock();
  DataLock(const DataLock&) = delete;
  DataLock& operator=(const DataLock&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace alur::server
