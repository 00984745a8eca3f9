// alur::crypto on OpenSSL 3: every OpenSSL handle lives in a std::unique_ptr, every
// failure becomes an alur::Error. Formats produced here (password hashes, sealed blobs)
// are described next to the functions that write them.
#include "alur/shared/crypto.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <climits>
#include <memory>
#include <vector>

#include "alur/shared/error.h"

namespace alur::crypto {
namespace {

// --- Tunables -------------------------------------------------------------------------

// Upper bounds on scrypt parameters. They matter where the parameters come from data
// (a stored password hash, a sealed blob): a corrupted or hostile value must not make
// us allocate gigabytes or spin for minutes. 256 MiB is 8x the default cost.
constexpr std::uint64_t kMaxScryptMemory = 256ull << 20;
constexpr std::uint32_t kMaxScryptR = 64;
constexpr std::uint32_t kMaxScryptP = 64;
// Extra room over scrypt's own working set, passed as maxmem: OpenSSL's default cap
// (32 MiB) is exactly the default cost and would refuse it.
constexpr std::uint64_t kScryptMemorySlack = 1ull << 20;

constexpr std::size_t kPasswordSaltBytes = 16;
constexpr std::size_t kPasswordHashBytes = 32;
// Accepted hash lengths when verifying, so older or foreign encodings still work.
constexpr std::size_t kMinPasswordHashBytes = 16;
constexpr std::size_t kMaxPasswordHashBytes = 64;

constexpr std::uint8_t kSealVersion = 1;
constexpr std::size_t kSealSaltBytes = 16;
constexpr std::size_t kSealNonceBytes = 12;
constexpr std::size_t kSealTagBytes = 16;
constexpr std::size_t kAesKeyBytes = 32;
// version(1) log2N(1) r(4) p(4) salt nonce
constexpr std::size_t kSealHeaderBytes = 1 + 1 + 4 + 4 + kSealSaltBytes + kSealNonceBytes;

constexpr std::size_t kSha256Bytes = 32;
constexpr std::size_t kEd25519KeyBytes = 32;
constexpr std::size_t kEd25519SignatureBytes = 64;
constexpr std::size_t kCertSerialBytes = 16;
constexpr long kCertBackdateSeconds = 3600;  // tolerate clocks a little behind ours
constexpr int kMaxCertValidDays = 100 * 366;

// OpenSSL takes int lengths; larger inputs go through in chunks of this size.
constexpr std::size_t kChunkBytes = 1u << 30;

constexpr std::string_view kFingerprintPrefix = "sha256:";

// --- RAII for OpenSSL handles -----------------------------------------------------------

template <auto FreeFn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    FreeFn(p);
  }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<&EVP_MD_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<&EVP_CIPHER_CTX_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<&EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<&X509_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<&X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<&BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<&BN_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Deleter<&GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<&GENERAL_NAMES_free>>;

// OPENSSL_free is a macro, so it cannot be a Deleter argument itself.
void free_openssl_bytes(unsigned char* p) { OPENSSL_free(p); }

// A std::string holding key material, wiped when it goes out of scope.
struct SecretBytes {
  std::string bytes;
  ~SecretBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// Throws the generic crypto error, with OpenSSL's first queued reason for the log.
[[noreturn]] void fail(std::string_view what) {
  std::string message = "Operasi kriptografi gagal: ";
  message += what;
  if (unsigned long code = ERR_get_error(); code != 0) {
    std::array<char, 256> buf{};
    ERR_error_string_n(code, buf.data(), buf.size());
    message += " (";
    message += buf.data();
    message += ")";
  }
  ERR_clear_error();
  throw Error("crypto", message);
}

void check(int ok, std::string_view what) {
  if (ok != 1) fail(what);
}

const unsigned char* bytes_of(std::string_view s) {
  // Some OpenSSL calls reject a null pointer even with length 0.
  static const unsigned char kEmpty[1] = {0};
  return s.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes_of(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len < 0 || (len > 0 && data == nullptr)) fail("membaca BIO memori");
  return std::string(data, static_cast<std::size_t>(len));
}

BioPtr memory_bio_reading(std::string_view s) {
  if (s.size() > INT_MAX) fail("masukan terlalu besar");
  BioPtr bio(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
  if (!bio) fail("BIO_new_mem_buf");
  return bio;
}

// --- scrypt parameters ---------------------------------------------------------------

bool is_power_of_two(std::uint64_t n) { return n >= 2 && (n & (n - 1)) == 0; }

// Throws Error("crypto") unless the parameters are valid and within our cost bounds.
void validate_kdf_params(const KdfParams& params) {
  if (!is_power_of_two(params.n)) fail("parameter scrypt N harus pangkat dua >= 2");
  if (params.r < 1 || params.r > kMaxScryptR) fail("parameter scrypt r di luar batas");
  if (params.p < 1 || params.p > kMaxScryptP) fail("parameter scrypt p di luar batas");
  // 128 * r * N bytes of working memory; checked by division to avoid overflow.
  if (params.n > kMaxScryptMemory / (128ull * params.r)) fail("parameter scrypt N terlalu besar");
}

std::uint64_t scrypt_maxmem(const KdfParams& params) {
  // Mirrors OpenSSL's accounting: 128*r*(N+2) for V and 128*r*p for B.
  return 128ull * params.r * (params.n + 2) + 128ull * params.r * params.p + kScryptMemorySlack;
}

int log2_exact(std::uint64_t n) {
  int log = 0;
  while ((std::uint64_t{1} << log) < n) ++log;
  return log;
}

// --- base64 ----------------------------------------------------------------------------

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

[[noreturn]] void bad_base64(std::string_view why) {
  throw Error("bad_base64", "Teks base64 tidak valid: " + std::string(why) + ".");
}

// --- parsing helpers -------------------------------------------------------------------

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

template <typename T>
bool parse_decimal(std::string_view s, T& out) {
  if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::uint32_t get_u32(std::string_view in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

// --- Ed25519 -----------------------------------------------------------------------------

PkeyPtr ed25519_private_key(std::string_view private_raw32) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes_of(private_raw32),
                                           private_raw32.size()));
  if (!key) fail("memuat kunci privat Ed25519");
  return key;
}

std::string ed25519_public_of(EVP_PKEY* key) {
  std::string out(kEd25519KeyBytes, '\0');
  std::size_t len = out.size();
  check(EVP_PKEY_get_raw_public_key(key, bytes_of(out), &len), "membaca kunci publik Ed25519");
  if (len != kEd25519KeyBytes) fail("panjang kunci publik Ed25519");
  return out;
}

// --- AES-256-GCM sealing -----------------------------------------------------------------

[[noreturn]] void wrong_passphrase() { throw Error("wrong_passphrase", "Frasa sandi salah."); }

[[noreturn]] void damaged_seal() {
  throw Error("wrong_passphrase", "Frasa sandi salah, atau data terenkripsi rusak/tidak dikenali.");
}

// Runs data through an initialized cipher context in int-sized chunks, appending to out.
void cipher_update(EVP_CIPHER_CTX* ctx, std::string_view data, std::string& out) {
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), kChunkBytes);
    const std::size_t at = out.size();
    out.resize(at + n);
    int written = 0;
    check(EVP_CipherUpdate(ctx, bytes_of(out) + at, &written, bytes_of(data), static_cast<int>(n)),
          "EVP_CipherUpdate");
    out.resize(at + static_cast<std::size_t>(written));
    data.remove_prefix(n);
  }
}

