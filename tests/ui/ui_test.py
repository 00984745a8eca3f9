"""`alur ui` in a real browser: Debian's Chromium (headless, through playwright-core)
against a real alur-server on loopback and three real `alur ui` clients (Sekretaris, Kabid
Koperasi, Kasubag KPE behind a fault proxy), plus the Kasubag's second PC on the CLI.

The browser scenario is tests/ui/browser.mjs; it asks this process for what only the test
harness can do (stop and restart the server, cut the Kasubag's network, act on the other PC)
with "CMD ..." lines on its stdout and waits for "ok" on its stdin. Screenshots of every
screen are written to $ALUR_UI_ARTIFACTS (CTest: <build>/ui-artifacts).
"""
import os
import sys
import time
import types
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from uitest import BrowserTest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402


class UiTest(BrowserTest):

    def test_officials_work_in_the_browser_live_offline_and_rejected(self):
        self.assertBrowserReady()
        srv = self.server()
        sekretaris = self.official(srv, "sekretaris")
        kabid = self.official(srv, "kabid_koperasi")
        proxy = FaultProxy(srv.port).start()
        self.addCleanup(proxy.stop)
        kasubag = self.official(types.SimpleNamespace(url=proxy.url, fingerprint=srv.fingerprint), "kasubag")
        laptop = self.official(srv, "kasubag", device="kasubag-laptop")
        sek_laptop = self.official(srv, "sekretaris", device="sekretaris-laptop")

        urls = {"sekretaris": self.start_ui(sekretaris), "kabid": self.start_ui(kabid),
                "kasubag": self.start_ui(kasubag)}

        def command(name, arg):
            if name == "stop_server":
                srv.kill9()
            elif name == "start_server":
                srv.start()
            elif name == "cut_kasubag":
                proxy.set("cut", direction="any", after=0)
                for c in proxy.live():
                    c.close(reset=True)
            elif name == "heal_kasubag":
                proxy.set("pass")
            elif name == "laptop_act":  # the Kasubag's other PC completes the task first
                laptop.sync()
                laptop.act(arg, "--text", "Bahan rapat disiapkan (dari laptop)",
                           "--file", laptop.file("Capaian triwulan III\nBidang Koperasi: 92%\n", "persiapan.txt"))
                laptop.sync()
            elif name == "disposition_conflict":  # two PCs of the Sekretaris, concurrently
                sek_laptop.sync()
                sek_laptop.ok("disposition", "set", arg, "--text", "Versi laptop: rapat koordinasi hari Senin.")
                sekretaris.ok("disposition", "set", arg, "--text", "Versi kantor: rapat koordinasi hari Selasa.")
                deadline = time.monotonic() + 30  # the office PC's `alur ui` sends it by itself
                while sekretaris.status()["tentative"] and time.monotonic() < deadline:
                    time.sleep(0.2)
                self.assertEqual(sekretaris.status()["tentative"], 0, "alur ui did not send the change")
                sek_laptop.sync()
            else:
                raise AssertionError("unknown command from the browser test: %r" % name)

        self.run_browser("browser.mjs", urls, command)
        self.assertScreenshots(["inbox", "case", "task-disposition", "conflicts", "draft", "sync-rejected",
                                "case-waiting", "print", "sync", "inbox-kabid-live", "case-synced"])


if __name__ == "__main__":
    unittest.main()
