// The commit listener (pg_listener.h).
#include "alur/server/pg_listener.h"

#include "alur/server/pg_store.h"
#include "alur/shared/error.h"

namespace alur::server {

CommitListener::CommitListener(boost::asio::io_context& io, std::string url,
                               std::function<void()> on_commit,
                               std::function<void(const std::string&)> log)
    : io_(io),
      url_(std::move(url)),
      on_commit_(std::move(on_commit)),
      log_(std::move(log)),
      socket_(io),
      retry_(io) {}

CommitListener::~CommitListener() { stop(); }

void CommitListener::start() {
  stopped_ = false;
  do_connect();
}

void CommitListener::stop() {
  stopped_ = true;
  retry_.cancel();
  if (socket_.is_open()) {
    socket_.cancel();
    (void)socket_.release();  // the descriptor is libpq's: PQfinish closes it
  }
  conn_.reset();
}

void CommitListener::do_connect() {
  if (stopped_) return;
  try {
    auto conn = std::make_unique<pg::Connection>(url_);
    conn->exec(std::string("LISTEN ") + PgStore::kCommitChannel);
    schema_ = conn->query("SELECT current_schema()").text(0, 0);  // PgStore's payload
    socket_.assign(conn->socket());
    conn_ = std::move(conn);
  } catch (const std::exception& e) {
    if (!was_lost_) log_(std::string("LISTEN PostgreSQL gagal: ") + e.what());
    was_lost_ = true;
    return retry_later();
  }
  if (was_lost_) {
    log_("LISTEN PostgreSQL tersambung lagi");
    was_lost_ = false;
    report_commit();  // what was committed while nobody listened
  }
  do_wait();
}

void CommitListener::retry_later() {
  retry_.expires_after(kListenRetry);
  retry_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (auto self = weak.lock(); self && !ec) self->do_connect();
  });
}

void CommitListener::report_commit() {
  try {
    on_commit_();
  } catch (const std::exception& e) {
    log_(std::string("commit dari node lain: ") + e.what());
  }
}

void CommitListener::do_wait() {
  socket_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [weak = weak_from_this()](const boost::system::error_code& ec) {
                       if (auto self = weak.lock()) self->on_readable(ec);
                     });
}

void CommitListener::on_readable(const boost::system::error_code& ec) {
  if (ec == boost::asio::error::operation_aborted || stopped_) return;
  if (ec) return lost(ec.message());
  std::size_t commits = 0;
  try {
    commits = conn_->take_notifications(schema_);
  } catch (const Error& e) {
    return lost(e.what());
  }
  if (commits > 0) report_commit();
  do_wait();
}

void CommitListener::lost(const std::string& why) {
  log_("LISTEN PostgreSQL terputus (" + why + "); menyambung lagi");
  was_lost_ = true;
  if (socket_.is_open()) (void)socket_.release();
  conn_.reset();
  retry_later();
}

}  // namespace alur::server