// --- certificates ------------------------------------------------------------------------

bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '*';
  });
}

// An IP literal becomes an iPAddress entry (a DNS entry "192.168.1.5" would never match
// a connection made to that address); anything else must look like a host name.
void add_general_name(GENERAL_NAMES* names, std::string_view value) {
  const std::string text(value);
  int type = GEN_DNS;
  if (std::unique_ptr<ASN1_OCTET_STRING, Deleter<&ASN1_OCTET_STRING_free>> ip(
          a2i_IPADDRESS(text.c_str()));
      ip) {
    type = GEN_IPADD;
  } else {
    ERR_clear_error();
    if (!is_dns_name(value)) {
      throw Error("crypto", "Nama host untuk sertifikat tidak valid: \"" + text + "\".");
    }
  }
  GeneralNamePtr name(a2i_GENERAL_NAME(nullptr, nullptr, nullptr, type, text.c_str(), 0));
  if (!name) fail("membuat subjectAltName");
  if (sk_GENERAL_NAME_push(names, name.get()) <= 0) fail("sk_GENERAL_NAME_push");
  name.release();  // owned by the stack now
}

void add_config_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext) fail("membuat ekstensi sertifikat");
  check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

X509Ptr parse_der_certificate(std::string_view der) {
  if (der.size() > LONG_MAX) fail("sertifikat terlalu besar");
  const unsigned char* p = bytes_of(der);
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != bytes_of(der) + der.size()) {
    ERR_clear_error();
    throw Error("crypto", "Sertifikat DER tidak valid.");
  }
  return cert;
}

