// Tests of sql::Checkpointer: a WAL file checkpointed by a thread of its own instead of by
// the committing writer, the writer stepping in when that thread falls behind, and SQLite's
// automatic checkpoint given back afterwards. Real files; what is observed is what a server
// operator would see on disk: where the committed pages are and how large the WAL grows.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace alur::sql
