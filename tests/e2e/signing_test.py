"""Personal signatures with the real binaries over real TLS (README, "Personal signatures"):
enrolment with a passphrase, paraf and tanda tangan signed with the person's own key, a
wrong passphrase that writes nothing, a passphrase change, the key exported to a new PC,
`alur export` and `alur export verify` — and a tampered export caught."""
import json
import os
import shutil
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR_SERVER, E2ETest, Office, Official, password, run  # noqa: E402


class SigningTest(E2ETest):

    def test_signing_from_enrolment_to_a_verified_export(self):
        srv = self.server()
        office = Office(self, srv)
        case = office.open_case("2026-Q3")
        office.advance(case, "10")
        kasubag = office["kasubag"]
        kasubag.sync()

        # A weak passphrase at enrolment: refused, nothing written.
        weak = Official(self.workdir, "pelaksana", device="lemah")
        r = weak.run("enroll", "--server", srv.url, "--username", "pelaksana", "--password-stdin",
                     "--trust-fingerprint", srv.fingerprint,
                     "--passphrase-file", weak.passphrase_file("pendek"),
                     stdin=password("pelaksana") + "\n")
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.error_code, "weak_passphrase", r)
        self.assertFalse(os.path.exists(os.path.join(weak.home, "replica.db")))

        # A wrong passphrase: a clear message, and nothing is written.
        before = kasubag.status()["tentative"]
        r = kasubag.run("act", case + ".11", "--passphrase-file",
                        kasubag.passphrase_file("frasa sandi yang keliru"))
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.error_code, "wrong_passphrase", r)
        self.assertIn("Frasa sandi salah", r.err)
        self.assertEqual(kasubag.status()["tentative"], before)

        # The passphrase changed: the old one no longer opens the key.
        new = kasubag.passphrase_file("frasa sandi baru kasubag")
        kasubag.ok("passphrase", "change", "--passphrase-file", kasubag.passphrase_file(),
                   "--new-passphrase-file", new)
        r = kasubag.run("act", case + ".11")  # the old passphrase
        self.assertEqual(r.error_code, "wrong_passphrase", r)

        # The key moves to a new PC, which initials with it.
        key_file = os.path.join(self.workdir, "kunci-kasubag.json")
        kasubag.ok("key", "export", "--out", key_file)
        self.assertEqual(os.stat(key_file).st_mode & 0o077, 0)
        pc2 = Official(self.workdir, "kasubag", device="kasubag-pc2")
        r = pc2.run("enroll", "--server", srv.url, "--username", "kasubag", "--password-stdin",
                    "--trust-fingerprint", srv.fingerprint, "--import-key", key_file,
                    "--passphrase-file", new, stdin=password("kasubag") + "\n")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(pc2.ok("key", "show")["public_key"], kasubag.ok("key", "show")["public_key"])
        pc2.ok("act", case + ".11", "--passphrase-file", new)
        self.assertEqual(pc2.sync()["accepted"], 1)

        office.do(case, "12")
        office.do(case, "13")
        kadis = office["kadis"]
        kadis.sync()
        self.assertEqual(kadis.show(case)["state"], "completed")
        self.assertEqual(kadis.ok("verify")["ok"], True)
        r = run([ALUR_SERVER, "verify", "--data", srv.data])
        self.assertEqual(r.code, 0, r)

        # The export re-checks without the server.
        out = os.path.join(self.workdir, "ekspor")
        exp = kadis.ok("export", case, "--out", out)
        self.assertEqual(exp["approvals"], 3)
        self.assertTrue(os.path.exists(os.path.join(out, "verifikasi.html")))
        srv.stop()
        self.assertEqual(kadis.ok("export", "verify", out)["ok"], True)
        with open(os.path.join(out, "manifest.json")) as f:
            manifest = json.load(f)
        roles = [(a["by"], a["role"]) for a in manifest["approvals"]]
        self.assertIn(("kadis", "Kepala Dinas"), roles)

        # Tampered: the signed document, then a signer's time in the manifest.
        tampered = os.path.join(self.workdir, "ekspor-diubah")
        shutil.copytree(out, tampered)
        with open(os.path.join(tampered, manifest["documents"][0]["file"]), "a") as f:
            f.write("kalimat sisipan\n")
        r = kadis.run("export", "verify", tampered)
        self.assertEqual(r.code, 1, r)
        self.assertIn("dokumen", r.json["problems"][0])
        shutil.rmtree(tampered)
        shutil.copytree(out, tampered)
        manifest["approvals"][0]["statement"] = manifest["approvals"][0]["statement"].replace(
            "waktu: 20", "waktu: 19")
        with open(os.path.join(tampered, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        r = kadis.run("export", "verify", tampered)
        self.assertEqual(r.code, 1, r)
        self.assertIn("paraf langkah 11", r.json["problems"][0])


if __name__ == "__main__":
    unittest.main()
