"""The LAKIP quarter end to end: real alur-server, one replica per official, some of
them working while the server is down and syncing later."""
import json
import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from alurtest import (ALUR_SERVER, E2ETest, Office, STEP_ACTOR, org_document, run,  # noqa: E402
                      strip_tentative, task_of)


class QuarterBase(E2ETest):
    def setUp(self):
        super().setUp()
        self.srv = self.server()
        self.office = Office(self, self.srv)

    # helpers ------------------------------------------------------------------
    def offline(self):
        self.srv.kill9()

    def online(self):
        self.srv.start()

    def assertRejected(self, official, code, report=None):
        """official's status lists a rejected change with `code`; returns that entry."""
        st = official.status()
        codes = [x.get("code") for x in st["rejected"]]
        self.assertIn(code, codes, "%s: status.rejected %r (sync report %r)"
                      % (official.name, st["rejected"], report))
        for x in st["rejected"]:
            if x.get("code") == code:
                self.assertTrue(x.get("change"), "rejected entry without change id: %r" % x)
                self.assertTrue(x.get("message"), "rejected entry without message: %r" % x)
                return x

    def task_state(self, official, case, suffix):
        return task_of(official.show(case), "%s.%s" % (case, suffix))

    def draft_text(self, official, case, name):
        """The lines of the draft's (single) head, via `alur draft get --out`."""
        path = official.file("", "get-%s.txt" % name)
        official.ok("draft", "get", case, name, "--out", path)
        with open(path) as f:
            return f.readlines()

    def draft_heads(self, official, case, name):
        return official.draft_show(case, name)["heads"]


