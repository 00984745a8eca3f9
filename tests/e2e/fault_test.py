"""Network faults between real alur clients and a real alur-server, injected by
faultproxy.py on loopback: connections cut mid-frame, delayed, throttled, and black holes
(a connection that stalls without closing). Whatever happens, each change is committed
exactly once and every replica converges; a dead connection is noticed by the heartbeat
within its bound; `sync --watch` reconnects with exponential backoff and jitter.

Random cut points come from a seed printed with every failure; ALUR_E2E_SEED replays it."""
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import types
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR, Official, strip_tentative  # noqa: E402
from crash_test import CrashBase  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from ledger import check_ledger  # noqa: E402

HEARTBEAT = 2  # seconds, for both ends in these tests (the default is 30)
CLEAR_NETWORK_ERRORS = ("closed", "network", "timeout", "connect")


class FaultBase(CrashBase):
    def setUp(self):
        super().setUp()
        self.figures = {"faults_injected": 0, "changes_checked": 0}

    def start_server(self, heartbeat=HEARTBEAT):
        srv = self.server(start=False)
        srv.serve_args = ["--heartbeat", str(heartbeat)]
        return srv.start()

    def proxy(self, srv):
        p = FaultProxy(srv.port).start()
        self.addCleanup(p.stop)
        self.proxies = getattr(self, "proxies", []) + [p]
        return p

    def via(self, proxy, srv, user, device=None):
        """An official whose replica talks to the server through the proxy."""
        o = Official(self.workdir, user, device)
        r = o.enroll(types.SimpleNamespace(url=proxy.url, fingerprint=srv.fingerprint))
        self.assertEqual(r.code, 0, "enrol %s through the proxy failed: %r" % (o.name, r))
        return o

    def sync(self, o, heartbeat=HEARTBEAT):
        t0 = time.monotonic()
        r = o.run("sync", "--heartbeat", heartbeat, timeout=120)
        return r, time.monotonic() - t0

    def assertClearFailure(self, r, codes=CLEAR_NETWORK_ERRORS):
        self.assertEqual(r.code, 1, self.msg("sync should have failed with exit 1: %r" % r))
        self.assertIn(r.error_code, codes, self.msg("unexpected error code: %r" % r))
        self.assertEqual(len(r.err.strip().splitlines()), 1, self.msg("not one clear line: %r" % r))

    def write(self, o, case, draft, shas, n, size=6000):
        for _ in range(n):
            i = len(shas)
            body = "%s revisi %d oleh %s\n%s\n" % (draft, i, o.name, ("baris %d " % i) * (size // 9))
            path = o.file(body, "%s-%d.txt" % (draft, i))
            r = o.run("draft", "put", case, draft, "--file", path)
            self.assertEqual(r.code, 0, self.msg("draft put failed: %r" % r))
            shas.append(hashlib.sha256(body.encode()).hexdigest())

    def converge(self, case, draft, shas, author, replicas, srv):
        for o in replicas:
            r, _ = self.sync(o)
            self.assertEqual(r.code, 0, self.msg("%s: final sync failed: %r" % (o.name, r)))
        for o in replicas:
            self.assertClean(o)
            self.assertDraftExactlyOnce(o, case, draft, shas, author)
        views = {json.dumps(strip_tentative(o.show(case)), sort_keys=True) for o in replicas}
        self.assertEqual(len(views), 1, self.msg("replicas differ"))
        self.figures["changes_checked"] += check_ledger(self, srv, {author: len(shas)}, self.msg)

    def report(self):
        self.figures["faults_injected"] = sum(p.injected() for p in getattr(self, "proxies", []))
        sys.stderr.write("\nFIGURES test=%s %s\n" % (self._testMethodName, " ".join(
            "%s=%s" % kv for kv in sorted(self.figures.items()))))


class CutTest(FaultBase):

    def test_connection_cut_mid_frame_during_push_and_pull_loses_and_duplicates_nothing(self):
        srv = self.start_server()
        proxy = self.proxy(srv)
        _, case = self.open_case(srv)
        writer = self.via(proxy, srv, "kasubag")
        reader = self.via(proxy, srv, "pelaksana")
        shas = []
        cuts = 0
        # Push: each round writes ~300 KB and the connection is cut somewhere inside it.
        for _ in range(4):
            self.write(writer, case, "bahan", shas, 50)
            proxy.set("cut", direction="c2s", after=self.rng.randrange(2000, 250000), times=1)
            r, _ = self.sync(writer)
            self.assertClearFailure(r)
            cuts += 1
        # Pull: each round the writer pushes ~300 KB through the healed link, then the
        # reader's download of it is cut at a random point.
        for _ in range(4):
            self.write(writer, case, "bahan", shas, 50)
            proxy.set("pass")
            r, _ = self.sync(writer)
            self.assertEqual(r.code, 0, self.msg("retry after a cut failed: %r" % r))
            proxy.set("cut", direction="s2c", after=self.rng.randrange(2000, 250000), times=1)
            r, _ = self.sync(reader)
            self.assertClearFailure(r)
            cuts += 1
        proxy.set("pass")
        self.converge(case, "bahan", shas, "kasubag", [writer, reader], srv)
        self.assertGreaterEqual(proxy.stats().get("cuts", 0), cuts)
        self.figures["cuts"] = proxy.stats().get("cuts", 0)
        self.report()


class SlowLinkTest(FaultBase):

    def test_delayed_and_throttled_links_complete_even_when_a_message_outlasts_the_heartbeat(self):
        srv = self.start_server()
        proxy = self.proxy(srv)
        _, case = self.open_case(srv)
        writer = self.via(proxy, srv, "kasubag")
        reader = self.via(proxy, srv, "pelaksana")
        shas = []
        # Delay: 20 ms on every chunk, both ways.
        proxy.set("delay", seconds=0.02)
        self.write(writer, case, "bahan", shas, 30)
        for o in (writer, reader):
            r, took = self.sync(o)
            self.assertEqual(r.code, 0, self.msg("sync over a delayed link failed: %r" % r))
        # Throttle: one push of ~450 KB at 120 KB/s takes ~4 s, twice the heartbeat: the
        # pings and pongs between its frames must keep the connection alive.
        self.write(writer, case, "bahan", shas, 75)
        proxy.set("throttle", rate=120000)
        r, took_push = self.sync(writer)
        self.assertEqual(r.code, 0, self.msg("push over a throttled link failed: %r" % r))
        self.assertEqual(r.json["accepted"], 75, self.msg("throttled push: %r" % r.json))
        r, took_pull = self.sync(reader)
        self.assertEqual(r.code, 0, self.msg("pull over a throttled link failed: %r; proxy %r" % (r, proxy.stats())))
        for took in (took_push, took_pull):
            self.assertGreater(took, HEARTBEAT * 1.5, "the transfer did not outlast the heartbeat")
        sys.stderr.write("[throttled push %.1fs, pull %.1fs] " % (took_push, took_pull))
        proxy.set("pass")
        self.converge(case, "bahan", shas, "kasubag", [writer, reader], srv)
        self.figures["throttled_bytes"] = proxy.stats().get("throttled_bytes", 0)
        self.report()


class BlackHoleTest(FaultBase):

    def watch(self, o, heartbeat=HEARTBEAT):
        self.watch_out = os.path.join(self.workdir, "watch-%s.out" % o.name)
        out = open(self.watch_out, "w")
        self.addCleanup(out.close)
        return self.spawn([ALUR, "--home", o.home, "sync", "--watch", "--heartbeat", str(heartbeat)],
                          stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def watch_log(self):
        with open(self.watch_out) as f:
            return f.read()

    def wait_for(self, what, predicate, timeout, proc=None):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if predicate():
                return time.monotonic() - t0
            if proc is not None:
                self.assertIsNone(proc.poll(), "watch exited: %s" % self.watch_log())
            time.sleep(0.05)
        self.fail(self.msg("%s: not within %ss; watch log:\n%s" % (what, timeout, self.watch_log()[-3000:])))

    def test_watch_detects_a_black_hole_by_heartbeat_and_reconnects(self):
        srv = self.start_server()
        proxy = self.proxy(srv)
        sek, case = self.open_case(srv)
        a = self.via(proxy, srv, "kabid_koperasi")
        a.sync()
        w = self.watch(a)
        self.wait_for("watch connected", lambda: "terhubung ke server" in self.watch_log(), 10, w)
        self.wait_for("proxied connection", lambda: proxy.live(), 5)
        # The link goes silent both ways; sockets stay open (no FIN, no RST).
        for c in proxy.live():
            c.set("blackhole", after=0)
        t0 = time.monotonic()
        # Meanwhile the sekretaris (directly on the server) completes step 1.
        sek.act("%s.1" % case, "--text", "Disposisi")
        self.assertEqual(sek.sync()["accepted"], 1)
        detect = self.wait_for("heartbeat noticed the dead link",
                               lambda: "koneksi terputus" in self.watch_log(), HEARTBEAT * 3, w)
        line = [x for x in self.watch_log().splitlines() if "koneksi terputus" in x][0]
        self.assertIn("heartbeat", line)
        # Beast's bound: at most one heartbeat after the last byte heard, plus scheduling.
        self.assertLessEqual(detect, HEARTBEAT + 1.5, self.msg("detected after %.2fs" % detect))

        def arrived():
            r = a.run("case", "show", case)
            return r.ok and [t for s in r.json["steps"] for t in s["tasks"]
                             if t["task"] == "%s.1" % case][0]["state"] == "done"
        # Reconnect after the backoff (1-1.5 s) over a new, healthy connection.
        total = detect + self.wait_for("the missed change after reconnecting", arrived, 10, w)
        # The server drops its side too, by its own heartbeat.
        self.wait_for("server closed the silent session",
                      lambda: "berakhir: waktu habis" in srv.log(), HEARTBEAT * 3)
        srv_detect = time.monotonic() - t0
        sys.stderr.write("[detected %.2fs, change arrived %.2fs after the stall] " % (detect, total))
        self.figures.update(heartbeat_s=HEARTBEAT, detected_s="%.2f" % detect,
                            recovered_s="%.2f" % total, server_detected_by_s="%.2f" % srv_detect)
        w.terminate()
        self.assertEqual(w.wait(timeout=10), 0)
        self.report()

    def test_plain_sync_on_a_stalled_connection_fails_clearly_in_bounded_time(self):
        srv = self.start_server()
        proxy = self.proxy(srv)
        _, case = self.open_case(srv)
        writer = self.via(proxy, srv, "kasubag")
        reader = self.via(proxy, srv, "pelaksana")
        shas = []
        self.write(writer, case, "bahan", shas, 80)
        # Stalls mid-push, then mid-pull (after a random number of bytes).
        for who, direction in ((writer, "c2s"), (reader, "s2c")):
            if who is reader:
                r, _ = self.sync(writer)
                self.assertEqual(r.code, 0, self.msg("push failed: %r" % r))
            proxy.set("blackhole", direction=direction, after=self.rng.randrange(20000, 300000), times=1)
            r, took = self.sync(who)
            self.assertClearFailure(r, ("timeout",))
            self.assertIn("heartbeat", r.err, self.msg("the message does not say why: %r" % r))
            self.assertLessEqual(took, HEARTBEAT * 2 + 2, self.msg("%s: gave up only after %.1fs" % (direction, took)))
            sys.stderr.write("[%s stall: exit after %.1fs] " % (direction, took))
            self.figures["%s_stall_exit_s" % direction] = "%.1f" % took
        proxy.set("pass")
        self.converge(case, "bahan", shas, "kasubag", [writer, reader], srv)
        self.report()

    def test_watch_reconnects_with_exponential_backoff_and_jitter(self):
        srv = self.start_server()
        a = self.official(srv, "kabid_mikro")
        w = self.watch(a)
        self.wait_for("watch connected", lambda: "terhubung ke server" in self.watch_log(), 10, w)
        srv.kill9()
        waits = lambda: [float(x) for x in re.findall(r"mencoba lagi dalam ([0-9.]+) detik", self.watch_log())]
        self.wait_for("three retries", lambda: len(waits()) >= 3, 15, w)
        got = waits()[:3]
        for i, x in enumerate(got):  # base 1, 2, 4 s, plus up to half of it as jitter
            self.assertTrue(2 ** i <= x <= 2 ** i * 1.5 + 0.01, self.msg("retry waits %r" % got))
        self.assertGreater(len(set(round(x - int(x), 2) for x in got)), 1, self.msg("no jitter: %r" % got))
        srv.start()
        self.wait_for("reconnected", lambda: self.watch_log().count("terhubung ke server") >= 2, 20, w)
        self.figures["retry_waits"] = ",".join("%.2f" % x for x in got)
        w.terminate()
        self.assertEqual(w.wait(timeout=10), 0)
        self.report()


if __name__ == "__main__":
    unittest.main()
