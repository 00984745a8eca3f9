"""Renewing the server's certificate without re-enrolling any PC (shared/cert_renewal.h):
`alur-server cert renew` makes a new certificate that the old one vouches for; enrolled
clients follow the chain at their next sync and re-pin. A certificate nobody vouched for —
a machine in the middle, or a server re-initialised by mistake — still stops every client
with fingerprint_mismatch, and the client keeps its old pin."""
import os
import shutil
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR_SERVER, E2ETest, run  # noqa: E402


def fingerprint(srv):
    r = run([ALUR_SERVER, "fingerprint", "--data", srv.data])
    assert r.ok, r
    return r.out.strip().splitlines()[-1].strip()


class CertRenewalTest(E2ETest):

    def renew(self, srv):
        r = run([ALUR_SERVER, "cert", "renew", "--data", srv.data])
        self.assertTrue(r.ok, r)
        return fingerprint(srv)

    def test_enrolled_clients_follow_two_renewals_and_keep_working(self):
        srv = self.server()
        sek = self.official(srv, "sekretaris")
        kabid = self.official(srv, "kabid_koperasi")
        case = sek.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        sek.ok("sync")
        first = srv.fingerprint

        srv.stop()
        second = self.renew(srv)
        self.assertNotEqual(second, first)
        srv.start()
        # The Sekretaris acts offline-first, then syncs through the renewed certificate.
        sek.ok("act", case + ".1", "--text", "Laksanakan rapat koordinasi")
        r = sek.ok("sync")
        self.assertEqual(r["certificate_renewed"], {"from": first, "to": second})
        self.assertEqual(r["accepted"], 1)
        self.assertNotIn("certificate_renewed", sek.ok("sync"), "re-pinned once, not every time")

        # Renewed again while the Kabid was away: the chain first -> second -> third holds.
        srv.stop()
        third = self.renew(srv)
        srv.start()
        r = kabid.ok("sync")
        self.assertEqual(r["certificate_renewed"], {"from": first, "to": third})
        tasks = [t["task"] for t in kabid.ok("inbox")]
        self.assertIn(case + ".2.koperasi", tasks, "the Kabid sees the Sekretaris's disposition")
        self.assertEqual(sek.ok("sync")["certificate_renewed"]["to"], third)

    def test_a_certificate_nobody_vouched_for_is_refused_and_the_pin_kept(self):
        srv = self.server()
        sek = self.official(srv, "sekretaris")
        sek.ok("sync")
        tls = os.path.join(srv.data, "tls")
        ours = os.path.join(self.workdir, "tls-ours")
        shutil.copytree(tls, ours)
        # Another server's certificate, with a renewal chain of its own, in place of ours:
        # what a machine in the middle, or a careless re-install, would present.
        other = os.path.join(self.workdir, "other")
        self.assertTrue(run([ALUR_SERVER, "init", "--data", other]).ok)
        self.assertTrue(run([ALUR_SERVER, "cert", "renew", "--data", other]).ok)
        srv.stop()
        for name in ("server.crt", "server.key", "renewals.json"):
            shutil.copy(os.path.join(other, "tls", name), os.path.join(tls, name))
        srv.start()
        for _ in range(2):
            r = sek.run("sync")
            self.assertNotEqual(r.code, 0, r)
            self.assertEqual(r.json["error"]["code"], "fingerprint_mismatch", r)
            self.assertIn("admin TI", r.json["error"]["message"])
        # Our certificate back: the old pin still works, so nothing had been re-pinned.
        srv.stop()
        shutil.rmtree(tls)
        shutil.copytree(ours, tls)
        srv.start()
        r = sek.ok("sync")
        self.assertNotIn("certificate_renewed", r)

    def test_a_damaged_renewal_list_stops_the_server_with_a_clear_error(self):
        srv = self.server()
        sek = self.official(srv, "sekretaris")
        self.renew(srv)
        srv.stop()
        renewals = os.path.join(srv.data, "tls", "renewals.json")
        with open(renewals) as f:
            good = f.read()
        with open(renewals, "w") as f:
            f.write(good[: len(good) // 2])  # cut short, as a full disk or a bad copy leaves it
        r = run([ALUR_SERVER, "serve", "--data", srv.data, "--listen", "127.0.0.1:0"], timeout=20)
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("bad_renewal", r.err)
        self.assertIn("pembaruan sertifikat", r.err)
        # Put right, the server serves again and the enrolled PC follows the renewal.
        with open(renewals, "w") as f:
            f.write(good)
        srv.start()
        self.assertIn("certificate_renewed", sek.ok("sync"))

    def test_renewing_with_a_key_that_is_not_the_certificates_changes_nothing(self):
        srv = self.server()
        sek = self.official(srv, "sekretaris")
        tls = os.path.join(srv.data, "tls")
        other = os.path.join(self.workdir, "other")
        self.assertTrue(run([ALUR_SERVER, "init", "--data", other]).ok)
        shutil.copy(os.path.join(tls, "server.key"), os.path.join(self.workdir, "server.key.ours"))
        shutil.copy(os.path.join(other, "tls", "server.key"), os.path.join(tls, "server.key"))
        before = {n: open(os.path.join(tls, n), "rb").read() for n in os.listdir(tls)}
        r = run([ALUR_SERVER, "cert", "renew", "--data", srv.data])
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("bad_renewal", r.err)
        after = {n: open(os.path.join(tls, n), "rb").read() for n in os.listdir(tls)}
        self.assertEqual(before, after, "a refused renewal must leave the TLS folder as it was")
        # The old key put back, the certificate is as before and the enrolled PC still syncs.
        shutil.copy(os.path.join(self.workdir, "server.key.ours"), os.path.join(tls, "server.key"))
        r = sek.ok("sync")
        self.assertNotIn("certificate_renewed", r)


if __name__ == "__main__":
    unittest.main()
