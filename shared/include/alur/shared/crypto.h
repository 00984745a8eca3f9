// Cryptographic primitives of alur, all on OpenSSL 3: hashing, randomness, password
// hashing with a memory-hard KDF (scrypt), Ed25519 device and personal keys, and the
// self-signed TLS certificate a fresh server makes for itself.
//
// Byte strings are std::string holding raw bytes unless a name says _hex / _b64.
// Every function is thread-safe. Failures throw alur::Error (code "crypto").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace alur::crypto {

// SHA-256 of data, 32 raw bytes.
std::string sha256(std::string_view data);
// SHA-256 of data as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

// Incremental SHA-256 for large blobs.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string finish();  // 32 raw bytes; the object cannot be used afterwards
 private:
  void* ctx_;  // EVP_MD_CTX*
};

std::string to_hex(std::string_view bytes);         // lowercase
std::string from_hex(std::string_view hex);         // throws Error("bad_hex") on bad input
std::string base64_encode(std::string_view bytes);  // standard alphabet, padded, no newlines
std::string base64_decode(std::string_view b64);    // throws Error("bad_base64")

// Cryptographically secure random bytes (RAND_bytes).
std::string random_bytes(std::size_t n);
// A random 128-bit id as 32 lowercase hex digits (ids of replicas, cases, changes).
std::string random_id();

// The deterministic simulator replays a seed exactly, so every random id and key it
// causes must come from its seeded generator: while a source is installed, random_bytes
// (and so device keys, tokens and ids) draws from it. Tests only; the binaries never
// install one. Not thread-safe (the simulator runs one thread at a time).
using RandomSource = std::function<void(unsigned char* out, std::size_t n)>;
void set_random_source_for_testing(RandomSource source);  // empty: back to RAND_bytes

// Compares in time independent of where the inputs differ (CRYPTO_memcmp);
// different lengths compare unequal.
bool constant_time_equal(std::string_view a, std::string_view b);

// Parameters of scrypt (memory-hard). Default: N=2^15, r=8, p=1 (32 MiB, ~0.1 s).
struct KdfParams {
  std::uint64_t n = 1u << 15;
  std::uint32_t r = 8;
  std::uint32_t p = 1;
};
// Derives key_len bytes from a secret and salt with scrypt.
std::string scrypt(std::string_view secret, std::string_view salt, const KdfParams& params,
                   std::size_t key_len);
// A self-describing password hash: "scrypt$N$r$p$<salt b64>$<hash b64>".
std::string hash_password(std::string_view password, const KdfParams& params = {});
// True if password matches; constant-time compare; false (never throws) on a malformed encoding.
bool verify_password(std::string_view password, std::string_view encoded);

// An Ed25519 key pair (device key, later personal signing key).
class Ed25519Key {
 public:
  static Ed25519Key generate();
  static Ed25519Key from_private(std::string_view private_raw32);  // throws on bad size
  std::string public_raw() const { return public_; }               // 32 bytes
  std::string private_raw() const { return private_; }             // 32 bytes
  std::string sign(std::string_view message) const;                // 64 bytes
 private:
  std::string private_, public_;
};
// Verifies an Ed25519 signature; false on any malformed input.
bool ed25519_verify(std::string_view public_raw32, std::string_view message,
                    std::string_view signature64);

// Encrypts data under a passphrase: scrypt-derived key, AES-256-GCM, random salt and
// nonce; output is self-describing (version, params, salt, nonce, tag, ciphertext).
std::string seal_with_passphrase(std::string_view plaintext, std::string_view passphrase,
                                 const KdfParams& params = {});
// Throws Error("wrong_passphrase") if the passphrase is wrong or the data was altered.
std::string open_with_passphrase(std::string_view sealed, std::string_view passphrase);

// A self-signed server certificate (ECDSA P-256, SHA-256, subjectAltName
// DNS:localhost, IP:127.0.0.1 plus extra_names) and its private key, both PEM.
struct CertificateAndKey {
  std::string cert_pem;
  std::string key_pem;
};
CertificateAndKey make_self_signed_certificate(std::string_view common_name, int valid_days,
                                               std::string_view extra_dns_names_comma = "");
// SHA-256 over the certificate's DER encoding, as "sha256:" + 64 lowercase hex digits.
std::string certificate_fingerprint_pem(std::string_view cert_pem);
std::string certificate_fingerprint_der(std::string_view cert_der);
// Normalizes a user-typed fingerprint ("AB:CD:..", "sha256:abcd..", with or without colons)
// to the canonical "sha256:<hex>" form; throws Error("bad_fingerprint").
std::string normalize_fingerprint(std::string_view typed);

// Signs `message` with a PEM private key (the server's TLS key: ECDSA P-256 with SHA-256,
// DER signature) — how an old certificate vouches for its successor (cert_renewal.h).
std::string sign_with_private_key_pem(std::string_view key_pem, std::string_view message);
// True if `signature` is the certificate's key's signature of `message`. Throws
// Error("crypto") if the certificate cannot be read.
bool verify_with_certificate_pem(std::string_view cert_pem, std::string_view message,
                                 std::string_view signature);

}  // namespace alur::crypto
