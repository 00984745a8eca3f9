// Certificate renewal links (shared/cert_renewal.h): a client re-pins only along links each
// signed by the key of the certificate it replaces.
#include "alur/shared/cert_renewal.h"

#include <gtest/gtest.h>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"

namespace alur {
namespace {

using crypto::certificate_fingerprint_pem;

struct Certs : ::testing::Test {
  crypto::CertificateAndKey a = crypto::make_self_signed_certificate("alur-server", 30);
  crypto::CertificateAndKey b = crypto::make_self_signed_certificate("alur-server", 30);
  crypto::CertificateAndKey c = crypto::make_self_signed_certificate("alur-server", 30);
  crypto::CertificateAndKey mallory = crypto::make_self_signed_certificate("alur-server", 30);
  std::string fa = certificate_fingerprint_pem(a.cert_pem);
  std::string fb = certificate_fingerprint_pem(b.cert_pem);
  std::string fc = certificate_fingerprint_pem(c.cert_pem);
  std::string fm = certificate_fingerprint_pem(mallory.cert_pem);
};

TEST_F(Certs, AChainOfRenewalsLeadsFromAnyOlderPinToTheNewest) {
  const std::vector<CertRenewal> chain = {make_cert_renewal(a.cert_pem, a.key_pem, b.cert_pem, 1),
                                          make_cert_renewal(b.cert_pem, b.key_pem, c.cert_pem, 2)};
  EXPECT_TRUE(renewal_chain_vouches(chain, fa, fc));
  EXPECT_TRUE(renewal_chain_vouches(chain, fb, fc));
  EXPECT_TRUE(renewal_chain_vouches(chain, fa, fb));
  EXPECT_FALSE(renewal_chain_vouches(chain, fc, fa)) << "links do not run backwards";
  EXPECT_FALSE(renewal_chain_vouches(chain, fa, fm));
  EXPECT_FALSE(renewal_chain_vouches({}, fa, fb));
  // The chain survives the file it is kept in and the message it travels in.
  EXPECT_TRUE(renewal_chain_vouches(cert_renewals_from_json(cert_renewals_to_json(chain)), fa, fc));
}

TEST_F(Certs, ALinkNotSignedByTheOldKeyVouchesForNothing) {
  // Mallory has the old certificate (it is public) but not its key.
  CertRenewal forged = make_cert_renewal(mallory.cert_pem, mallory.key_pem, c.cert_pem, 1);
  forged.old_cert_pem = a.cert_pem;
  EXPECT_FALSE(renewal_chain_vouches({forged}, fa, fc));
  EXPECT_THROW(make_cert_renewal(a.cert_pem, mallory.key_pem, c.cert_pem, 1), Error)
      << "the server refuses to write a link its own old key did not make";

  // A genuine link whose successor was swapped for Mallory's certificate.
  CertRenewal swapped = make_cert_renewal(a.cert_pem, a.key_pem, b.cert_pem, 1);
  swapped.new_fingerprint = fm;
  EXPECT_FALSE(renewal_chain_vouches({swapped}, fa, fm));
  // Or its time changed: the signature covers it too.
  CertRenewal retimed = make_cert_renewal(a.cert_pem, a.key_pem, b.cert_pem, 1);
  retimed.at = 2;
  EXPECT_FALSE(renewal_chain_vouches({retimed}, fa, fb));
}

TEST_F(Certs, CyclesAndUnreadableLinksEndTheWalk) {
  const std::vector<CertRenewal> cycle = {make_cert_renewal(a.cert_pem, a.key_pem, b.cert_pem, 1),
                                          make_cert_renewal(b.cert_pem, b.key_pem, a.cert_pem, 2)};
  EXPECT_FALSE(renewal_chain_vouches(cycle, fa, fc));
  CertRenewal garbage{"not a certificate", fb, 1, "x"};
  EXPECT_FALSE(renewal_chain_vouches({garbage}, fa, fb));
}

TEST_F(Certs, AMalformedChainIsRefusedWithItsCode) {
  for (const char* text : {"", "{}", "[1]", R"([{"old_certificate": 5}])",
                           R"([{"old_certificate":"x","new_fingerprint":"y","at":1,"signature":"%%"}])"}) {
    try {
      cert_renewals_from_json(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "bad_renewal") << text;
    }
  }
}

}  // namespace
}  // namespace alur
