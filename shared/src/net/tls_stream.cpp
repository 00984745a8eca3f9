// TlsStream's attempts: one OpenSSL call each on the socket's descriptor, and what its
// result means for the operation (done, wait for readable/writable, or an error code in
// the same terms as Asio's ssl::stream: eof for close_notify, stream_truncated for a peer
// that left without one).
#include "tls_stream.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#ifdef _WIN32
#include <winsock2.h>
#else
#include <sys/socket.h>
#endif

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <cerrno>

namespace alur::net {

namespace asio = boost::asio;

namespace {

// OpenSSL's socket BIO writes with write(): a peer that has gone would raise SIGPIPE and
// end the whole server. This one sends with MSG_NOSIGNAL (as Asio does) and keeps the rest
// of the socket BIO (read, ctrl: BIO_set_fd, retry flags).
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0  // Windows: a send to a closed socket fails, it raises no signal
#endif
int send_without_sigpipe(BIO* bio, const char* data, int size) {
  const auto n = ::send(BIO_get_fd(bio, nullptr), data, size, MSG_NOSIGNAL);
  BIO_clear_retry_flags(bio);
  if (n <= 0 && BIO_sock_should_retry(static_cast<int>(n))) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

BIO_METHOD* make_socket_method() {
  const BIO_METHOD* base = BIO_s_socket();
  BIO_METHOD* method = BIO_meth_new(BIO_TYPE_SOCKET, "alur socket");
  if (!method) return nullptr;
  BIO_meth_set_write(method, send_without_sigpipe);
  BIO_meth_set_read(method, BIO_meth_get_read(base));
  BIO_meth_set_puts(method, BIO_meth_get_puts(base));
  BIO_meth_set_ctrl(method, BIO_meth_get_ctrl(base));
  BIO_meth_set_create(method, BIO_meth_get_create(base));
  BIO_meth_set_destroy(method, BIO_meth_get_destroy(base));
  return method;
}

const BIO_METHOD* socket_method() {
  static BIO_METHOD* const method = make_socket_method();  // for the process's lifetime
  return method;
}

// The SSL's read and write BIO on fd (not closed with the SSL: the socket owns it).
bool attach(SSL* ssl, int fd) {
  const BIO_METHOD* method = socket_method();
  BIO* bio = method ? BIO_new(method) : nullptr;
  if (!bio) return false;
  BIO_set_fd(bio, fd, BIO_NOCLOSE);
  SSL_set_bio(ssl, bio, bio);
  return true;
}

}  // namespace

TlsStream::TlsStream(socket_type&& socket, SSL_CTX* ctx)
    : socket_(std::move(socket)), ssl_(SSL_new(ctx), SSL_free) {
  error_code ec;
  socket_.native_non_blocking(true, ec);
  // OpenSSL writes a handshake flight as several records, one write() each: with Nagle's
  // algorithm the later ones wait for the client's delayed ACK (40 ms per handshake).
  if (!ec) socket_.set_option(socket_type::protocol_type::no_delay(true), ec);
  if (!ssl_ || ec || !attach(ssl_.get(), static_cast<int>(socket_.native_handle()))) {
    ssl_.reset();  // every attempt then fails; the session ends at its handshake
    return;
  }
  SSL_set_accept_state(ssl_.get());
  // Record buffers only while a record is in transit; writes may complete in part and be
  // retried from another address (Beast moves its buffers between attempts).
  SSL_set_mode(ssl_.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                               SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

TlsStream::Step TlsStream::handshake_step() {
  if (auto gone = unusable()) return *gone;
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_.get());
  return ret == 1 ? Step{} : failed(ret);
}

TlsStream::Step TlsStream::read_step(asio::mutable_buffer buffer) {
  if (buffer.size() == 0) return {};
  if (auto gone = unusable()) return *gone;
  ERR_clear_error();
  std::size_t n = 0;
  const int ret = SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &n);
  return ret == 1 ? Step{Want::nothing, {}, n} : failed(ret);
}

TlsStream::Step TlsStream::write_step(asio::const_buffer buffer) {
  if (buffer.size() == 0) return {};
  if (auto gone = unusable()) return *gone;
  ERR_clear_error();
  std::size_t n = 0;
  const int ret = SSL_write_ex(ssl_.get(), buffer.data(), buffer.size(), &n);
  return ret == 1 ? Step{Want::nothing, {}, n} : failed(ret);
}

TlsStream::Step TlsStream::shutdown_step() {
  if (auto gone = unusable()) return *gone;
  // After a fatal error OpenSSL must not be asked to shut down; the TCP teardown follows.
  if (fatal_) return Step{Want::nothing, asio::error::shut_down, 0};
  ERR_clear_error();
  const int ret = SSL_shutdown(ssl_.get());
  return ret >= 0 ? Step{} : failed(ret);
}

// A closed socket's descriptor number may already belong to another connection: no
// OpenSSL call may touch it again.
std::optional<TlsStream::Step> TlsStream::unusable() const {
  if (!socket_.is_open()) return Step{Want::nothing, asio::error::bad_descriptor, 0};
  if (!ssl_) return Step{Want::nothing, asio::error::no_memory, 0};
  return std::nullopt;
}

TlsStream::Step TlsStream::failed(int ret) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_.get(), ret)) {
    case SSL_ERROR_WANT_READ:
      return Step{Want::read, {}, 0};
    case SSL_ERROR_WANT_WRITE:
      return Step{Want::write, {}, 0};
    case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify: a clean end of stream
      return Step{Want::nothing, asio::error::eof, 0};
    case SSL_ERROR_SYSCALL: {
      fatal_ = true;
      if (const unsigned long e = ERR_get_error())
        return Step{Want::nothing, error_code(static_cast<int>(e), asio::error::get_ssl_category()),
                    0};
      if (saved_errno != 0)
        return Step{Want::nothing, error_code(saved_errno, asio::error::get_system_category()), 0};
      return Step{Want::nothing, asio::ssl::error::stream_truncated, 0};
    }
    default: {
      fatal_ = true;
      const unsigned long e = ERR_peek_last_error();
      ERR_clear_error();
      // OpenSSL 3 reports a TCP end without close_notify this way.
      if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return Step{Want::nothing, asio::ssl::error::stream_truncated, 0};
      return Step{Want::nothing, error_code(static_cast<int>(e), asio::error::get_ssl_category()),
                  0};
    }
  }
}

void teardown(boost::beast::role_type role, TlsStream& stream, boost::beast::error_code& ec) {
  stream.shutdown_step();  // best effort: a non-blocking close_notify
  boost::beast::websocket::teardown(role, stream.next_layer(), ec);
}

}  // namespace alur::net