std::string fingerprint_of(std::string_view der) {
  return std::string(kFingerprintPrefix) + sha256_hex(der);
}

[[noreturn]] void bad_fingerprint(std::string_view why) {
  throw Error("bad_fingerprint", "Sidik jari sertifikat tidak valid: " + std::string(why) + ".");
}

}  // namespace

// --- hashing -----------------------------------------------------------------------------

namespace {

// SHA-256, fetched from the provider once. With EVP_sha256() OpenSSL 3 looks the algorithm
// up again on every digest (a fetch under a lock, freed after): for a change's hash, a few
// hundred bytes, the lookup cost more than the hashing (perf of the sequencer benchmark:
// EVP_MD_fetch 4.6 % of a push's CPU, SHA-256 itself 3 %). Never freed: it lives as long
// as the process.
const EVP_MD* sha256_md() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : EVP_sha256();
  }();
  return md;
}

}  // namespace

std::string sha256(std::string_view data) {
  std::string out(kSha256Bytes, '\0');
  unsigned int len = 0;
  check(EVP_Digest(bytes_of(data), data.size(), bytes_of(out), &len, sha256_md(), nullptr),
        "EVP_Digest");
  return out;
}

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

Sha256::Sha256() : ctx_(nullptr) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) fail("EVP_MD_CTX_new");
  check(EVP_DigestInit_ex(ctx.get(), sha256_md(), nullptr), "EVP_DigestInit_ex");
  ctx_ = ctx.release();
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(std::string_view data) {
  if (ctx_ == nullptr) throw Error("crypto", "Sha256 dipakai setelah finish().");
  check(EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()),
        "EVP_DigestUpdate");
}

std::string Sha256::finish() {
  if (ctx_ == nullptr) throw Error("crypto", "Sha256 dipakai setelah finish().");
  MdCtxPtr ctx(static_cast<EVP_MD_CTX*>(ctx_));
  ctx_ = nullptr;
  std::string out(kSha256Bytes, '\0');
  unsigned int len = 0;
  check(EVP_DigestFinal_ex(ctx.get(), bytes_of(out), &len), "EVP_DigestFinal_ex");
  return out;
}

// --- encodings ---------------------------------------------------------------------------

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0x0f]);
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) {
    throw Error("bad_hex", "Teks heksadesimal tidak valid: panjangnya ganjil.");
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      throw Error("bad_hex", "Teks heksadesimal tidak valid: ada karakter bukan 0-9/a-f.");
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  // Whole groups of 3 so that only the last chunk carries padding.
  constexpr std::size_t kGroup = kChunkBytes / 4 * 3;
  while (!bytes.empty()) {
    const std::size_t n = std::min(bytes.size(), kGroup);
    const std::size_t at = out.size();
    out.resize(at + (n + 2) / 3 * 4 + 1);  // EVP_EncodeBlock writes a NUL
    const int written = EVP_EncodeBlock(bytes_of(out) + at, bytes_of(bytes), static_cast<int>(n));
    out.resize(at + static_cast<std::size_t>(written));
    bytes.remove_prefix(n);
  }
  return out;
}

