// The local web app's request handling (`alur ui`), kept apart from the HTTP server so that
// its rules can be tested without sockets: who may call (the per-launch secret, the Host
// and Origin checks, JSON-only POSTs), and what each /api/ path does with client::Api.
//
// Every page and call lives under /s/<secret>/; anything else is 403. The JSON shapes are
// the Api's (README, "Command line"); errors are {"error": {"code", "message"}}.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

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
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  bool event_stream = false;  // the caller keeps the connection open for server-sent events
};

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
  // The status the page shows in its bar, also sent with every live event.
  nlohmann::json live_status();

 private:
  Reply route(const std::string& method, const std::string& path,
              const std::map<std::string, std::string>& query, const nlohmann::json& body);
  Reply asset(const std::string& name) const;
  bool allowed_host(const std::string& host) const;
  bool allowed_origin(const std::string& origin) const;

  Api& api_;
  std::string secret_;
  std::uint16_t port_;
  SyncState sync_;
};

// Parses "a=1&b=x%20y" (percent-decoding, '+' as space).
std::map<std::string, std::string> parse_query(const std::string& query);

// The one place the paraf / tanda tangan passphrase reaches Api::act.
nlohmann::json act_with_passphrase(Api& api, const std::string& task, const std::string& text,
                                   const std::optional<Attachment>& file,
                                   const std::string& outcome,
                                   const std::optional<std::string>& passphrase);

}  // namespace alur::client::ui