class QuarterTest(QuarterBase):

    def test_whole_quarter_with_offline_officials_converges(self):
        off = self.office
        sek, kasubag, pel, kadis = off["sekretaris"], off["kasubag"], off["pelaksana"], off["kadis"]
        laptop = self.official(self.srv, "sekretaris", device="sekretaris-laptop")
        everyone = list(off.people.values()) + [laptop]

        # The network is down: the Sekretaris opens the case and disposes, offline.
        self.offline()
        case = off.open_case("2026-Q3")
        off.do(case, "1", online=False)
        self.assertEqual(sek.status()["tentative"], 2)
        r = sek.run("sync")
        self.assertNotEqual(r.code, 0, "sync with the server down must fail: %r" % r)
        self.assertEqual(r.error_code, "connect", r)
        self.assertEqual(sek.status()["tentative"], 2, "a failed sync must keep the changes")
        self.online()
        rep = sek.sync()
        self.assertEqual((rep["pushed"], rep["accepted"], rep["rejected"]), (2, 2, 0), rep)
        self.assertEqual(sek.status()["tentative"], 0)

        # A Kabid of another bidang is refused on their own device; nothing is written.
        mikro = off["kabid_mikro"]
        mikro.sync()
        before = mikro.status()["tentative"]
        r = mikro.run("act", "%s.2.koperasi" % case, "--text", "bukan bidang saya")
        self.assertEqual((r.code != 0, r.error_code), (True, "wrong_role"), r)
        self.assertEqual(mikro.status()["tentative"], before)

        # Steps 2 (each bidang) and 3 in parallel; two of them offline.
        off.do(case, "2.koperasi")
        for u in ("kabid_mikro", "kasubag"):
            off[u].sync()
        self.offline()
        off.do(case, "2.usaha_mikro", online=False)
        off.do(case, "3", online=False)
        self.online()
        for u in ("kabid_mikro", "kasubag", "sekretaris"):
            self.assertEqual(off[u].sync()["rejected"], 0)
        self.assertNotIn("%s.4" % case, [t["task"] for t in sek.inbox()],
                         "step 4 must wait for step 2 of every bidang")
        off.do(case, "2.ukm")
        sek.sync()
        self.assertIn("%s.4" % case, [t["task"] for t in sek.inbox()])

        # Step 4 completed on two devices of the same person: the second is rejected.
        laptop.sync()
        off.do(case, "4", online=False)
        laptop.ok("act", "%s.4" % case, "--text", "Notulen (laptop)")
        sek.sync()
        rep = laptop.sync()
        self.assertEqual(rep["rejected"], 1, rep)
        self.assertRejected(laptop, "already_done", rep)

        # 5 online, 6 offline, then the Kasubag returns step 7 to step 6.
        off.do(case, "5")
        pel.sync()
        self.offline()
        off.do(case, "6", online=False)
        self.online()
        pel.sync()
        kasubag.sync()
        kasubag.ok("return", "%s.7" % case, "--to-step", "6", "--reason", "Bab III belum lengkap")
        kasubag.sync()
        pel.sync()
        self.assertIn("%s.6" % case, [t["task"] for t in pel.inbox()], "step 6 not ready again")
        off.do(case, "6")
        for s in ("7", "8", "9", "10"):
            off.do(case, s)

        # Kasubag and pelaksana edit the final draft offline: two heads.
        kasubag.sync()
        pel.sync()
        self.offline()
        base = self.draft_text(kasubag, case, "capaian-kinerja-final")
        self.assertGreaterEqual(len(base), 5, base)
        kasubag.ok("draft", "put", case, "capaian-kinerja-final",
                   "--file", kasubag.file("".join(["Judul (koreksi kasubag)\n"] + base[1:])))
        pel.ok("draft", "put", case, "capaian-kinerja-final",
               "--file", pel.file("".join(base + ["Penutup dan rekomendasi\n"])))
        self.online()
        kasubag.sync()
        pel.sync()
        kasubag.sync()
        self.assertEqual(len(self.draft_heads(kasubag, case, "capaian-kinerja-final")), 2)
        kasubag.ok("draft", "merge", case, "capaian-kinerja-final")
        kasubag.sync()
        pel.sync()
        self.assertEqual(len(self.draft_heads(pel, case, "capaian-kinerja-final")), 1)

        # A paraf on a revision that stops being the head before sync is stale.
        kasubag.act("%s.11" % case)
        pel.ok("draft", "put", case, "capaian-kinerja-final",
               "--file", pel.file("".join(self.draft_text(pel, case, "capaian-kinerja-final")
                                          + ["catatan kaki\n"])))
        pel.sync()
        rep = kasubag.sync()
        self.assertEqual(rep["rejected"], 1, rep)
        self.assertRejected(kasubag, "stale_revision", rep)
        off.do(case, "11")

        # 12 online; the Kadis signs offline and syncs later.
        off.do(case, "12")
        kadis.sync()
        self.offline()
        off.do(case, "13", online=False)
        self.online()
        self.assertEqual(kadis.sync()["rejected"], 0)

        # Everyone converges on the same completed case.
        for o in everyone:
            o.sync()
        views = {}
        for o in everyone:
            st = o.status()
            self.assertEqual(st["tentative"], 0, "%s still has pending changes: %r" % (o.name, st))
            views[o.name] = strip_tentative(o.show(case))
        final = views["kadis"]
        self.assertEqual(final["state"], "completed", json.dumps(final)[:3000])
        for o in everyone:  # the case list (read from the stored rows) says so too
            listed = {c["case"]: c for c in o.ok("case", "list")}
            self.assertEqual((listed[case]["state"], listed[case]["title"]), ("completed", final["title"]), o.name)
        for suffix, user in STEP_ACTOR.items():
            t = task_of(final, "%s.%s" % (case, suffix))
            self.assertEqual(t["state"], "done", "task %s: %r" % (suffix, t))
            self.assertEqual(t["by"], user, "task %s done by %r, expected %r" % (suffix, t["by"], user))
        for name, v in views.items():
            self.assertEqual(json.dumps(v, sort_keys=True), json.dumps(final, sort_keys=True),
                             "replica %s differs from kadis" % name)
        # The rejections are still listed after all the later syncs.
        self.assertRejected(laptop, "already_done")
        self.assertRejected(kasubag, "stale_revision")
        self.assertEqual(self.srv.stop(), 0, "alur-server should exit 0 on SIGTERM")
        self.assertNoSanitizerReport(self.srv)


