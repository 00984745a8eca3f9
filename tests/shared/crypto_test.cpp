// Tests of alur::crypto: published test vectors where they exist (SHA-256, RFC 4648,
// RFC 7914, RFC 8032), round trips, tamper detection, and the certificate checked
// independently through OpenSSL.
#include "alur/shared/crypto.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "alur/shared/error.h"

namespace alur::crypto {
namespace {

// Small scrypt cost so that tests run fast; one test uses the defaults.
const KdfParams kFastKdf{.n = 1024, .r = 8, .p = 1};

std::string code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return "<no error>";
}

// ---- hashing ----

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256("abc").size(), 32u);
  EXPECT_EQ(to_hex(sha256("abc")), sha256_hex("abc"));
}

TEST(Sha256Test, IncrementalEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  Sha256 h;
  h.update(data.substr(0, 1));
  h.update("");
  h.update(data.substr(1, 4999));
  h.update(data.substr(5000));
  EXPECT_EQ(h.finish(), sha256(data));

  Sha256 abc;
  abc.update("a");
  abc.update("bc");
  EXPECT_EQ(to_hex(abc.finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, UseAfterFinishThrows) {
  Sha256 h;
  h.update("x");
  h.finish();
  EXPECT_EQ(code_of([&] { h.update("y"); }), "crypto");
  EXPECT_EQ(code_of([&] { h.finish(); }), "crypto");
}

// ---- encodings ----

TEST(HexTest, RoundTripAndCase) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string hex = to_hex(all);
  EXPECT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(504), "fcfdfeff");
  EXPECT_EQ(from_hex(hex), all);
  EXPECT_EQ(from_hex("DEADbeef"), "\xde\xad\xbe\xef");
  EXPECT_EQ(from_hex(""), "");
}

TEST(HexTest, RejectsBadInput) {
  for (const char* bad : {"abc", "0g", "zz", " 00", "00 ", "0x00", "-1"}) {
    EXPECT_EQ(code_of([&] { from_hex(bad); }), "bad_hex") << bad;
  }
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), plain) << encoded;
  }
}

TEST(Base64Test, RoundTripLengthsZeroToFiveAndBinary) {
  for (std::size_t len = 0; len <= 5; ++len) {
    for (int trial = 0; trial < 20; ++trial) {
      const std::string bytes = random_bytes(len);
      const std::string encoded = base64_encode(bytes);
      EXPECT_EQ(encoded.size(), (len + 2) / 3 * 4);
      EXPECT_EQ(encoded.find('\n'), std::string::npos);
      EXPECT_EQ(base64_decode(encoded), bytes) << "length " << len;
    }
  }
  // Bytes with high bits and zeros, including trailing zeros that padding must not eat.
  for (const std::string& bytes : {std::string("\0", 1), std::string("\0\0", 2),
                                   std::string("\xff\0\0\0", 4), std::string("\xfb\xff", 2)}) {
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  }
}

TEST(Base64Test, RejectsBadInput) {
  for (const char* bad : {"Z", "Zg", "Zg=", "Zm9vY", "Z===", "====", "=Zg=", "Zg==Zg==", "Zm9v\n",
                          "Zm 9", "Zm9v!", "Zm-_", "Zh==", "Zm9=", " Zm9v"}) {
    EXPECT_EQ(code_of([&] { base64_decode(bad); }), "bad_base64") << '"' << bad << '"';
  }
}

// ---- randomness, comparison ----

