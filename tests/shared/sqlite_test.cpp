// Tests of the SQLite RAII wrapper: values round-trip, transactions, error mapping (full
// disk, corruption, bad SQL) and WAL isolation between two connections to one real file.
#include "alur/shared/sqlite.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include "alur/shared/error.h"

namespace alur::sql {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

// The code of the alur::Error thrown by f, or "" if it threw nothing.
std::string error_code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const alur::Error& e) {
    return e.code();
  }
  return "";
}

std::int64_t count_rows(Database& db, const std::string& table) {
  Statement count(db, "SELECT count(*) FROM " + table);
  EXPECT_TRUE(count.step());
  return count.get_int(0);
}

// A fresh directory per test, removed afterwards, so tests can run in parallel.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("alur_sqlite_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

TEST(SqliteTest, ValuesRoundTripIncludingNulBytesAndNull) {
  Database db(":memory:");
  db.exec("CREATE TABLE v (i INTEGER, d REAL, t TEXT, b BLOB, n TEXT, e TEXT)");
  const std::string blob = "a\0b\0\0c"s;
  const std::string text_with_nul = "teks\0lanjut"s;
  Statement insert(db, "INSERT INTO v VALUES (?, ?, ?, ?, ?, ?)");
  insert.bind(1, std::int64_t{1} << 40)
      .bind(2, 2.5)
      .bind_text(3, text_with_nul)
      .bind_blob(4, blob)
      .bind(5, std::optional<std::string>{})
      .bind_text(6, "");
  insert.exec();
  EXPECT_EQ(db.changes(), 1);
  EXPECT_EQ(db.last_insert_rowid(), 1);

  Statement select(db, "SELECT i, d, t, b, n, e FROM v");
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.get_int(0), std::int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(select.get_double(1), 2.5);
  EXPECT_EQ(select.get_text(2), text_with_nul);
  EXPECT_EQ(select.get_blob(3), blob);
  EXPECT_EQ(select.get_blob(3).size(), 6u);
  EXPECT_TRUE(select.is_null(4));
  EXPECT_EQ(select.get_text(4), "");
  EXPECT_EQ(select.get_optional_text(4), std::nullopt);
  // An empty string is a value, not NULL.
  EXPECT_FALSE(select.is_null(5));
  EXPECT_EQ(select.get_optional_text(5), std::optional<std::string>(""));
  EXPECT_FALSE(select.step());
}

TEST(SqliteTest, StatementMovesAndResetClearsBindings) {
  Database db(":memory:");
  Statement original(db, "SELECT ?");
  original.bind(1, 7);
  Statement moved(std::move(original));
  ASSERT_TRUE(moved.step());
  EXPECT_EQ(moved.get_int(0), 7);
  moved.reset();
  ASSERT_TRUE(moved.step());
  EXPECT_TRUE(moved.is_null(0));
}

TEST(SqliteTest, TransactionRollsBackWhenDestroyedWithoutCommit) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (x INTEGER)");
  {
    Transaction tx(db);
    db.exec("INSERT INTO t VALUES (1)");
    EXPECT_EQ(count_rows(db, "t"), 1);
  }
  EXPECT_EQ(count_rows(db, "t"), 0);
}

TEST(SqliteTest, CommittedTransactionSurvivesReopen) {
  TempDir dir;
  const std::string path = dir.file("commit.db");
  {
    Database db(path);
    db.exec("CREATE TABLE t (x TEXT)");
    Transaction tx(db);
    db.cached("INSERT INTO t VALUES (?)").bind_text(1, "tersimpan").exec();
    tx.commit();
  }
  Database reopened(path, OpenOptions{.create = false});
  Statement select(reopened, "SELECT x FROM t");
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.get_text(0), "tersimpan");
}

TEST(SqliteTest, OpeningMissingFileWithoutCreateFails) {
  TempDir dir;
  EXPECT_EQ(
      error_code_of([&] { Database db(dir.file("missing.db"), OpenOptions{.create = false}); }),
      "db");
}

