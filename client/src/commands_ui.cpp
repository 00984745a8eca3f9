// `alur ui`: starts the local web app (ui/ui_server.h) and opens it, or prints its address.
#include <iostream>

#include "alur/client/commands.h"
#include "ui/ui_server.h"

namespace alur::client {

int Commands::ui(bool no_browser, int port) {
  ui::ServerOptions o;
  o.home = api_.home();
  o.clock = &clock_;
  o.connector = wss_connector(options_.heartbeat, options_.compression);
  o.port = static_cast<std::uint16_t>(port);
  o.on_ready = [&](const std::string& url) {
    // The address carries this launch's secret: only this PC's user sees it.
    if (options_.json)
      std::cout << nlohmann::json{{"url", url}}.dump() << std::endl;
    else
      std::cout << "Aplikasi alur berjalan di " << url
                << "\nTekan Ctrl+C untuk berhenti." << std::endl;
    if (!no_browser && !ui::open_browser(url))
      std::cerr << "alur: peramban tidak dapat dibuka; buka alamat di atas secara manual."
                << std::endl;
  };
  api_.close();  // the web app opens its own Api per thread
  return ui::serve(o);
}

}  // namespace alur::client