TEST(RandomTest, IdsAreHexAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const std::string id = random_id();
    ASSERT_EQ(id.size(), 32u);
    EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    })) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(random_bytes(0), "");
  EXPECT_EQ(random_bytes(1000).size(), 1000u);
  EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(ConstantTimeEqualTest, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

// ---- scrypt and passwords ----

TEST(ScryptTest, Rfc7914Vectors) {
  EXPECT_EQ(to_hex(scrypt("", "", KdfParams{.n = 16, .r = 1, .p = 1}, 64)),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
            "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
  EXPECT_EQ(to_hex(scrypt("password", "NaCl", KdfParams{.n = 1024, .r = 8, .p = 16}, 64)),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

TEST(ScryptTest, RejectsBadParameters) {
  EXPECT_EQ(code_of([] { scrypt("x", "salt", KdfParams{.n = 1000, .r = 8, .p = 1}, 32); }),
            "crypto");
  EXPECT_EQ(code_of([] { scrypt("x", "salt", KdfParams{.n = 1024, .r = 0, .p = 1}, 32); }),
            "crypto");
  EXPECT_EQ(code_of([] { scrypt("x", "salt", KdfParams{.n = 1u << 30, .r = 8, .p = 1}, 32); }),
            "crypto");
  EXPECT_EQ(code_of([] { scrypt("x", "salt", kFastKdf, 0); }), "crypto");
}

TEST(PasswordTest, VerifyMatchesOnlyTheRightPassword) {
  const std::string encoded = hash_password("rahasia kantor", kFastKdf);
  EXPECT_EQ(encoded.rfind("scrypt$1024$8$1$", 0), 0u) << encoded;
  EXPECT_TRUE(verify_password("rahasia kantor", encoded));
  EXPECT_FALSE(verify_password("rahasia kantor ", encoded));
  EXPECT_FALSE(verify_password("", encoded));
  // Salted: the same password hashes differently each time, and both verify.
  const std::string again = hash_password("rahasia kantor", kFastKdf);
  EXPECT_NE(again, encoded);
  EXPECT_TRUE(verify_password("rahasia kantor", again));
  // An empty password is still a password.
  EXPECT_TRUE(verify_password("", hash_password("", kFastKdf)));
}

TEST(PasswordTest, DefaultParameters) {
  const std::string encoded = hash_password("kata sandi");
  EXPECT_EQ(encoded.rfind("scrypt$32768$8$1$", 0), 0u) << encoded;
  EXPECT_TRUE(verify_password("kata sandi", encoded));
  EXPECT_FALSE(verify_password("kata sandj", encoded));
}

TEST(PasswordTest, MalformedEncodingsReturnFalse) {
  const std::string good = hash_password("pw", kFastKdf);
  ASSERT_TRUE(verify_password("pw", good));
  const auto parts = [&] {
    std::vector<std::string> out;
    std::size_t start = 0, pos;
    while ((pos = good.find('$', start)) != std::string::npos) {
      out.push_back(good.substr(start, pos - start));
      start = pos + 1;
    }
    out.push_back(good.substr(start));
    return out;
  }();
  ASSERT_EQ(parts.size(), 6u);
  const std::string salt = parts[4], hash = parts[5];
  const std::vector<std::string> malformed = {
      "",
      "scrypt",
      "scrypt$$$$$",
      "bcrypt$1024$8$1$" + salt + "$" + hash,
      "scrypt$1024$8$1$" + salt,
      "scrypt$1024$8$1$" + salt + "$" + hash + "$",
      "scrypt$1000$8$1$" + salt + "$" + hash,  // N not a power of two
      "scrypt$0$8$1$" + salt + "$" + hash,
      "scrypt$-1024$8$1$" + salt + "$" + hash,
      "scrypt$+1024$8$1$" + salt + "$" + hash,
      "scrypt$1024x$8$1$" + salt + "$" + hash,
      "scrypt$99999999999999999999999$8$1$" + salt + "$" + hash,
      "scrypt$1073741824$8$1$" + salt + "$" + hash,  // 2^30: far beyond the memory bound
      "scrypt$1024$0$1$" + salt + "$" + hash,
      "scrypt$1024$8$0$" + salt + "$" + hash,
      "scrypt$1024$8$4294967295$" + salt + "$" + hash,
      "scrypt$1024$8$1$!!!!$" + hash,
      "scrypt$1024$8$1$$" + hash,           // empty salt
      "scrypt$1024$8$1$" + salt + "$",      // empty hash
      "scrypt$1024$8$1$" + salt + "$AAAA",  // hash too short
      "scrypt$1024$8$1$" + salt + "$" + hash.substr(0, hash.size() - 1),
  };
  for (const std::string& bad : malformed) {
    EXPECT_FALSE(verify_password("pw", bad)) << bad;
  }
  // A well-formed encoding with a different (valid) N must not match either.
  EXPECT_FALSE(verify_password("pw", "scrypt$2048$8$1$" + salt + "$" + hash));
}

// ---- Ed25519 ----

TEST(Ed25519Test, Rfc8032TestVector1) {
  const Ed25519Key key = Ed25519Key::from_private(
      from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  EXPECT_EQ(to_hex(key.public_raw()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const std::string expected_sig =
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
      "b46bd25bf5f0595bbe24655141438e7a100b";
  EXPECT_EQ(to_hex(key.sign("")), expected_sig);
  EXPECT_TRUE(ed25519_verify(key.public_raw(), "", from_hex(expected_sig)));
  EXPECT_FALSE(ed25519_verify(key.public_raw(), "x", from_hex(expected_sig)));
}

TEST(Ed25519Test, Rfc8032TestVector2) {
  const Ed25519Key key = Ed25519Key::from_private(
      from_hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
  EXPECT_EQ(to_hex(key.public_raw()),
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  EXPECT_EQ(to_hex(key.sign("\x72")),
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
}

TEST(Ed25519Test, SignVerifyAndTamper) {
  const Ed25519Key key = Ed25519Key::generate();
  ASSERT_EQ(key.public_raw().size(), 32u);
  ASSERT_EQ(key.private_raw().size(), 32u);
  const std::string message = "langkah 3 disetujui oleh kepala bagian";
  const std::string sig = key.sign(message);
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(ed25519_verify(key.public_raw(), message, sig));

  // Reloading from the private half gives the same public key and signatures.
  const Ed25519Key reloaded = Ed25519Key::from_private(key.private_raw());
  EXPECT_EQ(reloaded.public_raw(), key.public_raw());
  EXPECT_EQ(reloaded.sign(message), sig);  // Ed25519 is deterministic

  for (std::size_t i = 0; i < message.size(); ++i) {
    std::string tampered = message;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(ed25519_verify(key.public_raw(), tampered, sig)) << "message byte " << i;
  }
  for (std::size_t i = 0; i < sig.size(); ++i) {
    std::string tampered = sig;
    tampered[i] ^= 0x01;
    EXPECT_FALSE(ed25519_verify(key.public_raw(), message, tampered)) << "signature byte " << i;
  }
  EXPECT_FALSE(ed25519_verify(Ed25519Key::generate().public_raw(), message, sig));
  EXPECT_FALSE(ed25519_verify(key.public_raw(), message + "!", sig));
}

TEST(Ed25519Test, MalformedInputs) {
  const Ed25519Key key = Ed25519Key::generate();
  const std::string sig = key.sign("m");
  EXPECT_FALSE(ed25519_verify(key.public_raw().substr(1), "m", sig));
  EXPECT_FALSE(ed25519_verify("", "m", sig));
  EXPECT_FALSE(ed25519_verify(key.public_raw(), "m", sig.substr(0, 63)));
  EXPECT_FALSE(ed25519_verify(key.public_raw(), "m", sig + "x"));
  EXPECT_FALSE(ed25519_verify(key.public_raw(), "m", std::string(64, '\0')));
  EXPECT_EQ(code_of([] { Ed25519Key::from_private(std::string(31, 'a')); }), "crypto");
  EXPECT_EQ(code_of([] { Ed25519Key::from_private(""); }), "crypto");
  EXPECT_NE(Ed25519Key::generate().private_raw(), Ed25519Key::generate().private_raw());
}

// ---- passphrase sealing ----

TEST(SealTest, RoundTrip) {
  for (const std::string& plain :
       {std::string(), std::string("x"), std::string("kunci pribadi\0dengan nol", 24),
        random_bytes(5000)}) {
    const std::string sealed = seal_with_passphrase(plain, "frasa sandi panjang", kFastKdf);
    EXPECT_EQ(sealed.find(plain.size() > 8 ? plain : std::string("\x01\x02\x03\x04\x05\x06\x07")),
              std::string::npos)
        << "plaintext visible in the sealed blob";
    EXPECT_EQ(open_with_passphrase(sealed, "frasa sandi panjang"), plain);
  }
  // Random salt and nonce: sealing twice gives different blobs.
  EXPECT_NE(seal_with_passphrase("sama", "p", kFastKdf),
            seal_with_passphrase("sama", "p", kFastKdf));
}

TEST(SealTest, DefaultParameters) {
  const std::string sealed = seal_with_passphrase("isi rahasia", "frasa");
  EXPECT_EQ(open_with_passphrase(sealed, "frasa"), "isi rahasia");
}

TEST(SealTest, WrongPassphraseThrows) {
  const std::string sealed = seal_with_passphrase("isi rahasia", "benar", kFastKdf);
  try {
    open_with_passphrase(sealed, "salah");
    FAIL() << "expected wrong_passphrase";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "wrong_passphrase");
    EXPECT_STREQ(e.what(), "Frasa sandi salah.");
  }
  EXPECT_EQ(code_of([&] { open_with_passphrase(sealed, ""); }), "wrong_passphrase");
  EXPECT_EQ(code_of([&] { open_with_passphrase(sealed, "benar "); }), "wrong_passphrase");
}

TEST(SealTest, EverySingleByteChangeIsDetected) {
  const std::string sealed = seal_with_passphrase("data yang dilindungi", "kunci", kFastKdf);
  ASSERT_EQ(open_with_passphrase(sealed, "kunci"), "data yang dilindungi");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80}) {
      std::string altered = sealed;
      altered[i] = static_cast<char>(altered[i] ^ flip);
      EXPECT_EQ(code_of([&] { open_with_passphrase(altered, "kunci"); }), "wrong_passphrase")
          << "byte " << i << " xor " << int(flip);
    }
  }
}

TEST(SealTest, TruncatedOrExtendedIsDetected) {
  const std::string sealed = seal_with_passphrase("abc", "k", kFastKdf);
  for (std::size_t len = 0; len < sealed.size(); ++len) {
    EXPECT_EQ(code_of([&] { open_with_passphrase(sealed.substr(0, len), "k"); }),
              "wrong_passphrase")
        << "length " << len;
  }
  EXPECT_EQ(code_of([&] { open_with_passphrase(sealed + "x", "k"); }), "wrong_passphrase");
}

// ---- certificates ----

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};

std::unique_ptr<X509, X509Free> parse_cert(const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return std::unique_ptr<X509, X509Free>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::unique_ptr<EVP_PKEY, PkeyFree> parse_key(const std::string& pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return std::unique_ptr<EVP_PKEY, PkeyFree>(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// subjectAltName entries as "DNS:name" / "IP:<raw bytes hex>".
std::set<std::string> alt_names(X509* cert) {
  std::set<std::string> out;
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type == GEN_DNS) {
      out.insert("DNS:" +
                 std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                             ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      out.insert("IP:" + to_hex(std::string(
                             reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.iPAddress)),
                             ASN1_STRING_length(n->d.iPAddress))));
    }
  }
  return out;
}

std::string subject_entry(X509* cert, int nid) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, buf, sizeof buf);
  return buf;
}

TEST(CertificateTest, SelfSignedP256WithExpectedFields) {
  const CertificateAndKey ck =
      make_self_signed_certificate("alur-server kantor", 30, " sop.kantor.local, 192.168.1.5,,");
  EXPECT_EQ(ck.cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_EQ(ck.key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
  auto cert = parse_cert(ck.cert_pem);
  ASSERT_TRUE(cert);
  auto key = parse_key(ck.key_pem);
  ASSERT_TRUE(key);

  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EXPECT_EQ(subject_entry(cert.get(), NID_commonName), "alur-server kantor");
  EXPECT_EQ(subject_entry(cert.get(), NID_organizationName), "alur");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);

  // The key is ECDSA P-256, matches the certificate, and signed it with SHA-256.
  EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_EC);
  char group[64] = {};
  std::size_t group_len = 0;
  ASSERT_EQ(EVP_PKEY_get_utf8_string_param(key.get(), "group", group, sizeof group, &group_len), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_verify(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);

  // Validity: started about an hour ago, ends in 30 days.
  const std::time_t now = std::time(nullptr);
  std::time_t check_time = now;
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(cert.get()), &check_time), -1);
  check_time = now - 2 * 3600;
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(cert.get()), &check_time), 1);
  check_time = now + 29 * 86400;
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(cert.get()), &check_time), 1);
  check_time = now + 31 * 86400;
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(cert.get()), &check_time), -1);

  // Not a CA; serial is large and positive.
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  EXPECT_GE(ASN1_STRING_length(serial), 15);

  EXPECT_EQ(alt_names(cert.get()),
            (std::set<std::string>{"DNS:localhost", "DNS:sop.kantor.local", "IP:7f000001",
                                   "IP:00000000000000000000000000000001", "IP:c0a80105"}));
  EXPECT_EQ(X509_check_host(cert.get(), "sop.kantor.local", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_host(cert.get(), "example.com", 0, 0, nullptr), 1);
}