class SopRulesTest(QuarterBase):

    def test_wrong_role_act_fails_locally_and_writes_nothing(self):
        off = self.office
        case = off.open_case("2026-Q3")
        off["sekretaris"].sync()
        off.do(case, "1")
        mikro = off["kabid_mikro"]
        mikro.sync()
        before_status = mikro.status()
        before_show = mikro.show(case)
        attempts = [
            ("kabid_mikro", "2.koperasi", ["--text", "bukan bidang saya"]),  # other bidang
            ("pelaksana", "3", ["--text", "bukan peran saya"]),               # other role
            ("kadis", "2.ukm", ["--text", "bukan peran saya"]),
        ]
        for user, suffix, args in attempts:
            o = off[user]
            o.sync()
            st0 = o.status()
            r = o.run("act", "%s.%s" % (case, suffix), *args)
            self.assertNotEqual(r.code, 0, r)
            self.assertEqual(r.error_code, "wrong_role", r)
            self.assertEqual(len(r.err.strip().splitlines()), 1, "stderr must be one line: %r" % r)
            st1 = o.status()
            self.assertEqual(st1["tentative"], st0["tentative"], "%s: wrong-role act wrote: %r" % (user, st1))
            self.assertEqual(st1["pending"], st0["pending"])
            self.assertEqual(o.sync()["pushed"], 0, "%s: a wrong-role act was pushed" % user)
        self.assertEqual(mikro.status()["tentative"], before_status["tentative"])
        self.assertEqual(strip_tentative(mikro.show(case)), strip_tentative(before_show))
        t = self.task_state(mikro, case, "2.koperasi")
        self.assertNotEqual(t["state"], "done", t)

    def test_double_completion_from_two_devices_is_rejected_and_kept(self):
        off = self.office
        sek = off["sekretaris"]
        laptop = self.official(self.srv, "sekretaris", device="sekretaris-laptop")
        case = off.open_case("2026-Q3")
        sek.sync()
        laptop.sync()
        # Both devices complete step 1 offline.
        self.offline()
        sek.act("%s.1" % case, "--text", "Disposisi dari PC")
        laptop.act("%s.1" % case, "--text", "Disposisi dari laptop")
        self.assertEqual(laptop.status()["tentative"], 1)
        self.online()
        rep1 = sek.sync()
        self.assertEqual((rep1["accepted"], rep1["rejected"]), (1, 0), rep1)
        rep2 = laptop.sync()
        self.assertEqual(rep2["rejected"], 1, rep2)
        self.assertEqual(rep2["accepted"], 0, rep2)
        self.assertEqual([x.get("code") for x in rep2["rejections"]], ["already_done"], rep2)
        st = laptop.status()
        self.assertEqual(st["tentative"], 0, st)
        entry = self.assertRejected(laptop, "already_done", rep2)
        # Never silently dropped: still there after more syncs and more work.
        off.do(case, "2.koperasi")
        for _ in range(2):
            laptop.sync()
        self.assertEqual(self.assertRejected(laptop, "already_done"), entry)
        # The committed completion is the PC's, on both devices.
        for o in (sek, laptop):
            t = self.task_state(o, case, "1")
            self.assertEqual((t["state"], t["by"], t.get("text")), ("done", "sekretaris", "Disposisi dari PC"),
                             "%s: %r" % (o.name, t))

    def test_concurrent_offline_draft_edits_make_two_heads(self):
        off = self.office
        case = off.open_case("2026-Q3")
        off["sekretaris"].sync()
        off.advance(case, "10")
        kasubag, pel = off["kasubag"], off["pelaksana"]
        kasubag.sync()
        pel.sync()
        base = kasubag.draft_show(case, "capaian-kinerja-final")
        self.assertEqual(len(base["heads"]), 1, base)
        self.offline()
        kasubag.ok("draft", "put", case, "capaian-kinerja-final",
                   "--file", kasubag.file("versi kasubag\n"))
        pel.ok("draft", "put", case, "capaian-kinerja-final", "--file", pel.file("versi pelaksana\n"))
        self.online()
        kasubag.sync()
        pel.sync()
        kasubag.sync()
        for o in (kasubag, pel):
            d = o.draft_show(case, "capaian-kinerja-final")
            self.assertEqual(d["name"], "capaian-kinerja-final")
            self.assertEqual(len(d["heads"]), 2, "%s: %r" % (o.name, d))
            self.assertEqual(len(d["revisions"]), len(base["revisions"]) + 2, d)
            by_rev = {x["rev"]: x for x in d["revisions"]}
            self.assertEqual(len(by_rev), len(d["revisions"]), "duplicate rev ids: %r" % d)
            heads = [by_rev[h] for h in d["heads"]]
            self.assertEqual(sorted(h["by"] for h in heads), ["kasubag", "pelaksana"], d)
            for h in heads:  # both branch from the same base revision
                self.assertEqual(h["parents"], base["heads"], h)
            self.assertNotEqual(heads[0]["sha256"], heads[1]["sha256"])
        # case show agrees with draft show.
        drafts = {d["name"]: d for d in pel.show(case)["drafts"]}
        self.assertEqual(len(drafts["capaian-kinerja-final"]["heads"]), 2, drafts)
        # A paraf while the draft has two heads is refused on the device.
        r = kasubag.run("act", "%s.11" % case)
        self.assertNotEqual(r.code, 0, r)
        self.assertEqual(r.error_code, "stale_revision", r)

    def test_paraf_on_revision_superseded_before_sync_is_stale(self):
        off = self.office
        case = off.open_case("2026-Q3")
        off["sekretaris"].sync()
        off.advance(case, "10")
        kasubag, pel = off["kasubag"], off["pelaksana"]
        kasubag.sync()
        pel.sync()
        kasubag.act("%s.11" % case)           # paraf on the current head, not yet synced
        pel.ok("draft", "put", case, "capaian-kinerja-final",
               "--file", pel.file("revisi setelah paraf\n"))
        self.assertEqual(pel.sync()["accepted"], 1)
        rep = kasubag.sync()
        self.assertEqual(rep["rejected"], 1, rep)
        self.assertEqual([x.get("code") for x in rep["rejections"]], ["stale_revision"], rep)
        self.assertRejected(kasubag, "stale_revision", rep)
        self.assertEqual(kasubag.status()["tentative"], 0)
        t = self.task_state(kasubag, case, "11")
        self.assertNotEqual(t["state"], "done", t)
        self.assertIn("%s.11" % case, [x["task"] for x in kasubag.inbox()])
        # Paraf again on the new head: accepted, bound to the pelaksana's revision.
        off.do(case, "11")
        head = kasubag.draft_show(case, "capaian-kinerja-final")["heads"]
        self.assertEqual(len(head), 1)
        t = self.task_state(kasubag, case, "11")
        self.assertEqual((t["state"], t["by"]), ("done", "kasubag"), t)
        if t.get("revision"):
            self.assertEqual(t["revision"], head[0], t)

    def test_two_offline_opens_of_one_period_make_one_case(self):
        off = self.office
        sek, kasubag = off["sekretaris"], off["kasubag"]
        laptop = self.official(self.srv, "sekretaris", device="sekretaris-laptop")
        self.offline()
        c1 = off.open_case("2026-Q3")
        sek.act("%s.1" % c1, "--text", "dari PC")
        c2 = laptop.ok("case", "open", "--sop", "LAKIP", "--period", "2026-Q3")["case"]
        laptop.act("%s.1" % c2, "--text", "dari laptop")
        c3 = off.open_case("2026-Q3", opener="kasubag")
        self.online()
        self.assertEqual(sek.sync()["accepted"], 2)
        rep = laptop.sync()
        self.assertEqual(rep["rejected"], 2, rep)
        self.assertEqual([x["code"] for x in rep["rejections"]][0], "case_exists", rep)
        rep = kasubag.sync()
        self.assertEqual([x["code"] for x in rep["rejections"]], ["case_exists"], rep)
        for o in (laptop, kasubag):
            self.assertRejected(o, "case_exists")
            self.assertEqual(o.status()["tentative"], 0)
            self.assertEqual(o.run("case", "show", c2 if o is laptop else c3).error_code, "unknown_case")
        self.assertEqual(strip_tentative(laptop.show(c1)), strip_tentative(sek.show(c1)))
        self.assertEqual(task_of(laptop.show(c1), "%s.1" % c1)["text"], "dari PC")

    def test_return_from_step_7_to_6_makes_step_6_ready_again(self):
        off = self.office
        case = off.open_case("2026-Q3")
        off["sekretaris"].sync()
        off.advance(case, "6")
        kasubag, pel = off["kasubag"], off["pelaksana"]
        kasubag.sync()
        pel.sync()
        self.assertNotIn("%s.6" % case, [t["task"] for t in pel.inbox()])
        r = kasubag.run("return", "%s.7" % case, "--to-step", "6", "--reason", "Bab III belum lengkap")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(kasubag.sync()["rejected"], 0)
        pel.sync()
        inbox = [t for t in pel.inbox() if t["task"] == "%s.6" % case]
        self.assertEqual(len(inbox), 1, "step 6 not back in the pelaksana's inbox: %r" % pel.inbox())
        self.assertEqual(inbox[0]["step"], 6)
        self.assertEqual(inbox[0]["case"], case)
        show = pel.show(case)
        self.assertEqual(task_of(show, "%s.6" % case)["state"], "ready", show["steps"][5])
        self.assertNotEqual(task_of(show, "%s.7" % case)["state"], "ready",
                            "step 7 must wait for the redone step 6")
        self.assertTrue(any("Bab III belum lengkap" in json.dumps(x) for x in show.get("returns", [])),
                        "the reason is not recorded: %r" % show.get("returns"))
        self.assertNotIn("%s.7" % case, [t["task"] for t in kasubag.inbox()])
        # Redo 6; 7 is ready again for the Kasubag.
        off.do(case, "6")
        kasubag.sync()
        self.assertIn("%s.7" % case, [t["task"] for t in kasubag.inbox()])


    def test_server_checks_roles_against_the_current_org(self):
        """An act the device allowed (its org copy was old) is refused by the server."""
        off = self.office
        case = off.open_case("2026-Q3")
        off["sekretaris"].sync()
        off.do(case, "1")
        kk = off["kabid_koperasi"]
        kk.sync()
        kk.act("%s.2.koperasi" % case, "--text", "arahan")     # offline, with the old org
        org = org_document()
        for u in org["users"]:  # the two Kabid swap bidang meanwhile
            if u["username"] == "kabid_koperasi":
                u["roles"] = [{"role": "kabid", "bidang": "ukm"}]
            if u["username"] == "kabid_ukm":
                u["roles"] = [{"role": "kabid", "bidang": "koperasi"}]
        path = os.path.join(self.workdir, "org-baru.json")
        with open(path, "w") as f:
            json.dump(org, f)
        r = run([ALUR_SERVER, "org", "import", "--data", self.srv.data, path])
        self.assertEqual(r.code, 0, r)
        rep = kk.sync()
        self.assertEqual([x["code"] for x in rep["rejections"]], ["wrong_role"], rep)
        self.assertRejected(kk, "wrong_role", rep)
        self.assertNotEqual(self.task_state(kk, case, "2.koperasi")["state"], "done")
        self.assertEqual([t["task"] for t in kk.inbox()], ["%s.2.ukm" % case])
        ukm = off["kabid_ukm"]
        ukm.sync()
        ukm.act("%s.2.koperasi" % case, "--text", "arahan Kabid baru")
        self.assertEqual(ukm.sync()["accepted"], 1)

    def test_return_and_completion_of_one_step_from_two_devices(self):
        """Kasubag returns step 7 on the PC while the laptop completes it: whichever the
        server sees first wins, the other is rejected with a reason, never both."""
        off = self.office
        k = off["kasubag"]
        lap = self.official(self.srv, "kasubag", device="kasubag-laptop")
        for period, first in (("2026-Q3", "return"), ("2026-Q4", "complete")):
            case = off.open_case(period)
            off["sekretaris"].sync()
            off.advance(case, "6")
            k.sync()
            lap.sync()
            k.ok("return", "%s.7" % case, "--to-step", "6", "--reason", "ulang")
            lap.act("%s.7" % case, "--text", "koreksi dari laptop")
            a, b = (k, lap) if first == "return" else (lap, k)
            self.assertEqual(a.sync()["accepted"], 1)
            rep = b.sync()
            self.assertEqual(rep["rejected"], 1, "%s: %r" % (period, rep))
            code = rep["rejections"][0]["code"]
            self.assertEqual(code, "stale_round" if first == "return" else "already_done", rep)
            self.assertRejected(b, code, rep)
            off["pelaksana"].sync()
            views = [strip_tentative(o.show(case)) for o in (k, lap, off["pelaksana"])]
            self.assertTrue(views[0] == views[1] == views[2], "replicas differ for %s" % period)
            t6, t7 = task_of(views[0], "%s.6" % case), task_of(views[0], "%s.7" % case)
            if first == "return":
                self.assertEqual((t6["state"], t7["state"]), ("ready", "pending"), (t6, t7))
                self.assertIn("%s.6" % case, [t["task"] for t in off["pelaksana"].inbox()])
            else:
                self.assertEqual((t6["state"], t7["state"]), ("done", "done"), (t6, t7))
                self.assertEqual(t7["text"], "koreksi dari laptop")
                self.assertEqual(views[0]["returns"], [], "a rejected return left a mark")

    def test_return_from_12_to_10_binds_the_new_parafs_to_the_new_revision(self):
        off = self.office
        case = off.open_case("2026-Q3")
        off["sekretaris"].sync()
        off.advance(case, "11")
        sek = off["sekretaris"]
        sek.sync()
        r = sek.run("return", "%s.12" % case, "--to-step", "10", "--reason", "Angka IKU 2 salah")
        self.assertEqual(r.code, 0, r)
        sek.sync()
        pel = off["pelaksana"]
        pel.sync()
        self.assertIn("%s.10" % case, [t["task"] for t in pel.inbox()])
        off.do(case, "10", extra=["--file", pel.file("Laporan final, IKU 2 diperbaiki\n")])
        for s in ("11", "12", "13"):
            off.do(case, s)
        off.sync_all()
        kadis = off["kadis"]
        show = kadis.show(case)
        self.assertEqual(show["state"], "completed")
        head = kadis.draft_show(case, "capaian-kinerja-final")["heads"]
        self.assertEqual(len(head), 1)
        for s in ("10", "11", "12", "13"):
            t = task_of(show, "%s.%s" % (case, s))
            self.assertEqual((t["state"], t["by"], t["revision"]), ("done", STEP_ACTOR[s], head[0]), t)


if __name__ == "__main__":
    unittest.main()
