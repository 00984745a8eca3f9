// CommitListener: a node's own PostgreSQL connection that LISTENs on PgStore's commit
// channel, its socket watched by Asio (no thread, no polling), so that a commit made through
// another node of the same database reaches this node's live sessions at once.
//
// A lost connection (PostgreSQL restarted, the session terminated, a failover) is made
// again after kListenRetry, and on_commit is then called once: the node catches up on
// whatever was committed while it was not listening. listening() says whether it is
// listening now (the server polls the log head more often while it is not).
//
// Threading: everything runs on the io_context's thread; on_commit and log are called
// there (serve's on_commit posts the Notify to the unit's strand) (an exception out of on_commit is logged, never thrown into Asio). Made with
// std::make_shared: its handlers hold it weakly and do nothing once it is gone.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "alur/server/pg.h"

namespace alur::server {

// The pause before listening again after the listening connection was lost.
inline constexpr std::chrono::seconds kListenRetry{1};

class CommitListener : public std::enable_shared_from_this<CommitListener> {
 public:
  CommitListener(boost::asio::io_context& io, std::string url, std::function<void()> on_commit,
                 std::function<void(const std::string&)> log);
  ~CommitListener();
  CommitListener(const CommitListener&) = delete;
  CommitListener& operator=(const CommitListener&) = delete;

  // Connects and listens; on failure, tries again every kListenRetry.
  void start();
  void stop();
  bool listening() const { return conn_ != nullptr; }

 private:
  void do_connect();
  void do_wait();
  void on_readable(const boost::system::error_code& ec);
  void lost(const std::string& why);
  void retry_later();
  void report_commit();

  boost::asio::io_context& io_;
  std::string url_;
  std::function<void()> on_commit_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<pg::Connection> conn_;
  std::string schema_;  // the notifications of this store's schema only
  boost::asio::posix::stream_descriptor socket_;  // libpq's socket, released, never closed
  boost::asio::steady_timer retry_;
  bool stopped_ = false;
  bool was_lost_ = false;  // a connection was lost since the last one was made
};

}  // namespace alur::server
