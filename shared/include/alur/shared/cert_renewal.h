// Renewing the server's TLS certificate without re-enrolling every PC.
//
// Clients pin the server's certificate by its fingerprint (like SSH), so a new certificate
// — it expired, the server moved to a new address, or its key must be retired — would
// otherwise stop every PC until someone typed a new fingerprint on each. Instead the old
// certificate vouches for its successor: its private key signs a statement naming both
// fingerprints (`alur-server cert renew`). The server keeps every statement and gives the
// chain to any client that asks (message CertQuery, sync/PROTOCOL.md); a client whose pin
// is an older certificate follows the chain from its pin to the certificate the server
// presents, and re-pins only if every link verifies. Whoever does not hold an old key
// cannot make a link, so a machine in the middle still meets `fingerprint_mismatch`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "alur/shared/clock.h"

namespace alur {

struct CertRenewal {
  std::string old_cert_pem;     // the certificate replaced; its fingerprint is the old pin
  std::string new_fingerprint;  // canonical "sha256:<hex>" of its successor
  Millis at = 0;                // when it was renewed (ms since epoch)
  std::string signature;        // by the old certificate's key over cert_renewal_message()
};

// What the old key signs.
std::string cert_renewal_message(const std::string& old_fingerprint,
                                 const std::string& new_fingerprint, Millis at);

CertRenewal make_cert_renewal(const std::string& old_cert_pem, const std::string& old_key_pem,
                              const std::string& new_cert_pem, Millis at);

// The chain as stored (tls/renewals.json) and sent: a JSON array, oldest first.
std::string cert_renewals_to_json(const std::vector<CertRenewal>& chain);
// Throws Error("bad_renewal") if the text is not such an array.
std::vector<CertRenewal> cert_renewals_from_json(std::string_view text);

// True if links of `chain`, each verified with the key of the certificate it replaces,
// lead from the certificate pinned by `pinned` to the one with fingerprint `presented`.
bool renewal_chain_vouches(const std::vector<CertRenewal>& chain, const std::string& pinned,
                           const std::string& presented);

}  // namespace alur
