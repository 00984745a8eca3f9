// permessage-deflate (RFC 7692) on the sync connection, the settings both ends keep to. A
// client asks for it in its upgrade request (ClientOptions::compression); the server
// agrees unless its operator turned it off (ServerLimits::compression). Each message of at
// least kDeflateThreshold bytes then goes compressed, in either direction.
#pragma once

#include <boost/beast/websocket/option.hpp>
#include <cstddef>

namespace alur::net {

// A window of 2^10 bytes. A pull of 1,000 entries compresses to 0.28 of its size with it,
// against 0.27 with the largest window of 2^15 (alur_micro BM_DeflateEntries); and a
// connection that has compressed keeps about 26 KiB of zlib state (both directions)
// instead of about 180 KiB, which matters at 10,000 connections. The server declines a
// client that does not offer to keep its own window as small (RFC 7692, 7.1.2.2).
inline constexpr int kDeflateWindowBits = 10;
// Level 3 deflates a pull at about 75 MB/s on one core: hundreds of times what a slow
// line carries, and within a few per cent of level 6's size.
inline constexpr int kDeflateLevel = 3;
inline constexpr int kDeflateMemLevel = 4;
// Smaller messages (a Notify, the answer to a small push) gain nothing worth the CPU.
inline constexpr std::size_t kDeflateThreshold = 512;

// The settings above, with neither role enabled: the caller enables its own.
inline boost::beast::websocket::permessage_deflate deflate_options() {
  boost::beast::websocket::permessage_deflate o;
  o.server_max_window_bits = kDeflateWindowBits;
  o.client_max_window_bits = kDeflateWindowBits;
  o.compLevel = kDeflateLevel;
  o.memLevel = kDeflateMemLevel;
  o.msg_size_threshold = kDeflateThreshold;
  return o;
}

}  // namespace alur::net
