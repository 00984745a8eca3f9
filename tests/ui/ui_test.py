"""`alur ui` in a real browser: Debian's Chromium (headless, through playwright-core)
against a real alur-server on loopback and three real `alur ui` clients (Sekretaris, Kabid
Koperasi, Kasubag KPE behind a fault proxy), plus the Kasubag's second PC on the CLI.

The browser scenario is tests/ui/browser.mjs; it asks this process for what only the test
harness can do (stop and restart the server, cut the Kasubag's network, act on the other PC)
with "CMD ..." lines on its stdout and waits for "ok" on its stdin. Screenshots of every
screen are written to $ALUR_UI_ARTIFACTS (CTest: <build>/ui-artifacts).
"""
import json
import os
import subprocess
import sys
import time
import types
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
from alurtest import ALUR, ROOT, E2ETest  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

CHROMIUM = os.environ.get("ALUR_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.environ.get("ALUR_UI_ARTIFACTS") or os.path.join(ROOT, "build", "default", "ui-artifacts")


class UiTest(E2ETest):

    def start_ui(self, official):
        """`alur ui --no-browser --json` for official; returns its URL (with the secret)."""
        log = open(os.path.join(self.workdir, official.name + "-ui.log"), "w")
        self.addCleanup(log.close)
        proc = self.spawn([ALUR, "--home", official.home, "--json", "ui", "--no-browser"],
                          stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        self.assertTrue(line, "alur ui for %s printed nothing (exit %s)" % (official.name, proc.poll()))
        url = json.loads(line)["url"]
        self.assertRegex(url, r"^http://127\.0\.0\.1:\d+/s/[0-9a-f]{48}/$")
        return url

    def test_officials_work_in_the_browser_live_offline_and_rejected(self):
        self.assertTrue(os.access(CHROMIUM, os.X_OK), "Chromium not found at %s: run scripts/setup" % CHROMIUM)
        self.assertTrue(os.path.isfile(os.path.join(HERE, "node_modules", "playwright-core", "package.json")),
                        "playwright-core is not installed: run scripts/setup")
        srv = self.server()
        sekretaris = self.official(srv, "sekretaris")
        kabid = self.official(srv, "kabid_koperasi")
        proxy = FaultProxy(srv.port).start()
        self.addCleanup(proxy.stop)
        kasubag = self.official(types.SimpleNamespace(url=proxy.url, fingerprint=srv.fingerprint), "kasubag")
        laptop = self.official(srv, "kasubag", device="kasubag-laptop")
        sek_laptop = self.official(srv, "sekretaris", device="sekretaris-laptop")

        # A request for a UI of a home that is not enrolled fails clearly, before listening.
        r = subprocess.run([ALUR, "--home", os.path.join(self.workdir, "nobody"), "--json", "ui", "--no-browser"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("error", json.loads(r.stdout.strip().splitlines()[-1]))

        urls = {"sekretaris": self.start_ui(sekretaris), "kabid": self.start_ui(kabid),
                "kasubag": self.start_ui(kasubag)}
        os.makedirs(ARTIFACTS, exist_ok=True)

        def command(cmd):
            name, _, arg = cmd.partition(" ")
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
                raise AssertionError("unknown command from the browser test: %r" % cmd)

        env = dict(os.environ, ALUR_UI_URLS=json.dumps(urls), ALUR_UI_ARTIFACTS=ARTIFACTS,
                   ALUR_CHROMIUM=CHROMIUM, ALUR_UI_PROFILE=os.path.join(self.workdir, "chromium-profile"))
        node = self.spawn(["node", os.path.join(HERE, "browser.mjs")], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=HERE)
        log = []
        deadline = time.monotonic() + 420
        for line in node.stdout:
            line = line.rstrip("\n")
            log.append(line)
            sys.stderr.write("  browser: %s\n" % line)
            if line.startswith("CMD "):
                command(line[4:])
                node.stdin.write("ok\n")
                node.stdin.flush()
            self.assertLess(time.monotonic(), deadline, "browser test took too long")
        code = node.wait(timeout=60)
        self.assertEqual(code, 0, "browser scenario failed:\n" + "\n".join(log[-40:]))
        self.assertIn("PASS", log)
        for shot in ("inbox", "case", "task-disposition", "conflicts", "draft", "sync-rejected", "case-waiting",
                     "print", "sync"):
            self.assertTrue(os.path.isfile(os.path.join(ARTIFACTS, shot + ".png")), shot)


if __name__ == "__main__":
    unittest.main()
