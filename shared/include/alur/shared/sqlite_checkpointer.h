// Checkpointer: moves a WAL database's checkpoints off the writer's thread.
//
// SQLite checkpoints automatically inside the COMMIT that takes the WAL past 1,000 pages:
// that commit also copies the WAL back into the database file and syncs it, so one batch
// in every few pays for its predecessors' pages (on the server's push path, a tenth of the
// writing thread's time). A Checkpointer replaces that with a thread of its own and a
// second connection to the same file, which runs a PASSIVE checkpoint (it never takes the
// write lock, so the writer goes on meanwhile) each time a commit leaves the WAL at
// `wake_pages` or more. Should the thread fall behind and the WAL reach `limit_pages`, the
// writer checkpoints itself after its commit, as SQLite would: the WAL stays bounded.
//
// Durability is unchanged: a commit is durable when its WAL frames are synced
// (synchronous=FULL), whoever checkpoints them later; a failed checkpoint (a full disk)
// loses nothing and is tried again after the next commit.
//
// The Database must outlive its Checkpointer; destroying the Checkpointer stops its thread
// and gives the writer back SQLite's automatic checkpoint.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "alur/shared/sqlite.h"

namespace alur::sql {

class Checkpointer {
 public:
  static constexpr int kWakePages = 1000;    // SQLite's automatic checkpoint threshold
  static constexpr int kLimitPages = 16000;  // about 64 MiB of WAL at 4 KiB pages

  // A Checkpointer for db if db is a file in WAL mode, else nothing (an in-memory database,
  // such as the simulator's, has no WAL to checkpoint).
  static std::unique_ptr<Checkpointer> if_wal(Database& db);

  // db: a file database in WAL mode, used by one thread at a time (the writer).
  explicit Checkpointer(Database& db, int wake_pages = kWakePages, int limit_pages = kLimitPages);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Checkpoints run by the thread, successful or not (for tests and benchmarks).
  int runs();

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
  void run();

  Database& writer_;
  int wake_pages_, limit_pages_;
  std::unique_ptr<Database> own_;  // the thread's connection
  std::mutex mutex_;
  std::condition_variable wake_;
  bool pending_ = false, stopping_ = false;
  int runs_ = 0;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace alur::sql
