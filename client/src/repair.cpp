// Salvaging a damaged replica and deciding which of its changes can be re-queued.
#include "alur/client/repair.h"

#include <filesystem>
#include <fstream>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/paths.h"

namespace alur::client {

namespace fs = std::filesystem;
using namespace alur::sync;

namespace {

constexpr const char* kMetaKeys[] = {"server",  "fingerprint", "replica", "username",
                                     "name",    "unit",        "token",   "device_key",
                                     "counter", "last_hash",   "hlc",     "cursor",
                                     "personal_key"};

// A row lookup that survives damage elsewhere in the file: by primary key, one at a time.
std::optional<SalvagedRow> read_row(sql::Database& db, std::uint64_t counter,
                                    std::vector<std::string>& notes) {
  try {
    sql::Statement s(db,
                     "SELECT counter, encoded, status, code, message, seq, blob, created_at FROM "
                     "outbox WHERE counter = ?");
    s.bind(1, static_cast<std::int64_t>(counter));
    if (!s.step()) return std::nullopt;
    SalvagedRow r;
    r.row.counter = counter;
    r.encoded = s.get_blob(1);
    r.row.change = decode_change(r.encoded);
    r.row.status = s.get_text(2);
    r.row.code = s.get_text(3);
    r.row.message = s.get_text(4);
    r.row.seq = static_cast<std::uint64_t>(s.get_int(5));
    r.row.blob = s.get_text(6);
    r.created_at = s.get_int(7);
    if (r.row.change.dot.counter != counter) {
      notes.push_back("perubahan #" + std::to_string(counter) + " rusak (nomor tidak cocok)");
      return std::nullopt;
    }
    return r;
  } catch (const Error& e) {
    notes.push_back("perubahan #" + std::to_string(counter) + " tidak terbaca: " + e.what());
    return std::nullopt;
  }
}

// The file's first 16 bytes must be SQLite's magic string; a copy with them overwritten is
// given them back, which is all it takes when only the header's first bytes were hit.
void restore_magic(const std::string& path) {
  static const char kMagic[16] = "SQLite format 3";  // with its NUL: 16 bytes
  std::fstream f(u8_path(path), std::ios::in | std::ios::out | std::ios::binary);
  char head[16] = {};
  if (!f.read(head, 16)) return;
  if (std::equal(head, head + 16, kMagic)) return;
  f.seekp(0);
  f.write(kMagic, 16);
}

}  // namespace

Salvage salvage_replica(const std::string& path) {
  Salvage out;
  // Work on a copy: opening a database may recover or checkpoint its WAL, and the damaged
  // file must stay exactly as it was found.
  std::string copy = path + ".salvage";
  std::error_code ec;
  for (const char* suffix : {"", "-wal"}) {
    fs::remove(u8_path(copy + suffix), ec);
    if (fs::exists(u8_path(path + suffix)))
      fs::copy_file(u8_path(path + suffix), u8_path(copy + suffix), ec);
  }
  fs::remove(u8_path(copy + "-shm"), ec);
  restore_magic(copy);
  struct Cleanup {
    std::string copy;
    ~Cleanup() {
      std::error_code e;
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(u8_path(copy + suffix), e);
    }
  } cleanup{copy};

  std::unique_ptr<sql::Database> db;
  try {
    db = std::make_unique<sql::Database>(copy, sql::OpenOptions{.create = false, .wal = false});
    sql::Statement probe(*db, "SELECT COUNT(*) FROM sqlite_schema");
    probe.step();
    out.opened = true;
  } catch (const Error& e) {
    out.notes.push_back(std::string("berkas tidak dapat dibuka sebagai basis data: ") + e.what());
    return out;
  }
  for (const char* key : kMetaKeys) {
    try {
      sql::Statement s(*db, "SELECT value FROM meta WHERE key = ?");
      s.bind_text(1, key);
      if (s.step()) out.meta[key] = s.get_text(0);
    } catch (const Error& e) {
      out.notes.push_back(std::string("pengaturan ") + key + " tidak terbaca: " + e.what());
    }
  }
  // A scan first (fast when the table is whole), then lookups one by one up to the highest
  // counter known, to get past a damaged page.
  std::uint64_t upper = 0;
  try {
    sql::Statement s(*db, "SELECT counter FROM outbox ORDER BY counter");
    while (s.step()) upper = std::max(upper, static_cast<std::uint64_t>(s.get_int(0)));
  } catch (const Error& e) {
    out.notes.push_back(std::string("kotak keluar rusak sebagian: ") + e.what());
  }
  if (auto it = out.meta.find("counter"); it != out.meta.end())
    upper = std::max<std::uint64_t>(upper, std::stoull(it->second));
  for (std::uint64_t c = 1; c <= upper; ++c)
    if (auto r = read_row(*db, c, out.notes)) out.rows.emplace(c, std::move(*r));
  for (const auto& [counter, r] : out.rows) {
    if (r.row.blob.empty() || out.blobs.count(r.row.blob)) continue;
    try {
      sql::Statement s(*db, "SELECT data FROM blobs WHERE sha256 = ?");
      s.bind_text(1, r.row.blob);
      if (s.step()) {
        std::string data = s.get_blob(0);
        if (crypto::sha256_hex(data) == r.row.blob) out.blobs[r.row.blob] = std::move(data);
      }
    } catch (const Error& e) {
      out.notes.push_back("lampiran " + r.row.blob.substr(0, 12) + " tidak terbaca: " + e.what());
    }
  }
  return out;
}

RequeuePlan plan_requeue(const Salvage& s, std::uint64_t highest_counter,
                         const std::string& last_hash, std::optional<std::uint64_t> local_head) {
  RequeuePlan plan;
  plan.head_counter = highest_counter;
  plan.head_hash = last_hash;
  // Received by the server: kept (their resend is answered with the server's outcome).
  for (const auto& [counter, r] : s.rows)
    if (counter <= highest_counter) plan.keep.push_back(r);
  // Not received: only an unbroken run of the chain after the server's head can be sent.
  std::uint64_t top =
      std::max(local_head.value_or(0), s.rows.empty() ? std::uint64_t{0} : s.rows.rbegin()->first);
  bool broken = false;
  for (std::uint64_t c = highest_counter + 1; c <= top; ++c) {
    auto it = s.rows.find(c);
    if (!broken && it != s.rows.end() && it->second.row.change.prev == plan.head_hash) {
      plan.keep.push_back(it->second);
      plan.head_counter = c;
      plan.head_hash = it->second.row.change.hash();
      continue;
    }
    broken = true;
    plan.lost.push_back(c);
    if (it != s.rows.end()) plan.lost_known.emplace(c, it->second.row.change);
  }
  return plan;
}

}  // namespace alur::client
