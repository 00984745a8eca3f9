// The person's signing key: made, sealed, published, opened to sign, re-sealed, exported.
#include <set>

#include "alur/client/api.h"
#include "alur/shared/error.h"
#include "alur/sync/signing.h"
#include "signing_key.h"

namespace alur::client {

using nlohmann::json;
using namespace alur::sync;

namespace {

constexpr const char* kMetaKey = "personal_key";
constexpr std::size_t kMinPassphraseChars = 10;
constexpr std::size_t kMinDistinctChars = 6;

std::size_t utf8_chars(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

const TemplateRegistry& templates() { return TemplateRegistry::builtin(); }

}  // namespace

void check_passphrase_strength(const std::string& passphrase, const std::string& username) {
  std::set<char> distinct(passphrase.begin(), passphrase.end());
  if (utf8_chars(passphrase) < kMinPassphraseChars || distinct.size() < kMinDistinctChars ||
      passphrase == username)
    throw Error("weak_passphrase",
                "Frasa sandi terlalu lemah: paling sedikit " + std::to_string(kMinPassphraseChars) +
                    " karakter dengan " + std::to_string(kMinDistinctChars) +
                    " karakter berbeda, dan bukan nama pengguna. Tidak ada yang disimpan.");
}

crypto::Ed25519Key new_signing_key(const std::string& username, const std::string& passphrase) {
  check_passphrase_strength(passphrase, username);
  return crypto::Ed25519Key::generate();
}

json seal_signing_key(const crypto::Ed25519Key& key, const std::string& username,
                      const std::string& passphrase, const crypto::KdfParams& kdf) {
  return {{"format", kKeyFileFormat},
          {"username", username},
          {"public_key", crypto::base64_encode(key.public_raw())},
          {"sealed", crypto::base64_encode(
                         crypto::seal_with_passphrase(key.private_raw(), passphrase, kdf))}};
}

crypto::Ed25519Key open_sealed_key(const json& stored, const std::string& passphrase) {
  std::string sealed = crypto::base64_decode(stored.at("sealed").get<std::string>());
  auto key = crypto::Ed25519Key::from_private(crypto::open_with_passphrase(sealed, passphrase));
  if (crypto::base64_encode(key.public_raw()) != stored.at("public_key").get<std::string>())
    throw Error("bad_key_file", "Kunci tersimpan tidak cocok dengan kunci publiknya.");
  return key;
}

crypto::Ed25519Key import_signing_key(const std::string& file_text, const std::string& username,
                                      const std::string& passphrase) {
  json j = json::parse(file_text, nullptr, false);
  if (!j.is_object() || j.value("format", "") != kKeyFileFormat || !j.contains("sealed") ||
      !j["sealed"].is_string() || !j.contains("public_key") || !j["public_key"].is_string())
    throw Error("bad_key_file", "Berkas ini bukan kunci tanda tangan alur (alur key export).");
  if (j.value("username", "") != username)
    throw Error("bad_key_file", "Kunci ini milik " + j.value("username", std::string("?")) +
                                    ", bukan " + username + ".");
  try {
    return open_sealed_key(j, passphrase);
  } catch (const Error& e) {
    if (e.code() == "bad_base64") throw Error("bad_key_file", "Berkas kunci rusak.");
    throw;
  }
}

crypto::Ed25519Key Api::open_signing_key(const std::string& passphrase) {
  auto stored = replica().meta(kMetaKey);
  if (!stored)
    throw Error("no_signing_key",
                "Perangkat ini belum memiliki kunci tanda tangan pribadi: alur key new, atau "
                "daftarkan dengan --import-key dari PC lama.");
  return open_sealed_key(json::parse(*stored), passphrase);
}

void Api::store_signing_key(const crypto::Ed25519Key& key, const std::string& passphrase) {
  replica().set_meta(kMetaKey,
                     seal_signing_key(key, replica().require_meta("username"), passphrase, kdf_)
                         .dump());
}

bool Api::publish_signing_key(const crypto::Ed25519Key& key) {
  Replica& r = replica();
  const std::string me = r.require_meta("username");
  const std::string pub = crypto::base64_encode(key.public_raw());
  View v = r.view(templates());
  if (!v.org().is_member(me) || v.org().find_key(me, pub)) return false;  // no org yet, or done
  json body{{"public_key", pub},
            {"proof", crypto::base64_encode(key.sign(key_proof_message(me, pub)))}};
  write("key/" + me + "/" + personal_key_id(pub), op::kKeyAdd, body);
  return true;
}

Replica::BodyFinisher Api::signer(const std::optional<std::string>& passphrase) {
  if (!passphrase)
    throw Error("passphrase_required",
                "Paraf dan tanda tangan memerlukan frasa sandi kunci tanda tangan Anda.");
  crypto::Ed25519Key key = open_signing_key(*passphrase);  // wrong_passphrase: nothing written
  publish_signing_key(key);  // a key made offline is published before its first signature
  const TemplateRegistry& tpls = templates();
  return [key, &tpls](const Change& change, View& view) {
    json body = json::parse(change.body);
    body["public_key"] = crypto::base64_encode(key.public_raw());
    body["signature"] = crypto::base64_encode(key.sign(statement_to_sign(view, tpls, change)));
    return body.dump();
  };
}

json Api::key_new(const std::string& passphrase) {
  const std::string me = replica().require_meta("username");
  crypto::Ed25519Key key = new_signing_key(me, passphrase);
  store_signing_key(key, passphrase);
  bool published = publish_signing_key(key);
  return {{"public_key", crypto::base64_encode(key.public_raw())},
          {"key_id", personal_key_id(crypto::base64_encode(key.public_raw()))},
          {"published", published}};
}

json Api::passphrase_change(const std::string& old_passphrase, const std::string& new_passphrase) {
  const std::string me = replica().require_meta("username");
  crypto::Ed25519Key key = open_signing_key(old_passphrase);
  check_passphrase_strength(new_passphrase, me);
  store_signing_key(key, new_passphrase);
  return {{"changed", true}, {"public_key", crypto::base64_encode(key.public_raw())}};
}

std::string Api::key_export() {
  auto stored = replica().meta(kMetaKey);
  if (!stored)
    throw Error("no_signing_key", "Perangkat ini belum memiliki kunci tanda tangan pribadi.");
  return json::parse(*stored).dump(2) + "\n";
}

json Api::key_show() {
  auto stored = replica().meta(kMetaKey);
  if (!stored) return {{"public_key", nullptr}};
  const std::string pub = json::parse(*stored).at("public_key").get<std::string>();
  View v = replica().view(templates());
  const PersonalKey* k = v.org().find_key(replica().require_meta("username"), pub);
  return {{"public_key", pub}, {"key_id", personal_key_id(pub)}, {"recorded", k != nullptr}};
}

}  // namespace alur::client
