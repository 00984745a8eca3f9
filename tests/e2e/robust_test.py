"""Faults through the real binaries: a corrupted replica repaired without losing unsent
changes, and a PC whose clock is days ahead (ALUR_TEST_CLOCK_OFFSET_MS, test-only)."""
import glob
import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR, E2ETest, run, smash_log_page  # noqa: E402

DAY_MS = 24 * 3600 * 1000


class RobustTest(E2ETest):

    def test_corrupted_replica_is_detected_and_repaired_with_unsent_changes_saved(self):
        srv = self.server()
        kasubag = self.official(srv, "kasubag")
        sekre = self.official(srv, "sekretaris")
        case = kasubag.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        kasubag.sync()
        sekre.sync()
        sekre.act(case + ".1", "--text", "Disposisi awal")
        sekre.ok("disposition", "set", case + ".1", "--text", "Disposisi diperbaiki")
        unsent = {x["change"] for x in sekre.status()["pending"]}
        self.assertEqual(len(unsent), 2)
        db = smash_log_page(sekre.home)

        r = sekre.run("status")
        self.assertEqual(r.code, 1, r)
        self.assertIn(r.json["error"]["code"], ("db_corrupt", "replica_damaged"))
        self.assertIn("alur repair", r.json["error"]["message"])

        r = sekre.run("repair", json_flag=False)
        self.assertEqual(r.code, 0, r)
        self.assertIn("diselamatkan: 2", r.out)
        self.assertNotIn("TIDAK DAPAT", r.out)
        self.assertTrue(glob.glob(db + ".rusak-*"), "the damaged file is kept")
        self.assertEqual(sekre.status()["pending"], [])
        kasubag.sync()
        show = kasubag.show(case)
        self.assertEqual(show["steps"][0]["tasks"][0]["state"], "done")
        self.assertEqual(sekre.run("repair").json["repaired"], False)  # healthy now

    def test_a_clock_days_ahead_syncs_and_is_told(self):
        srv = self.server()
        kasubag = self.official(srv, "kasubag")
        env = dict(os.environ, ALUR_TEST_CLOCK_OFFSET_MS=str(3 * DAY_MS))
        base = [ALUR, "--home", kasubag.home, "--json"]
        r = run(base + ["case", "open", "--sop", "LAKIP", "--period", "2026-Q3"], env=env)
        self.assertEqual(r.code, 0, r)
        case = r.json["case"]
        r = run(base + ["sync"], env=env)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json["accepted"], 1)
        self.assertEqual(r.json["warnings"][0]["code"], "clock_ahead")
        self.assertIn("lebih cepat 3 hari", r.json["clock_warning"])
        self.assertIn("lebih cepat 3 hari", srv.log())
        sekre = self.official(srv, "sekretaris")
        opened = sekre.show(case)
        self.assertTrue(opened["case"] == case)


if __name__ == "__main__":
    unittest.main()
