// Tests of sql::Checkpointer: a WAL file checkpointed by a thread of its own instead of by
// the committing writer, the writer stepping in when that thread falls behind, SQLite's
// automatic checkpoint given back afterwards, and a disk with no room left for the
// database file to take the checkpoint. Real files; what is observed is what a server
// operator would see on disk: where the committed pages are and how large the WAL grows.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <filesystem>
#include <string>
#include <thread>

#include "alur/shared/sqlite_checkpointer.h"
#include "common/test_support.h"

namespace alur::sql {
namespace {

namespace fs = std::filesystem;
using alur::testing::TempDir;

constexpr std::int64_t kPage = 4096;
constexpr int kRowBytes = 8 * 4096;  // each commit writes about 9 pages

std::int64_t first_int(Database& db, const std::string& sql) {
  Statement s(db, sql);
  EXPECT_TRUE(s.step());
  return s.get_int(0);
}

void commit_rows(Database& db, int commits) {
  for (int i = 0; i < commits; ++i) {
    Transaction tx(db);
    Statement insert(db, "INSERT INTO t (body) VALUES (zeroblob(?))");
    insert.bind(1, static_cast<std::int64_t>(kRowBytes)).exec();
    tx.commit();
  }
}

class CheckpointerTest : public ::testing::Test {
 protected:
  CheckpointerTest() : file_(dir_.sub("db.sqlite")), db_(file_) {
    db_.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)");
  }
  void SetUp() override { ASSERT_EQ(first_int(db_, "PRAGMA page_size"), kPage); }
  std::int64_t main_bytes() const { return static_cast<std::int64_t>(fs::file_size(file_)); }
  std::int64_t wal_bytes() const {
    return static_cast<std::int64_t>(fs::file_size(file_ + "-wal"));
  }

