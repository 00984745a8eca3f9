"""kill -9 in the middle of sync sessions: the client, then the server. Whatever the
moment, the server commits each change exactly once and every replica converges.

The random moments come from a seed printed in every failure message; set
ALUR_E2E_SEED to replay one."""
import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR, E2ETest, strip_tentative  # noqa: E402
from ledger import check_ledger  # noqa: E402


def seed():
    s = os.environ.get("ALUR_E2E_SEED")
    return int(s) if s else random.SystemRandom().randrange(1, 2**31)


class CrashBase(E2ETest):
    def setUp(self):
        super().setUp()
        self.seed = seed()
        self.rng = random.Random(self.seed)
        sys.stderr.write("[seed %d] " % self.seed)

    def msg(self, text):
        return "%s (seed %d: rerun with ALUR_E2E_SEED=%d)" % (text, self.seed, self.seed)

    def open_case(self, srv, period="2026-Q3"):
        sek = self.official(srv, "sekretaris")
        case = sek.ok("case", "open", "--sop", "LAKIP", "--period", period)["case"]
        self.assertEqual(sek.sync()["accepted"], 1)
        return sek, case

    def put(self, o, case, draft, i):
        """One new revision with unique content; returns its SHA-256."""
        body = "%s revisi %d oleh %s\n%s\n" % (draft, i, o.name, "x" * (i % 97))
        path = o.file(body, "%s-%d.txt" % (draft, i))
        r = o.run("draft", "put", case, draft, "--file", path)
        self.assertEqual(r.code, 0, self.msg("draft put %d failed: %r" % (i, r)))
        return hashlib.sha256(body.encode()).hexdigest()

    def assertDraftExactlyOnce(self, o, case, draft, shas, author):
        d = o.draft_show(case, draft)
        revs = d["revisions"]
        ids = [x["rev"] for x in revs]
        self.assertEqual(len(ids), len(set(ids)), self.msg("%s: duplicate revision ids in %s" % (o.name, draft)))
        self.assertEqual(len(revs), len(shas), self.msg(
            "%s: draft %s has %d revisions, expected exactly %d" % (o.name, draft, len(revs), len(shas))))
        got = sorted(x["sha256"] for x in revs)
        self.assertEqual(got, sorted(shas), self.msg("%s: %s revision contents differ" % (o.name, draft)))
        self.assertTrue(all(x["by"] == author for x in revs), self.msg("wrong author in %s" % draft))
        # Each put saw the one before it: a single linear history, one head.
        self.assertEqual(len(d["heads"]), 1, self.msg("%s: %s heads %r" % (o.name, draft, d["heads"])))
        return d

    def assertClean(self, o):
        st = o.status()
        self.assertEqual(st["tentative"], 0, self.msg("%s still has pending changes: %r"
                                                       % (o.name, st.get("pending", [])[:5])))
        self.assertEqual(st["rejected"], [], self.msg("%s has rejected changes: %r" % (o.name, st["rejected"][:5])))

    def assertContent(self, o, case, draft, rev, sha):
        path = os.path.join(self.workdir, "get-%s-%s.txt" % (o.name, rev.replace(":", "_")))
        r = o.run("draft", "get", case, draft, "--rev", rev, "--out", path)
        self.assertEqual(r.code, 0, self.msg("draft get %s failed: %r" % (rev, r)))
        with open(path, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), sha,
                             self.msg("%s: content of %s differs from what was written" % (o.name, rev)))

    @staticmethod
    def tally_sync(stats, codes, errors, u, r):
        """Counts one sync of `u` during the chaos (stats "ok"/"failed", codes by error);
        a rejection, or a failure without one clear line of error, goes to `errors`."""
        stats["ok" if r.ok else "failed"] += 1
        if r.ok:
            if r.json.get("rejected"):
                errors.append("%s: rejected during the chaos: %r" % (u, r.json))
            return
        codes[r.error_code] = codes.get(r.error_code, 0) + 1
        if r.error_code is None or len(r.err.strip().splitlines()) != 1 or r.code >= 128:
            errors.append("%s: sync failed without a clear error: %r" % (u, r))

    def converge_all(self, people, enrol_at, case, drafts, shas):
        """After the chaos: final syncs (writers push what is left, everyone pulls
        everything, twice), then a fresh replica enrolled at `enrol_at`. Every replica is
        clean, holds each draft's revisions exactly once (drafts: {author: draft name}) and
        shows the same case. Returns (the fresh official, every replica)."""
        for _ in range(2):
            for u, o in people.items():
                r = o.run("sync")
                self.assertEqual(r.code, 0, self.msg("final sync of %s failed: %r" % (u, r)))
                self.assertEqual(r.json["rejected"], 0, self.msg("%s: rejected %r" % (u, r.json)))
        fresh = self.official(enrol_at, "kasubag", device="kasubag-baru")
        fresh.sync()
        replicas = list(people.values()) + [fresh]
        for o in replicas:
            self.assertClean(o)
            for u, draft in drafts.items():
                self.assertDraftExactlyOnce(o, case, draft, shas[u], u)
        views = {o.name: json.dumps(strip_tentative(o.show(case)), sort_keys=True) for o in replicas}
        self.assertEqual(len(set(views.values())), 1, self.msg("replicas differ: %s" % sorted(
            (n, hashlib.sha256(v.encode()).hexdigest()[:12]) for n, v in views.items())))
        return fresh, replicas


