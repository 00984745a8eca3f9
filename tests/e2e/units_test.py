"""Several units (dinas) on one server, kept apart (server/units.h): each unit has its own
database, reached at wss://host:port/<unit>. Over the real protocol: a person of one unit
cannot enrol at another, each replica receives only its own unit's people and cases, a
device's token is worthless at another unit, and an unknown unit is refused."""
import os
import shutil
import sqlite3
import sys
import types
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR_SERVER, E2ETest, Official, run  # noqa: E402

DISDIK_ORG = {
    "unit": "Dinas Pendidikan Kabupaten Sukabumi",
    "bidang": [{"code": "paud", "name": "Bidang PAUD"}],
    "users": [
        {"username": "sekretaris", "name": "Drs. Ujang Sobandi", "password": "disdik-sekre-1",
         "roles": [{"role": "sekretaris"}]},
        {"username": "kabid_paud", "name": "Neng Lilis Suryani", "password": "disdik-kabid-1",
         "roles": [{"role": "kabid", "bidang": "paud"}]},
        {"username": "kadis", "name": "Dr. Asep Hidayat", "password": "disdik-kadis-1",
         "roles": [{"role": "kadis"}]},
    ],
}


class UnitsTest(E2ETest):

    def setUp(self):
        super().setUp()
        self.srv = self.server(start=False)
        r = run([ALUR_SERVER, "unit", "add", "--data", self.srv.data, "disdik"])
        self.assertTrue(r.ok, r)
        org = os.path.join(self.workdir, "org-disdik.json")
        with open(org, "w") as f:
            import json
            json.dump(DISDIK_ORG, f)
        r = run([ALUR_SERVER, "org", "import", "--data", self.srv.data, "--unit", "disdik", org])
        self.assertTrue(r.ok, r)
        self.srv.start()
        self.disdik = types.SimpleNamespace(url=self.srv.url + "/disdik",
                                            fingerprint=self.srv.fingerprint)

    def disdik_official(self, user, password):
        o = Official(self.workdir, user, device="disdik-" + user)
        r = o.enroll(self.disdik, password_=password)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json["unit"], DISDIK_ORG["unit"])
        return o

    def test_each_unit_sees_and_writes_only_its_own(self):
        kop = self.official(self.srv, "sekretaris")
        kop_kabid = self.official(self.srv, "kabid_koperasi")
        dik = self.disdik_official("sekretaris", "disdik-sekre-1")
        dik_kabid = self.disdik_official("kabid_paud", "disdik-kabid-1")

        # The same SOP and period in both units: two cases, neither refused as a duplicate.
        c_kop = kop.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        c_dik = dik.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        self.assertEqual(kop.ok("sync")["accepted"], 1)
        self.assertEqual(dik.ok("sync")["accepted"], 1)
        kop.ok("act", c_kop + ".1", "--text", "Laksanakan (Dinas Koperasi)")
        dik.ok("act", c_dik + ".1", "--text", "Laksanakan (Dinas Pendidikan)")
        kop.ok("sync")
        dik.ok("sync")
        for o in (kop_kabid, dik_kabid):
            o.ok("sync")

        self.assertEqual([c["case"] for c in kop_kabid.ok("case", "list")], [c_kop])
        self.assertEqual([c["case"] for c in dik_kabid.ok("case", "list")], [c_dik])
        self.assertEqual([t["task"] for t in kop_kabid.ok("inbox")], [c_kop + ".2.koperasi"])
        self.assertEqual([t["task"] for t in dik_kabid.ok("inbox")], [c_dik + ".2.paud"])
        # Nothing of the other unit is in a replica's file: not its people, not its cases.
        for o, foreign in ((kop_kabid, [b"Ujang Sobandi", b"Dinas Pendidikan", c_dik.encode()]),
                           (dik_kabid, [b"Asep Saepudin", b"Koperasi, Usaha Kecil", c_kop.encode()])):
            data = b""
            for name in os.listdir(o.home):  # the database and its WAL, if any
                if name.startswith("replica.db"):
                    with open(os.path.join(o.home, name), "rb") as f:
                        data += f.read()
            self.assertIn(b"LAKIP", data, "the replica file was read")
            for word in foreign:
                self.assertNotIn(word, data, "%s's replica holds %r" % (o.name, word))

    def test_a_person_or_device_of_one_unit_is_unknown_at_another(self):
        # The Dinas Koperasi's Sekretaris, with her own password, at the Disdik door.
        stranger = Official(self.workdir, "sekretaris", device="kop-at-disdik")
        r = stranger.enroll(self.disdik)
        self.assertEqual(r.error_code, "bad_credentials", r)
        # Disdik's Kadis at the Dinas Koperasi's door (the username exists there too).
        other = Official(self.workdir, "kadis", device="disdik-kadis-at-kop")
        self.assertEqual(other.enroll(self.srv, password_="disdik-kadis-1").error_code,
                         "bad_credentials")

        # A device enrolled at the Dinas Koperasi, pointed at Disdik: its token means nothing.
        kop = self.official(self.srv, "sekretaris")
        kop.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q4")
        moved = os.path.join(self.workdir, "home-moved")
        shutil.copytree(kop.home, moved)
        db = sqlite3.connect(os.path.join(moved, "replica.db"))
        db.execute("UPDATE meta SET value = ? WHERE key = 'server'", (self.disdik.url,))
        db.commit()
        db.close()
        thief = Official(self.workdir, "sekretaris", device="moved")
        thief.home = moved
        r = thief.run("sync")
        self.assertEqual(r.error_code, "bad_token", r)
        dik = self.disdik_official("sekretaris", "disdik-sekre-1")
        dik.ok("sync")
        self.assertEqual(dik.ok("case", "list"), [], "the moved device wrote nothing at Disdik")

    def test_an_unknown_unit_is_refused(self):
        nowhere = types.SimpleNamespace(url=self.srv.url + "/tidak-ada",
                                        fingerprint=self.srv.fingerprint)
        r = Official(self.workdir, "sekretaris", device="nowhere").enroll(nowhere)
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("unit tidak dikenal", r.json["error"]["message"], r)
        r = run([ALUR_SERVER, "org", "import", "--data", self.srv.data, "--unit", "tidak-ada",
                 os.path.join(self.workdir, "org-disdik.json")])
        self.assertNotEqual(r.code, 0)
        self.assertIn("unit_unknown", r.err)
        r = run([ALUR_SERVER, "unit", "list", "--data", self.srv.data, "--json"])
        self.assertTrue(r.ok, r)
        self.assertEqual(r.json, [{"unit": "disdik", "name": DISDIK_ORG["unit"], "head": 1}])


if __name__ == "__main__":
    unittest.main()
