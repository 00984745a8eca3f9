"""Schema migrations on start (sql::migrate): a server database and a replica in the
layout of the previous schema version (1) are opened by the current binaries, which
migrate them; the official's unsent changes survive and are sent, the server's record
still verifies, and both files end at the current version with the new tables.

Version 1 of both schemas is version 2 without the tables version 2 added (commit ce97039:
`templates` in both, `schedules` on the server) and with meta.schema_version = 1; the
replica's version 3 added the stored overlay (`overlay`, `doomed`, `ready_tasks`, two
indexes, meta `overlay_head`/`overlay_org`) and version 4 the index `log_count`; the server's
version 3 keeps an accepted change's encoding only in `log` (`changes.encoded` NULL), where
versions 1 and 2 kept a copy in `changes` too. The test makes such files from real ones, with real data, by undoing
exactly that."""
import os
import sqlite3
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR_SERVER, ROOT, E2ETest, run  # noqa: E402

ADDED_SINCE_V1 = {"server": ["templates", "schedules"],
                  "replica": ["templates", "overlay", "doomed", "ready_tasks"]}
INDEXES_SINCE_V1 = {"server": [],
                    "replica": ["cases_by_period", "outbox_by_seq", "log_count"]}
CURRENT = {"server": "3", "replica": "4"}

# The server's `changes` before version 3: every change's encoding, NOT NULL.
CHANGES_V1 = """CREATE TABLE changes_v1 (
  replica TEXT NOT NULL, counter INTEGER NOT NULL, hash BLOB NOT NULL, op TEXT NOT NULL,
  record TEXT NOT NULL, author TEXT NOT NULL, encoded BLOB NOT NULL, status TEXT NOT NULL,
  code TEXT NOT NULL, message TEXT NOT NULL, seq INTEGER, received_at INTEGER NOT NULL,
  PRIMARY KEY (replica, counter))"""


def to_version_1(path, kind):
    db = sqlite3.connect(path)
    with db:
        for table in ADDED_SINCE_V1[kind]:
            db.execute("DROP TABLE %s" % table)
        for index in INDEXES_SINCE_V1[kind]:
            db.execute("DROP INDEX %s" % index)
        if kind == "server":
            db.execute(CHANGES_V1)
            db.execute("INSERT INTO changes_v1 SELECT c.replica, c.counter, c.hash, c.op, "
                       "c.record, c.author, COALESCE(c.encoded, l.encoded), c.status, c.code, "
                       "c.message, c.seq, c.received_at FROM changes c "
                       "LEFT JOIN log l ON l.seq = c.seq")
            db.execute("DROP TABLE changes")
            db.execute("ALTER TABLE changes_v1 RENAME TO changes")
        db.execute("DELETE FROM meta WHERE key IN ('overlay_head', 'overlay_org')")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def layout(path):
    db = sqlite3.connect(path)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    copies = None
    if "changes" in tables:  # how many changes keep their own encoding
        copies = db.execute("SELECT COUNT(*) FROM changes WHERE encoded IS NOT NULL").fetchone()[0]
    version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    db.close()
    return tables, version, copies


class UpgradeTest(E2ETest):

    def test_previous_schema_upgraded_on_start_keeping_unsent_changes(self):
        srv = self.server()
        sekre = self.official(srv, "sekretaris")
        kabid = self.official(srv, "kabid_koperasi")
        case = sekre.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        sekre.sync()
        kabid.sync()
        # Offline work that has not reached the server when the old version is replaced.
        self.assertIn(case + ".1", [t["task"] for t in sekre.inbox()])
        sekre.ok("act", case + ".1", "--text", "Rapat koordinasi LAKIP")
        self.assertEqual(sekre.status()["tentative"], 1)
        srv.stop()

        server_db = os.path.join(srv.data, "alur-server.db")
        replica_db = os.path.join(sekre.home, "replica.db")
        to_version_1(server_db, "server")
        to_version_1(replica_db, "replica")
        self.assertEqual(layout(replica_db)[1], "1")
        changes_before = layout(server_db)[2]
        self.assertGreater(changes_before, 0)  # the old layout: every change's bytes copied
        self.assertNotIn("templates", layout(replica_db)[0])

        # The new client opens the old replica: migrated, the unsent change still waiting.
        status = sekre.status()
        self.assertEqual(status["tentative"], 1, status)
        self.assertEqual(status["conflicting"], [], status)
        tables, version, _ = layout(replica_db)
        self.assertEqual(version, CURRENT["replica"])
        self.assertTrue({"templates", "overlay", "doomed"} <= tables)
        # The unsent step shows as done at once, as before the upgrade.
        shown = sekre.ok("case", "show", case)
        step1 = [t for s in shown["steps"] if s["step"] == 1 for t in s["tasks"]]
        self.assertEqual([(t["state"], t["tentative"]) for t in step1], [("done", True)], step1)
        self.assertNotIn(case + ".1", [t["task"] for t in sekre.inbox()])

        # The new server opens the old database: migrated, its record intact, and the
        # change is accepted and reaches the other official.
        r = run([ALUR_SERVER, "verify", "--data", srv.data, "--json"])
        self.assertEqual(r.code, 0, r)
        self.assertTrue(r.json["ok"], r)
        tables, version, copies = layout(server_db)
        self.assertEqual(version, CURRENT["server"])
        self.assertTrue({"templates", "schedules"} <= tables)
        self.assertEqual(copies, 0)  # every change here was accepted: its bytes are the log's
        db = sqlite3.connect(server_db)
        self.assertEqual(db.execute("SELECT COUNT(*) FROM changes").fetchone()[0], changes_before)
        db.close()
        srv.start()
        result = sekre.sync()
        self.assertEqual((result["accepted"], result["rejected"]), (1, 0), result)
        self.assertEqual(sekre.status()["tentative"], 0)
        kabid.sync()
        self.assertIn(case + ".2.koperasi", [t["task"] for t in kabid.inbox()])
        # The tables the migration added work: a schedule on the server, and a template
        # imported there and replicated into the migrated replica.
        r = run([ALUR_SERVER, "schedule", "add", "--data", srv.data, "LAKIP", "--quarterly"])
        self.assertEqual(r.code, 0, r)
        r = run([ALUR_SERVER, "sop", "import", "--data", srv.data,
                 os.path.join(ROOT, "tests", "fixtures", "sop", "data-lakip.json")])
        self.assertEqual(r.code, 0, r)
        sekre.sync()
        self.assertEqual(sekre.ok("sop", "show", "DATA-LAKIP")["sop"], "DATA-LAKIP")

    def test_newer_schema_refused_and_left_alone(self):
        srv = self.server(start=False)
        server_db = os.path.join(srv.data, "alur-server.db")
        db = sqlite3.connect(server_db)
        with db:
            db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        db.close()
        r = run([ALUR_SERVER, "verify", "--data", srv.data])
        self.assertEqual(r.code, 1, r)
        self.assertIn("[schema_too_new]", r.err)
        self.assertEqual(layout(server_db)[1], "99")


if __name__ == "__main__":
    unittest.main()
