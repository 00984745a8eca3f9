// The TLS settings both ends of the sync connection keep to: TLS 1.2 at least, and for
// TLS 1.2 only forward-secret AEAD suites (Mozilla "intermediate"); TLS 1.3 keeps
// OpenSSL's defaults, which are all of that kind.
#pragma once

namespace alur::net {

inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace alur::net
