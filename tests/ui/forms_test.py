"""The web app's action forms in a real browser (tests/ui/forms.mjs): a real alur-server on
loopback with the DATA-LAKIP template imported, `alur ui` for the Sekretaris, the Kasubag KPE
and the Pelaksana KPE (each on a PC of their own), and every official's other PC on the
command line doing the steps the browser does not (the harness's "lakip" and "data" commands).
"""
import glob
import os
import sqlite3
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from uitest import BrowserTest  # noqa: E402
from alurtest import ALUR_SERVER, ROOT, Office, passphrase, password, run, smash_log_page, task_of  # noqa: E402

# DATA-LAKIP (tests/fixtures/sop/data-lakip.json): who does each task, and what with.
DATA_ACTOR = {"1": "kasubag", "2.koperasi": "kabid_koperasi", "2.usaha_mikro": "kabid_mikro",
              "2.ukm": "kabid_ukm", "3": "pelaksana", "4": "kasubag"}


class FormsTest(BrowserTest):

    def test_every_action_form_in_the_browser(self):
        self.assertBrowserReady()
        srv = self.server()
        r = run([ALUR_SERVER, "sop", "import", "--data", srv.data,
                 os.path.join(ROOT, "tests", "fixtures", "sop", "data-lakip.json")])
        self.assertEqual(r.code, 0, r)
        office = Office(self, srv)
        pcs = {role: self.official(srv, user, device=user + "-ui")
               for role, user in (("sekretaris", "sekretaris"), ("kasubag", "kasubag"), ("pelaksana", "pelaksana"))}
        # A new PC of the Kadis, not enrolled; a PC of the Kabid UKM whose replica is damaged.
        pcs["new_pc"] = self.official(srv, "kadis", device="kadis-new-pc", enroll=False)
        pcs["damaged"] = self.official(srv, "kabid_ukm", device="kabid_ukm-pc")
        smash_log_page(pcs["damaged"].home)
        urls = {role: self.start_ui(o) for role, o in pcs.items()}

        def task_on(pc, task):
            case, _, suffix = task.partition(".")
            show = pc.show(case)
            t = task_of(show, task)
            step = int(suffix.split(".")[0])
            return {"state": t["state"], "by": t.get("by"), "tentative": t.get("tentative"),
                    "approvals": len([a for a in show.get("approvals", []) if a.get("step") == step])}

        def data_step(case, suffix):
            o = office[DATA_ACTOR[suffix]]
            o.sync()
            args = ["--text", "DATA-LAKIP %s oleh %s" % (suffix, o.user)]
            if suffix == "3":
                args += ["--file", o.file("Rekap data capaian kinerja\nIKU 1: 82%\n")]
            o.act("%s.%s" % (case, suffix), *args)
            self.assertEqual(o.sync()["rejected"], 0)

        def command(name, arg):
            if name == "server":  # what the enrolment screen asks for
                return {"url": srv.url, "fingerprint": srv.fingerprint, "password": password(arg)}
            if name == "passphrase":  # what the official types at a paraf
                return passphrase(arg)
            if name == "show":  # ROLE TASK: the task as the replica of ROLE's `alur ui` has it
                role, task = arg.split()
                return task_on(pcs[role], task)
            if name == "open":  # SOP PERIOD: a case opened by the Sekretaris's other PC
                sop, period = arg.split()
                o = office["sekretaris"]
                case = o.ok("case", "open", "--sop", sop, "--period", period)["case"]
                o.sync()
                return case
            case, _, steps = arg.partition(" ")
            for suffix in steps.split(","):
                if name == "lakip":
                    office.do(case, suffix)
                elif name == "data":
                    data_step(case, suffix)
                else:
                    raise AssertionError("unknown command from the browser test: %r" % name)
            return None

        self.run_browser("forms.mjs", urls, command)
        # Every screen the officials went through is in the browser's history by its clean
        # address. The printed URL itself stays there too, as opened (Chromium records the
        # source of a redirect as well): once per launch, never a screen's address.
        history = sqlite3.connect(os.path.join(self.workdir, "chromium-profile", "Default", "History"))
        listed = [u for (u,) in history.execute("SELECT url FROM urls WHERE hidden = 0")]
        history.close()
        with_secret = [u for u in listed if "/s/" in u]
        self.assertGreater(len(listed) - len(with_secret), 10, listed)
        self.assertEqual(sorted(u.split("#")[0] for u in with_secret), sorted(urls.values()), with_secret)
        self.assertTrue(all(u.split("#", 1)[-1] in (u, "/inbox") for u in with_secret), with_secret)
        self.assertScreenshots(["form-meeting", "form-return", "draft-diff", "draft-corrections", "form-decision",
                                "form-paraf-wrong", "form-paraf", "case-paraf", "enroll", "repair"])
        # The screens' work is real: the new PC is enrolled, the damaged file was kept aside.
        self.assertEqual(pcs["new_pc"].status()["username"], "kadis")
        self.assertTrue(glob.glob(os.path.join(pcs["damaged"].home, "replica.db.rusak-*")))


if __name__ == "__main__":
    unittest.main()
