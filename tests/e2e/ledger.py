"""Reads a stopped or running alur-server's database (read-only; SQLite or PostgreSQL) to
check, from the server's own record, that no change was lost or committed twice
(server/SCHEMA.md)."""
import os
import sqlite3
import subprocess


def _rows(server, sql):
    """The rows of a query on the server's store: its SQLite file, or with `--store
    postgresql://…` that database (through psql)."""
    store = server.store_args[1] if server.store_args else ""
    if store.startswith(("postgresql://", "postgres://")):
        out = subprocess.run(["psql", store, "-XtAF", "\x1f", "-c", sql], capture_output=True,
                             text=True, check=True, timeout=60).stdout
        return [tuple(int(v) if v.isdigit() else v for v in line.split("\x1f"))
                for line in out.splitlines() if line]
    path = store[len("sqlite:"):] if store else os.path.join(server.data, "alur-server.db")
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def server_ledger(server):
    """{"log": [(replica, counter)...] in commit order, "changes": {(replica, counter):
    (status, code)}, "authors": {replica: author}, "enrolment": {(replica, counter)...}: the
    key.add each enrolment publishes (personal signatures), not written by a test}."""
    log = _rows(server, "SELECT replica, counter FROM log ORDER BY seq")
    rows = _rows(server, "SELECT replica, counter, status, code, author, op FROM changes")
    return {"log": log,
            "changes": {(r, c): (st, code) for r, c, st, code, _, _ in rows},
            "authors": {r: a for r, _, _, _, a, _ in rows},
            "enrolment": {(r, c) for r, c, _, _, _, op in rows if op == "key.add"}}


def check_ledger(test, server, expected_by_author, msg=lambda m: m):
    """Asserts: each change at most once in the committed log; every accepted change is in
    it; each author in expected_by_author has exactly that many changes accepted, besides
    the key.add of each of their enrolments.
    Returns the number of log entries checked."""
    led = server_ledger(server)
    log = led["log"]
    test.assertEqual(len(log), len(set(log)), msg("a change is in the server's log twice"))
    committed = set(log)
    for dot, (status, code) in led["changes"].items():
        if status == "accepted":
            test.assertIn(dot, committed, msg("accepted change %r missing from the log" % (dot,)))
    for author, n in expected_by_author.items():
        got = sum(1 for dot in committed - led["enrolment"] if led["authors"].get(dot[0]) == author)
        test.assertEqual(got, n, msg("%s: %d changes in the server's log, expected %d"
                                     % (author, got, n)))
    return len(log)
