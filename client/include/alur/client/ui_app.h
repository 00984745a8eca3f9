// The local web app's request handling (`alur ui`), kept apart from the HTTP server so that
// its rules can be tested without sockets: who may call (the per-launch secret, the Host
// and Origin checks, JSON-only POSTs), and what each /api/ path does with client::Api.
//
// The URL `alur ui` prints carries the per-launch secret (/s/<secret>/). Opening it swaps the
// secret for an HttpOnly, SameSite=Strict cookie (named for the port, so that two launches on
// one PC keep apart) and redirects to a clean "/", so the secret stays out of the browser's
// history; every other path needs that cookie, or the secret in its own /s/<secret>/ prefix.
// Anything else is 403. The JSON shapes are the Api's (README, "Command line"); errors are
// {"error": {"code", "message"}}.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "alur/client/api.h"

namespace alur::client::ui {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string host;    // Host header
  std::string origin;  // Origin header ("" when absent)
  std::string content_type;
  std::string body;
  std::string cookie;  // Cookie header ("" when absent)
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  bool event_stream = false;  // the caller keeps the connection open for server-sent events
  // Further headers (Location, Set-Cookie).
  std::vector<std::pair<std::string, std::string>> headers;
};

// What a person must do before the app can work on this replica, found when `alur ui`
// starts: enrol ("not_enrolled", "replica_deleted") or repair ("replica_damaged",
// "db_corrupt"). The page shows the matching screen; the other /api/ paths answer 409.
struct Setup {
  std::string code;  // "" when the replica is ready
  std::string message;
};

// Whether an Error from opening the replica is one the enrolment or repair screen handles.
bool handled_by_setup(const std::string& code);

// The live state the background sync reports (set on the HTTP thread only).
struct SyncState {
  bool online = false;
  std::string last_event;     // the watch's last line, in Indonesian
  std::string last_event_at;  // UTC, ISO 8601
  std::string fatal;          // a problem that needs a person (e.g. device revoked)
};

class App {
 public:
  // api: the HTTP thread's own Api. port: where the server listens (for Host/Origin).
  App(Api& api, std::string secret, std::uint16_t port);

  Reply handle(const Request& request);

  // "http://127.0.0.1:PORT/s/SECRET/": what the official opens.
  std::string url() const;
  SyncState& sync_state() { return sync_; }
  // Starts in setup mode (Setup); ready() is called once enrolment or repair has succeeded
  // (the server starts the background sync then).
  void need_setup(Setup setup, std::function<void()> ready);
  // The status the page shows in its bar, also sent with every live event. "run" names this
  // `alur ui` process and "seq" grows with every status it makes: the page asks and hears
  // the live events on two connections, which may deliver out of order, and keeps the
  // newest of a run (a restarted `alur ui` is a new run).
  nlohmann::json live_status();

 private:
  Reply route(const std::string& method, const std::string& path,
              const std::map<std::string, std::string>& query, const nlohmann::json& body);
  Reply asset(const std::string& name) const;
  // The answer to the printed URL: the secret set as a cookie, and a redirect to "/".
  Reply enter() const;
  Reply setup_route(const std::string& method, const std::string& path, const nlohmann::json& body);
  std::string cookie_name() const;
  bool allowed_host(const std::string& host) const;
  bool allowed_origin(const std::string& origin) const;

  Api& api_;
  std::string secret_;
  std::uint16_t port_;
  SyncState sync_;
  Setup setup_;
  std::function<void()> ready_;
  std::string run_;  // random, per process
  std::int64_t status_seq_ = 0;
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"); "" when absent.
std::string cookie_value(const std::string& header, const std::string& name);

// Parses "a=1&b=x%20y" (percent-decoding, '+' as space).
std::map<std::string, std::string> parse_query(const std::string& query);

// The one place the paraf / tanda tangan passphrase reaches Api::act.
nlohmann::json act_with_passphrase(Api& api, const std::string& task, const std::string& text,
                                   const std::optional<Attachment>& file,
                                   const std::string& outcome,
                                   const std::optional<std::string>& passphrase);

}  // namespace alur::client::ui
