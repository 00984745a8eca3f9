// Personal signatures in tests that build changes by hand: a deterministic signing key per
// username, the key.add that publishes it, and signing a paraf/tanda tangan change the way
// the client does (sync::statement_to_sign over the same state the rules will read).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/sop_template.h"
#include "alur/sync/case_state.h"
#include "alur/sync/signing.h"

namespace alur::testing {

// Each test person's passphrase of their signing key, and a cheap scrypt to seal it with
// (the real one costs 128 MiB and half a second; tests and the simulator enrol thousands).
inline std::string passphrase_of(const std::string& username) {
  return "frasa sandi " + username;
}
inline constexpr crypto::KdfParams kFastKdf{.n = 1024, .r = 8, .p = 1};

inline crypto::Ed25519Key signing_key_of(const std::string& username) {
  return crypto::Ed25519Key::from_private(crypto::sha256("alur-test-signing-key/" + username));
}

inline std::string signing_public_of(const std::string& username) {
  return crypto::base64_encode(signing_key_of(username).public_raw());
}

// The record and body of the key.add that publishes username's test key.
inline std::string key_record(const std::string& username) {
  return "key/" + username + "/" + sync::personal_key_id(signing_public_of(username));
}
inline nlohmann::json key_add_body(const std::string& username) {
  const std::string pub = signing_public_of(username);
  return {{"public_key", pub},
          {"proof", crypto::base64_encode(signing_key_of(username).sign(
                        sync::key_proof_message(username, pub)))}};
}

// Adds the author's signature to a paraf/tanda tangan change the state would otherwise
// accept; leaves every other change (and one the rules reject anyway) as it is.
inline void sign_if_approval(sync::Change& c, sync::StateAccess& state,
                             const TemplateRegistry& templates = TemplateRegistry::builtin()) {
  if (c.op != sync::op::kTaskComplete) return;
  std::string statement;
  try {
    statement = sync::statement_to_sign(state, templates, c);
  } catch (const Error&) {
    return;
  }
  nlohmann::json body = nlohmann::json::parse(c.body);
  body["public_key"] = signing_public_of(c.author);
  body["signature"] = crypto::base64_encode(signing_key_of(c.author).sign(statement));
  c.body = body.dump();
}

}  // namespace alur::testing