// Strict: standard alphabet, length a multiple of 4, at most two '=' and only at the end,
// and unused trailing bits zero, so every byte string has exactly one accepted encoding.
// (EVP_DecodeBlock alone skips whitespace and counts padding as zero bytes.)
std::string base64_decode(std::string_view b64) {
  if (b64.size() % 4 != 0) bad_base64("panjangnya bukan kelipatan 4");
  if (b64.size() > INT_MAX) bad_base64("terlalu panjang");
  std::size_t padding = 0;
  if (!b64.empty() && b64.back() == '=') padding = (b64[b64.size() - 2] == '=') ? 2 : 1;
  const std::size_t data_chars = b64.size() - padding;
  for (std::size_t i = 0; i < data_chars; ++i) {
    if (base64_value(b64[i]) < 0) bad_base64("ada karakter di luar alfabet base64");
  }
  if (padding > 0) {
    // The last data character holds bits that padding says are unused; they must be 0.
    const int last = base64_value(b64[data_chars - 1]);
    const int unused_mask = (padding == 2) ? 0x0f : 0x03;
    if ((last & unused_mask) != 0) bad_base64("bit sisa sebelum padding tidak nol");
  }
  if (b64.empty()) return {};
  std::string out(b64.size() / 4 * 3, '\0');
  const int written = EVP_DecodeBlock(bytes_of(out), bytes_of(b64), static_cast<int>(b64.size()));
  if (written < 0 || static_cast<std::size_t>(written) != out.size()) {
    ERR_clear_error();
    bad_base64("gagal didekode");
  }
  out.resize(out.size() - padding);  // EVP_DecodeBlock decodes '=' as zero bytes
  return out;
}

// --- randomness --------------------------------------------------------------------------

namespace {
RandomSource& random_source() {
  static RandomSource source;
  return source;
}
}  // namespace

void set_random_source_for_testing(RandomSource source) { random_source() = std::move(source); }

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (random_source()) {
    random_source()(bytes_of(out), n);
    return out;
  }
  for (std::size_t at = 0; at < n;) {
    const std::size_t chunk = std::min(n - at, kChunkBytes);
    check(RAND_bytes(bytes_of(out) + at, static_cast<int>(chunk)), "RAND_bytes");
    at += chunk;
  }
  return out;
}

std::string random_id() { return to_hex(random_bytes(16)); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// --- password hashing --------------------------------------------------------------------

std::string scrypt(std::string_view secret, std::string_view salt, const KdfParams& params,
                   std::size_t key_len) {
  validate_kdf_params(params);
  if (key_len == 0) fail("panjang kunci scrypt nol");
  std::string out(key_len, '\0');
  check(EVP_PBE_scrypt(secret.empty() ? "" : secret.data(), secret.size(), bytes_of(salt),
                       salt.size(), params.n, params.r, params.p, scrypt_maxmem(params),
                       bytes_of(out), out.size()),
        "EVP_PBE_scrypt");
  return out;
}

// "scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>", N/r/p in decimal.
std::string hash_password(std::string_view password, const KdfParams& params) {
  const std::string salt = random_bytes(kPasswordSaltBytes);
  const std::string hash = scrypt(password, salt, params, kPasswordHashBytes);
  return "scrypt$" + std::to_string(params.n) + "$" + std::to_string(params.r) + "$" +
         std::to_string(params.p) + "$" + base64_encode(salt) + "$" + base64_encode(hash);
}

bool verify_password(std::string_view password, std::string_view encoded) {
  try {
    const auto parts = split(encoded, '$');
    if (parts.size() != 6 || parts[0] != "scrypt") return false;
    KdfParams params;
    if (!parse_decimal(parts[1], params.n) || !parse_decimal(parts[2], params.r) ||
        !parse_decimal(parts[3], params.p)) {
      return false;
    }
    const std::string salt = base64_decode(parts[4]);
    const std::string expected = base64_decode(parts[5]);
    if (salt.empty() || expected.size() < kMinPasswordHashBytes ||
        expected.size() > kMaxPasswordHashBytes) {
      return false;
    }
    const SecretBytes actual{scrypt(password, salt, params, expected.size())};
    return constant_time_equal(actual.bytes, expected);
  } catch (const Error&) {
    return false;  // malformed encoding or out-of-bounds parameters
  }
}

// --- Ed25519 -----------------------------------------------------------------------------

Ed25519Key Ed25519Key::generate() {
  // An Ed25519 private key is 32 random bytes; drawing them through random_bytes lets the
  // simulator's seeded source make the same keys on every replay.
  return from_private(random_bytes(kEd25519KeyBytes));
}

Ed25519Key Ed25519Key::from_private(std::string_view private_raw32) {
  if (private_raw32.size() != kEd25519KeyBytes) {
    throw Error("crypto", "Kunci privat Ed25519 harus 32 byte.");
  }
  PkeyPtr key = ed25519_private_key(private_raw32);
  Ed25519Key result;
  result.private_ = std::string(private_raw32);
  result.public_ = ed25519_public_of(key.get());
  return result;
}

std::string Ed25519Key::sign(std::string_view message) const {
  PkeyPtr key = ed25519_private_key(private_);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) fail("EVP_MD_CTX_new");
  check(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()), "EVP_DigestSignInit");
  std::string sig(kEd25519SignatureBytes, '\0');
  std::size_t len = sig.size();
  check(EVP_DigestSign(ctx.get(), bytes_of(sig), &len, bytes_of(message), message.size()),
        "EVP_DigestSign");
  if (len != kEd25519SignatureBytes) fail("panjang tanda tangan Ed25519");
  return sig;
}

