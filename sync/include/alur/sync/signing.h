// Personal signatures (paraf and tanda tangan): the plain-text statement a person signs with
// their own Ed25519 key, and the proof that publishes that key (op key.add). Both texts are
// part of the protocol (sync/PROTOCOL.md, "Personal signatures"): changing a byte of them
// breaks every signature already made.
#pragma once

#include <string>

#include "alur/shared/clock.h"
#include "alur/shared/org.h"
#include "alur/sync/case_state.h"

namespace alur::sync {

// What a paraf or tanda tangan vouches for.
struct SigningFacts {
  std::string kind;  // "paraf" | "tanda_tangan"
  std::string username;
  std::string name;  // the person's name in the org at signing time
  std::string role;  // as the record prints it: "Kepala Dinas", "Plt. Kepala Dinas"
  std::string case_id;
  std::string case_title;
  std::string task;  // "<case>.<key>"
  int step = 0;
  std::string step_title;
  std::string draft;
  std::string revision;
  std::string sha256;  // hex, of the revision's content
  Millis at = 0;       // the author's time of the change (its HLC time)
  std::string change;  // id of the change that carries the signature ("replica:counter")
};

// The canonical statement: one "field: value" line each, in a fixed order, UTF-8, every
// line ending in "\n" (a newline inside a value becomes a space).
std::string signing_statement(const SigningFacts& facts);

// The message a person's new key signs to publish itself: it names the user, so the key
// cannot be recorded for anyone else.
std::string key_proof_message(const std::string& username, const std::string& public_key_b64);
// The id of a key in its record "key/<username>/<id>": the first 16 hex digits of the
// SHA-256 of the raw public key. Throws Error("bad_base64") on a malformed key.
std::string personal_key_id(const std::string& public_key_b64);
// True if signature_b64 is public_key_b64's Ed25519 signature of message; false on any
// malformed input.
bool verify_b64(const std::string& public_key_b64, const std::string& message,
                const std::string& signature_b64);

// Every paraf and tanda tangan of a stored case, checked on its own (what `verify` adds to
// the replay): its key is one `org` records for the signer, its signature verifies over
// its statement, and the statement says what the approval shows (signer, role, revision,
// hash). One line per problem, naming the approval; empty when all hold.
std::vector<std::string> check_approval_signatures(const CaseState& c, const Org& org);

}  // namespace alur::sync
