"""alur-server on PostgreSQL (`serve --store postgresql://…`), end to end: real server,
real clients over TLS, a real PostgreSQL cluster (the CTest fixture `pg`,
tests/pg/cluster.sh). Without the cluster the test fails, it never skips."""
import os
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR_SERVER, E2ETest, Office, run, strip_tentative, task_of  # noqa: E402


def cluster_url():
    path = os.environ.get("ALUR_TEST_PG_URL_FILE")
    if not path or not os.path.exists(path):
        raise AssertionError("PostgreSQL test cluster not running: run through ctest (fixture pg, "
                             "tests/pg/cluster.sh) or set ALUR_TEST_PG_URL_FILE (got %r)" % path)
    with open(path) as f:
        return f.read().strip()


def fresh_database(test):
    """A database of its own in the test cluster, dropped at the end of the test."""
    admin = cluster_url()
    name = "e2e_%d_%d" % (os.getpid(), id(test) % 100000)
    subprocess.run(["psql", admin, "-q", "-c", "CREATE DATABASE %s" % name], check=True)
    test.addCleanup(subprocess.run, ["psql", admin, "-q", "-c",
                                     "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name])
    return admin.rsplit("/", 1)[0] + "/" + name


class PostgresStoreTest(E2ETest):

    def test_two_clients_enrol_act_sync_and_converge_on_postgresql(self):
        store = fresh_database(self)
        srv = self.server(store=store)
        office = Office(self, srv, users=["sekretaris", "kabid_koperasi", "kabid_mikro"])
        sek, kop = office["sekretaris"], office["kabid_koperasi"]

        case = office.open_case("2026-Q3")
        office.do(case, "1")
        office.do(case, "2.koperasi")
        office.sync_all()
        sek_view = strip_tentative(sek.show(case))
        self.assertEqual(strip_tentative(kop.show(case)), sek_view)
        self.assertEqual(task_of(sek_view, "%s.1" % case)["state"], "done")
        self.assertEqual(task_of(sek_view, "%s.2.koperasi" % case)["state"], "done")

        # The records are in PostgreSQL, not in the data folder.
        self.assertFalse(os.path.exists(os.path.join(srv.data, "alur-server.db")))
        out = subprocess.run(["psql", store, "-tAc", "SELECT count(*) FROM log"],
                             capture_output=True, text=True, check=True).stdout.strip()
        self.assertGreaterEqual(int(out), 5, "org.set, case.open, 1, 2.koperasi and key.adds")

        # A restart keeps everything; a client syncs on.
        srv.kill9()
        srv.start()
        office.do(case, "2.usaha_mikro")
        sek.sync()
        self.assertEqual(task_of(sek.show(case), "%s.2.usaha_mikro" % case)["state"], "done")

        # verify reads the same database and finds the record whole.
        v = run([ALUR_SERVER, "verify", "--data", srv.data, "--store", store, "--json"])
        self.assertEqual(v.code, 0, v)
        self.assertTrue(v.json["ok"], v.json)
        self.assertEqual(v.json["entries"], int(subprocess.run(
            ["psql", store, "-tAc", "SELECT max(seq) FROM log"],
            capture_output=True, text=True, check=True).stdout.strip()))

    def test_backup_of_a_postgresql_store_says_to_use_pg_dump(self):
        store = fresh_database(self)
        srv = self.server(start=False, store=store)
        r = run([ALUR_SERVER, "backup", "--data", srv.data, "--store", store,
                 "--out", os.path.join(self.workdir, "cadangan")])
        self.assertEqual(r.code, 1, r)
        self.assertIn("pg_dump", r.err)
        self.assertIn("[unsupported_store]", r.err)
        self.assertFalse(os.path.exists(os.path.join(self.workdir, "cadangan")))

    def test_unreachable_database_is_a_clear_error(self):
        srv = self.server(start=False, store=fresh_database(self))
        r = run([ALUR_SERVER, "serve", "--data", srv.data, "--listen", "127.0.0.1:0",
                 "--store", "postgresql://postgres@127.0.0.1:1/tidak_ada"])
        self.assertEqual(r.code, 1, r)
        self.assertIn("[db_unavailable]", r.err)
        self.assertIn("PostgreSQL", r.err)


if __name__ == "__main__":
    unittest.main()
