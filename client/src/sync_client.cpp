// The client side of the sync protocol.
#include "alur/client/sync_client.h"

#include <boost/asio/ip/host_name.hpp>
#include <future>
#include <random>
#include <thread>

#include "alur/net/ws_client.h"
#include "alur/shared/cert_renewal.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/sqlite_checkpointer.h"

namespace alur::client {

using namespace alur::sync;
using namespace std::chrono_literals;

namespace {

// A push batch is cut at 500 changes or 4 MiB encoded, whichever comes first: well under
// the server's 8 MiB message bound even when every change carries a 64 KiB text.
constexpr std::size_t kPushBatch = 500;
constexpr std::size_t kPushBatchBytes = 4u << 20;
// Push batches sent before the first answer is awaited: enough to keep the server busy
// while this side signs and sends, few enough that a refused batch wastes little.
constexpr std::size_t kPushWindow = 4;
constexpr std::size_t kBlobChunk = 1u << 20;
constexpr auto kReplyTimeout = 60s;

std::string hostname() {
  boost::system::error_code ec;
  std::string name = boost::asio::ip::host_name(ec);
  return ec || name.empty() ? "perangkat" : name;
}

[[noreturn]] void raise(const ErrorMsg& e) { throw Error(e.code, e.message); }

// The reply of type T, or the server's refusal as an Error (a non-fatal ErrorMsg such as
// server_disk_full answers a message without ending the session).
template <class T>
T& expect(Message& m, const char* what) {
  if (auto* e = std::get_if<ErrorMsg>(&m)) raise(*e);
  auto* t = std::get_if<T>(&m);
  if (!t) throw Error("protocol", std::string("Jawaban tak terduga atas ") + what + ".");
  return *t;
}

std::string duration_text(std::int64_t ms) {
  std::int64_t hours = (ms + 1'800'000) / 3'600'000;  // rounded
  if (hours >= 48) return std::to_string((hours + 12) / 24) + " hari";
  if (hours >= 1) return std::to_string(hours) + " jam";
  return std::to_string(std::max<std::int64_t>(1, ms / 60'000)) + " menit";
}

// The next batch of `pending` from `next` on (advanced past it), signed by the device.
// The next batch of pending changes as an encoded Push: each change encoded once, for the
// batch's size, the signed head's hash and the message itself.
std::string next_push(const std::vector<OutboxRow>& pending, std::size_t& next,
                      const crypto::Ed25519Key& key) {
  std::vector<std::string> encodings;
  std::size_t bytes = 0;
  while (next < pending.size() && encodings.size() < kPushBatch) {
    std::string e = encode_change(pending[next].change);
    if (!encodings.empty() && bytes + e.size() > kPushBatchBytes) break;
    bytes += e.size();
    encodings.push_back(std::move(e));
    ++next;
  }
  const Change& last = pending[next - 1].change;
  return encode_push(encodings, key.sign(chain_head_message(last.dot.replica, last.dot.counter,
                                                            change_hash_of(encodings.back()))));
}

}  // namespace

std::string clock_skew_warning(std::int64_t skew_ms) {
  if (skew_ms > kClockSkewWarnMs)
    return "Jam perangkat Anda lebih cepat " + duration_text(skew_ms) +
           " dari server; perbaiki jam komputer ini (waktu tindakan dicatat menurut server).";
  if (skew_ms < -kClockSkewWarnMs)
    return "Jam perangkat Anda lebih lambat " + duration_text(-skew_ms) +
           " dari server; perbaiki jam komputer ini.";
  return "";
}

Connector wss_connector(std::chrono::seconds heartbeat, net::Compression compression) {
  return [heartbeat, compression](const std::string& url,
                                  const std::string& fingerprint) -> std::unique_ptr<Transport> {
    struct Wss final : Transport {
      std::unique_ptr<net::WsClient> ws;
      void send(const std::string& m, std::chrono::milliseconds t) override { ws->send(m, t); }
      std::optional<std::string> receive(std::chrono::milliseconds t) override {
        return ws->receive(t);
      }
      void close() noexcept override { ws->close(); }
      std::string peer_fingerprint() const override { return ws->server_fingerprint(); }
      bool compressed() const override { return ws->compressed(); }
      // WsClient runs its io_context on the calling thread, whichever it is.
      bool receives_on_any_thread() const override { return true; }
    };
    net::ClientOptions options;
    options.pinned_fingerprint = fingerprint;
    options.heartbeat = heartbeat;
    options.compression = compression;
    auto t = std::make_unique<Wss>();
    t->ws = net::WsClient::connect(url, options);
    return t;
  };
}

SyncClient::SyncClient(Replica& replica, const TemplateRegistry& templates, Connector connector)
    : replica_(replica), templates_(templates), connector_(std::move(connector)) {}

void SyncClient::send(const Message& m) { ws_->send(encode(m), kReplyTimeout); }

Message SyncClient::receive_reply(std::chrono::milliseconds timeout) {
  for (;;) {
    auto bytes = ws_->receive(timeout);
    if (!bytes)
      throw Error("timeout", "Server tidak menjawab dalam " +
                                 std::to_string(timeout.count() / 1000) + " detik.");
    Message m = decode(*bytes);
    if (auto* n = std::get_if<Notify>(&m)) {
      server_head_ = std::max(server_head_, n->server_head);
      continue;  // unsolicited; the pull that follows will fetch it
    }
    if (auto* e = std::get_if<ErrorMsg>(&m); e && e->fatal) raise(*e);
    return m;
  }
}

bool SyncClient::follow_certificate_renewal(const std::string& url) {
  const std::string pinned = replica_.require_meta("fingerprint");
  std::string presented, renewals;
  try {
    auto t = connector_(url, "");
    presented = t->peer_fingerprint();
    t->send(encode(CertQuery{}), kReplyTimeout);
    auto bytes = t->receive(kReplyTimeout);
    t->close();
    if (!bytes) return false;
    Message m = decode(*bytes);
    auto* chain = std::get_if<CertChain>(&m);
    if (!chain) return false;  // an older server, or someone else answering
    renewals = chain->renewals_json;
    if (presented.empty() ||
        !renewal_chain_vouches(cert_renewals_from_json(renewals), pinned, presented))
      return false;
  } catch (const Error&) {
    return false;  // the original mismatch is what the official must see
  }
  replica_.set_meta("fingerprint", presented);
  certificate_renewed_ = {pinned, presented};
  return true;
}

void SyncClient::connect() {
  const std::string url = replica_.require_meta("server");
  try {
    ws_ = connector_(url, replica_.require_meta("fingerprint"));
  } catch (const Error& e) {
    if (e.code() != "fingerprint_mismatch" || !follow_certificate_renewal(url)) throw;
    ws_ = connector_(url, replica_.require_meta("fingerprint"));
  }
  Hello h;
  h.replica = replica_.require_meta("replica");
  h.token = replica_.require_meta("token");
  h.cursor = replica_.cursor();
  h.client_version = std::string("alur ") + ALUR_VERSION;
  send(h);
  Message m = receive_reply(kReplyTimeout);
  auto* w = std::get_if<Welcome>(&m);
  if (!w)
    throw Error("protocol", std::string("Jawaban tak terduga dari server: ") + message_name(m));
  server_head_ = w->server_head;
  welcome_ = *w;
  clock_skew_ms_ = w->server_time ? clock_->now_ms() - w->server_time : 0;
  welcomed_ = true;
  // A server restored from a backup older than what this replica pulled would hand out its
  // commit numbers again with other content: stop before applying any of it.
  if (w->server_head < replica_.cursor())
    throw Error("server_behind",
                "Server hanya memiliki " + std::to_string(w->server_head) +
                    " catatan, perangkat ini sudah menerima " + std::to_string(replica_.cursor()) +
                    ": server dipulihkan dari cadangan yang lebih lama. Jalankan: alur repair "
                    "--force (perubahan Anda yang tidak ada di server dikirim ulang).");
  // The server has received our changes up to highest_counter: if an acknowledgement was
  // lost, the resend below is answered as a duplicate with the original outcome. If this
  // replica is behind that (restored from an older copy, or rebuilt), its next change must
  // continue after the server's head of its chain, or its counters would be reused.
  replica_.adopt_chain_head(w->highest_counter, w->last_hash);
}

void SyncClient::upload_blob(const std::string& sha_hex) {
  auto data = replica_.blob(sha_hex);
  if (!data)
    throw Error("blob_missing_local",
                "Berkas lampiran " + sha_hex.substr(0, 12) + " hilang dari data lokal.");
  std::string raw_sha = crypto::from_hex(sha_hex);
  send(BlobQuery{raw_sha, data->size()});
  Message m = receive_reply(kReplyTimeout);
  auto* st = &expect<BlobState>(m, "BlobQuery");
  std::uint64_t have = st->have;
  while (have < data->size()) {  // resumes where the server stopped
    std::size_t n = std::min<std::size_t>(kBlobChunk, data->size() - have);
    send(BlobChunk{raw_sha, have, data->size(), data->substr(have, n)});
    Message r = receive_reply(kReplyTimeout);
    auto* s2 = &expect<BlobState>(r, "BlobChunk");
    if (s2->have <= have) throw Error("blob_stalled", "Server tidak menerima potongan berkas.");
    have = s2->have;
  }
}

std::size_t SyncClient::push(SyncReport& report) {
  auto pending = replica_.outbox("pending");
  if (pending.empty()) return 0;
  for (const auto& row : pending)
    if (!row.blob.empty()) upload_blob(row.blob);
  auto key = replica_.device_key();
  // Up to kPushWindow batches in flight: the server commits them in order and answers each
  // in turn, while this side signs and sends the next (PROTOCOL.md §4, push).
  // If the connection goes while a batch is being sent (the server ended the session after
  // refusing an earlier one), the answers to the batches already sent are read first: the
  // official is told the server's reason (e.g. server_disk_full), not just "closed", and
  // what was accepted is recorded now rather than answered as duplicates next time.
  std::size_t next = 0, in_flight = 0;
  std::optional<Error> send_failed;
  while ((next < pending.size() && !send_failed) || in_flight > 0) {
    for (; !send_failed && in_flight < kPushWindow && next < pending.size(); ++in_flight) {
      try {
        ws_->send(next_push(pending, next, key), kReplyTimeout);
      } catch (const Error& e) {
        send_failed = e;
        break;
      }
    }
    if (in_flight == 0) break;
    Message m = receive_reply(kReplyTimeout);
    auto* pr = &expect<PushResult>(m, "Push");
    --in_flight;
    replica_.record_results(pr->results);
    for (const auto& r : pr->results) {
      if (r.outcome == Outcome::kRejected) {
        ++report.rejected;
        report.rejections.push_back(r);
      } else {
        ++report.accepted;
        if (!r.code.empty()) report.warnings.push_back(r);
      }
    }
  }
  if (send_failed) throw *send_failed;
  report.pushed += pending.size();
  return pending.size();
}

std::size_t SyncClient::pull() {
  std::size_t total = 0;
  send(Pull{replica_.cursor(), 0});
  // Where the transport allows it, the next batch is received, decoded and checked on its
  // own (sync::link_entries: each change encoded and hashed, each entry's link to the one
  // before it) on another thread while this one is applied: the check was a fifth of the
  // applying thread's time. The connection is used by one thread at a time: next.get()
  // hands it back. A batch that fails to apply ends the session as before, once the read
  // in flight has ended (the future's destructor waits for it).
  struct Batch {
    Message m;
    sync::EntryLinks links;
  };
  auto receive_batch = [this] {
    Batch b{receive_reply(kReplyTimeout), {}};
    if (auto* e = std::get_if<Entries>(&b.m)) b.links = sync::link_entries(e->entries);
    return b;
  };
  const bool overlap = ws_->receives_on_any_thread();
  // For the length of the pull, once there is something to apply: a second connection and
  // a thread are not worth making for the empty answer most syncs get.
  std::unique_ptr<sql::Checkpointer> checkpointer;
  std::future<Batch> next;
  Batch b = receive_batch();
  for (;;) {
    auto* e = std::get_if<Entries>(&b.m);
    if (!e) throw Error("protocol", "Jawaban tak terduga atas Pull.");
    server_head_ = std::max(server_head_, e->server_head);
    if (e->entries.empty()) break;
    // The next batch is asked for before this one is applied, so the server reads it while
    // this side applies.
    const bool more = e->entries.back().seq < e->server_head;
    if (more) {
      send(Pull{e->entries.back().seq, 0});
      if (overlap) next = std::async(std::launch::async, receive_batch);
    }
    if (!checkpointer) checkpointer = sql::Checkpointer::if_wal(replica_.db());
    total += replica_.apply_entries(e->entries, templates_, &b.links);
    if (!more) break;
    b = overlap ? next.get() : receive_batch();
  }
  fetch_blobs();
  return total;
}

void SyncClient::fetch_blobs() {
  // Finding what is missing reads every committed case's JSON (at 100,000 changes, about
  // 50 ms of each sync): not done again while the cursor stays where everything was here.
  // A fetch cut off, or a blob the server does not have, leaves the mark where it was.
  const std::string cursor = std::to_string(replica_.cursor());
  if (replica_.meta("blobs_complete_at") == cursor) return;
  bool complete = true;
  for (const auto& sha : replica_.missing_blobs()) {
    std::string raw = crypto::from_hex(sha), data;
    for (;;) {
      send(BlobGet{raw, data.size()});
      Message m = receive_reply(kReplyTimeout);
      if (auto* e = std::get_if<ErrorMsg>(&m)) {
        (void)e;  // not on the server (yet): try on the next sync
        complete = false;
        break;
      }
      auto* c = std::get_if<BlobChunk>(&m);
      if (!c || c->offset != data.size())
        throw Error("protocol", "Jawaban tak terduga atas BlobGet.");
      data += c->data;
      if (data.size() >= c->total || c->data.empty()) break;
    }
    if (crypto::sha256_hex(data) == sha)
      replica_.put_blob(data);
    else
      complete = false;
  }
  if (complete) blobs_complete_at_ = cursor;
}

void SyncClient::store_clock_skew() {
  if (welcomed_) replica_.set_meta("clock_skew_ms", std::to_string(clock_skew_ms_));
}

SyncReport SyncClient::sync_once() {
  SyncReport report;
  blobs_complete_at_.reset();
  push(report);
  report.pulled = pull();
  // Our own changes that arrived in the pull are now committed; push anything written
  // meanwhile by another process.
  if (replica_.count_pending() > 0) {
    push(report);
    report.pulled += pull();
  }
  sql::Transaction tx(replica_.db());  // one commit (one fsync) for what the sync learnt
  replica_.set_meta("last_sync", std::to_string(clock_->now_ms()));
  store_clock_skew();
  if (blobs_complete_at_) replica_.set_meta("blobs_complete_at", *blobs_complete_at_);
  tx.commit();
  return report;
}

void SyncClient::watch(const std::atomic<bool>& stop,
                       const std::function<void(const std::string&)>& log) {
  std::mt19937 rng(std::random_device{}());
  auto backoff = 1s;
  while (!stop) {
    try {
      if (!ws_) {
        connect();
        log(compressed() ? "terhubung ke server (terkompresi)" : "terhubung ke server");
        if (auto w = clock_skew_warning(clock_skew_ms_); !w.empty()) log("PERINGATAN " + w);
        if (certificate_renewed_)
          log("sertifikat server diperbarui; kini dipercaya " + certificate_renewed_->second);
      }
      SyncReport r = sync_once();
      if (r.pushed || r.pulled)
        log("dikirim " + std::to_string(r.pushed) + " (diterima " + std::to_string(r.accepted) +
            ", ditolak " + std::to_string(r.rejected) + "), ditarik " + std::to_string(r.pulled));
      for (const auto& x : r.rejections)
        log("DITOLAK #" + std::to_string(x.counter) + " [" + x.code + "] " + x.message);
      for (const auto& x : r.warnings)
        log("PERINGATAN #" + std::to_string(x.counter) + " [" + x.code + "] " + x.message);
      backoff = 1s;
      // A Notify that arrived while this sync waited for another answer (a blob fetched
      // after the last pull) was taken in by receive_reply; the server sends no other until
      // this session pulls again, so pull now instead of waiting for one.
      if (server_head_ > replica_.cursor()) continue;
      // Wait for the server's Notify, checking the local outbox every second.
      while (!stop) {
        auto bytes = ws_->receive(1s);
        if (bytes) {
          Message m = decode(*bytes);
          if (auto* e = std::get_if<ErrorMsg>(&m); e && e->fatal) raise(*e);
          if (std::holds_alternative<Notify>(m)) break;
        }
        if (replica_.count_pending() > 0) break;
      }
    } catch (const Error& e) {
      if (e.code() == "bad_token" || e.code() == "device_revoked" ||
          e.code() == "fingerprint_mismatch" || e.code() == "log_mismatch")
        throw;  // needs a person, not a retry
      ws_.reset();
      std::uniform_int_distribution<int> jitter(0, static_cast<int>(backoff.count() * 500));
      auto wait = std::chrono::milliseconds(backoff) + std::chrono::milliseconds(jitter(rng));
      log("koneksi terputus (" + std::string(e.what()) + "); mencoba lagi dalam " +
          std::to_string(wait.count() / 1000.0).substr(0, 4) + " detik");
      for (auto waited = 0ms; waited < wait && !stop; waited += 100ms)
        std::this_thread::sleep_for(100ms);
      backoff = std::min<std::chrono::seconds>(backoff * 2, 30s);
    }
  }
  if (ws_) ws_->close();
}

Enrolled enroll(Replica& replica, const std::string& url, const std::string& fingerprint,
                const std::string& username, const std::string& password,
                const Connector& connector) {
  if (replica.enrolled())
    throw Error("already_enrolled", "Perangkat ini sudah terdaftar sebagai " +
                                        replica.require_meta("username") +
                                        "; gunakan --home lain untuk pengguna lain.");
  const std::string pinned = crypto::normalize_fingerprint(fingerprint);
  auto ws = connector(url, pinned);
  auto key = crypto::Ed25519Key::generate();
  Enroll e;
  e.username = username;
  e.password = password;
  e.device_key = key.public_raw();
  e.device_name = hostname();
  ws->send(encode(e), kReplyTimeout);
  auto bytes = ws->receive(kReplyTimeout);
  if (!bytes) throw Error("timeout", "Server tidak menjawab pendaftaran.");
  Message m = decode(*bytes);
  if (auto* err = std::get_if<ErrorMsg>(&m)) raise(*err);
  auto* ok = std::get_if<Enrolled>(&m);
  if (!ok) throw Error("protocol", "Jawaban tak terduga atas pendaftaran.");
  ws->close();
  sql::Transaction tx(replica.db());
  replica.set_meta("server", url);
  replica.set_meta("fingerprint", pinned);
  replica.set_meta("replica", ok->replica);
  replica.set_meta("token", ok->token);
  replica.set_meta("username", ok->username);
  replica.set_meta("name", ok->name);
  replica.set_meta("unit", ok->unit);
  replica.set_meta("device_key", crypto::to_hex(key.private_raw()));
  tx.commit();
  return *ok;
}

}  // namespace alur::client
