// `alur ui`: the officials' local web app. An HTTP server (Boost.Beast) on 127.0.0.1 only,
// serving the embedded page and its /api/ calls (ui_app.h) on one thread with its own Api,
// while a second thread with a second Api on the same home runs the background sync
// (Api::watch) and feeds the page's live channel (server-sent events).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "alur/client/api.h"

namespace alur::client::ui {

struct ServerOptions {
  std::string home;
  const Clock* clock = &Clock::system();
  Connector connector = wss_connector();
  std::uint16_t port = 0;  // 0: a free port
  // Called once the server listens, with the URL to open (secret included).
  std::function<void(const std::string& url)> on_ready;
};

// Runs until SIGINT/SIGTERM; returns the exit code. A home that is not enrolled, or whose
// replica is damaged, is served too: the page shows the enrolment or repair screen (ui_app.h,
// Setup) and the background sync starts once that has succeeded. Throws alur::Error for other
// failures to open the replica, or when the port cannot be bound.
int serve(const ServerOptions& options);

// Opens url in the default browser (xdg-open; `start` on Windows); false if it could not.
bool open_browser(const std::string& url);

}  // namespace alur::client::ui