TEST(CertificateTest, FreshCertificatesDiffer) {
  const CertificateAndKey a = make_self_signed_certificate("a", 1);
  const CertificateAndKey b = make_self_signed_certificate("a", 1);
  EXPECT_NE(a.key_pem, b.key_pem);
  EXPECT_NE(certificate_fingerprint_pem(a.cert_pem), certificate_fingerprint_pem(b.cert_pem));
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(parse_cert(a.cert_pem).get()),
                             X509_get0_serialNumber(parse_cert(b.cert_pem).get())),
            0);
}

TEST(CertificateTest, RejectsBadArguments) {
  EXPECT_EQ(code_of([] { make_self_signed_certificate("", 10); }), "crypto");
  EXPECT_EQ(code_of([] { make_self_signed_certificate("x", 0); }), "crypto");
  EXPECT_EQ(code_of([] { make_self_signed_certificate("x", -5); }), "crypto");
  EXPECT_EQ(code_of([] { make_self_signed_certificate("x", 10, "ok.example, IP:1.2.3.4"); }),
            "crypto");
  EXPECT_EQ(code_of([] { make_self_signed_certificate("x", 10, "bad name"); }), "crypto");
}

TEST(CertificateTest, FingerprintMatchesIndependentComputation) {
  const CertificateAndKey ck = make_self_signed_certificate("fp", 5);
  auto cert = parse_cert(ck.cert_pem);
  ASSERT_TRUE(cert);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  ASSERT_EQ(X509_digest(cert.get(), EVP_sha256(), md, &md_len), 1);
  const std::string expected =
      "sha256:" + to_hex(std::string(reinterpret_cast<const char*>(md), md_len));

  const std::string fp = certificate_fingerprint_pem(ck.cert_pem);
  EXPECT_EQ(fp, expected);
  EXPECT_EQ(certificate_fingerprint_pem(ck.cert_pem), fp);  // stable

  unsigned char* der = nullptr;
  const int der_len = i2d_X509(cert.get(), &der);
  ASSERT_GT(der_len, 0);
  const std::string der_bytes(reinterpret_cast<const char*>(der), der_len);
  OPENSSL_free(der);
  EXPECT_EQ(certificate_fingerprint_der(der_bytes), expected);
  EXPECT_EQ(code_of([&] { certificate_fingerprint_der(der_bytes.substr(1)); }), "crypto");
  EXPECT_EQ(code_of([&] { certificate_fingerprint_der(der_bytes + "x"); }), "crypto");
  EXPECT_EQ(code_of([] { certificate_fingerprint_pem("not a certificate"); }), "crypto");
}

