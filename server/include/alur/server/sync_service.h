// SyncService: the protocol's server side. It authenticates enrolments and sessions,
// sequences pushed changes (one transaction per batch, validated by the case rules),
// answers pulls and blob transfers, and notifies connected replicas of new commits.
//
// Threading: all methods run on the server's single I/O thread (the net::Handler
// callbacks); the database is touched from that thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
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
  sync::Message enroll(Session& s, const sync::Enroll& m, const std::string& peer);
  sync::Message hello(Session& s, const sync::Hello& m);
  sync::Message push(Session& s, const sync::Push& m);
  // The writing half of push: one transaction for the whole, already verified, batch.
  sync::Message commit_push(Session& s, const sync::Push& m, Device device,
                            const std::vector<std::string>& hashes);
  sync::Message pull(Session& s, const sync::Pull& m);
  sync::Message blob_query(const sync::BlobQuery& m);
  sync::Message blob_chunk(const sync::BlobChunk& m);
  sync::Message blob_get(const sync::BlobGet& m);

  ServerStore& db_;
  const TemplateRegistry& templates_;
  const Clock& clock_;
  struct Live {
    std::weak_ptr<net::Connection> conn;
    Session session;
  };
  std::map<std::uint64_t, Live> live_;  // by connection id
  // Password guessing, counted per username and (more generously: an office behind one
  // NAT address shares it) per address.
  GuessLimiter guesses_by_user_{clock_};
  GuessLimiter guesses_by_address_{clock_, GuessLimits{.free_attempts = 20}};
  std::function<void(const std::string&)> log_ = [](const std::string&) {};
  std::string cert_renewals_ = "[]";
};

// Builds a server-originated change (org.set) and commits it; used by `org import`.
void commit_server_change(ServerStore& db, const TemplateRegistry& templates, const Clock& clock,
                          const std::string& op, const std::string& record,
                          const std::string& body);

}  // namespace alur::server
