"""alur.conf (client/config.h) with the real binaries: a PC whose alur.conf was preset by IT
enrols with only its username and password; the command line still wins over the file; a
missing setting is a usage error, a malformed file an error naming its line."""
import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import E2ETest, Official, password  # noqa: E402


class ConfigTest(E2ETest):

    def pc(self, user, conf):
        o = Official(self.workdir, user)
        if conf is not None:
            os.makedirs(o.home, exist_ok=True)
            with open(os.path.join(o.home, "alur.conf"), "w") as f:
                f.write(conf)
        return o

    def enroll(self, o, *args):
        return o.run("enroll", "--username", o.user, "--password-stdin", *args,
                     stdin=password(o.user) + "\n")

    def test_enrolment_defaults_from_alur_conf(self):
        srv = self.server()
        preset = "# dipasang TI\nserver = %s\nfingerprint = %s\n" % (srv.url, srv.fingerprint)
        sekre = self.pc("sekretaris", preset)
        r = self.enroll(sekre)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json["username"], "sekretaris")
        sekre.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")
        self.assertEqual(sekre.sync()["accepted"], 1)

        # The file's fingerprint is used: a wrong one stops the enrolment...
        wrong = "sha256:" + "00" * 32
        kabid = self.pc("kabid_koperasi", "server=%s\nfingerprint=%s\n" % (srv.url, wrong))
        r = self.enroll(kabid)
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.error_code, "fingerprint_mismatch", r)
        # ...and the command line wins over it.
        r = self.enroll(kabid, "--trust-fingerprint", srv.fingerprint)
        self.assertEqual(r.code, 0, r)

    def test_missing_or_malformed_settings(self):
        srv = self.server()
        r = self.enroll(self.pc("kadis", None))
        self.assertEqual(r.code, 2, r)
        self.assertEqual(r.error_code, "usage", r)
        self.assertIn("--server", r.err)
        r = self.enroll(self.pc("kadis", "server=%s\n" % srv.url))
        self.assertEqual(r.code, 2, r)
        self.assertIn("--trust-fingerprint", r.err)
        bad = self.pc("kasubag", "server=%s\nsidik=%s\n" % (srv.url, srv.fingerprint))
        r = self.enroll(bad)
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.error_code, "bad_config", r)
        self.assertIn(os.path.join(bad.home, "alur.conf") + " baris 2", r.err)
        self.assertFalse(os.path.exists(os.path.join(bad.home, "replica.db")))

    def test_compression_from_the_command_line_or_alur_conf(self):
        # The server runs on this PC: a client asks for compression only when told to
        # (the command line, else alur.conf, else auto), and the sync is whole either way.
        srv = self.server()
        sekre = self.pc("sekretaris", None)
        self.assertEqual(self.enroll(sekre, "--server", srv.url, "--trust-fingerprint",
                                     srv.fingerprint).code, 0)
        sekre.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")
        r = sekre.sync("--compression", "on")
        self.assertEqual(r["accepted"], 1, r)
        self.assertTrue(r["compressed"], r)
        self.assertFalse(sekre.sync()["compressed"])  # auto: the server is on loopback

        kabid = self.pc("kabid_koperasi", "compression = on\n")
        self.assertEqual(self.enroll(kabid, "--server", srv.url, "--trust-fingerprint",
                                     srv.fingerprint).code, 0)
        sekre.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q4")
        sekre.sync()
        r = kabid.sync()  # pulls the second case through a compressed connection
        self.assertTrue(r["compressed"], r)
        self.assertGreaterEqual(r["pulled"], 1, r)
        self.assertEqual(len(kabid.ok("case", "list")), 2)
        self.assertFalse(kabid.sync("--compression", "off")["compressed"])  # the line wins

        with open(os.path.join(kabid.home, "alur.conf"), "w") as f:
            f.write("compression = ya\n")
        r = kabid.run("sync")
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.error_code, "bad_config", r)
        self.assertIn("baris 1: compression harus auto, on atau off", r.err)
        r = kabid.run("sync", "--compression", "ya")
        self.assertEqual(r.code, 2, r)


if __name__ == "__main__":
    unittest.main()
