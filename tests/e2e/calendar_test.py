"""Calendars, reports and the SOP document through the real binaries: `alur-server
calendar import` refuses a wrong file naming the field and commits a right one, which
reaches a PC at its next sync; `alur inbox`/`case show` carry the deadline fields;
`alur report --csv --html` and `alur sop show --html` write their files, for an imported
template (`alur-server sop import`) as well as the built-in one."""
import json
import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR_SERVER, E2ETest, run  # noqa: E402

SOURCE = os.environ.get("ALUR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


class CalendarTest(E2ETest):

    def test_import_list_sync_report_and_sop(self):
        srv = self.server()
        with open(os.path.join(SOURCE, "shared", "calendars", "2026.json")) as f:
            cal = json.load(f)
        bad = json.loads(json.dumps(cal))
        bad["days"][2]["date"] = "2026-02-30"
        bad_path = os.path.join(self.workdir, "salah.json")
        with open(bad_path, "w") as f:
            json.dump(bad, f)
        r = run([ALUR_SERVER, "calendar", "import", "--data", srv.data, bad_path])
        self.assertEqual(r.code, 1, r)
        self.assertIn("days[2].date", r.err)
        self.assertIn("bad_calendar", r.err)

        cal["amendments"].append({"number": "Uji 1/2026", "date": "2026-01-05", "title": "Uji",
                                  "add": [{"date": "2026-07-06", "kind": "cuti_bersama",
                                           "name": "Cuti bersama uji"}]})
        path = os.path.join(self.workdir, "2026.json")
        with open(path, "w") as f:
            json.dump(cal, f)
        r = run([ALUR_SERVER, "calendar", "import", "--data", srv.data, path])
        self.assertEqual(r.code, 0, r)
        listed = json.loads(run([ALUR_SERVER, "calendar", "list", "--data", srv.data, "--json"]).out)
        by_year = {c["year"]: c for c in listed}
        self.assertEqual(by_year[2026]["origin"], "impor")
        self.assertEqual(by_year[2025]["origin"], "bawaan")
        self.assertEqual(len(by_year[2026]["amendments"]), 1)

        sek = self.official(srv, "sekretaris")
        kasubag = self.official(srv, "kasubag")
        case = sek.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        sek.ok("act", case + ".1", "--text", "Siapkan rapat koordinasi.")
        sek.sync()
        kasubag.sync()
        inbox = kasubag.inbox()
        item = [i for i in inbox if i["task"] == case + ".3"][0]
        for key in ("due", "due_certain", "due_note", "days", "ready_at", "remaining_days",
                    "overdue"):
            self.assertIn(key, item)
        self.assertEqual(item["days"], 4)
        show = kasubag.show(case)
        self.assertEqual(show["steps"][0]["tasks"][0]["late_days"], 0)

        csv_path = os.path.join(self.workdir, "laporan.csv")
        html_path = os.path.join(self.workdir, "laporan.html")
        rep = kasubag.ok("report", "--period", "2026-Q3", "--csv", csv_path, "--html", html_path)
        self.assertEqual(len(rep["cases"]), 1)
        with open(csv_path, encoding="utf-8-sig") as f:
            rows = f.read().splitlines()
        self.assertTrue(rows[0].startswith("kasus,judul,periode,langkah"))
        self.assertEqual(len(rows), 1 + 15)
        with open(html_path, encoding="utf-8") as f:
            html = f.read()
        self.assertIn("Langkah Paling Lambat", html)

        sop_path = os.path.join(self.workdir, "sop.html")
        r = kasubag.run("sop", "show", "LAKIP", "--html", sop_path, json_flag=False)
        self.assertEqual(r.code, 0, r)
        with open(sop_path, encoding="utf-8") as f:
            sop = f.read()
        self.assertIn("Mutu Baku", sop)
        self.assertIn("Disahkan Oleh", sop)

    def test_imported_sop_in_report_and_sop_show(self):
        srv = self.server()
        fixture = os.path.join(SOURCE, "tests", "fixtures", "sop", "data-lakip.json")
        r = run([ALUR_SERVER, "sop", "import", "--data", srv.data, fixture])
        self.assertEqual(r.code, 0, r)
        kasubag = self.official(srv, "kasubag")  # enrolment's first sync brings the template
        case = kasubag.ok("case", "open", "--sop", "DATA-LAKIP", "--period", "2026-Q3")["case"]
        kasubag.ok("act", case + ".1", "--text", "Mohon data capaian triwulan III.")
        kasubag.sync()
        csv_path = os.path.join(self.workdir, "laporan-data.csv")
        rep = kasubag.ok("report", "--period", "2026-Q3", "--csv", csv_path)
        self.assertEqual([c["sop"] for c in rep["cases"]], ["DATA-LAKIP"])
        days = {t["step"]: t["days"] for t in rep["cases"][0]["tasks"]}
        self.assertEqual(days, {1: 1, 2: 3, 3: 2, 4: 1, 5: 1, 6: 1})  # the template's mutu baku
        with open(csv_path, encoding="utf-8-sig") as f:
            rows = f.read().splitlines()
        self.assertEqual(len(rows), 1 + 8)  # step 2 once per bidang
        self.assertIn("Pengumpulan Data LAKIP", rows[1])

        sop_path = os.path.join(self.workdir, "sop-data.html")
        r = kasubag.run("sop", "show", "DATA-LAKIP", "--html", sop_path, json_flag=False)
        self.assertEqual(r.code, 0, r)
        self.assertIn("Pengumpulan Data LAKIP", r.out)
        with open(sop_path, encoding="utf-8") as f:
            sop = f.read()
        self.assertIn("Verifikasi data", sop)
        self.assertIn("kembali ke langkah 2", sop)
        self.assertEqual(sop.count('class="aktivitas"'), 7)  # step 4: either of two roles


if __name__ == "__main__":
    unittest.main()
