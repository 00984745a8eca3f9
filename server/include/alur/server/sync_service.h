// SyncService: the protocol's server side. It authenticates enrolments and sessions,
// sequences pushed changes (one transaction per batch, validated by the case rules),
// answers pulls and blob transfers, and notifies connected replicas of new commits.
//
// Threading: not thread-safe; all methods must run one at a time, in the order of the
// net::Handler callbacks. serve runs each unit's service on its own strand of a worker pool
// (server/units.h, PostedHandler), and the database is touched from that strand only.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "alur/net/ws_server.h"
#include "alur/server/rate_limit.h"
#include "alur/server/store.h"
#include "alur/shared/clock.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/messages.h"

namespace alur::server {

class SyncService : public net::Handler {
 public:
  SyncService(ServerStore& db, const TemplateRegistry& templates, const Clock& clock);

  // Where one line per event goes (sessions, pushes, refusals). Never passwords or tokens.
  void set_logger(std::function<void(const std::string&)> log) { log_ = std::move(log); }
  // The renewals of the server's certificate (tls/renewals.json; shared/cert_renewal.h),
  // handed to any client that asks with CertQuery.
  void set_cert_renewals(std::string renewals_json) { cert_renewals_ = std::move(renewals_json); }
  // Group commit. `defer` runs a function once the service has handled the messages that
  // are ready now (serve: asio::post to the unit's strand). With it, a push is not committed at once: every push
  // that arrives before the deferred flush, from any session, is validated as always (the
  // same checks, in arrival order) and all are committed in one transaction with one fsync;
  // each session is answered only after that commit. A session's later messages wait behind
  // its push, so its answers stay in order. Without it (tests that drive the service
  // directly) every message is answered at once, in its own transaction.
  void set_defer(std::function<void(std::function<void()>)> defer) { defer_ = std::move(defer); }

  void on_open(const std::shared_ptr<net::Connection>& conn) override;
  void on_message(const std::shared_ptr<net::Connection>& conn, std::string message) override;
  void on_close(const std::shared_ptr<net::Connection>& conn, const std::string& why) override;

  // Handles one decoded message of a session; returns the replies (exposed for tests that
  // drive the service without sockets). `session` identifies the connection.
  struct Session {
    std::string replica;  // empty until authenticated
    std::string username;
    std::uint64_t notified_head = 0;
    bool notify_outstanding = false;  // a Notify was sent and no Pull has followed yet
    bool closing = false;
  };
  std::vector<sync::Message> handle(Session& session, const sync::Message& message,
                                    const std::string& peer);

  // Administrative: revoking a device closes its open sessions at once.
  void close_sessions_of(const std::string& replica, const std::string& reason);

  // Called periodically by the server: notices commits and revocations made by another
  // process on the same database (e.g. `alur-server org import`, `device revoke`), notifies
  // live replicas and closes revoked devices' sessions.
  void tick();
  // The two halves of tick(): a Notify to each live replica behind the log head (also when
  // another node says it committed), and closing the sessions of revoked devices.
  void notify_commits();
  void close_revoked_sessions();

 private:
  // One message of a session, answered at once (its own transaction, if it writes).
  void serve(const std::shared_ptr<net::Connection>& conn, Session& session,
             const std::string& bytes);
  // Sends one message's replies in order, logging them and closing the session on a fatal
  // one; true if a push among them committed a change.
  bool send_replies(const std::shared_ptr<net::Connection>& conn, Session& session,
                    const std::vector<sync::Message>& replies);
  void notify_after_commit();
  // The deferred half of group commit: the leading pushes of every waiting session in one
  // transaction, their answers, then each session's other queued messages one by one.
  void flush();
  struct Grouped {
    std::uint64_t connection;
    std::vector<sync::Message> replies;
  };
  // Validates and writes the grouped pushes (taken from the sessions' queues) in one
  // transaction; false if it failed as a whole (rolled back: each is then served alone).
  bool commit_group(std::vector<Grouped>& group);
  sync::Message enroll(Session& s, const sync::Enroll& m, const std::string& peer);
  sync::Message hello(Session& s, const sync::Hello& m);
  sync::Message push(Session& s, const sync::Push& m);
  // The writing half of push: one transaction for the whole, already verified, batch.
  sync::Message commit_push(Session& s, const sync::Push& m, Device device,
                            const std::vector<EncodedChange>& encoded);
  sync::Message pull(Session& s, const sync::Pull& m);
  // The Entries answering a pull, encoded: pieces of the tail when the cursor is in it (no
  // query, no encoding), else read from the store and encoded.
  std::shared_ptr<const std::string> pull_encoded(Session& s, const sync::Pull& m);
  // Brings tail_ up to the log's head (reads only what is new), dropping its oldest entries
  // beyond kPullTailBytes; restarts it empty if the head moved back (a restored database).
  void extend_tail(std::uint64_t head);
  // The revocation check every message of an authenticated session passes first.
  std::optional<sync::Message> refused(const Session& s);
  sync::Message blob_query(const sync::BlobQuery& m);
  sync::Message blob_chunk(const sync::BlobChunk& m);
  sync::Message blob_get(const sync::BlobGet& m);

  ServerStore& db_;
  const TemplateRegistry& templates_;
  const Clock& clock_;
  struct Queued {
    std::string bytes;
    std::optional<sync::Push> push;  // decoded, while it waits to join a group
  };
  struct Live {
    std::weak_ptr<net::Connection> conn;
    Session session;
    std::deque<Queued> queued;  // waiting for the deferred flush (set_defer)
  };
  std::map<std::uint64_t, Live> live_;  // by connection id
  // The newest log entries, each encoded as inside Entries (sync::encode_entry), in seq
  // order; covers pulls with a cursor in [tail_begin_, tail_end_]. tail_end_ is the head
  // it was brought up to; until the first pull nothing is kept.
  struct TailEntry {
    std::uint64_t seq;
    std::string bytes;
  };
  std::deque<TailEntry> tail_;
  std::uint64_t tail_begin_ = 0, tail_end_ = 0;
  std::size_t tail_bytes_ = 0;
  bool tail_started_ = false;
  // Password guessing, counted per username and (more generously: an office behind one
  // NAT address shares it) per address.
  GuessLimiter guesses_by_user_{clock_};
  GuessLimiter guesses_by_address_{clock_, GuessLimits{.free_attempts = 20}};
  std::function<void(const std::string&)> log_ = [](const std::string&) {};
  std::string cert_renewals_ = "[]";
  std::function<void(std::function<void()>)> defer_;
  std::vector<std::uint64_t> waiting_;  // connections with queued messages, in arrival order
  bool flush_posted_ = false;
  bool grouped_ = false;  // inside commit_group: a push neither begins nor commits
};

// Builds a server-originated change (org.set) and commits it; used by `org import`.
void commit_server_change(ServerStore& db, const TemplateRegistry& templates, const Clock& clock,
                          const std::string& op, const std::string& record,
                          const std::string& body);

}  // namespace alur::server