TEST(SqliteTest, CachedStatementIsReusedAndComesBackClean) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
  const std::string sql = "INSERT INTO t (k, v) VALUES (?, ?)";
  for (int i = 0; i < 100; ++i)
    db.cached(sql).bind(1, i).bind_text(2, "baris " + std::to_string(i)).exec();
  EXPECT_EQ(count_rows(db, "t"), 100);

  // The next cached() of the same SQL comes back reset, with its bindings cleared.
  {
    auto select = db.cached("SELECT v FROM t WHERE k >= ? ORDER BY k");
    select.bind(1, 98);
    ASSERT_TRUE(select.step());
    EXPECT_EQ(select.get_text(0), "baris 98");
  }
  auto again = db.cached("SELECT v FROM t WHERE k >= ? ORDER BY k");
  EXPECT_FALSE(again.step());  // NULL bound: k >= NULL matches nothing
}

// Regression: a query read part-way kept its snapshot, so this connection never saw
// another connection's commits and its next write failed with db_busy.
TEST(SqliteTest, QueryReadPartWayDoesNotPinItsSnapshot) {
  char tmpl[] = "/tmp/alur-sqlite-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/db.sqlite";
  {
    Database a(path), b(path);
    a.exec("CREATE TABLE t (k INTEGER PRIMARY KEY)");
    a.exec("INSERT INTO t VALUES (1), (2)");
    auto read_first = [&] {
      auto s = a.cached("SELECT k FROM t ORDER BY k");
      return s.step() ? s.get_int(0) : -1;  // leaves a second row unread
    };
    EXPECT_EQ(read_first(), 1);
    b.exec("INSERT INTO t VALUES (0)");
    EXPECT_EQ(read_first(), 0);  // a sees b's commit
    Transaction tx(a);           // and a can still write
    a.exec("INSERT INTO t VALUES (3)");
    tx.commit();
  }
  std::filesystem::remove_all(tmpl);
}

TEST(SqliteTest, BadSqlThrowsDbError) {
  Database db(":memory:");
  EXPECT_EQ(error_code_of([&] { Statement s(db, "SELEC nothing FROM nowhere"); }), "db");
  EXPECT_EQ(error_code_of([&] { db.exec("CREATE TABLE"); }), "db");
  EXPECT_EQ(error_code_of([&] { db.cached("SELECT * FROM missing_table"); }), "db");
  // Two statements in one Statement would silently drop the second.
  EXPECT_EQ(error_code_of([&] { Statement s(db, "SELECT 1; SELECT 2"); }), "db");
  try {
    Statement s(db, "SELEC nothing");
    FAIL() << "expected an error";
  } catch (const alur::Error& e) {
    EXPECT_NE(std::string(e.what()).find("SELEC nothing"), std::string::npos) << e.what();
  }
}

TEST(SqliteTest, ConstraintViolationThrowsDbAndStatementIsReusable) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY)");
  db.cached("INSERT INTO t VALUES (?)").bind(1, 1).exec();
  EXPECT_EQ(error_code_of([&] { db.cached("INSERT INTO t VALUES (?)").bind(1, 1).exec(); }), "db");
  db.cached("INSERT INTO t VALUES (?)").bind(1, 2).exec();
  EXPECT_EQ(count_rows(db, "t"), 2);
}

TEST(SqliteTest, ForeignKeysAreEnforced) {
  Database db(":memory:");
  db.exec(
      "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
      "CREATE TABLE child (parent_id INTEGER REFERENCES parent(id))");
  EXPECT_EQ(error_code_of([&] { db.exec("INSERT INTO child VALUES (42)"); }), "db");
}

