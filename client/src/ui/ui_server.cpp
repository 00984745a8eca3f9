// The HTTP side of `alur ui` (ui_server.h): Beast sessions on one io_context thread, the
// watch thread, and the server-sent-event subscribers it feeds.
#include "ui_server.h"

#include <atomic>
#include <csignal>
#include <optional>
#include <sstream>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/client/ui_app.h"

namespace alur::client::ui {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxBodyBytes = 48u << 20;  // a draft file, base64-encoded

// Security headers on every answer: nothing may frame, sniff, or leak the secret URL.
template <class Response>
void harden(Response& res) {
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
          "connect-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'");
}

class Session;

// The page's live channels: each gets every event as one "data:" line.
class Subscribers {
 public:
  void add(const std::shared_ptr<Session>& s) { sessions_.insert(s); }
  void remove(const std::shared_ptr<Session>& s) { sessions_.erase(s); }
  void broadcast(const std::string& data);
  void close_all();

 private:
  std::set<std::shared_ptr<Session>> sessions_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, App& app, Subscribers& subscribers)
      : stream_(std::move(socket)), app_(app), subscribers_(subscribers) {}

  void start() { read(); }

  // Queues one server-sent event (the connection is an event stream).
  void push(const std::string& data) {
    bool idle = queue_.empty();
    queue_.push_back("data: " + data + "\n\n");
    if (idle) write_next();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    stream_.expires_after(std::chrono::minutes(2));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec) return close();
    auto& req = parser_->get();
    Request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.host = std::string(req[http::field::host]);
    r.origin = std::string(req[http::field::origin]);
    r.content_type = std::string(req[http::field::content_type]);
    r.cookie = std::string(req[http::field::cookie]);
    r.body = std::move(req.body());
    Reply reply = app_.handle(r);
    if (reply.event_stream) return start_events();

    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), req.version());
    res->set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) res->set(name, value);
    harden(*res);
    res->keep_alive(req.keep_alive());
    res->body() = std::move(reply.body);
    res->prepare_payload();
    if (r.method == "HEAD") res->body().clear();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code wec, std::size_t) {
                        if (wec || !res->keep_alive()) return self->close();
                        self->read();
                      });
  }

  void start_events() {
    stream_.expires_never();
    http::response<http::empty_body> head(http::status::ok, 11);
    head.set(http::field::content_type, "text/event-stream");
    harden(head);
    std::ostringstream out;
    out << head.base();
    queue_.push_back(out.str());
    subscribers_.add(shared_from_this());
    write_next();
    try {
      push(json{{"type", "status"}, {"status", app_.live_status()}}.dump());
    } catch (const std::exception&) {  // the page asks /api/status and shows the error
    }
    // Reading on notices that the page went away.
    stream_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](
                                                      beast::error_code, std::size_t) {
      self->subscribers_.remove(self);
      self->close();
    });
  }

  void write_next() {
    asio::async_write(stream_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) {
                          self->subscribers_.remove(self);
                          return self->close();
                        }
                        self->queue_.pop_front();
                        if (!self->queue_.empty()) self->write_next();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  App& app_;
  Subscribers& subscribers_;
  std::deque<std::string> queue_;
  char drain_[512];
};

void Subscribers::broadcast(const std::string& data) {
  for (const auto& s : sessions_) s->push(data);
}

void Subscribers::close_all() {
  for (const auto& s : sessions_) s->close();
  sessions_.clear();
}

// Binds first (the App needs the port for its Host and Origin checks), accepts later.
class Listener {
 public:
  Listener(asio::io_context& io, std::uint16_t port, Subscribers& subscribers)
      : acceptor_(io), subscribers_(subscribers) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    beast::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw Error("listen", "Tidak dapat membuka port " + std::to_string(port) +
                                " di 127.0.0.1: " + ec.message());
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void accept(App& app) {
    acceptor_.async_accept([this, &app](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Session>(std::move(socket), app, subscribers_)->start();
      accept(app);
    });
  }
  void stop() {
    beast::error_code ec;
    acceptor_.close(ec);
  }

 private:
  tcp::acceptor acceptor_;
  Subscribers& subscribers_;
};

std::string now_text() { return format_time_utc(Clock::system().now_ms()); }

}  // namespace

bool open_browser(const std::string& url) {
#ifdef _WIN32
  std::string cmd = "start \"\" \"" + url + "\"";
#elif defined(__APPLE__)
  std::string cmd = "open '" + url + "' >/dev/null 2>&1";
#else
  std::string cmd = "xdg-open '" + url + "' >/dev/null 2>&1 &";
#endif
  return std::system(cmd.c_str()) == 0;  // the URL is ours: digits, hex and fixed text
}

int serve(const ServerOptions& options) {
  Api api(options.home, *options.clock, options.connector);
  Setup setup;  // not enrolled or damaged: the page shows the enrolment or repair screen
  try {
    api.status();
  } catch (const Error& e) {
    if (!handled_by_setup(e.code())) throw;
    setup = {e.code(), e.what()};
    api.close();
  }

  asio::io_context io(1);
  Subscribers subscribers;
  Listener listener(io, options.port, subscribers);
  App app(api, crypto::to_hex(crypto::random_bytes(24)), listener.port());
  // The background sync starts once the replica is ready (at once, or after the page's
  // enrolment or repair).
  std::atomic<bool> ready{setup.code.empty()};
  if (!ready) app.need_setup(setup, [&ready] { ready = true; });

  // The background sync: its own Api (Api is not thread-safe) on the same home. Its events
  // reach the page through the io thread, which alone touches App and the subscribers.
  std::atomic<bool> stop{false};
  auto on_event = [&](const std::string& line, bool online, std::string fatal) {
    asio::post(io, [&, line, online, fatal] {
      SyncState& st = app.sync_state();
      st.online = online;
      st.last_event = line;
      st.last_event_at = now_text();
      if (!fatal.empty()) st.fatal = fatal;
      json status;
      try {
        status = app.live_status();
      } catch (const std::exception&) {
        return;
      }
      subscribers.broadcast(json{{"type", "sync"}, {"line", line}, {"status", status}}.dump());
    });
  };
  std::thread watcher([&] {
    Api background(options.home, *options.clock, options.connector);
    bool online = false;
    while (!stop) {
      if (!ready) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      try {
        background.watch(stop, [&](const std::string& line) {
          if (line.rfind("terhubung", 0) == 0) online = true;
          if (line.rfind("koneksi terputus", 0) == 0) online = false;
          on_event(line, online, "");
        });
      } catch (const Error& e) {
        // Needs a person (device revoked, certificate changed): say so and stop trying.
        on_event(e.what(), false, std::string(e.what()) + " [" + e.code() + "]");
        return;
      } catch (const std::exception& e) {  // never let it escape the thread
        on_event(e.what(), false, std::string(e.what()) + " [internal]");
        return;
      }
    }
  });

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) {
    stop = true;
    listener.stop();
    subscribers.close_all();
    io.stop();
  });
  listener.accept(app);
  if (options.on_ready) options.on_ready(app.url());
  io.run();
  stop = true;
  watcher.join();
  return 0;
}

}  // namespace alur::client::ui