  TempDir dir_;
  std::string file_;
  Database db_;
};

TEST_F(CheckpointerTest, CommittedPagesReachTheDatabaseFileWithoutTheWriter) {
  std::int64_t before = main_bytes();
  {
    Checkpointer checkpointer(db_, /*wake_pages=*/50, /*limit_pages=*/1'000'000);
    // The writer no longer checkpoints in its COMMIT: SQLite reports its automatic
    // checkpoint as off on this connection.
    EXPECT_EQ(first_int(db_, "PRAGMA wal_autocheckpoint"), 0);
    commit_rows(db_, 20);  // about 180 pages: past 50, the thread is woken
    // The writer is idle now; the thread copies the WAL into the file on its own.
    for (int i = 0; i < 1000 && (checkpointer.runs() == 0 || main_bytes() < 20 * kRowBytes); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_GE(checkpointer.runs(), 1);
    EXPECT_GE(main_bytes(), before + 20 * kRowBytes);
  }
  // Given back: SQLite's own checkpoint at 1,000 pages.
  EXPECT_EQ(first_int(db_, "PRAGMA wal_autocheckpoint"), Checkpointer::kWakePages);
  // Everything committed is there for a new connection.
  Database reader(file_, OpenOptions{.create = false});
  Statement count(reader, "SELECT count(*), sum(length(body)) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.get_int(0), 20);
  EXPECT_EQ(count.get_int(1), 20 * kRowBytes);
}

TEST(CheckpointerIfWal, OnlyAFileInWalModeGetsOne) {
  alur::testing::TempDir dir;
  Database file(dir.sub("db.sqlite"));
  EXPECT_NE(Checkpointer::if_wal(file), nullptr);
  Database memory(":memory:");
  EXPECT_EQ(Checkpointer::if_wal(memory), nullptr);
}

TEST_F(CheckpointerTest, TheWriterCheckpointsWhenTheThreadFallsBehind) {
  // A thread that is never woken stands for one that cannot keep up: the WAL must still
  // stay near the limit instead of growing with every commit.
  Checkpointer checkpointer(db_, /*wake_pages=*/INT_MAX, /*limit_pages=*/60);
  commit_rows(db_, 60);  // about 540 pages in all
  EXPECT_EQ(checkpointer.runs(), 0);
  EXPECT_LE(wal_bytes(), (60 + 2 * 9) * (kPage + 24) + 32);  // the limit, a commit, headers
  EXPECT_GE(main_bytes(), 60 * kRowBytes);                   // the writer checkpointed
}

TEST_F(CheckpointerTest, AReaderHoldingAnOldSnapshotLosesNothing) {
  // A checkpoint cannot pass a reader's snapshot; the reader keeps seeing it, the writer
  // goes on, and once the reader is gone every commit reaches the file.
  Checkpointer checkpointer(db_, /*wake_pages=*/20, /*limit_pages=*/1'000'000);
  commit_rows(db_, 5);
  Database reader(file_, OpenOptions{.create = false});
  reader.exec("BEGIN");
  EXPECT_EQ(first_int(reader, "SELECT count(*) FROM t"), 5);  // the snapshot starts here
  commit_rows(db_, 20);
  EXPECT_EQ(first_int(reader, "SELECT count(*) FROM t"), 5);  // untouched by checkpoints
  reader.exec("COMMIT");
  commit_rows(db_, 5);  // wakes the thread again, now that no snapshot holds it back
  for (int i = 0; i < 1000 && main_bytes() < 30 * kRowBytes; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GE(main_bytes(), 30 * kRowBytes);
  EXPECT_EQ(first_int(reader, "SELECT count(*) FROM t"), 30);
}

// A disk with room for the WAL's appends but not for the database file: a VFS over the
// default one whose writes to a main database file fail with SQLITE_FULL (what the default
// VFS answers for ENOSPC) while `full` is set. In WAL mode only a checkpoint writes the
// main file, so commits go on and every checkpoint fails. Open a file through it with
// the URI "file:PATH?vfs=" + kName.
class MainFileFullVfs {
 public:
  static constexpr const char* kName = "alur-test-main-file-full";
  std::atomic<bool> full{false};
  std::atomic<int> refused{0};  // writes refused so far

  MainFileFullVfs() : base_(sqlite3_vfs_find(nullptr)), vfs_(*base_) {
    vfs_.szOsFile = static_cast<int>(sizeof(File)) + base_->szOsFile;
    vfs_.zName = kName;
    vfs_.pAppData = this;
    vfs_.xOpen = &open;
    sqlite3_vfs_register(&vfs_, /*makeDflt=*/0);
  }
  ~MainFileFullVfs() { sqlite3_vfs_unregister(&vfs_); }
  MainFileFullVfs(const MainFileFullVfs&) = delete;
  MainFileFullVfs& operator=(const MainFileFullVfs&) = delete;

 private:
  // Ours first, the default VFS's file right after it, in the space SQLite allocates.
  struct File {
    sqlite3_file base;
    MainFileFullVfs* vfs;
    bool main;
    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
  };
  static File* of(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
  static sqlite3_file* real(sqlite3_file* f) { return of(f)->real(); }

  static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out) {
    auto* self = static_cast<MainFileFullVfs*>(vfs->pAppData);
    File* f = of(file);
    f->vfs = self;
    f->main = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    int rc = self->base_->xOpen(self->base_, name, f->real(), flags, out);
    f->base.pMethods = rc == SQLITE_OK ? &kMethods : nullptr;
    return rc;
  }
  static int write(sqlite3_file* file, const void* data, int n, sqlite3_int64 offset) {
    File* f = of(file);
    if (f->main && f->vfs->full) {
      ++f->vfs->refused;
      return SQLITE_FULL;
    }
    return f->real()->pMethods->xWrite(f->real(), data, n, offset);
  }

  static constexpr sqlite3_io_methods kMethods = {
      3,
      [](sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); },
      [](sqlite3_file* f, void* d, int n, sqlite3_int64 o) {
        return real(f)->pMethods->xRead(real(f), d, n, o);
      },
      &write,
      [](sqlite3_file* f, sqlite3_int64 size) {
        return real(f)->pMethods->xTruncate(real(f), size);
      },
      [](sqlite3_file* f, int flags) { return real(f)->pMethods->xSync(real(f), flags); },
      [](sqlite3_file* f, sqlite3_int64* size) {
        return real(f)->pMethods->xFileSize(real(f), size);
      },
      [](sqlite3_file* f, int lock) { return real(f)->pMethods->xLock(real(f), lock); },
      [](sqlite3_file* f, int lock) { return real(f)->pMethods->xUnlock(real(f), lock); },
      [](sqlite3_file* f, int* out) { return real(f)->pMethods->xCheckReservedLock(real(f), out); },
      [](sqlite3_file* f, int op, void* arg) {
        return real(f)->pMethods->xFileControl(real(f), op, arg);
      },
      [](sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); },
      [](sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); },
      [](sqlite3_file* f, int page, int size, int extend, void volatile** out) {
        return real(f)->pMethods->xShmMap(real(f), page, size, extend, out);
      },
      [](sqlite3_file* f, int offset, int n, int flags) {
        return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
      },
      [](sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); },
      [](sqlite3_file* f, int remove) { return real(f)->pMethods->xShmUnmap(real(f), remove); },
      [](sqlite3_file* f, sqlite3_int64 o, int n, void** out) {
        return real(f)->pMethods->xFetch(real(f), o, n, out);
      },
      [](sqlite3_file* f, sqlite3_int64 o, void* p) {
        return real(f)->pMethods->xUnfetch(real(f), o, p);
      },
  };