bool ed25519_verify(std::string_view public_raw32, std::string_view message,
                    std::string_view signature64) {
  if (public_raw32.size() != kEd25519KeyBytes || signature64.size() != kEd25519SignatureBytes) {
    return false;
  }
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes_of(public_raw32),
                                          public_raw32.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok = key && ctx &&
                  EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), bytes_of(signature64), signature64.size(),
                                   bytes_of(message), message.size()) == 1;
  ERR_clear_error();  // a failed verification leaves reasons queued; they are not errors
  return ok;
}

// --- passphrase sealing ------------------------------------------------------------------
//
// Sealed format, version 1 (all integers big-endian):
//   u8  version = 1
//   u8  log2(N)         scrypt cost
//   u32 r, u32 p        scrypt parameters
//   16  salt            scrypt salt
//   12  nonce           AES-GCM IV
//   16  tag             AES-GCM tag
//   ..  ciphertext      same length as the plaintext
// The key is scrypt(passphrase, salt, N, r, p) → 32 bytes; AES-256-GCM authenticates the
// header (version through nonce) as additional data, so any altered byte fails to open.

std::string seal_with_passphrase(std::string_view plaintext, std::string_view passphrase,
                                 const KdfParams& params) {
  validate_kdf_params(params);
  const std::string salt = random_bytes(kSealSaltBytes);
  const std::string nonce = random_bytes(kSealNonceBytes);
  const SecretBytes key{scrypt(passphrase, salt, params, kAesKeyBytes)};

  std::string header;
  header.push_back(static_cast<char>(kSealVersion));
  header.push_back(static_cast<char>(log2_exact(params.n)));
  put_u32(header, params.r);
  put_u32(header, params.p);
  header += salt;
  header += nonce;

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) fail("EVP_CIPHER_CTX_new");
  check(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr),
        "EVP_EncryptInit_ex");
  check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                            nullptr),
        "GCM_SET_IVLEN");
  check(EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(key.bytes), bytes_of(nonce)),
        "EVP_EncryptInit_ex");
  int aad_len = 0;
  check(EVP_EncryptUpdate(ctx.get(), nullptr, &aad_len, bytes_of(header),
                          static_cast<int>(header.size())),
        "GCM AAD");
  std::string ciphertext;
  ciphertext.reserve(plaintext.size());
  cipher_update(ctx.get(), plaintext, ciphertext);
  std::array<unsigned char, 16> tail{};  // GCM emits nothing at final; room just in case
  int tail_len = 0;
  check(EVP_EncryptFinal_ex(ctx.get(), tail.data(), &tail_len), "EVP_EncryptFinal_ex");
  ciphertext.append(reinterpret_cast<const char*>(tail.data()), static_cast<std::size_t>(tail_len));
  std::string tag(kSealTagBytes, '\0');
  check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()),
                            tag.data()),
        "GCM_GET_TAG");

  return header + tag + ciphertext;
}

