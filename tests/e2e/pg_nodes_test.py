"""Several alur-server nodes on one PostgreSQL database (the CTest fixture `pg`,
tests/pg/cluster.sh), end to end with the real binaries:
- a commit through one node reaches a live (`sync --watch`) replica on another at once
  (LISTEN/NOTIFY), well inside the 30 s safety-net poll (kCommitPollListening);
- a node whose database connection is terminated (pg_terminate_backend) while a push is in
  flight answers it with a clear, retryable error, commits nothing of it, reconnects, and
  the same push then succeeds; random terminations lose and duplicate nothing;
- two nodes, clients spread over them through TCP fronts (like a load balancer with a
  backup server); one node killed -9 mid-push; its clients move to the other; nothing lost
  or duplicated, every replica converges.
The random moments come from a seed printed in every failure message (ALUR_E2E_SEED)."""
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR, Server  # noqa: E402
from crash_test import CrashBase  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from ledger import check_ledger  # noqa: E402
from pg_test import cluster_url, fresh_database  # noqa: E402

CLUSTER_SH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pg",
                          "cluster.sh")
LIVE_BOUND = 5.0  # seconds; a node polls for others' commits only every 30 s


class Front:
    """A TCP front (faultproxy with fallbacks) that clients enrol and sync through."""

    def __init__(self, test, first, *others):
        self.proxy = FaultProxy(first.port, fallback_ports=[o.port for o in others]).start()
        test.addCleanup(self.proxy.stop)
        self.url = self.proxy.url
        self.fingerprint = first.fingerprint


def psql(url, sql):
    return subprocess.run(["psql", url, "-XtAc", sql], capture_output=True, text=True,
                          check=True, timeout=60).stdout.strip()