  sqlite3_vfs* base_;
  sqlite3_vfs vfs_;
};

std::int64_t count_rows(const std::string& file) {
  Database reader(file, OpenOptions{.create = false});
  return first_int(reader, "SELECT count(*) FROM t");
}

// The disk fills up under a server: its WAL still takes commits, its database file cannot
// grow. Nothing committed is lost, the writer is never told to stop, and once space is
// freed the file catches up; a close that cannot checkpoint leaves the WAL for the next open.
TEST(CheckpointerOnAFullDisk, NothingCommittedIsLostAndTheFileCatchesUpLater) {
  MainFileFullVfs vfs;
  TempDir dir;
  const std::string path = dir.sub("db.sqlite");
  const std::string uri = "file:" + path + "?vfs=" + MainFileFullVfs::kName;
  const auto main_bytes = [&] { return static_cast<std::int64_t>(fs::file_size(path)); };
  {
    Database db(uri);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)");
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");  // the table in the file; the WAL empty
    const std::int64_t before = main_bytes();
    vfs.full = true;
    {
      Checkpointer checkpointer(db, /*wake_pages=*/50, /*limit_pages=*/120);
      commit_rows(db, 10);  // about 90 pages: the thread is woken and its checkpoint fails
      for (int i = 0; i < 1000 && checkpointer.runs() == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      ASSERT_GE(checkpointer.runs(), 1);
      commit_rows(db, 10);  // past the limit: the writer's own checkpoint fails as well
      EXPECT_GT(vfs.refused.load(), 0);
      EXPECT_EQ(main_bytes(), before);  // nothing reached the file...
      EXPECT_EQ(count_rows(uri), 20);   // ...and every commit is there, from the WAL

      vfs.full = false;  // space freed: the next commit past the threshold catches up
      commit_rows(db, 10);
      for (int i = 0; i < 1000 && main_bytes() < 30 * kRowBytes; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      EXPECT_GE(main_bytes(), 30 * kRowBytes);
    }
    commit_rows(db, 5);
    vfs.full = true;  // the close's own checkpoint cannot write the file either
  }
  EXPECT_TRUE(fs::exists(path + "-wal"));  // left for the next open
  vfs.full = false;
  Database reopened(uri, OpenOptions{.create = false});
  EXPECT_EQ(first_int(reopened, "SELECT count(*) FROM t"), 35);
  EXPECT_EQ(reopened.integrity_check(), "ok");
}

}  // namespace
}  // namespace alur::sql
