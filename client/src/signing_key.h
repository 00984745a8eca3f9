// The person's signing key on this device (README, "Personal signatures"): made or
// imported at enrolment, kept in the replica's meta "personal_key" sealed under the
// passphrase (crypto::seal_with_passphrase: scrypt + AES-256-GCM), never in the clear.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "alur/shared/crypto.h"

namespace alur::client {

// The format of the stored key and of `alur key export`'s file.
inline constexpr const char* kKeyFileFormat = "alur-kunci-tanda-tangan/1";

// At least 10 characters, 6 of them different, and not the username: else
// Error("weak_passphrase").
void check_passphrase_strength(const std::string& passphrase, const std::string& username);
// A fresh key; checks the passphrase first.
crypto::Ed25519Key new_signing_key(const std::string& username, const std::string& passphrase);
// The key of an exported file, opened with its passphrase: Error("bad_key_file") when the
// file is not one or names another user, Error("wrong_passphrase").
crypto::Ed25519Key import_signing_key(const std::string& file_text, const std::string& username,
                                      const std::string& passphrase);
// {"format","username","public_key","sealed"}: the key sealed under the passphrase.
nlohmann::json seal_signing_key(const crypto::Ed25519Key& key, const std::string& username,
                                const std::string& passphrase, const crypto::KdfParams& kdf);
// Opens a sealed key (Error("wrong_passphrase")); checks it matches its public key.
crypto::Ed25519Key open_sealed_key(const nlohmann::json& stored, const std::string& passphrase);

}  // namespace alur::client
