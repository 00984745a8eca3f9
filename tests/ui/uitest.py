"""What the browser tests of tests/ui share: starting `alur ui` for an official, running a
browser scenario (a .mjs file driving Debian's Chromium through playwright-core) that asks
the harness for what only it can do with "CMD name arg" lines, and compressing the
screenshots it saved.

A scenario prints "CMD ..." on its stdout and waits for one line on its stdin: "ok", or
"ok " followed by a JSON value the command returned.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
from alurtest import ALUR, ROOT, E2ETest  # noqa: E402

CHROMIUM = os.environ.get("ALUR_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.environ.get("ALUR_UI_ARTIFACTS") or os.path.join(ROOT, "build", "default", "ui-artifacts")


class BrowserTest(E2ETest):

    def assertBrowserReady(self):
        self.assertTrue(os.access(CHROMIUM, os.X_OK), "Chromium not found at %s: run scripts/setup" % CHROMIUM)
        self.assertTrue(os.path.isfile(os.path.join(HERE, "node_modules", "playwright-core", "package.json")),
                        "playwright-core is not installed: run scripts/setup")

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

    def run_browser(self, script, urls, command, timeout=420):
        """Runs tests/ui/SCRIPT with the officials' URLs; command(name, arg) answers its CMD
        lines (None or a JSON-able value). Fails the test unless the scenario passes."""
        os.makedirs(ARTIFACTS, exist_ok=True)
        env = dict(os.environ, ALUR_UI_URLS=json.dumps(urls), ALUR_UI_ARTIFACTS=ARTIFACTS,
                   ALUR_CHROMIUM=CHROMIUM, ALUR_UI_PROFILE=os.path.join(self.workdir, "chromium-profile"))
        node = self.spawn(["node", os.path.join(HERE, script)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=HERE)
        log = []
        deadline = time.monotonic() + timeout
        for line in node.stdout:
            line = line.rstrip("\n")
            log.append(line)
            sys.stderr.write("  browser: %s\n" % line)
            if line.startswith("CMD "):
                name, _, arg = line[4:].partition(" ")
                answer = command(name, arg)
                node.stdin.write("ok\n" if answer is None else "ok " + json.dumps(answer) + "\n")
                node.stdin.flush()
            self.assertLess(time.monotonic(), deadline, "browser test took too long")
        code = node.wait(timeout=60)
        # From a little before the failure: its reason, then what each page showed.
        fail = next((i for i, l in enumerate(log) if l.startswith("FAIL")), len(log))
        self.assertEqual(code, 0, "browser scenario failed:\n" + "\n".join(log[max(0, fail - 10):]))
        self.assertIn("PASS", log)

    def assertScreenshots(self, names):
        """Each screenshot exists; all are compressed (pngquant, 256 colours) to keep the
        artifacts and docs/ small."""
        paths = [os.path.join(ARTIFACTS, n + ".png") for n in names]
        for p in paths:
            self.assertTrue(os.path.isfile(p), "screenshot missing: " + p)
        pngquant = shutil.which("pngquant")
        self.assertIsNotNone(pngquant, "pngquant not found: run scripts/setup")
        before = sum(os.path.getsize(p) for p in paths)
        # --skip-if-larger: exit 98/99 for a file that would not shrink (kept as it is).
        r = subprocess.run([pngquant, "--force", "--ext", ".png", "--skip-if-larger", "--speed", "3",
                            "--quality", "65-95"] + paths, capture_output=True, text=True)
        self.assertIn(r.returncode, (0, 98, 99), r.stderr)
        after = sum(os.path.getsize(p) for p in paths)
        sys.stderr.write("  screenshots: %d files, %d KiB -> %d KiB\n" % (len(paths), before // 1024, after // 1024))
        for p in glob.glob(os.path.join(ARTIFACTS, "*.png")):
            with open(p, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", p)
