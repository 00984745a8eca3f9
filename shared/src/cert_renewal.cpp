#include "alur/shared/cert_renewal.h"

#include <nlohmann/json.hpp>
#include <set>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"

namespace alur {

// Chains longer than this are refused: a server renews its certificate every few years.
constexpr std::size_t kMaxRenewals = 100;

std::string cert_renewal_message(const std::string& old_fingerprint,
                                 const std::string& new_fingerprint, Millis at) {
  return "alur-cert-renewal/1\n" + old_fingerprint + "\n" + new_fingerprint + "\n" +
         std::to_string(at);
}

CertRenewal make_cert_renewal(const std::string& old_cert_pem, const std::string& old_key_pem,
                              const std::string& new_cert_pem, Millis at) {
  const std::string old_fingerprint = crypto::certificate_fingerprint_pem(old_cert_pem);
  CertRenewal r{old_cert_pem, crypto::certificate_fingerprint_pem(new_cert_pem), at, ""};
  const std::string message = cert_renewal_message(old_fingerprint, r.new_fingerprint, at);
  r.signature = crypto::sign_with_private_key_pem(old_key_pem, message);
  if (!crypto::verify_with_certificate_pem(old_cert_pem, message, r.signature))
    throw Error("bad_renewal", "Kunci privat lama tidak cocok dengan sertifikat lama.");
  return r;
}

std::string cert_renewals_to_json(const std::vector<CertRenewal>& chain) {
  nlohmann::json j = nlohmann::json::array();
  for (const CertRenewal& r : chain)
    j.push_back({{"old_certificate", r.old_cert_pem},
                 {"new_fingerprint", r.new_fingerprint},
                 {"at", r.at},
                 {"signature", crypto::base64_encode(r.signature)}});
  return j.dump(2) + "\n";
}

std::vector<CertRenewal> cert_renewals_from_json(std::string_view text) {
  std::vector<CertRenewal> chain;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_array() || j.size() > kMaxRenewals) throw Error("bad_renewal", "bukan daftar");
    for (const auto& e : j) {
      chain.push_back({e.at("old_certificate").get<std::string>(),
                       e.at("new_fingerprint").get<std::string>(), e.at("at").get<Millis>(),
                       crypto::base64_decode(e.at("signature").get<std::string>())});
    }
  } catch (const std::exception& e) {
    throw Error("bad_renewal", std::string("Daftar pembaruan sertifikat tidak valid: ") + e.what());
  }
  return chain;
}

bool renewal_chain_vouches(const std::vector<CertRenewal>& chain, const std::string& pinned,
                           const std::string& presented) {
  std::string at = pinned;
  std::set<std::string> visited;
  while (at != presented) {
    if (!visited.insert(at).second) return false;  // a cycle leads nowhere new
    bool advanced = false;
    for (const CertRenewal& r : chain) {
      try {
        if (crypto::certificate_fingerprint_pem(r.old_cert_pem) != at) continue;
        if (!crypto::verify_with_certificate_pem(
                r.old_cert_pem, cert_renewal_message(at, r.new_fingerprint, r.at), r.signature))
          continue;
      } catch (const Error&) {
        continue;  // an unreadable link vouches for nothing
      }
      at = r.new_fingerprint;
      advanced = true;
      break;
    }
    if (!advanced) return false;
  }
  return true;
}

}  // namespace alur