class ClientCrashTest(CrashBase):
    N = 300            # revisions pending before the first kill
    PUSH_KILLS = 40    # syncs started while the outbox is full, killed at a random moment
    PULL_KILLS = 20    # a fresh replica's syncs, killed the same way
    MORE = 8           # revisions written between two killed syncs: the push stays large

    def kill_sync(self, o, lo=0.01, hi=0.25):
        """Starts `alur sync` and kills it -9 after a random delay; returns (killed, delay),
        killed True if it was still running (a real mid-sync kill). The replica must stay
        readable afterwards."""
        proc = self.spawn([ALUR, "--home", o.home, "--json", "sync"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        delay = self.rng.uniform(lo, hi)
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            proc.kill()
        proc.wait(timeout=30)
        st = o.run("status")
        self.assertEqual(st.code, 0, self.msg("%s: status after a kill at %.3fs failed: %r"
                                              % (o.name, delay, st)))
        return killed, delay

    def test_client_killed_during_sync_commits_each_change_exactly_once(self):
        srv = self.server()
        _, case = self.open_case(srv)
        writer = self.official(srv, "kasubag")
        writer.sync()
        shas = [self.put(writer, case, "bahan-rapat", i) for i in range(self.N)]
        self.assertEqual(writer.status()["tentative"], self.N)

        # Kill until PUSH_KILLS syncs died mid-way. A sync that finished before its kill
        # shows that a sync is shorter than that delay, so later delays are drawn below
        # it: faster syncs must not make the test kill fewer of them (CI, 2026-12-01:
        # 19 of 40 with a fixed window).
        push_kills, attempts, hi = 0, 0, 0.25
        while push_kills < self.PUSH_KILLS and attempts < 2 * self.PUSH_KILLS:
            attempts += 1
            killed, delay = self.kill_sync(writer, 0.01, hi)
            push_kills += killed
            if not killed:
                hi = max(0.03, delay)
            shas += [self.put(writer, case, "bahan-rapat", len(shas)) for _ in range(self.MORE)]
        self.assertGreaterEqual(push_kills, self.PUSH_KILLS // 2,
                                self.msg("too few syncs killed mid-way (%d attempts)" % attempts))

        rep = writer.run("sync")
        self.assertEqual(rep.code, 0, self.msg("final sync failed: %r" % rep))
        self.assertEqual(rep.json["rejected"], 0, self.msg("final sync rejected: %r" % rep.json))
        self.assertEqual(writer.sync()["pushed"], 0, self.msg("a second sync still pushed"))
        self.assertClean(writer)

        # A second, fresh replica pulls everything; its pulls are killed too, while the
        # writer keeps adding (and pushing) so that there is always more to pull.
        fresh = self.official(srv, "pelaksana")
        pull_kills = 0
        for attempt in range(self.PULL_KILLS):
            pull_kills += self.kill_sync(fresh, 0.01, 0.15)[0]
            if attempt % 2:
                shas += [self.put(writer, case, "bahan-rapat", len(shas)) for _ in range(self.MORE)]
                self.assertEqual(writer.run("sync").code, 0)
        sys.stderr.write("[%d of %d pushes and %d of %d pulls killed mid-way] "
                         % (push_kills, attempts, pull_kills, self.PULL_KILLS))
        r = fresh.run("sync")
        self.assertEqual(r.code, 0, self.msg("fresh replica's final sync failed: %r" % r))
        d_fresh = self.assertDraftExactlyOnce(fresh, case, "bahan-rapat", shas, "kasubag")
        d_writer = self.assertDraftExactlyOnce(writer, case, "bahan-rapat", shas, "kasubag")
        self.assertEqual([x["rev"] for x in d_fresh["revisions"]], [x["rev"] for x in d_writer["revisions"]])
        self.assertEqual(strip_tentative(fresh.show(case)), strip_tentative(writer.show(case)),
                         self.msg("replicas differ"))
        # The contents arrived intact: a sample of revisions, read back from the fresh replica.
        by_sha = {x["sha256"]: x["rev"] for x in d_fresh["revisions"]}
        for i in sorted(self.rng.sample(range(len(shas)), 8) + [len(shas) - 1]):
            self.assertContent(fresh, case, "bahan-rapat", by_sha[shas[i]], shas[i])
        checked = check_ledger(self, srv, {"kasubag": len(shas)}, self.msg)
        self.assertNoSanitizerReport(srv)
        sys.stderr.write("\nFIGURES test=client_kills client_kills=%d push_kills=%d pull_kills=%d "
                         "changes_checked=%d\n" % (push_kills + pull_kills, push_kills, pull_kills, checked))


class LocalWriteCrashTest(CrashBase):

    def test_client_killed_while_writing_locally_keeps_a_consistent_replica(self):
        """kill -9 during `draft put` itself: each write is all or nothing, an exit 0 write
        is durable, and the hash chain stays unbroken (the server accepts everything)."""
        srv = self.server()
        _, case = self.open_case(srv)
        writer = self.official(srv, "kasubag")
        writer.sync()
        # One write left to finish says how long a write takes on this machine now; the
        # kills then fall anywhere in 0..1.5 times that, so some writes finish and most die
        # at every stage, however loaded the machine (a fixed 20 ms window once killed all
        # 60 before they started).
        body = "isi pertama\n"
        t0 = time.monotonic()
        r = writer.run("draft", "put", case, "bahan", "--file", writer.file(body, "local-first.txt"))
        write_s = time.monotonic() - t0
        self.assertEqual(r.code, 0, self.msg("the first draft put failed: %r" % r))
        sha = hashlib.sha256(body.encode()).hexdigest()
        finished, attempted = [sha], {sha: -1}
        for i in range(60):
            body = "isi %d\n%s\n" % (i, "y" * self.rng.randrange(100000))
            path = writer.file(body, "local-%d.txt" % i)
            sha = hashlib.sha256(body.encode()).hexdigest()
            attempted[sha] = i
            proc = self.spawn([ALUR, "--home", writer.home, "--json", "draft", "put", case, "bahan", "--file", path],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(self.rng.uniform(0.0, 1.5 * write_s))
            if proc.poll() is None:
                proc.kill()
            if proc.wait(timeout=30) == 0:
                finished.append(sha)
        st = writer.status()
        local = writer.draft_show(case, "bahan")["revisions"] if st["tentative"] else []
        self.assertEqual(len(local), st["tentative"], self.msg("pending count and draft disagree"))
        local_shas = [x["sha256"] for x in local]
        for sha in finished:
            self.assertIn(sha, local_shas, self.msg("write %d exited 0 but is gone" % attempted[sha]))
        self.assertTrue(set(local_shas) <= set(attempted), self.msg("a revision nobody wrote"))
        sys.stderr.write("[%d of 61 writes finished, %d kept; a write took %.3f s] "
                         % (len(finished), len(local), write_s))

        r = writer.run("sync")
        self.assertEqual(r.code, 0, self.msg("sync after the crashes failed: %r" % r))
        self.assertEqual((r.json["accepted"], r.json["rejected"]), (len(local), 0),
                         self.msg("server did not accept the crashed replica's chain: %r" % r.json))
        self.assertClean(writer)
        fresh = self.official(srv, "pelaksana")
        fresh.sync()
        self.assertDraftExactlyOnce(fresh, case, "bahan", local_shas, "kasubag")
        self.assertNoSanitizerReport(srv)


class ServerCrashTest(CrashBase):
    KILLS = 50

    def test_server_killed_while_clients_push_and_pull_converges_without_duplicates(self):
        srv = self.server()
        sek, case = self.open_case(srv)
        writers = {"kasubag": "bahan-kasubag", "pelaksana": "bahan-pelaksana"}
        people = {u: self.official(srv, u) for u in list(writers) + ["kabid_koperasi", "kadis"]}
        people["sekretaris"] = sek
        for o in people.values():
            o.sync()
        shas = {u: [] for u in writers}
        # Some pending work before the chaos starts.
        for u, draft in writers.items():
            for i in range(40):
                shas[u].append(self.put(people[u], case, draft, i))

        stop = threading.Event()
        errors = []
        stats = {"ok": 0, "failed": 0}
        codes = {}
        kills = 0

        def note(u, r):
            self.tally_sync(stats, codes, errors, u, r)

        def writer_loop(u, draft, rng):
            o = people[u]
            try:
                while not stop.is_set():
                    for _ in range(rng.choice((1, 3, 10, 25))):  # small and large pushes
                        shas[u].append(self.put(o, case, draft, len(shas[u])))
                    note(u, o.run("sync"))
            except Exception as e:  # pragma: no cover - reported below
                errors.append("%s: %r" % (u, e))

        def reader_loop(u, rng):
            o = people[u]
            try:
                while not stop.is_set():
                    note(u, o.run("sync"))
                    time.sleep(rng.choice((0.02, 0.3, 1.0)))  # small and large pulls
            except Exception as e:  # pragma: no cover
                errors.append("%s: %r" % (u, e))

        threads = [threading.Thread(target=writer_loop, args=(u, d, random.Random(self.seed + i)))
                   for i, (u, d) in enumerate(writers.items())]
        threads += [threading.Thread(target=reader_loop, args=(u, random.Random(self.seed + 10 + i)))
                    for i, u in enumerate(("kabid_koperasi", "kadis"))]
        for t in threads:
            t.start()
        try:
            for _ in range(self.KILLS):
                time.sleep(self.rng.uniform(0.05, 0.5))
                srv.kill9()
                kills += 1
                time.sleep(self.rng.uniform(0.0, 0.2))
                srv.start()
            time.sleep(self.rng.uniform(0.1, 0.4))
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=120)
        self.assertEqual(errors, [], self.msg("client errors during the chaos"))
        sys.stderr.write("[syncs ok %d, failed %d: %r] " % (stats["ok"], stats["failed"], codes))

        fresh, replicas = self.converge_all(people, srv, case, writers, shas)
        drafts = {o.name: json.dumps([[x["rev"], x["parents"], x["sha256"]]
                                      for d in writers.values()
                                      for x in o.draft_show(case, d)["revisions"]]) for o in replicas}
        self.assertEqual(len(set(drafts.values())), 1, self.msg("draft histories differ"))
        for u, draft in writers.items():
            d = fresh.draft_show(case, draft)
            head = d["heads"][0]
            sha = [x["sha256"] for x in d["revisions"] if x["rev"] == head][0]
            self.assertEqual(sha, shas[u][-1], self.msg("%s: the head is not the last revision written" % draft))
            for o in replicas:
                self.assertContent(o, case, draft, head, sha)
        checked = check_ledger(self, srv, {u: len(shas[u]) for u in writers}, self.msg)
        self.assertNoSanitizerReport(srv)
        sys.stderr.write("\nFIGURES test=server_kills server_kills=%d syncs_ok=%d syncs_failed=%d "
                         "changes_checked=%d\n" % (kills, stats["ok"], stats["failed"], checked))


if __name__ == "__main__":
    unittest.main()