std::string open_with_passphrase(std::string_view sealed, std::string_view passphrase) {
  if (sealed.size() < kSealHeaderBytes + kSealTagBytes) damaged_seal();
  if (static_cast<unsigned char>(sealed[0]) != kSealVersion) damaged_seal();
  const unsigned log2n = static_cast<unsigned char>(sealed[1]);
  if (log2n < 1 || log2n > 63) damaged_seal();
  KdfParams params;
  params.n = std::uint64_t{1} << log2n;
  params.r = get_u32(sealed.substr(2, 4));
  params.p = get_u32(sealed.substr(6, 4));
  const std::string_view header = sealed.substr(0, kSealHeaderBytes);
  const std::string_view salt = sealed.substr(10, kSealSaltBytes);
  const std::string_view nonce = sealed.substr(10 + kSealSaltBytes, kSealNonceBytes);
  std::string tag(sealed.substr(kSealHeaderBytes, kSealTagBytes));
  const std::string_view ciphertext = sealed.substr(kSealHeaderBytes + kSealTagBytes);

  SecretBytes key;
  try {
    key.bytes = scrypt(passphrase, salt, params, kAesKeyBytes);
  } catch (const Error&) {
    damaged_seal();  // parameters out of bounds: the header was altered
  }

  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) fail("EVP_CIPHER_CTX_new");
  check(EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr),
        "EVP_DecryptInit_ex");
  check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                            nullptr),
        "GCM_SET_IVLEN");
  check(EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes_of(key.bytes), bytes_of(nonce)),
        "EVP_DecryptInit_ex");
  int aad_len = 0;
  check(EVP_DecryptUpdate(ctx.get(), nullptr, &aad_len, bytes_of(header),
                          static_cast<int>(header.size())),
        "GCM AAD");
  SecretBytes plaintext;
  plaintext.bytes.reserve(ciphertext.size());
  cipher_update(ctx.get(), ciphertext, plaintext.bytes);
  check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                            tag.data()),
        "GCM_SET_TAG");
  std::array<unsigned char, 16> tail{};
  int tail_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), tail.data(), &tail_len) != 1) {
    ERR_clear_error();
    wrong_passphrase();  // the tag did not verify: wrong key or altered data
  }
  plaintext.bytes.append(reinterpret_cast<const char*>(tail.data()),
                         static_cast<std::size_t>(tail_len));
  return std::move(plaintext.bytes);
}

// --- certificates ------------------------------------------------------------------------

CertificateAndKey make_self_signed_certificate(std::string_view common_name, int valid_days,
                                               std::string_view extra_dns_names_comma) {
  if (common_name.empty()) throw Error("crypto", "Nama umum (CN) sertifikat kosong.");
  if (valid_days < 1 || valid_days > kMaxCertValidDays) {
    throw Error("crypto", "Masa berlaku sertifikat harus antara 1 dan " +
                              std::to_string(kMaxCertValidDays) + " hari.");
  }

  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) fail("membuat kunci ECDSA P-256");

  X509Ptr cert(X509_new());
  if (!cert) fail("X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");

  // A random positive 128-bit serial (top bit cleared so DER needs no sign byte games).
  std::string serial = random_bytes(kCertSerialBytes);
  serial[0] = static_cast<char>((static_cast<unsigned char>(serial[0]) & 0x7f) | 0x01);
  BignumPtr serial_bn(BN_bin2bn(bytes_of(serial), static_cast<int>(serial.size()), nullptr));
  if (!serial_bn) fail("BN_bin2bn");
  if (!BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get()))) {
    fail("BN_to_ASN1_INTEGER");
  }

  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kCertBackdateSeconds)) {
    fail("notBefore");
  }
  if (!X509_time_adj_ex(X509_getm_notAfter(cert.get()), valid_days, 0, nullptr)) {
    fail("notAfter");
  }

  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn(common_name);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0),
        "subjek CN (maksimum 64 karakter)");
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>("alur"), -1, -1, 0),
        "subjek O");
  check(X509_set_issuer_name(cert.get(), name), "X509_set_issuer_name");
  check(X509_set_pubkey(cert.get(), key.get()), "X509_set_pubkey");

  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) fail("sk_GENERAL_NAME_new_null");
  std::vector<std::string> seen;
  const auto add_once = [&](std::string_view value) {
    std::string lower(value);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (std::find(seen.begin(), seen.end(), lower) != seen.end()) return;
    add_general_name(names.get(), value);
    seen.push_back(std::move(lower));
  };
  add_once("localhost");
  add_once("127.0.0.1");
  add_once("::1");
  for (std::string_view extra : split(extra_dns_names_comma, ',')) {
    extra = trim(extra);
    if (!extra.empty()) add_once(extra);
  }
  check(X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT),
        "subjectAltName");

  X509V3_CTX ext_ctx;
  X509V3_set_ctx_nodb(&ext_ctx);
  X509V3_set_ctx(&ext_ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  add_config_extension(cert.get(), &ext_ctx, NID_basic_constraints, "critical,CA:FALSE");
  add_config_extension(cert.get(), &ext_ctx, NID_key_usage, "critical,digitalSignature");
  add_config_extension(cert.get(), &ext_ctx, NID_ext_key_usage, "serverAuth");
  add_config_extension(cert.get(), &ext_ctx, NID_subject_key_identifier, "hash");

  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) fail("X509_sign");

  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio) fail("BIO_new");
  check(PEM_write_bio_X509(cert_bio.get(), cert.get()), "PEM_write_bio_X509");
  check(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey");
  return CertificateAndKey{bio_contents(cert_bio.get()), bio_contents(key_bio.get())};
}

