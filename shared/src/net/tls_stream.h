// TlsStream: the server's TLS layer. OpenSSL works on the socket's descriptor itself
// (a socket BIO on its descriptor, as SSL_set_fd makes, but sending with MSG_NOSIGNAL; the
// socket non-blocking) and Asio only waits for readiness (async_wait), so
// an idle connection holds no buffers of its own: SSL_MODE_RELEASE_BUFFERS frees OpenSSL's
// record buffers between records. (Asio's ssl::stream keeps two 17 KiB vectors and a
// 17 KiB-per-side BIO pair per connection for its whole life.)
//
// It meets Asio's AsyncReadStream and AsyncWriteStream requirements, so that
// websocket::stream<TlsStream> works; teardown/async_teardown below are the overloads
// Beast looks up for it. next_layer() is the TCP socket, so beast::get_lowest_layer() and
// Beast's timeouts close the socket. All operations of one stream must run on one strand
// (the socket's executor). One read and one write may be in flight at once, as Beast does.
#pragma once

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

namespace alur::net {

class TlsStream {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using next_layer_type = socket_type;
  using error_code = boost::beast::error_code;

  // What one attempt of an operation needs before it can go on.
  enum class Want { nothing, read, write };
  struct Step {
    Want want = Want::nothing;
    error_code ec;
    std::size_t bytes = 0;
  };

  // A server-side stream on an accepted socket; ctx gives the TLS settings. Never throws:
  // if OpenSSL cannot make the connection object, every operation fails (no_memory).
  TlsStream(socket_type&& socket, SSL_CTX* ctx);
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& next_layer() noexcept { return socket_; }
  const socket_type& next_layer() const noexcept { return socket_; }

  // One attempt each; the async operations below repeat them as readiness allows.
  Step handshake_step();
  Step read_step(boost::asio::mutable_buffer buffer);
  Step write_step(boost::asio::const_buffer buffer);
  // Sends close_notify (does not wait for the peer's: the TCP teardown drains it).
  Step shutdown_step();

  template <class Token>
  auto async_handshake(Token&& token) {
    return run<false>(token, [this] { return handshake_step(); });
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    const auto first = first_buffer<boost::asio::mutable_buffer>(buffers);
    return run<true>(token, [this, first] { return read_step(first); });
  }

  // Writes at most one TLS record's worth. A small first buffer (Beast's frame header) is
  // joined with what follows it, so that a WebSocket frame goes out as one record.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    const auto first = first_buffer<boost::asio::const_buffer>(buffers);
    if (first.size() >= kJoinBelow || boost::asio::buffer_size(buffers) == first.size())
      return run<true>(token, [this, first] { return write_step(first); });
    auto joined = std::make_shared<std::string>(
        std::min(boost::asio::buffer_size(buffers), kMaxRecord), '\0');
    boost::asio::buffer_copy(boost::asio::buffer(*joined), buffers);
    return run<true>(token, [this, joined] { return write_step(boost::asio::buffer(*joined)); });
  }

  template <class Token>
  auto async_shutdown(Token&& token) {
    return run<false>(token, [this] { return shutdown_step(); });
  }

 private:
  static constexpr std::size_t kJoinBelow = 1024;   // a first buffer this small is joined
  static constexpr std::size_t kMaxRecord = 16384;  // TLS's largest record payload

  template <class Buffer, class Buffers>
  static Buffer first_buffer(const Buffers& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      Buffer b(*it);
      if (b.size() > 0) return b;
    }
    return Buffer();
  }

  // One operation: attempt; if it must wait, wait until the socket is readable or
  // writable and attempt again. An operation that finishes at once completes through a
  // post, so that no handler runs inside its initiating function.
  template <class Attempt, bool WithBytes>
  struct StepOp {
    socket_type* socket;
    Attempt attempt;
    enum class State { start, waiting, posted } state = State::start;
    Step result{};

    template <class Self>
    void operator()(Self& self, error_code wait_ec = {}) {
      if (state == State::waiting && wait_ec) {
        result = Step{Want::nothing, wait_ec, 0};
      } else if (state != State::posted) {
        result = attempt();
        if (result.want != Want::nothing) {
          state = State::waiting;
          return socket->async_wait(
              result.want == Want::read ? socket_type::wait_read : socket_type::wait_write,
              std::move(self));
        }
        if (state == State::start) {
          state = State::posted;
          return boost::asio::post(std::move(self));
        }
      }
      if constexpr (WithBytes) {
        self.complete(result.ec, result.bytes);
      } else {
        self.complete(result.ec);
      }
    }
  };

  template <bool WithBytes, class Token, class Attempt>
  auto run(Token& token, Attempt attempt) {
    using Signature =
        std::conditional_t<WithBytes, void(error_code, std::size_t), void(error_code)>;
    return boost::asio::async_compose<Token, Signature>(
        StepOp<Attempt, WithBytes>{&socket_, std::move(attempt)}, token, socket_);
  }

  std::optional<Step> unusable() const;
  Step failed(int ret);  // what a failed OpenSSL call (SSL_get_error) means

  socket_type socket_;
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl_;
  bool fatal_ = false;  // an SSL_ERROR_SSL/SYSCALL: no close_notify afterwards
};

// Beast's websocket close: close_notify, then the TCP teardown of the socket (which
// shuts down sending and reads until the peer closes).
void teardown(boost::beast::role_type role, TlsStream& stream, boost::beast::error_code& ec);

template <class Handler>
void async_teardown(boost::beast::role_type role, TlsStream& stream, Handler&& handler) {
  boost::asio::async_compose<Handler, void(boost::beast::error_code)>(
      [role, &stream, state = 0](auto& self, boost::beast::error_code ec = {}) mutable {
        if (state == 0) {
          state = 1;
          return stream.async_shutdown(std::move(self));
        }
        if (state == 1) {
          // A failed close_notify (e.g. the peer already left) does not stop the teardown.
          state = 2;
          return boost::beast::websocket::async_teardown(role, stream.next_layer(),
                                                         std::move(self));
        }
        self.complete(ec);
      },
      handler, stream.next_layer());
}

}  // namespace alur::net