TEST(SqliteTest, FullDiskThrowsDiskFullAndKeepsCommittedData) {
  TempDir dir;
  Database db(dir.file("full.db"));
  db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, payload BLOB)");
  db.cached("INSERT INTO t VALUES (1, ?)").bind_blob(1, "sudah tersimpan").exec();

  Statement pages(db, "PRAGMA page_count");
  ASSERT_TRUE(pages.step());
  db.set_max_page_count(pages.get_int(0) + 4);
  pages.reset();

  std::string error_code;
  std::string message;
  {
    Transaction tx(db);
    try {
      const std::string payload(2000, 'x');
      for (int i = 2; i < 1000; ++i) {
        db.cached("INSERT INTO t VALUES (?, ?)").bind(1, i).bind_blob(2, payload).exec();
      }
      tx.commit();
    } catch (const alur::Error& e) {
      error_code = e.code();
      message = e.what();
    }
  }  // the transaction is rolled back here
  EXPECT_EQ(error_code, "disk_full");
  EXPECT_NE(message.find("Disk penuh"), std::string::npos) << message;

  EXPECT_EQ(count_rows(db, "t"), 1);
  Statement select(db, "SELECT payload FROM t WHERE k = 1");
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.get_blob(0), "sudah tersimpan");
  EXPECT_EQ(db.integrity_check(), "ok");
}

TEST(SqliteTest, IntegrityCheckIsOkOnFreshDatabase) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (x)");
  EXPECT_EQ(db.integrity_check(), "ok");
}

TEST(SqliteTest, OverwrittenPagesAreReportedAsCorrupt) {
  TempDir dir;
  const std::string path = dir.file("corrupt.db");
  {
    Database db(path);
    db.exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v)");
    Transaction tx(db);
    for (int i = 0; i < 400; ++i) {
      db.cached("INSERT INTO t VALUES (?, ?)")
          .bind(1, i)
          .bind_text(2, std::string(300, static_cast<char>('a' + i % 26)) + std::to_string(i))
          .exec();
    }
    tx.commit();
    EXPECT_EQ(db.integrity_check(), "ok");
  }  // the last connection checkpoints the WAL into the main file

  const auto size = fs::file_size(path);
  ASSERT_GT(size, 20u * 4096u);
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(size / 3));
    std::mt19937 random(7);
    std::string garbage(8 * 4096, '\0');
    for (char& c : garbage) c = static_cast<char>(random());
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }

  std::string result;
  std::string code = error_code_of([&] {
    Database db(path);
    result = db.integrity_check();
  });
  if (code.empty()) {
    EXPECT_NE(result, "ok");
    EXPECT_FALSE(result.empty());
  } else {
    EXPECT_EQ(code, "db_corrupt");
  }
}

TEST(SqliteTest, GarbageFileIsNotADatabase) {
  TempDir dir;
  const std::string path = dir.file("garbage.db");
  {
    std::ofstream file(path, std::ios::binary);
    file << std::string(8192, 'z');
  }
  EXPECT_EQ(error_code_of([&] {
              Database db(path);
              db.integrity_check();
            }),
            "db_corrupt");
}

TEST(SqliteTest, WalWriteIsInvisibleToOtherConnectionUntilCommit) {
  TempDir dir;
  const std::string path = dir.file("wal.db");
  Database writer(path);
  Database reader(path);
  Statement mode(reader, "PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.get_text(0), "wal");
  mode.reset();

  writer.exec("CREATE TABLE t (x INTEGER)");
  writer.exec("INSERT INTO t VALUES (1)");
  EXPECT_EQ(count_rows(reader, "t"), 1);

  Transaction tx(writer);
  writer.cached("INSERT INTO t VALUES (?)").bind(1, 2).exec();
  EXPECT_EQ(count_rows(writer, "t"), 2);
  EXPECT_EQ(count_rows(reader, "t"), 1);  // readers are not blocked, and see the old state
  tx.commit();
  EXPECT_EQ(count_rows(reader, "t"), 2);
}

TEST(SqliteTest, SecondWriterGetsDbBusyAfterTimeout) {
  TempDir dir;
  const std::string path = dir.file("busy.db");
  Database first(path);
  Database second(path, OpenOptions{.busy_timeout_ms = 50});
  first.exec("CREATE TABLE t (x)");
  Transaction tx(first);
  EXPECT_EQ(error_code_of([&] { Transaction other(second); }), "db_busy");
}

TEST(SqliteTest, UnknownSynchronousValueIsRejected) {
  EXPECT_EQ(
      error_code_of([] { Database db(":memory:", OpenOptions{.synchronous = "FULL; DROP"}); }),
      "db");
}

}  // namespace
}  // namespace alur::sql
