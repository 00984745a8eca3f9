// Checkpointer (see alur/shared/sqlite_checkpointer.h).
#include <sqlite3.h>

#include "alur/shared/sqlite_checkpointer.h"

namespace alur::sql {

Checkpointer::Checkpointer(Database& db, int wake_pages, int limit_pages)
    : writer_(db),
      wake_pages_(wake_pages),
      limit_pages_(limit_pages),
      own_(std::make_unique<Database>(db.path(), OpenOptions{.create = false})) {
  // Replaces the automatic checkpoint (itself a wal hook) on the writer's connection.
  sqlite3_wal_hook(writer_.handle(), &Checkpointer::on_commit, this);
  thread_ = std::thread([this] { run(); });
}

std::unique_ptr<Checkpointer> Checkpointer::if_wal(Database& db) {
  auto mode = db.cached("PRAGMA journal_mode");
  if (!mode.step() || mode.get_text(0) != "wal") return nullptr;
  return std::make_unique<Checkpointer>(db);
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_wal_autocheckpoint(writer_.handle(), kWakePages);  // SQLite's own hook again
}

int Checkpointer::runs() {
  std::lock_guard lock(mutex_);
  return runs_;
}

// Called on the writer's thread after each commit, with the WAL's size in pages.
int Checkpointer::on_commit(void* self, sqlite3* db, const char* schema, int pages) {
  auto* c = static_cast<Checkpointer*>(self);
  if (pages >= c->limit_pages_) {
    // The thread is behind: the writer pays, as with SQLite's own checkpoint. BUSY (the
    // thread is checkpointing right now) is fine: that checkpoint is doing the work.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= c->wake_pages_) {
    {
      std::lock_guard lock(c->mutex_);
      c->pending_ = true;
    }
    c->wake_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return pending_ || stopping_; });
      if (stopping_) return;
      pending_ = false;
    }
    // Whatever it returns (BUSY while a reader holds an old snapshot, FULL on a full disk),
    // the WAL still holds every commit; the next commit past wake_pages tries again.
    sqlite3_wal_checkpoint_v2(own_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    std::lock_guard lock(mutex_);
    ++runs_;
  }
}

}  // namespace alur::sql