namespace {
X509Ptr read_certificate_pem(std::string_view cert_pem) {
  BioPtr bio = memory_bio_reading(cert_pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    throw Error("crypto", "Sertifikat PEM tidak valid.");
  }
  return cert;
}
}  // namespace

std::string certificate_fingerprint_pem(std::string_view cert_pem) {
  const X509Ptr cert = read_certificate_pem(cert_pem);
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  if (len <= 0) fail("i2d_X509");
  const std::unique_ptr<unsigned char, Deleter<&free_openssl_bytes>> owned(der);
  return fingerprint_of(
      std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len)));
}

std::string sign_with_private_key_pem(std::string_view key_pem, std::string_view message) {
  BioPtr bio = memory_bio_reading(key_pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    throw Error("crypto", "Kunci privat PEM tidak valid.");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, bytes_of(message), message.size()) != 1) {
    fail("EVP_DigestSign");
  }
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     bytes_of(message), message.size()) != 1) {
    fail("EVP_DigestSign");
  }
  signature.resize(len);
  return signature;
}

bool verify_with_certificate_pem(std::string_view cert_pem, std::string_view message,
                                 std::string_view signature) {
  const X509Ptr cert = read_certificate_pem(cert_pem);
  EVP_PKEY* key = X509_get0_pubkey(cert.get());  // owned by the certificate
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    ERR_clear_error();
    return false;
  }
  const bool ok = EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(),
                                   bytes_of(message), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::string certificate_fingerprint_der(std::string_view cert_der) {
  parse_der_certificate(cert_der);  // only hash what really is one certificate
  return fingerprint_of(cert_der);
}

std::string normalize_fingerprint(std::string_view typed) {
  std::string_view s = trim(typed);
  // Also accept what `openssl x509 -fingerprint -sha256` prints.
  for (std::string_view prefix : {std::string_view("sha256 fingerprint="), kFingerprintPrefix,
                                  std::string_view("sha-256:")}) {
    if (iequals_prefix(s, prefix)) {
      s.remove_prefix(prefix.size());
      break;
    }
  }
  std::string hex;
  hex.reserve(s.size());
  for (char c : trim(s)) {
    if (c == ':' || c == ' ') continue;
    hex.push_back(c);
  }
  std::string bytes;
  try {
    bytes = from_hex(hex);
  } catch (const Error&) {
    bad_fingerprint("harus berupa angka heksadesimal");
  }
  if (bytes.size() != kSha256Bytes) {
    bad_fingerprint("harus 32 byte (64 digit heksadesimal), bukan " + std::to_string(bytes.size()) +
                    " byte");
  }
  return std::string(kFingerprintPrefix) + to_hex(bytes);
}

}  // namespace alur::crypto