// ---- fingerprint normalization ----

TEST(FingerprintTest, NormalizesTypedForms) {
  const std::string hex = sha256_hex("sertifikat");
  const std::string canonical = "sha256:" + hex;
  std::string upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  std::string colons;
  for (std::size_t i = 0; i < upper.size(); i += 2) {
    if (i) colons += ':';
    colons += upper.substr(i, 2);
  }
  for (const std::string& typed :
       {canonical, hex, upper, colons, "SHA256:" + upper, "sha256:" + colons, "  " + hex + "\n",
        "sha256 Fingerprint=" + colons}) {
    EXPECT_EQ(normalize_fingerprint(typed), canonical) << typed;
  }
}

TEST(FingerprintTest, RejectsBadForms) {
  const std::string hex = sha256_hex("sertifikat");
  for (const std::string& bad :
       {std::string(), std::string("sha256:"), hex.substr(2), hex + "00", hex.substr(1),
        "md5:" + hex, "sha256:" + hex.substr(0, 63) + "g", "sha1:" + hex.substr(0, 40)}) {
    try {
      normalize_fingerprint(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "bad_fingerprint") << bad;
      EXPECT_EQ(std::string(e.what()).rfind("Sidik jari sertifikat tidak valid: ", 0), 0u);
    }
  }
}

}  // namespace
}  // namespace alur::crypto
