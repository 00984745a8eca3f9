"""alur-server backup / restore (server/backup.h) with real processes and files: a backup
made while officials keep committing, restored into a new server on another folder, and
the officials' PCs syncing on against it; a PC that had pulled past the backup is stopped
with server_behind and recovers its lost changes with `alur repair --force`. Then every
bad input: missing or unfinished backups, a changed byte, a hostile manifest, a folder
that is not empty, a unit's backup, a restore under a running server."""
import json
import os
import shutil
import stat
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import ALUR_SERVER, E2ETest, Server, run  # noqa: E402

DISDIK_ORG = {
    "unit": "Dinas Pendidikan Kabupaten Sukabumi",
    "bidang": [{"code": "paud", "name": "Bidang PAUD"}],
    "users": [{"username": "sekretaris", "name": "Drs. Ujang Sobandi",
               "password": "disdik-sekre-1", "roles": [{"role": "sekretaris"}]}],
}


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class BackupTest(E2ETest):

    def setUp(self):
        super().setUp()
        self.srv = self.server(start=False)
        self.server_ok("unit", "add", "--data", self.srv.data, "disdik")
        org = os.path.join(self.workdir, "org-disdik.json")
        with open(org, "w") as f:
            json.dump(DISDIK_ORG, f)
        self.server_ok("org", "import", "--data", self.srv.data, "--unit", "disdik", org)
        self.srv.start()

    def server_ok(self, *args):
        r = run([ALUR_SERVER] + list(args))
        self.assertEqual(r.code, 0, r)
        return r

    def server_json(self, *args):
        return self.server_ok(*args, "--json").json

    def server_fails(self, code, *args):
        r = run([ALUR_SERVER] + list(args))
        self.assertEqual(r.code, 1, r)
        self.assertIn("[%s]" % code, r.err, r)
        return r

    def backup(self, out, *extra):
        return self.server_json("backup", "--data", self.srv.data, "--out", out, *extra)

    def test_backup_while_written_restored_into_new_server_and_clients_sync_on(self):
        kabid = self.official(self.srv, "kabid_koperasi")
        sekre = self.official(self.srv, "sekretaris")
        kabid.sync()  # has everything so far, the Sekretaris's enrolment (her key.add) too
        head_before = self.server_json("verify", "--data", self.srv.data)["entries"]
        self.assertGreater(head_before, 0)

        # The Sekretaris keeps opening cases and syncing while the backup is made.
        stop = threading.Event()
        committed = []
        errors = []

        def writer():
            i = 0
            while not stop.is_set() and i < 200:
                r = sekre.run("case", "open", "--sop", "LAKIP", "--period", "%d-Q1" % (2100 + i))
                s = sekre.run("sync")
                if r.code != 0 or s.code != 0:
                    errors.append((r, s))
                    return
                committed.append(r.json["case"])
                i += 1

        t = threading.Thread(target=writer)
        t.start()
        try:
            deadline = time.monotonic() + 60
            while len(committed) < 2 and time.monotonic() < deadline and not errors:
                time.sleep(0.05)
            out = os.path.join(self.workdir, "cadangan-1")
            summary = self.backup(out)
            at_backup = len(committed)
            while len(committed) < at_backup + 2 and time.monotonic() < deadline and not errors:
                time.sleep(0.05)
        finally:
            stop.set()
            t.join(timeout=120)
        self.assertEqual(errors, [])
        self.assertGreaterEqual(len(committed), at_backup + 2, "writes continued after the backup")

        # What the backup holds: both units' databases, the TLS identity, a manifest; private.
        self.assertEqual(sorted(summary["files"]),
                         ["alur-server.db", "tls/server.crt", "tls/server.key",
                          "units/disdik/alur-server.db"])
        self.assertEqual(mode(out), 0o700)
        for rel in summary["files"] + ["alur-backup.json"]:
            self.assertEqual(mode(os.path.join(out, rel)), 0o600, rel)
        with open(os.path.join(out, "alur-backup.json")) as f:
            manifest = json.load(f)
        backup_head = summary["heads"][""]
        self.assertEqual(manifest["heads"][""], backup_head)
        self.assertGreaterEqual(backup_head, head_before + 2)
        self.assertGreaterEqual(manifest["heads"]["disdik"], 1)

        # The office's server dies; the backup is restored into a new folder and served on
        # the same address, with the same certificate: enrolled PCs need nothing new.
        old_fingerprint = self.srv.fingerprint
        port = self.srv.port
        self.srv.kill9()
        new_data = os.path.join(self.workdir, "server-baru")
        restored = self.server_json("restore", "--from", out, "--data", new_data)
        self.assertEqual(restored["heads"], manifest["heads"])
        self.assertEqual(mode(new_data), 0o700)
        self.assertEqual(mode(os.path.join(new_data, "tls", "server.key")), 0o600)
        for unit in ([], ["--unit", "disdik"]):
            v = self.server_json("verify", "--data", new_data, *unit)
            self.assertTrue(v["ok"], v)
        self.assertEqual(self.server_ok("fingerprint", "--data", new_data).out.strip(),
                         old_fingerprint)
        new = Server(self.workdir, "server-baru")
        new.port = port
        new.fingerprint = old_fingerprint
        self.servers.append(new)
        new.start()

        # The Kabid had synced before the writes: syncs on and sees every case of the backup.
        kabid_sync = kabid.sync()
        self.assertEqual(kabid_sync["pulled"], backup_head - head_before)
        cases = {c["case"] for c in kabid.ok("case", "list")}
        self.assertEqual(len(cases), backup_head - head_before)
        self.assertTrue(cases <= set(committed))
        # A PC enrolled for the first time against the restored server.
        kadis = self.official(new, "kadis")
        self.assertEqual({c["case"] for c in kadis.ok("case", "list")}, cases)

        # The Sekretaris's PC had pulled past the backup: it is stopped, not misled...
        r = sekre.run("sync")
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.error_code, "server_behind", r)
        # ...and its repair re-sends what the restored server lacks.
        rep = sekre.run("repair", "--force")
        self.assertEqual(rep.code, 0, rep)
        self.assertEqual(rep.json["lost"], [])
        self.assertEqual(sekre.ok("sync")["rejected"], 0)
        self.assertEqual({c["case"] for c in sekre.ok("case", "list")}, set(committed))
        # Work goes on: the Sekretaris's disposition reaches the Kabid's inbox.
        first = sorted(committed)[0]
        sekre.ok("act", first + ".1", "--text", "Siapkan bahan rapat LAKIP")
        self.assertEqual(sekre.sync()["accepted"], 1)
        kabid.sync()
        self.assertIn(first + ".2.koperasi", [t["task"] for t in kabid.inbox()])
        self.assertEqual(set(c["case"] for c in kabid.ok("case", "list")), set(committed))
        v = self.server_json("verify", "--data", new_data)
        self.assertTrue(v["ok"], v)

    def test_bad_paths_and_corrupt_backups_are_refused_clearly(self):
        out = os.path.join(self.workdir, "cadangan")
        self.backup(out)
        target = os.path.join(self.workdir, "tujuan")

        # Not a backup, or an unfinished one.
        self.server_fails("backup_missing", "restore", "--from",
                          os.path.join(self.workdir, "tidak-ada"), "--data", target)
        half = os.path.join(self.workdir, "setengah")
        shutil.copytree(out, half)
        os.remove(os.path.join(half, "alur-backup.json"))
        self.server_fails("backup_incomplete", "restore", "--from", half, "--data", target)
        self.assertFalse(os.path.exists(target))

        # A changed byte in a database: refused before anything is written.
        bad = os.path.join(self.workdir, "rusak")
        shutil.copytree(out, bad)
        with open(os.path.join(bad, "units", "disdik", "alur-server.db"), "r+b") as f:
            f.seek(200)
            b = f.read(1)
            f.seek(200)
            f.write(bytes([b[0] ^ 0xFF]))
        r = self.server_fails("backup_corrupt", "restore", "--from", bad, "--data", target)
        self.assertIn("units/disdik/alur-server.db", r.err)
        self.assertFalse(os.path.exists(target))

        # A hostile manifest naming a file outside the data folder.
        evil = os.path.join(self.workdir, "jahat")
        shutil.copytree(out, evil)
        mpath = os.path.join(evil, "alur-backup.json")
        with open(mpath) as f:
            m = json.load(f)
        m["files"][0]["path"] = "../../jahat.db"
        with open(mpath, "w") as f:
            json.dump(m, f)
        self.server_fails("backup_corrupt", "restore", "--from", evil, "--data", target)
        with open(mpath, "w") as f:
            f.write("{ bukan json")
        self.server_fails("backup_corrupt", "restore", "--from", evil, "--data", target)
        self.assertFalse(os.path.exists(target))

        # Backups never overwrite; the source must be a server; the unit must exist.
        self.server_fails("backup_exists", "backup", "--data", self.srv.data, "--out", out)
        self.server_fails("not_initialized", "backup", "--data",
                          os.path.join(self.workdir, "kosong"), "--out", target)
        self.server_fails("unit_unknown", "backup", "--data", self.srv.data, "--out", target,
                          "--unit", "dinsos")
        self.assertFalse(os.path.exists(target))

        # A folder that holds something is kept unless --force, which moves it aside.
        os.makedirs(target)
        with open(os.path.join(target, "catatan.txt"), "w") as f:
            f.write("milik admin")
        self.server_fails("restore_target_not_empty", "restore", "--from", out, "--data", target)
        self.assertEqual(os.listdir(target), ["catatan.txt"])
        self.server_ok("restore", "--from", out, "--data", target, "--force")
        aside = [d for d in os.listdir(target) if d.startswith("sebelum-pulih-")]
        self.assertEqual(len(aside), 1)
        with open(os.path.join(target, aside[0], "catatan.txt")) as f:
            self.assertEqual(f.read(), "milik admin")
        self.assertTrue(self.server_json("verify", "--data", target)["ok"])

        # One unit's backup restores as that unit into an initialised server only.
        unit_out = os.path.join(self.workdir, "cadangan-disdik")
        s = self.backup(unit_out, "--unit", "disdik")
        self.assertEqual(s["files"], ["units/disdik/alur-server.db"])
        fresh = os.path.join(self.workdir, "server-lain")
        self.server_fails("not_initialized", "restore", "--from", unit_out, "--data", fresh)
        self.server_ok("init", "--data", fresh)
        self.server_ok("restore", "--from", unit_out, "--data", fresh)
        units = self.server_json("unit", "list", "--data", fresh)
        self.assertEqual([(u["unit"], u["name"]) for u in units], [("disdik", DISDIK_ORG["unit"])])
        self.server_fails("restore_target_not_empty", "restore", "--from", unit_out, "--data", fresh)

    def test_no_restore_under_a_running_server_and_no_second_server(self):
        out = os.path.join(self.workdir, "cadangan")
        self.backup(out)
        sekre = self.official(self.srv, "sekretaris")
        case = sekre.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        sekre.sync()  # committed after the backup
        before = sorted(os.listdir(self.srv.data))

        # Even with --force, the folder a server is serving is left exactly as it was.
        r = self.server_fails("server_running", "restore", "--from", out, "--data",
                              self.srv.data, "--force")
        self.assertIn("hentikan dulu", r.err)
        self.assertEqual(sorted(os.listdir(self.srv.data)), before)
        # A second server on the same folder is refused before it listens.
        self.server_fails("server_running", "serve", "--data", self.srv.data, "--listen",
                          "127.0.0.1:0")
        self.assertTrue(self.srv.running)
        self.assertIn(case, [c["case"] for c in sekre.ok("case", "list")])
        sekre.sync()
        self.assertEqual(sekre.status()["pending"], [])

        # Stopped (even killed: the lock goes with the process), the restore goes ahead.
        self.srv.kill9()
        self.server_ok("restore", "--from", out, "--data", self.srv.data, "--force")
        self.assertEqual(len([d for d in os.listdir(self.srv.data)
                              if d.startswith("sebelum-pulih-")]), 1)
        self.assertTrue(self.server_json("verify", "--data", self.srv.data)["ok"])


if __name__ == "__main__":
    unittest.main()
