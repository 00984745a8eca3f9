// The server side of the sync protocol (see sync/PROTOCOL.md).
#include "alur/server/sync_service.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "alur/server/tuning.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/planted.h"
#include "alur/sync/batch_state.h"
#include "alur/sync/case_state.h"

namespace alur::server {

using namespace alur::sync;

namespace {

ErrorMsg fatal(std::string code, std::string message) {
  return {std::move(code), std::move(message), true};
}

std::string bytes_hex_short(const std::string& s) { return crypto::to_hex(s).substr(0, 12); }

// The answer when the server's disk is full (SQLite's SQLITE_FULL, alur's "disk_full"): not
// fatal, since the session itself is fine and the same message succeeds once space is
// freed; the writing transaction has rolled back, so nothing of the message was stored.
ErrorMsg storage_full() {
  return {"server_disk_full",
          "Penyimpanan server penuh: kiriman ini tidak disimpan sama sekali. Perubahan Anda tetap "
          "aman di perangkat ini dan akan dikirim ulang; beri tahu admin TI, lalu sinkronkan lagi.",
          false};
}

// The answer when the database cannot be reached for a moment (PostgreSQL restarting, a
// failover, the connection lost) or too busy: like storage_full, not fatal; the
// transaction was rolled back (or, if the connection was lost at COMMIT, the resent push
// finds its changes stored and answers them duplicate), so the same message can be resent.
std::optional<ErrorMsg> retryable(const Error& e) {
  if (e.code() == "disk_full") return storage_full();
  if (e.code() == "db_unavailable")
    return ErrorMsg{"server_db_unavailable",
                    "Basis data server sementara tidak terjangkau: kiriman ini tidak disimpan. "
                    "Perubahan Anda tetap aman di perangkat ini; sinkronkan lagi sebentar lagi.",
                    false};
  if (e.code() == "db_busy")
    return ErrorMsg{"server_busy",
                    "Server sedang sibuk: kiriman ini tidak disimpan. Perubahan Anda tetap aman "
                    "di perangkat ini; sinkronkan lagi sebentar lagi.",
                    false};
  return std::nullopt;
}

// A change cannot have been made after the server received it: an author time further
// ahead of the server's clock than this is reported to its writer as a wrong PC clock.
// (The time recorded is bounded by the commit time in any case; see sync/src/rules.cpp.)
constexpr Millis kClockAheadTolerance = 60'000;

std::string hours_text(Millis ms) {
  Millis hours = (ms + 1'800'000) / 3'600'000;  // rounded
  if (hours >= 48) return std::to_string((hours + 12) / 24) + " hari";
  if (hours >= 1) return std::to_string(hours) + " jam";
  return std::to_string(std::max<Millis>(1, ms / 60'000)) + " menit";
}

}  // namespace

SyncService::SyncService(ServerStore& db, const TemplateRegistry& templates, const Clock& clock)
    : db_(db), templates_(templates), clock_(clock) {}

void SyncService::on_open(const std::shared_ptr<net::Connection>& conn) {
  live_[conn->id()] = Live{conn, {}, {}};
}

void SyncService::on_close(const std::shared_ptr<net::Connection>& conn, const std::string&) {
  live_.erase(conn->id());
}

namespace {
// The push in a message, if it is one (the envelope's index byte, PROTOCOL.md §2, says so
// before anything is decoded); a malformed one is answered when it is served.
std::optional<Push> as_push(const std::string& bytes) {
  static const std::size_t push_index = Message(std::in_place_type<Push>).index();
  if (bytes.size() < 6 || static_cast<std::uint8_t>(bytes[5]) != push_index) return std::nullopt;
  try {
    return std::get<Push>(decode(bytes));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool ends_session(const std::vector<Message>& replies) {
  return std::any_of(replies.begin(), replies.end(), [](const Message& m) {
    auto* e = std::get_if<ErrorMsg>(&m);
    return e && e->fatal;
  });
}
}  // namespace

void SyncService::on_message(const std::shared_ptr<net::Connection>& conn, std::string bytes) {
  auto it = live_.find(conn->id());
  if (it == live_.end()) return;
  Live& live = it->second;
  if (live.session.closing) return;
  if (defer_) {
    std::optional<Push> push;
    if (!live.session.replica.empty()) push = as_push(bytes);
    if (push || !live.queued.empty()) {
      if (live.queued.empty()) waiting_.push_back(conn->id());
      live.queued.push_back({std::move(bytes), std::move(push)});
      if (!flush_posted_) {
        flush_posted_ = true;
        defer_([this] { flush(); });
      }
      return;
    }
  }
  serve(conn, live.session, bytes);
}

void SyncService::serve(const std::shared_ptr<net::Connection>& conn, Session& session,
                        const std::string& bytes) {
  if (session.closing) return;
  std::vector<Message> replies;
  std::shared_ptr<const std::string> entries;  // a pull's answer, already encoded
  bool may_refuse = false;  // the protocol has a non-fatal refusal for this message
  try {
    Message m = decode(bytes);
    may_refuse = std::holds_alternative<Push>(m) || std::holds_alternative<BlobChunk>(m);
    auto* p = std::get_if<Pull>(&m);
    auto no = p && !session.replica.empty() ? refused(session) : std::nullopt;
    if (p && !session.replica.empty() && !no)
      entries = pull_encoded(session, *p);
    else
      replies = no ? std::vector<Message>{*no} : handle(session, m, conn->remote_address());
  } catch (const Error& e) {
    // Malformed input or a storage failure: say why, close; nothing half-applied (every
    // write path runs inside one transaction). A retryable storage failure keeps the
    // session where the protocol allows (PROTOCOL.md §8.2); elsewhere the client expects
    // its own answer, so the session ends, with the same code.
    auto again = retryable(e);
    if (again) {
      again->fatal = !may_refuse;
      log_("basis data: " + std::string(e.what()));
    }
    replies = {again ? *again : fatal(e.code(), e.what())};
  } catch (const std::exception& e) {
    replies = {fatal("internal", std::string("Kesalahan internal server: ") + e.what())};
  }
  if (entries) {
    conn->send(std::move(entries));
    return;
  }
  if (send_replies(conn, session, replies)) notify_after_commit();
}

bool SyncService::send_replies(const std::shared_ptr<net::Connection>& conn, Session& session,
                               const std::vector<Message>& replies) {
  bool commit = false;
  const std::string who = session.username.empty()
                              ? conn->remote_address()
                              : session.username + "@" + conn->remote_address();
  for (auto& r : replies) {
    if (auto* pr = std::get_if<PushResult>(&r)) {
      std::size_t rejected =
          std::count_if(pr->results.begin(), pr->results.end(),
                        [](const ChangeResult& c) { return c.outcome == Outcome::kRejected; });
      log_("push " + who + ": " + std::to_string(pr->results.size()) + " perubahan, " +
           std::to_string(rejected) + " ditolak");
    } else if (auto* w = std::get_if<Welcome>(&r)) {
      log_("sesi " + who + " (replika " + session.replica + "), head " +
           std::to_string(w->server_head));
    } else if (auto* e = std::get_if<Enrolled>(&r)) {
      log_("pendaftaran perangkat " + e->replica + " untuk " + e->username + " dari " +
           conn->remote_address());
    } else if (auto* err = std::get_if<ErrorMsg>(&r)) {
      log_("tolak " + who + ": [" + err->code + "] " + err->message);
    }
    if (auto* pr = std::get_if<PushResult>(&r))
      commit = commit ||
               std::any_of(pr->results.begin(), pr->results.end(),
                           [](const ChangeResult& c) { return c.outcome == Outcome::kAccepted; });
    conn->send(std::make_shared<const std::string>(encode(r)));
    if (auto* err = std::get_if<ErrorMsg>(&r); err && err->fatal) {
      session.closing = true;
      conn->close(err->code);
    }
  }
  // An enrolment session ends with its answer.
  if (session.closing && !replies.empty() && std::holds_alternative<Enrolled>(replies.front()))
    conn->close("enrolled");
  return commit;
}

void SyncService::notify_after_commit() {
  try {
    notify_commits();
  } catch (const Error& e) {  // the store lost its connection after the commit: the next
    log_("notify: " + std::string(e.what()));  // tick or commit notifies instead
  }
}

void SyncService::flush() {
  flush_posted_ = false;
  const std::vector<std::uint64_t> waiting = std::exchange(waiting_, {});
  std::vector<Grouped> group;  // every waiting session's leading pushes, in arrival order
  for (auto id : waiting)
    if (auto it = live_.find(id); it != live_.end())
      for (auto& q : it->second.queued) {
        if (!q.push) break;
        group.push_back({id, {}});
      }
  const bool grouped = !group.empty() && commit_group(group);
  bool commit = false;
  std::size_t next = 0;  // the first of group not yet answered
  for (auto id : waiting) {
    auto it = live_.find(id);
    if (it == live_.end()) continue;
    Live& live = it->second;
    std::deque<Queued> queued = std::exchange(live.queued, {});
    auto conn = live.conn.lock();
    for (auto& q : queued) {
      bool in_group = next < group.size() && group[next].connection == id && q.push;
      if (in_group) ++next;
      if (!conn || live.session.closing) continue;
      if (in_group && grouped)
        commit = send_replies(conn, live.session, group[next - 1].replies) || commit;
      else
        serve(conn, live.session, q.bytes);  // its own transaction, answered at once
    }
  }
  if (commit) notify_after_commit();
}

bool SyncService::commit_group(std::vector<Grouped>& group) {
  try {
    grouped_ = true;
    auto tx = db_.begin();
    std::map<std::uint64_t, std::size_t> taken;  // pushes taken from each session's queue
    std::set<std::uint64_t> ended;  // sessions a push of the group ended (a fatal answer)
    for (auto& g : group) {
      Live& live = live_.at(g.connection);
      Queued& q = live.queued[taken[g.connection]++];
      // After a fatal answer the session's later messages are not served (on_message).
      if (live.session.closing || ended.contains(g.connection)) continue;
      auto conn = live.conn.lock();
      g.replies = handle(live.session, Message(std::move(*q.push)),
                         conn ? conn->remote_address() : std::string());
      if (ends_session(g.replies)) ended.insert(g.connection);
    }
    tx->commit();
    grouped_ = false;
    return true;
  } catch (const std::exception& e) {
    grouped_ = false;
    // The store unreachable or busy: each push of the group gets the retryable refusal it
    // would have had alone. Serving them one by one would wait once more for each (a
    // reconnection, a lock held elsewhere) while their clients wait for an answer. A full
    // disk is tried push by push: a smaller one may fit.
    const auto* err = dynamic_cast<const Error*>(&e);
    if (auto again = err ? retryable(*err) : std::nullopt; again && err->code() != "disk_full") {
      log_("basis data: " + std::string(e.what()));
      for (auto& g : group) g.replies = {*again};
      return true;
    }
    for (auto& g : group) g.replies.clear();
    log_("komit bersama gagal, tiap kiriman disimpan sendiri: " + std::string(e.what()));
    return false;
  }
}

std::vector<Message> SyncService::handle(Session& s, const Message& m,
                                         const std::string& peer) {
  if (s.replica.empty()) {
    if (auto* e = std::get_if<Enroll>(&m)) return {enroll(s, *e, peer)};
    if (auto* h = std::get_if<Hello>(&m)) return {hello(s, *h)};
    if (std::holds_alternative<CertQuery>(m)) return {CertChain{cert_renewals_}};
    return {fatal("unexpected", std::string("Pesan ") + message_name(m) + " sebelum Hello.")};
  }
  if (auto no = refused(s)) return {*no};
  if (auto* p = std::get_if<Push>(&m)) return {push(s, *p)};
  if (auto* p = std::get_if<Pull>(&m)) return {pull(s, *p)};
  if (auto* q = std::get_if<BlobQuery>(&m)) return {blob_query(*q)};
  if (auto* c = std::get_if<BlobChunk>(&m)) return {blob_chunk(*c)};
  if (auto* g = std::get_if<BlobGet>(&m)) return {blob_get(*g)};
  return {
      fatal("unexpected", std::string("Pesan ") + message_name(m) + " tidak diharapkan di sini.")};
}

std::optional<Message> SyncService::refused(const Session& s) {
  // A revoked device's session ends at its next message, even if it was open before.
  if (auto d = db_.device(s.replica); !d || d->revoked_at)
    return fatal("device_revoked", "Perangkat ini telah dicabut oleh admin; daftarkan ulang.");
  return std::nullopt;
}

Message SyncService::enroll(Session& s, const Enroll& m, const std::string& peer) {
  if (m.protocol != kProtocolVersion)
    return fatal("protocol_version", "Versi protokol tidak didukung; perbarui aplikasi.");
  // Refused before scrypt runs: a guesser costs the server nothing.
  const std::string user_key = m.username.substr(0, 128);
  const std::string address_key = peer.substr(0, peer.rfind(':'));  // without the port
  if (Millis wait = std::max(guesses_by_user_.wait_ms(user_key),
                             guesses_by_address_.wait_ms(address_key));
      wait > 0) {
    log_("login ditahan: terlalu banyak percobaan gagal (pengguna " + user_key + ", alamat " +
         address_key + ")");
    return fatal("rate_limited",
                 "Terlalu banyak percobaan masuk yang gagal; coba lagi dalam " +
                     std::to_string((wait + 59'999) / 60'000) + " menit.");
  }
  auto hash = db_.password_hash(m.username);
  // Verify even for unknown users, so that timing does not reveal which usernames exist.
  // A hash in the default format and cost that no password matches (its hash part is
  // zero); a constant, so that nothing random is drawn here (the simulator replays seeds).
  static const std::string dummy = "scrypt$32768$8$1$YWx1ci1kdW1teS1zYWx0IQ==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  bool ok = crypto::verify_password(m.password, hash ? *hash : dummy) && hash.has_value();
  const Person* person = db_.org().find(m.username);
  if (!ok || !person || !person->active) {
    guesses_by_user_.failed(user_key);
    guesses_by_address_.failed(address_key);
    return fatal("bad_credentials", "Nama pengguna atau kata sandi salah.");
  }
  guesses_by_user_.succeeded(user_key);
  if (m.device_key.size() != 32) return fatal("bad_device_key", "Kunci perangkat tidak valid.");
  Device d;
  d.replica = crypto::to_hex(crypto::random_bytes(8));  // 64 bits: unique per office, short to read
  d.username = m.username;
  d.device_key = m.device_key;
  d.name = m.device_name.substr(0, 128);
  d.created_at = clock_.now_ms();
  std::string token = crypto::to_hex(crypto::random_bytes(32));
  {
    auto tx = db_.begin();
    db_.add_device(d, crypto::sha256(token));
    tx->commit();
  }
  s.closing = true;
  return Enrolled{d.replica, token, person->username, person->name, db_.org().unit};
}

Message SyncService::hello(Session& s, const Hello& m) {
  if (m.protocol != kProtocolVersion)
    return fatal("protocol_version", "Versi protokol " + std::to_string(m.protocol) +
                                         " tidak didukung server ini; perbarui aplikasi.");
  auto d = db_.device(m.replica);
  auto th = db_.token_hash(m.replica);
  if (!d || !th || !crypto::constant_time_equal(*th, crypto::sha256(m.token)))
    return fatal("bad_token",
                 "Perangkat tidak dikenal atau token tidak sah; daftarkan ulang perangkat ini.");
  if (d->revoked_at)
    return fatal("device_revoked", "Perangkat ini telah dicabut oleh admin; daftarkan ulang.");
  s.replica = d->replica;
  s.username = d->username;
  s.notified_head = m.cursor;
  return Welcome{db_.head(), d->last_counter, d->last_hash, d->username, clock_.now_ms()};
}

Message SyncService::push(Session& s, const Push& m) {
  if (m.changes.empty()) return PushResult{};
  if (m.changes.size() > kMaxChangesPerPush)
    return fatal("too_large", "Terlalu banyak perubahan dalam satu kiriman (maks. " +
                                  std::to_string(kMaxChangesPerPush) + ").");
  auto device = db_.device(s.replica);
  // Hash chain and device signature: one verification vouches for the whole batch. Each
  // change is encoded once, for its hash and for the stores.
  std::vector<EncodedChange> encoded;
  encoded.reserve(m.changes.size());
  for (const auto& c : m.changes) {
    if (c.dot.replica != s.replica)
      return fatal("wrong_replica",
                   "Perubahan dari replika lain tidak boleh dikirim lewat sesi ini.");
    encoded.emplace_back(c);
  }
  const auto& last = m.changes.back();
  if (!crypto::ed25519_verify(device->device_key,
                              chain_head_message(s.replica, last.dot.counter, encoded.back().hash),
                              m.head_signature))
    return fatal("bad_signature", "Tanda tangan perangkat atas rantai perubahan tidak sah.");
  // The batch must be one unbroken run of the device's chain, so that the signature over
  // its last hash covers every change in it. It may start with changes the server already
  // has (a resend after a lost answer); those are checked against storage below.
  for (std::size_t i = 1; i < m.changes.size(); ++i) {
    const auto& c = m.changes[i];
    if (c.dot.counter != m.changes[i - 1].dot.counter + 1 || c.prev != encoded[i - 1].hash)
      return fatal("chain_broken",
                   "Rantai perubahan terputus di dalam kiriman pada " + c.id() + ".");
  }
  for (std::size_t i = 0; i < m.changes.size(); ++i) {
    const auto& c = m.changes[i];
    if (c.dot.counter <= device->last_counter) continue;
    if (c.dot.counter != device->last_counter + 1 || c.prev != device->last_hash)
      return fatal("chain_broken", "Rantai perubahan terputus pada " + c.id() + " (diharapkan #" +
                                       std::to_string(device->last_counter + 1) + " setelah " +
                                       bytes_hex_short(device->last_hash) + ").");
    break;
  }

  try {
    return commit_push(s, m, *device, encoded);
  } catch (const Error& e) {
    // Everything the batch wrote is rolled back with its transaction: refuse it whole. In a
    // group the whole group's transaction fails, and each push is then served alone.
    auto again = retryable(e);
    if (!again || grouped_) throw;
    log_("push tidak disimpan: " + std::string(e.what()));
    return *again;
  }
}

Message SyncService::commit_push(Session& s, const Push& m, Device device,
                                 const std::vector<EncodedChange>& encoded) {
  PushResult result;
  Millis now = clock_.now_ms();
  Millis ahead = 0;  // the furthest an accepted change's author clock was ahead of ours
  std::unique_ptr<ServerStore::Transaction> tx;
  if (!grouped_) tx = db_.begin();  // else the group's transaction (commit_group)
  // The batch's cases stay parsed while it applies and are written once, before the commit.
  BatchState state(db_);
  for (std::size_t i = 0; i < m.changes.size(); ++i) {
    const auto& c = m.changes[i];
    ChangeResult r;
    r.counter = c.dot.counter;
    if (c.dot.counter <= device.last_counter) {
      auto stored = db_.stored_change(c.dot.replica, c.dot.counter);
      if (!stored || stored->hash != encoded[i].hash) {
        r.outcome = Outcome::kRejected;
        r.code = "dot_reused";
        r.message = "Nomor perubahan " + c.id() + " sudah dipakai untuk perubahan lain.";
      } else if (stored->status == "accepted" &&
                 planted::on(planted::Defect::kResendSequencedAgain)) {
        r.outcome = Outcome::kAccepted;
        r.seq = db_.append_log(encoded[i], now);
      } else if (stored->status == "accepted") {
        r.outcome = Outcome::kDuplicate;
        r.seq = stored->seq;
      } else {
        r.outcome = Outcome::kRejected;
        r.code = stored->code;
        r.message = stored->message;
      }
      result.results.push_back(std::move(r));
      continue;
    }
    Verdict v;
    if (c.author != s.username)
      v = {"wrong_author", "Perubahan atas nama " + c.author + " dikirim oleh " + s.username + "."};
    else if (c.op == op::kOrgSet)
      v = {"forbidden_op", "Hanya server yang dapat mengubah data organisasi."};
    else
      v = apply_change(state, templates_, c, now);
    if (v.ok()) {
      r.outcome = Outcome::kAccepted;
      r.seq = db_.append_log(encoded[i], now);
      // Accepted, with a warning in the code and message of the result (the wire format
      // stays as it is; see PROTOCOL.md §8.2, clock_ahead).
      if (Millis d = HybridClock::to_ms(c.hlc) - now; d > kClockAheadTolerance) {
        ahead = std::max(ahead, d);
        r.code = "clock_ahead";
        r.message = "Jam perangkat Anda lebih cepat " + hours_text(d) +
                    " dari server; waktu perubahan ini dicatat menurut waktu server. Perbaiki "
                    "jam komputer ini.";
      }
    } else {
      r.outcome = Outcome::kRejected;
      r.code = v.code;
      r.message = v.message;
    }
    db_.store_change(encoded[i], v.ok() ? "accepted" : "rejected", r.code, r.message, r.seq, now);
    device.last_counter = c.dot.counter;
    device.last_hash = encoded[i].hash;
    result.results.push_back(std::move(r));
  }
  state.flush();
  db_.advance_device(s.replica, device.last_counter, device.last_hash);
  if (tx) tx->commit();
  if (ahead > 0)
    log_("jam perangkat " + s.username + " (replika " + s.replica + ") lebih cepat " +
         hours_text(ahead) + " dari server; waktu perubahannya dibatasi waktu commit");
  return result;
}

Message SyncService::pull(Session& s, const Pull& m) { return decode(*pull_encoded(s, m)); }

namespace {
// What a pulled entry counts against kMaxPullBytes, as ServerStore::entries_after counts it
// (its encoded change and 64): an encoded entry is its change without the archive's flag
// byte, plus seq, commit time and the log hash with its length (8 + 8 + 8 + 32 - 1 = 55).
std::size_t pull_cost(const std::string& encoded_entry) { return encoded_entry.size() + 9; }
}  // namespace

std::shared_ptr<const std::string> SyncService::pull_encoded(Session& s, const Pull& m) {
  std::size_t max =
      m.max == 0 ? kMaxEntriesPerPull : std::min<std::size_t>(m.max, kMaxEntriesPerPull);
  std::uint64_t head = db_.head();
  extend_tail(head);
  std::vector<std::string> read;  // entries read from the store for a cursor before the tail
  std::vector<std::string_view> pieces;
  std::uint64_t last = m.after;
  if (m.after >= tail_begin_ && m.after <= tail_end_) {
    auto it = std::upper_bound(tail_.begin(), tail_.end(), m.after,
                               [](std::uint64_t seq, const TailEntry& e) { return seq < e.seq; });
    for (std::size_t bytes = 0; it != tail_.end() && pieces.size() < max; ++it) {
      bytes += pull_cost(it->bytes);
      if (!pieces.empty() && bytes > kMaxPullBytes) break;
      pieces.push_back(it->bytes);
      last = it->seq;
    }
  } else {
    for (const auto& r : db_.log_after(m.after, max, kMaxPullBytes)) {
      read.push_back(encode_entry_from(r.seq, r.committed_at, r.encoded, r.log_hash));
      last = r.seq;
    }
    pieces.assign(read.begin(), read.end());
    if (!read.empty()) head = std::max(head, last);  // committed since head was read
  }
  s.notified_head = std::max(s.notified_head, last);
  s.notify_outstanding = false;
  return std::make_shared<const std::string>(encode_entries(pieces, head));
}

void SyncService::extend_tail(std::uint64_t head) {
  if (!tail_started_ || head < tail_end_) {
    tail_.clear();
    tail_bytes_ = 0;
    tail_begin_ = tail_end_ = head;
    tail_started_ = true;
    return;
  }
  while (tail_end_ < head) {
    auto entries = db_.log_after(tail_end_, kMaxEntriesPerPull, kMaxPullBytes);
    for (const auto& e : entries) {
      if (e.seq > head) break;  // committed since head was read: the next pull takes it
      tail_.push_back({e.seq, encode_entry_from(e.seq, e.committed_at, e.encoded, e.log_hash)});
      tail_bytes_ += tail_.back().bytes.size();
      tail_end_ = e.seq;
    }
    if (entries.empty() || entries.front().seq > head) break;
  }
  while (tail_bytes_ > kPullTailBytes) {
    tail_begin_ = tail_.front().seq;
    tail_bytes_ -= tail_.front().bytes.size();
    tail_.pop_front();
  }
}

Message SyncService::blob_query(const BlobQuery& m) {
  if (m.sha256.size() != 32) return fatal("bad_blob", "Hash berkas tidak valid.");
  if (m.size > kMaxBlobBytes)
    return fatal("too_large",
                 "Berkas terlalu besar (maks. " + std::to_string(kMaxBlobBytes >> 20) + " MiB).");
  return BlobState{m.sha256, db_.blob_progress(crypto::to_hex(m.sha256))};
}

Message SyncService::blob_chunk(const BlobChunk& m) {
  if (m.sha256.size() != 32) return fatal("bad_blob", "Hash berkas tidak valid.");
  if (m.total > kMaxBlobBytes) return fatal("too_large", "Berkas terlalu besar.");
  std::string hex = crypto::to_hex(m.sha256);
  auto tx = db_.begin();
  bool ok = db_.put_blob_chunk(hex, m.offset, m.total, m.data);
  tx->commit();  // also when the upload was discarded, so that a retry starts from zero
  if (!ok) return fatal("blob_mismatch", "Isi berkas tidak sesuai dengan hash-nya; kirim ulang.");
  return BlobState{m.sha256, db_.blob_progress(hex)};
}

Message SyncService::blob_get(const BlobGet& m) {
  if (m.sha256.size() != 32) return fatal("bad_blob", "Hash berkas tidak valid.");
  std::uint64_t total = 0;
  auto data = db_.blob_slice(crypto::to_hex(m.sha256), m.offset, kBlobChunkBytes, total);
  if (!data) return ErrorMsg{"blob_unknown", "Berkas tidak ada di server.", false};
  return BlobChunk{m.sha256, m.offset, total, std::move(*data)};
}

void SyncService::notify_commits() {
  std::uint64_t head = db_.head();
  auto note = std::make_shared<const std::string>(encode(Notify{head}));
  for (auto& [id, live] : live_) {
    // One Notify until the session pulls: its pull reaches the head whatever was
    // committed meanwhile, so a busy server does not queue a Notify per commit per session.
    if (live.session.replica.empty() || live.session.closing ||
        live.session.notified_head >= head || live.session.notify_outstanding)
      continue;
    if (auto conn = live.conn.lock()) {
      conn->send(note);
      live.session.notified_head = head;
      live.session.notify_outstanding = true;
    }
  }
}

void SyncService::close_sessions_of(const std::string& replica, const std::string& reason) {
  for (auto& [id, live] : live_)
    if (live.session.replica == replica)
      if (auto conn = live.conn.lock()) {
        conn->send(std::make_shared<const std::string>(encode(fatal("device_revoked", reason))));
        conn->close("device_revoked");
      }
}

void SyncService::tick() {
  notify_commits();
  close_revoked_sessions();
}

void SyncService::close_revoked_sessions() {
  std::vector<std::string> revoked;
  for (auto& [id, live] : live_)
    if (!live.session.replica.empty() && !live.session.closing)
      if (auto d = db_.device(live.session.replica); !d || d->revoked_at) {
        live.session.closing = true;
        revoked.push_back(live.session.replica);
      }
  for (const auto& r : revoked)
    close_sessions_of(r, "Perangkat ini telah dicabut oleh admin; daftarkan ulang.");
}

void commit_server_change(ServerStore& db, const TemplateRegistry& templates, const Clock& clock,
                          const std::string& op_name, const std::string& record,
                          const std::string& body) {
  auto tx = db.begin();
  Change c;
  c.record = record;
  c.op = op_name;
  std::uint64_t counter = std::stoull(db.meta("server_counter").value_or("0")) + 1;
  c.dot = {kServerReplica, counter};
  c.author = "system";
  HybridClock hlc(clock, std::stoull(db.meta("server_hlc").value_or("0")));
  c.hlc = hlc.now();
  c.body = body;
  c.prev = crypto::from_hex(db.meta("server_last_hash").value_or(""));
  Millis now = clock.now_ms();
  Verdict v = apply_change(db, templates, c, now);
  if (!v.ok()) throw Error(v.code, v.message);
  const EncodedChange e(c);
  std::uint64_t seq = db.append_log(e, now);
  db.store_change(e, "accepted", "", "", seq, now);
  db.set_meta("server_counter", std::to_string(counter));
  db.set_meta("server_hlc", std::to_string(c.hlc));
  db.set_meta("server_last_hash", crypto::to_hex(e.hash));
  tx->commit();
}

}  // namespace alur::server
