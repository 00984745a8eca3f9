"""`alur sync --watch`: stays connected, receives others' commits without polling,
reconnects by itself after the server dies, and stops cleanly on SIGTERM."""
import os
import signal
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR, E2ETest, task_of  # noqa: E402


class WatchTest(E2ETest):

    def wait_for(self, what, predicate, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return time.monotonic() - (deadline - timeout)
            self.assertIsNone(self.watch.poll(), "watch exited early (%s): %s" % (self.watch.returncode,
                                                                                  self.watch_log()))
            time.sleep(0.2)
        self.fail("%s: not seen within %ss; watch output:\n%s" % (what, timeout, self.watch_log()))

    def watch_log(self):
        try:
            with open(self.watch_out) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def done_on(self, official, case, task):
        def check():
            r = official.run("case", "show", case)
            return r.ok and task_of(r.json, task)["state"] == "done"
        return check

    def test_watch_receives_live_reconnects_after_server_restart_and_stops_on_sigterm(self):
        srv = self.server()
        a = self.official(srv, "sekretaris")              # A: watches
        b = self.official(srv, "kasubag")                 # B: acts
        case = a.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        a.act("%s.1" % case, "--text", "Disposisi")
        a.sync()
        b.sync()

        self.watch_out = os.path.join(self.workdir, "watch.out")
        with open(self.watch_out, "w") as out:
            self.watch = self.spawn([ALUR, "--home", a.home, "sync", "--watch"],
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        time.sleep(0.5)
        self.assertIsNone(self.watch.poll(), "watch exited at once: %s" % self.watch_log())

        # B acts and syncs; A's replica shows it while only A's watch runs (no sync for A).
        task = "%s.3" % case
        b.act(task, "--text", "Data seluruh bidang dihimpun")
        self.assertEqual(b.sync()["accepted"], 1)
        took = self.wait_for("B's step 3 on A's replica", self.done_on(a, case, task), 10)
        sys.stderr.write("[live in %.2fs] " % took)
        self.assertEqual(task_of(a.show(case), task)["by"], "kasubag")

        # The server dies and comes back on the same port: watch reconnects by itself.
        srv.kill9()
        time.sleep(0.5)
        self.assertIsNone(self.watch.poll(), "watch exited when the server died: %s" % self.watch_log())
        srv.start()
        b.ok("draft", "put", case, "catatan-rapat", "--file", b.file("Catatan rapat\n"))
        self.assertEqual(b.sync()["accepted"], 1)

        def draft_arrived():
            r = a.run("case", "show", case)
            return r.ok and "catatan-rapat" in [d["name"] for d in r.json["drafts"]]
        took = self.wait_for("B's draft after the restart on A's replica", draft_arrived, 20)
        sys.stderr.write("[after restart in %.2fs] " % took)

        # Once reconnected, changes arrive live again.
        kab = self.official(srv, "kabid_koperasi")
        kab.sync()
        task3 = "%s.2.koperasi" % case
        kab.act(task3, "--text", "Kasubid: siapkan bahan")
        kab.sync()
        took = self.wait_for("a later change on A's replica", self.done_on(a, case, task3), 10)
        sys.stderr.write("[then live in %.2fs] " % took)

        # SIGTERM stops watch with exit 0.
        self.watch.send_signal(signal.SIGTERM)
        try:
            code = self.watch.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.fail("watch did not stop within 10 s of SIGTERM: %s" % self.watch_log())
        self.assertEqual(code, 0, "watch exit code after SIGTERM: %s" % self.watch_log())
        self.assertEqual(a.status()["tentative"], 0)

    def test_watch_pushes_own_changes_and_runs_beside_a_manual_sync(self):
        srv = self.server()
        a = self.official(srv, "sekretaris")
        other = self.official(srv, "kabid_mikro")
        case = a.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        a.sync()
        self.watch_out = os.path.join(self.workdir, "watch.out")
        with open(self.watch_out, "w") as out:
            self.watch = self.spawn([ALUR, "--home", a.home, "sync", "--watch"],
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        time.sleep(0.3)
        # A acts while its own watch runs: the change reaches the others without `alur sync`.
        a.act("%s.1" % case, "--text", "Disposisi")
        self.wait_for("A's pending change pushed by watch",
                      lambda: a.status()["tentative"] == 0, 10)

        def seen():
            other.sync()
            return task_of(other.show(case), "%s.1" % case)["state"] == "done"
        self.wait_for("A's change on another replica", seen, 10)
        # The person keeps working and also runs `alur sync` by hand while watch runs:
        # two processes push the same outbox; each change is still committed once.
        kas = self.official(srv, "kasubag")
        kas.sync()
        for i in range(30):
            kas.ok("draft", "put", case, "bahan", "--file", kas.file("revisi %d\n" % i))
        self.watch2 = self.spawn([ALUR, "--home", kas.home, "sync", "--watch"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(30, 60):
            kas.ok("draft", "put", case, "bahan", "--file", kas.file("revisi %d\n" % i))
            if i % 3 == 0:
                r = kas.run("sync")
                self.assertEqual(r.code, 0, "manual sync beside watch failed: %r" % r)
                self.assertEqual(r.json["rejected"], 0, r)
        self.wait_for("kasubag's outbox emptied", lambda: kas.status()["tentative"] == 0, 10)
        self.assertEqual(kas.status()["rejected"], [])
        other.sync()
        d = other.draft_show(case, "bahan")
        self.assertEqual(len(d["revisions"]), 60, d["heads"])
        self.assertEqual(len({x["rev"] for x in d["revisions"]}), 60)
        self.assertEqual(len(d["heads"]), 1, d["heads"])
        self.watch2.send_signal(signal.SIGTERM)
        self.assertEqual(self.watch2.wait(timeout=10), 0)
        self.watch.send_signal(signal.SIGTERM)
        self.assertEqual(self.watch.wait(timeout=10), 0, self.watch_log())


if __name__ == "__main__":
    unittest.main()