class NodesBase(CrashBase):

    def nodes(self, count=2):
        """count serve processes on one fresh database, sharing one TLS identity."""
        self.store = fresh_database(self)
        self.dbname = self.store.rsplit("/", 1)[1]
        first = self.server(store=self.store)
        nodes = [first]
        for i in range(1, count):
            n = Server(self.workdir, "node%d" % i)
            n.data, n.store_args, n.fingerprint = first.data, list(first.store_args), first.fingerprint
            self.servers.append(n)
            nodes.append(n.start())
        return nodes

    def terminate_backends(self, where="true"):
        """pg_terminate_backend on this test database's sessions (the nodes' store and
        LISTEN connections), never on another test's; returns how many."""
        return int(psql(cluster_url(), "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = '%s' AND pid <> pg_backend_pid() AND %s" % (self.dbname, where)))

    def watch(self, o):
        out = os.path.join(self.workdir, "watch-%s.out" % o.name)
        with open(out, "w") as f:
            p = self.spawn([ALUR, "--home", o.home, "sync", "--watch"], stdout=f,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(out) as f:
                if "terhubung ke server" in f.read():
                    return p
            self.assertIsNone(p.poll(), "watch of %s exited" % o.name)
            time.sleep(0.1)
        self.fail("watch of %s did not connect" % o.name)

    def wait_revisions(self, o, case, draft, n, timeout):
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            r = o.run("draft", "show", case, draft)
            if r.ok and len(r.json["revisions"]) >= n:
                return time.monotonic() - start
            time.sleep(0.05)
        self.fail(self.msg("%s: %d revisions of %s not seen within %ss" % (o.name, n, draft, timeout)))


class LiveAcrossNodesTest(NodesBase):

    def test_a_commit_through_one_node_reaches_a_live_replica_on_the_other_at_once(self):
        a, b = self.nodes()
        sek, case = self.open_case(a)
        kadis = self.official(b, "kadis")
        writer_b = self.official(b, "kasubag")      # pushes through node B, seen on A
        writer_a = self.official(a, "pelaksana")    # pushes through node A, seen on B
        for o in (kadis, writer_a, writer_b):
            o.sync()
        self.watch(sek)    # live on node A
        self.watch(kadis)  # live on node B
        took = []
        for i in range(3):
            for writer, reader, draft in ((writer_b, sek, "via-b"), (writer_a, kadis, "via-a")):
                self.put(writer, case, draft, i)
                self.assertEqual(writer.sync()["accepted"], 1)
                took.append(self.wait_revisions(reader, case, draft, i + 1, LIVE_BOUND))
        sys.stderr.write("\nFIGURES test=live_across_nodes rounds=%d max_s=%.2f mean_s=%.2f\n"
                         % (len(took), max(took), sum(took) / len(took)))
        for s in (a, b):
            self.assertIn("siap: unit /", s.log())
            self.assertNotIn("LISTEN PostgreSQL gagal", s.log())


class LostConnectionTest(NodesBase):

    def test_push_in_flight_when_the_connection_is_terminated_gets_a_retryable_error(self):
        a, b = self.nodes()
        sek, case = self.open_case(a)
        kadis = self.official(b, "kadis")
        kadis.sync()
        self.watch(kadis)
        # Five changes without attachments, so that the push is the only write of the sync.
        periods = ["%d-Q%d" % (2027 + i // 4, i % 4 + 1) for i in range(5)]
        for p in periods:
            sek.ok("case", "open", "--sop", "LAKIP", "--period", p)
        head = int(psql(self.store, "SELECT seq FROM log_head"))

        # Another session holds the log head's row lock: the node's push waits inside its
        # transaction, and its connection is terminated there.
        locker = self.spawn(["psql", self.store + "?application_name=penahan", "-Xq"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        locker.stdin.write("BEGIN;\nSELECT seq FROM log_head WHERE id = 1 FOR UPDATE;\n")
        locker.stdin.flush()
        self.wait_until("the lock is held", lambda: psql(cluster_url(), (
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'penahan' "
            "AND state = 'idle in transaction'")) == "1")
        sync = self.spawn([ALUR, "--home", sek.home, "--json", "sync"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
        waiting = "wait_event_type = 'Lock' AND application_name <> 'penahan'"
        self.wait_until("the push waits for the lock", lambda: psql(cluster_url(), (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND %s"
            % (self.dbname, waiting))) == "1")
        self.assertEqual(self.terminate_backends(waiting), 1)
        out, err = sync.communicate(timeout=60)
        self.assertEqual(sync.returncode, 1, (out, err))
        error = json.loads(out)["error"]
        self.assertEqual(error["code"], "server_db_unavailable", (out, err))
        self.assertIn("sinkronkan lagi", error["message"])
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        locker.stdin.write("ROLLBACK;\n")
        locker.stdin.close()
        locker.wait(timeout=30)

        # Nothing of it was committed; the node is still up and reconnects by itself.
        self.assertEqual(int(psql(self.store, "SELECT seq FROM log_head")), head)
        self.assertEqual(sek.status()["tentative"], 5)
        self.assertEqual(sek.status()["last_sync_error"]["code"], "server_db_unavailable")
        self.assertTrue(a.running and b.running)
        r = sek.run("sync")
        self.assertEqual(r.code, 0, r)
        self.assertEqual((r.json["accepted"], r.json["rejected"]), (5, 0), r.json)
        self.assertClean(sek)
        # kadis, live on node B, gets them without a sync of its own.
        deadline = time.monotonic() + LIVE_BOUND
        while len(kadis.ok("case", "list")) < 6:
            self.assertLess(time.monotonic(), deadline, "node A's commit not live on node B")
            time.sleep(0.05)
        self.assertEqual(sorted(c["period"] for c in kadis.ok("case", "list")),
                         sorted(periods + ["2026-Q3"]))
        check_ledger(self, a, {"sekretaris": 6}, self.msg)

    def test_random_terminations_lose_and_duplicate_nothing(self):
        a, b = self.nodes()
        sek, case = self.open_case(a)
        writers = {"kasubag": self.official(a, "kasubag"), "pelaksana": self.official(b, "pelaksana")}
        kadis = self.official(b, "kadis")
        for o in list(writers.values()) + [kadis]:
            o.sync()
        self.watch(kadis)
        shas = {u: [] for u in writers}
        codes, terminated = {}, 0
        for round_ in range(12):
            procs = {}
            for u, o in writers.items():
                shas[u] += [self.put(o, case, "bahan-" + u, len(shas[u]))
                            for _ in range(self.rng.choice((1, 10, 40)))]
                procs[u] = self.spawn([ALUR, "--home", o.home, "--json", "sync"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(self.rng.uniform(0.0, 0.4))
            terminated += self.terminate_backends()
            for u, p in procs.items():
                out, err = p.communicate(timeout=60)
                if p.returncode == 0:
                    self.assertEqual(json.loads(out)["rejected"], 0, self.msg(out))
                    continue
                code = json.loads(out)["error"]["code"] if out.strip() else None
                codes[code] = codes.get(code, 0) + 1
                self.assertEqual(code, "server_db_unavailable", self.msg("%s: %s %s" % (u, out, err)))
                self.assertEqual(len(err.strip().splitlines()), 1, self.msg(err))
        self.assertTrue(a.running and b.running, "a node ended when its connection was terminated")
        for u, o in writers.items():
            r = o.run("sync")
            self.assertEqual(r.code, 0, self.msg("%s: %r" % (u, r)))
            self.assertClean(o)
        # kadis's watch may be waiting out its backoff after a refused pull (up to 30 s).
        for u in writers:
            self.wait_revisions(kadis, case, "bahan-" + u, len(shas[u]), 40)
        # Both nodes' LISTEN connections were terminated too, and came back: a commit
        # through node A now reaches kadis's watch on node B live.
        for s in (a, b):
            self.assertIn("LISTEN PostgreSQL tersambung lagi", s.log())
        shas["kasubag"].append(self.put(writers["kasubag"], case, "bahan-kasubag", len(shas["kasubag"])))
        self.assertEqual(writers["kasubag"].sync()["accepted"], 1)
        self.wait_revisions(kadis, case, "bahan-kasubag", len(shas["kasubag"]), LIVE_BOUND)
        for u in writers:
            self.assertDraftExactlyOnce(kadis, case, "bahan-" + u, shas[u], u)
        checked = check_ledger(self, a, {u: len(shas[u]) for u in writers}, self.msg)
        sys.stderr.write("\nFIGURES test=pg_terminations rounds=12 sessions_terminated=%d "
                         "syncs_refused=%r changes_checked=%d\n" % (terminated, codes, checked))

    def test_postgresql_stopped_and_started_under_a_node_which_reconnects(self):
        """A cluster of this test's own (tests/pg/cluster.sh), so that stopping it disturbs
        no other test: the node stays up, a sync meanwhile is refused clearly with nothing
        stored, and once PostgreSQL is back the clients sync on and live works again."""
        parent = tempfile.mkdtemp(prefix="alur-pg-")
        os.chmod(parent, 0o755)  # the cluster runs as the postgres user under root
        cdir = os.path.join(parent, "cluster")
        cluster = lambda action: subprocess.run(["bash", CLUSTER_SH, action, cdir], check=True,
                                                capture_output=True, timeout=120)
        cluster("start")
        self.addCleanup(shutil.rmtree, parent, True)
        self.addCleanup(subprocess.run, ["bash", CLUSTER_SH, "stop", cdir], capture_output=True)
        with open(os.path.join(cdir, "url")) as f:
            url = f.read().strip()
        srv = self.server(store=url)
        sek, case = self.open_case(srv)
        writer, kadis = self.official(srv, "kasubag"), self.official(srv, "kadis")
        writer.sync()
        kadis.sync()
        self.watch(kadis)
        shas = [self.put(writer, case, "bahan", i) for i in range(10)]
        self.assertEqual(writer.sync()["accepted"], 10)

        cluster("down")
        shas += [self.put(writer, case, "bahan", 10 + i) for i in range(5)]
        r = writer.run("sync")
        self.assertEqual((r.code, r.error_code), (1, "server_db_unavailable"), r)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r)
        self.assertEqual(writer.status()["tentative"], 5)
        self.assertTrue(srv.running, "the node ended when PostgreSQL stopped:\n" + srv.log())

        cluster("up")
        deadline = time.monotonic() + 10  # the node tries again at most once a second
        while True:
            r = writer.run("sync")
            if r.ok or time.monotonic() > deadline:
                break
            self.assertEqual(r.error_code, "server_db_unavailable", r)
            time.sleep(0.3)
        self.assertEqual(r.code, 0, r)
        self.assertEqual((r.json["accepted"], r.json["rejected"]), (5, 0), r.json)
        self.assertClean(writer)
        # The LISTEN connection came back as well: kadis's watch gets the next commit live.
        self.wait_revisions(kadis, case, "bahan", 15, LIVE_BOUND)
        self.assertIn("LISTEN PostgreSQL tersambung lagi", srv.log())
        self.assertDraftExactlyOnce(kadis, case, "bahan", shas, "kasubag")
        check_ledger(self, srv, {"kasubag": 15}, self.msg)

    def wait_until(self, what, predicate, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail(what + ": not within %ss" % timeout)


class TwoNodeCrashTest(NodesBase):
    CHAOS = 2.0   # seconds of pushes and pulls before node A is killed
    AFTER = 4.0   # seconds after it: A's clients move to B

    def test_node_killed_mid_push_its_clients_move_to_the_other_and_all_converge(self):
        a, b = self.nodes()
        front_a, front_b = Front(self, a, b), Front(self, b, a)
        sek, case = self.open_case(front_a)
        writers = {"kasubag": front_a, "pelaksana": front_b}
        readers = {"kabid_koperasi": front_a, "kadis": front_b}
        people = {u: self.official(f, u) for u, f in list(writers.items()) + list(readers.items())}
        people["sekretaris"] = sek
        for o in people.values():
            o.sync()
        shas = {u: [self.put(people[u], case, "bahan-" + u, i) for i in range(40)] for u in writers}
        stop, errors, codes = threading.Event(), [], {}
        stats = {"ok": 0, "failed": 0}

        def note(u, r):
            self.tally_sync(stats, codes, errors, u, r)

        def writer_loop(u, rng):
            try:
                while not stop.is_set():
                    for _ in range(rng.choice((1, 5, 25))):
                        shas[u].append(self.put(people[u], case, "bahan-" + u, len(shas[u])))
                    note(u, people[u].run("sync"))
            except Exception as e:  # pragma: no cover - reported below
                errors.append("%s: %r" % (u, e))

        def reader_loop(u, rng):
            try:
                while not stop.is_set():
                    note(u, people[u].run("sync"))
                    time.sleep(rng.choice((0.05, 0.3)))
            except Exception as e:  # pragma: no cover
                errors.append("%s: %r" % (u, e))

        threads = [threading.Thread(target=writer_loop, args=(u, random.Random(self.seed + i)))
                   for i, u in enumerate(writers)]
        threads += [threading.Thread(target=reader_loop, args=(u, random.Random(self.seed + 9 + i)))
                    for i, u in enumerate(readers)]
        for t in threads:
            t.start()
        try:
            time.sleep(self.CHAOS + self.rng.uniform(0, 1))
            a.kill9()
            time.sleep(self.AFTER)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=120)
        self.assertEqual(errors, [], self.msg("client errors"))
        self.assertGreater(front_a.proxy.stats().get("failovers", 0), 0,
                           self.msg("node A's clients never moved to node B"))

        self.converge_all(people, front_b, case, {u: "bahan-" + u for u in writers}, shas)
        checked = check_ledger(self, b, {u: len(shas[u]) for u in writers}, self.msg)
        self.assertNoSanitizerReport(b)
        sys.stderr.write("\nFIGURES test=two_node_kill syncs_ok=%d syncs_failed=%d codes=%r "
                         "failovers=%d changes_checked=%d\n"
                         % (stats["ok"], stats["failed"], codes,
                            front_a.proxy.stats().get("failovers", 0), checked))


if __name__ == "__main__":
    unittest.main()
