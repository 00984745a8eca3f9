// client::Api + SyncClient against a real ServerDb + SyncService in a temp dir, over the
// in-memory transport (memory_transport.h): enrolment, the whole LAKIP quarter walked
// through the Api the way scripts/demo/lakip-quarter walks it through the CLI, rejections,
// and syncs cut off halfway (lost PushResult, pull interrupted between batches).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alur/client/api.h"
#include "alur/client/sync_client.h"
#include "alur/server/tuning.h"
#include "alur/shared/sqlite.h"
#include "alur/sync/case_state.h"
#include "alur/sync/messages.h"
#include "client_harness.h"
#include "unchecked_write.h"

namespace alur::client::testing {
namespace {

using sync::Outcome;
constexpr Millis kHour = 3'600'000;

Attachment file(const std::string& content, const std::string& name) { return {content, name}; }

// The PushResults among the messages the server delivered since `from`.
std::vector<sync::PushResult> push_results(Office& o, std::size_t from) {
  std::vector<sync::PushResult> out;
  for (const auto& m : o.delivered(from))
    if (auto* p = std::get_if<sync::PushResult>(&m)) out.push_back(*p);
  return out;
}

// Every replica shows the case identically (apart from what is still tentative there), and
// its committed state is the server's, byte for byte.
void expect_converged(Office& o, const std::vector<std::string>& homes, const std::string& id) {
  const json server = o.server_case(id);
  ASSERT_FALSE(server.is_null());
  const std::uint64_t head = o.db.head();
  std::optional<json> first;
  for (const auto& h : homes) {
    SCOPED_TRACE("replica " + h);
    Api& a = o[h];
    json st = a.status();
    EXPECT_EQ(st["tentative"], 0) << st.dump();
    EXPECT_EQ(st["cursor"], head);
    json show = without_tentative(a.case_show(id));
    if (!first) first = show;
    EXPECT_EQ(show, *first);
    auto committed = a.replica().load_case(id);
    ASSERT_TRUE(committed);
    EXPECT_EQ(sync::case_to_json(*committed).dump(), server.dump());
    // The fields case show shares with the server's materialized case.
    EXPECT_EQ(show["state"], server["state"]);
    std::map<std::string, json> shown;
    for (const auto& s : show["steps"])
      for (const auto& t : s["tasks"]) shown[t["task"].get<std::string>()] = t;
    ASSERT_EQ(shown.size(), server["tasks"].size());
    for (const auto& t : server["tasks"]) {
      std::string tid = task(id, t["key"].get<std::string>());
      ASSERT_TRUE(shown.count(tid)) << tid;
      EXPECT_EQ(shown[tid]["state"], t["state"]) << tid;
      const std::string by = t["by"].get<std::string>();
      EXPECT_EQ(shown[tid]["by"], by.empty() ? json() : json(by)) << tid;
      EXPECT_EQ(shown[tid]["round"], t["round"]) << tid;
    }
    EXPECT_EQ(show["drafts"].size(), server["drafts"].size());
  }
}

// ------------------------------------------------------------------------------------
// The transport itself.

// Opens the LAKIP case for 2026-Q3 as the Sekretaris and gives step 1's disposition
// (tentatively); returns the case id.
std::string open_with_disposition(Api& sek, const std::string& text) {
  const std::string id = sek.case_open("LAKIP", "2026-Q3")["case"];
  sek.act(task(id, "1"), text, std::nullopt);
  return id;
}

TEST(MemoryTransportTest, MovesBytesAndReportsClosedConnections) {
  Office o;
  auto t = o.net.connect(kServerUrl, test_fingerprint());
  // Garbage: the service answers a fatal `malformed` and closes.
  t->send("not a protocol message", std::chrono::seconds(1));
  auto reply = t->receive(std::chrono::seconds(1));
  ASSERT_TRUE(reply);
  sync::Message m = sync::decode(*reply);
  ASSERT_TRUE(std::holds_alternative<sync::ErrorMsg>(m));
  EXPECT_EQ(std::get<sync::ErrorMsg>(m).code, "malformed");
  EXPECT_TRUE(std::get<sync::ErrorMsg>(m).fatal);
  EXPECT_EQ(error_code_of([&] { t->receive(std::chrono::seconds(1)); }), "closed");
  EXPECT_EQ(error_code_of([&] {
              t->send(sync::encode(sync::Pull{0, 0}), std::chrono::seconds(1));
            }),
            "closed");

  // The client closing: later calls throw too.
  auto t2 = o.net.connect(kServerUrl, test_fingerprint());
  EXPECT_FALSE(t2->receive(std::chrono::seconds(1)));  // nothing sent, nothing to read
  t2->close();
  EXPECT_EQ(error_code_of([&] { t2->receive(std::chrono::seconds(1)); }), "closed");
  EXPECT_EQ(error_code_of([&] { t2->send("x", std::chrono::seconds(1)); }), "closed");

  EXPECT_EQ(error_code_of([&] {
              o.net.connect(kServerUrl,
                            crypto::normalize_fingerprint("sha256:" + std::string(64, 'f')));
            }),
            "fingerprint_mismatch");
  o.net.set_offline(true);
  EXPECT_EQ(error_code_of([&] { o.net.connect(kServerUrl, test_fingerprint()); }), "connect");
}

// ------------------------------------------------------------------------------------
// Enrolment.

TEST(SyncEnrollTest, EnrolmentPinsTheFingerprintAndBringsTheOrg) {
  Office o;
  Api& sek = o.enroll("sekretaris");
  EXPECT_EQ(o.net.last_url(), kServerUrl);
  Replica& r = sek.replica();
  EXPECT_EQ(r.meta("server"), kServerUrl);
  EXPECT_EQ(r.meta("fingerprint"), test_fingerprint());
  EXPECT_EQ(r.meta("username"), "sekretaris");
  EXPECT_EQ(r.meta("unit"), o.org.unit);
  EXPECT_EQ(r.meta("token").value_or("").size(), 64u);
  EXPECT_EQ(r.org().people.size(), o.org.people.size());  // the first sync pulled the org
  EXPECT_EQ(r.cursor(), o.db.head());
  auto dev = o.db.device(r.require_meta("replica"));
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->username, "sekretaris");
  EXPECT_EQ(dev->device_key, r.device_key().public_raw());

  // Enrolling again on the same home is refused; so are a wrong password and a wrong pin.
  EXPECT_EQ(error_code_of([&] {
              sek.enroll(kServerUrl, "sekretaris", "sekre-rahasia-1", test_fingerprint());
            }),
            "already_enrolled");
  Api& bad = o.api("intruder");
  EXPECT_EQ(error_code_of([&] { bad.enroll(kServerUrl, "kadis", "salah", test_fingerprint()); }),
            "bad_credentials");
  EXPECT_FALSE(bad.replica().enrolled());
  EXPECT_EQ(error_code_of([&] {
              bad.enroll(kServerUrl, "kadis", "kadis-rahasia-1", "sha256:" + std::string(64, 'a'));
            }),
            "fingerprint_mismatch");
  EXPECT_FALSE(bad.replica().enrolled());
  // A device with a forged token is turned away.
  Api& kadis = o.enroll("kadis");
  kadis.replica().set_meta("token", std::string(64, '0'));
  EXPECT_EQ(error_code_of([&] { kadis.sync(); }), "bad_token");
}

TEST(SyncEnrollTest, NothingWorksBeforeEnrolmentAndARevokedDeviceKeepsItsWork) {
  Office o;
  Api& fresh = o.api("fresh");
  EXPECT_EQ(error_code_of([&] { fresh.sync(); }), "not_enrolled");
  EXPECT_EQ(error_code_of([&] { fresh.status(); }), "not_enrolled");
  EXPECT_EQ(error_code_of([&] { fresh.case_open("LAKIP", "2026-Q3"); }), "not_enrolled");
  EXPECT_EQ(o.net.connections_opened(), 0u);

  Api& sek = o.enroll("sekretaris");
  json opened = sek.case_open("LAKIP", "2026-Q3");
  o.db.revoke_device(sek.replica().require_meta("replica"), o.clock.now_ms());
  EXPECT_EQ(error_code_of([&] { sek.sync(); }), "device_revoked");
  // What was written stays, shown as waiting.
  EXPECT_EQ(sek.status()["tentative"], 1);
  EXPECT_EQ(sek.case_list().size(), 1u);
  EXPECT_EQ(o.db.head(), 1u) << "only the org is committed";
}

// ------------------------------------------------------------------------------------
// The LAKIP quarter, as scripts/demo/lakip-quarter walks it.

TEST(SyncQuarterTest, WholeLakipQuarterConvergesOnEveryReplica) {
  Office o(/*signing=*/true);
  const std::vector<std::string> users = {
      "sekretaris", "kabid_koperasi", "kabid_mikro", "kabid_ukm", "kasubag", "pelaksana", "kadis"};
  for (const auto& u : users) o.enroll(u);
  o.enroll("sekretaris", "sekretaris-laptop");
  std::vector<std::string> homes = users;
  homes.push_back("sekretaris-laptop");
  Api& sek = o["sekretaris"];
  Api& laptop = o["sekretaris-laptop"];
  Api& kop = o["kabid_koperasi"];
  Api& mikro = o["kabid_mikro"];
  Api& ukm = o["kabid_ukm"];
  Api& kasubag = o["kasubag"];
  Api& pelaksana = o["pelaksana"];
  Api& kadis = o["kadis"];
  auto step = [&] { o.clock.advance(kHour); };

  // The network is down: the sekretaris opens the case and disposes, offline.
  o.net.set_offline(true);
  json opened = sek.case_open("LAKIP", "2026-Q3");
  const std::string id = opened["case"];
  EXPECT_EQ(opened["state"], "tentative");
  sek.act(task(id, "1"),
          "Kabid dan Kasubag KPE: siapkan rapat koordinasi pengukuran kinerja LAKIP Triwulan III.",
          std::nullopt);
  EXPECT_EQ(sek.status()["tentative"], 2);
  EXPECT_EQ(error_code_of([&] { sek.sync(); }), "connect");
  EXPECT_EQ(sek.status()["tentative"], 2);  // nothing lost
  EXPECT_EQ(sek.case_show(id)["steps"][0]["tasks"][0]["state"], "done");
  EXPECT_TRUE(sek.case_show(id)["steps"][0]["tasks"][0]["tentative"]);

  // Back online.
  o.net.set_offline(false);
  step();
  json r = sek.sync();
  EXPECT_EQ(r["pushed"], 2);
  EXPECT_EQ(r["accepted"], 2);
  EXPECT_EQ(r["rejected"], 0);
  EXPECT_EQ(sek.status()["tentative"], 0);
  for (auto* a : {&kop, &mikro, &ukm, &kasubag}) a->sync();
  {
    json inbox = kop.inbox();
    ASSERT_EQ(inbox.size(), 1u) << inbox.dump();
    EXPECT_EQ(inbox[0]["task"], task(id, "2.koperasi"));
  }

  // A kabid acting for another bidang is refused on their own device, writing nothing.
  EXPECT_EQ(
      error_code_of([&] { mikro.act(task(id, "2.koperasi"), "bukan bidang saya", std::nullopt); }),
      "wrong_role");
  EXPECT_EQ(mikro.status()["tentative"], 0);

  // Steps 2 (per bidang) and 3 in parallel; step 4 waits for all of them.
  step();
  kop.act(task(id, "2.koperasi"),
          "Kasubid: siapkan capaian kinerja, IKU dan proyek prioritas Bidang Koperasi.",
          std::nullopt);
  mikro.act(task(id, "2.usaha_mikro"), "Kasubid: siapkan bahan Bidang Usaha Mikro.", std::nullopt);
  kasubag.act(task(id, "3"), "Data dari seluruh bidang dihimpun",
              file("Capaian kinerja Triwulan III\nIKU 1: 82%\nIKU 2: 74%\n", "persiapan.txt"));
  for (auto* a : {&kop, &mikro, &kasubag, &sek}) a->sync();
  for (const auto& item : sek.inbox()) EXPECT_NE(item["task"], task(id, "4"));
  ukm.sync();
  ukm.act(task(id, "2.ukm"), "Kasubid: siapkan bahan Bidang UKM.", std::nullopt);
  ukm.sync();
  sek.sync();
  {
    json inbox = sek.inbox();
    ASSERT_EQ(inbox.size(), 1u) << inbox.dump();
    EXPECT_EQ(inbox[0]["task"], task(id, "4"));
  }

  // One person, two devices: the offline laptop also closes step 4; the server rejects it.
  step();
  laptop.sync();
  sek.act(task(id, "4"), "Notulen: data seluruh bidang dikonfirmasi.",
          file("Draft capaian kinerja (rapat koordinasi)\nIKU 1: 82%\nIKU 2: 74%\nProyek "
               "prioritas: 3 dari 4\n",
               "dck.txt"));
  laptop.act(task(id, "4"), "Notulen (laptop)", std::nullopt);
  sek.sync();
  r = laptop.sync();
  EXPECT_EQ(r["rejected"], 1);
  ASSERT_EQ(r["rejections"].size(), 1u);
  EXPECT_EQ(r["rejections"][0]["code"], "already_done");
  {
    json st = laptop.status();
    ASSERT_EQ(st["rejected"].size(), 1u) << st.dump();
    EXPECT_EQ(st["rejected"][0]["code"], "already_done");
    EXPECT_EQ(st["rejected"][0]["op"], sync::op::kTaskComplete);
    EXPECT_FALSE(st["rejected"][0]["message"].get<std::string>().empty());
    EXPECT_EQ(st["tentative"], 0);
  }
  EXPECT_EQ(laptop.case_show(id)["steps"][3]["tasks"][0]["text"],
            "Notulen: data seluruh bidang dikonfirmasi.");

  // Steps 5 and 6.
  step();
  kasubag.sync();
  kasubag.act(task(id, "5"), "Telaah: lengkapi analisis IKU 2.", std::nullopt);
  kasubag.sync();
  pelaksana.sync();
  const std::string lakip1 =
      "LAKIP DKUKM Triwulan III 2026\nBab I Pendahuluan\nBab II Perencanaan Kinerja\nBab III "
      "Akuntabilitas Kinerja\n";
  pelaksana.act(task(id, "6"), "", file(lakip1, "lakip.txt"));
  pelaksana.sync();

  // Step 7: the kasubag returns the case to step 6 with a reason; the pelaksana reworks it.
  step();
  kasubag.sync();
  kasubag.return_task(task(id, "7"), 6, "Bab III belum memuat analisis capaian IKU 2.");
  kasubag.sync();
  pelaksana.sync();
  {
    json inbox = pelaksana.inbox();
    ASSERT_EQ(inbox.size(), 1u) << inbox.dump();
    EXPECT_EQ(inbox[0]["task"], task(id, "6"));
    EXPECT_EQ(inbox[0]["round"], 1);
  }
  pelaksana.act(task(id, "6"), "",
                file(lakip1 + "  Analisis IKU 2: 74% dari target 80%\n", "lakip2.txt"));
  pelaksana.sync();
  kasubag.sync();
  kasubag.act(task(id, "7"), "Koreksi: angka IKU 2 sesuaikan dengan data BPS.", std::nullopt);
  kasubag.sync();
  sek.sync();
  sek.act(task(id, "8"), "Notulen rapat pembahasan: draft LAKIP disepakati dengan perbaikan kecil.",
          std::nullopt);
  sek.sync();
  kasubag.sync();
  kasubag.act(task(id, "9"), "Pelaksana: susun draft Capaian Kinerja final dari hasil rapat.",
              std::nullopt);
  kasubag.sync();
  pelaksana.sync();
  const std::string final_text =
      "Laporan Capaian Kinerja DKUKM Triwulan III 2026\nIKU 1: 82%\nIKU 2: 74%\nPenutup\n";
  pelaksana.act(task(id, "10"), "", file(final_text, "final.txt"));
  pelaksana.sync();
  kasubag.sync();

  // Two people edit the final draft offline: two heads, then an automatic merge.
  step();
  const std::string draft = "capaian-kinerja-final";
  auto [kmeta, ktext] = kasubag.draft_get(id, draft, "");
  auto [pmeta, ptext] = pelaksana.draft_get(id, draft, "");
  EXPECT_EQ(ktext, final_text);
  EXPECT_EQ(ptext, final_text);
  std::string k2 = ktext, p2 = ptext;
  k2.replace(k2.find("IKU 1: 82%"), 10, "IKU 1: 82% (tercapai)");
  p2.replace(p2.find("Penutup"), 7, "Penutup dan rekomendasi");
  kasubag.draft_put(id, draft, file(k2, "k.txt"));
  pelaksana.draft_put(id, draft, file(p2, "p.txt"));
  kasubag.sync();
  pelaksana.sync();
  kasubag.sync();
  EXPECT_EQ(kasubag.draft_show(id, draft)["heads"].size(), 2u);
  // A paraf while the draft has two heads is refused on the device.
  EXPECT_EQ(error_code_of([&] { kasubag.act(task(id, "11"), "", std::nullopt, "", passphrase_of("kasubag")); }),
            "stale_revision");
  json merged = kasubag.draft_merge(id, draft);
  EXPECT_EQ(merged["parents"].size(), 2u);
  {
    auto [mm, mtext] = kasubag.draft_get(id, draft, "");
    EXPECT_EQ(mtext,
              "Laporan Capaian Kinerja DKUKM Triwulan III 2026\nIKU 1: 82% (tercapai)\nIKU 2: 74%\n"
              "Penutup dan rekomendasi\n");
  }
  kasubag.sync();

  // A paraf bound to a revision that is no longer the only head is rejected as stale.
  step();
  pelaksana.sync();
  kasubag.act(task(id, "11"), "", std::nullopt, "", passphrase_of("kasubag"));
  pelaksana.draft_put(id, draft, file(p2 + "catatan kaki\n", "p.txt"));
  pelaksana.sync();
  r = kasubag.sync();
  EXPECT_EQ(r["rejected"], 1);
  ASSERT_EQ(r["rejections"].size(), 1u);
  EXPECT_EQ(r["rejections"][0]["code"], "stale_revision");
  {
    json st = kasubag.status();
    ASSERT_EQ(st["rejected"].size(), 1u);
    EXPECT_EQ(st["rejected"][0]["code"], "stale_revision");
  }
  kasubag.sync();
  kasubag.act(task(id, "11"), "", std::nullopt, "", passphrase_of("kasubag"));
  r = kasubag.sync();
  EXPECT_EQ(r["accepted"], 1);
  EXPECT_EQ(r["rejected"], 0);

  // Steps 12-13: paraf of the sekretaris, signature of the kepala dinas.
  step();
  sek.sync();
  sek.act(task(id, "12"), "", std::nullopt, "", passphrase_of("sekretaris"));
  sek.sync();
  kadis.sync();
  {
    json inbox = kadis.inbox();
    ASSERT_EQ(inbox.size(), 1u);
    EXPECT_EQ(inbox[0]["task"], task(id, "13"));
  }
  kadis.act(task(id, "13"), "", std::nullopt, "", passphrase_of("kadis"));
  r = kadis.sync();
  EXPECT_EQ(r["accepted"], 1);

  // Everyone syncs and sees the same thing; the case is complete.
  for (const auto& h : homes) o[h].sync();
  expect_converged(o, homes, id);
  EXPECT_EQ(o.server_case(id)["state"], "completed");
  EXPECT_EQ(kadis.case_show(id)["state"], "completed");
  EXPECT_EQ(kadis.case_show(id)["returns"].size(), 1u);
  json approvals = kadis.case_show(id)["approvals"];
  ASSERT_EQ(approvals.size(), 3u);
  // Every replica has every attachment, downloaded during its syncs.
  for (const auto& h : homes) {
    EXPECT_TRUE(o[h].replica().missing_blobs().empty()) << h;
    EXPECT_EQ(o[h].draft_get(id, draft, "").second, p2 + "catatan kaki\n") << h;
  }
  // The rejections stay on the devices that wrote them.
  EXPECT_EQ(laptop.status()["rejected"].size(), 1u);
  EXPECT_EQ(kasubag.status()["rejected"].size(), 1u);
  EXPECT_EQ(sek.status()["rejected"].size(), 0u);
}

// ------------------------------------------------------------------------------------
// Rejections.

TEST(SyncRejectTest, ARejectedChangeShowsInStatusWithItsCodeAndStays) {
  Office o;
  Api& pc = o.enroll("sekretaris");
  Api& kasubag = o.enroll("kasubag");
  Api& laptop = o.enroll("sekretaris", "laptop");
  json opened = kasubag.case_open("LAKIP", "2026-Q3");
  const std::string id = opened["case"];
  kasubag.sync();
  pc.sync();
  laptop.sync();
  // Both devices of the sekretaris do step 1 offline; the PC reaches the server first.
  pc.act(task(id, "1"), "dari PC", std::nullopt);
  json mine = laptop.act(task(id, "1"), "dari laptop", std::nullopt);
  pc.sync();

  // The laptop's push is processed but its answer is lost.
  o.net.drop_next_connection_after(1);  // Welcome only
  EXPECT_EQ(error_code_of([&] { laptop.sync(); }), "closed");
  EXPECT_TRUE(o.net.last_connection()->dropped());
  const std::string rid = laptop.replica().require_meta("replica");
  EXPECT_EQ(o.times_in_log(rid, 1), 0u);
  EXPECT_EQ(laptop.status()["tentative"], 1);  // not known yet: still tentative

  // The next sync hears the stored verdict.
  json r = laptop.sync();
  EXPECT_EQ(r["rejected"], 1);
  EXPECT_EQ(r["rejections"][0]["change"], mine["change"]);
  EXPECT_EQ(r["rejections"][0]["code"], "already_done");
  json st = laptop.status();
  EXPECT_EQ(st["tentative"], 0);
  ASSERT_EQ(st["rejected"].size(), 1u);
  EXPECT_EQ(st["rejected"][0]["change"], mine["change"]);
  EXPECT_EQ(st["rejected"][0]["code"], "already_done");
  EXPECT_EQ(st["rejected"][0]["record"], "task/" + id + "/1");
  EXPECT_FALSE(st["rejected"][0]["message"].get<std::string>().empty());
  // The laptop shows the PC's completion, not its own.
  json show = laptop.case_show(id);
  EXPECT_EQ(show["steps"][0]["tasks"][0]["text"], "dari PC");
  EXPECT_FALSE(show["steps"][0]["tasks"][0]["tentative"]);

  // It stays after more work is pulled, and the laptop's chain goes on.
  kasubag.sync();
  kasubag.act(task(id, "3"), "Data dihimpun", std::nullopt);
  kasubag.sync();
  laptop.disposition_set(task(id, "1"), "Arahan tambahan dari laptop");
  r = laptop.sync();
  EXPECT_EQ(r["accepted"], 1);
  EXPECT_EQ(r["rejected"], 0);
  st = laptop.status();
  ASSERT_EQ(st["rejected"].size(), 1u);
  EXPECT_EQ(st["rejected"][0]["code"], "already_done");
  EXPECT_EQ(o.times_in_log(rid, 2), 1u);
  pc.sync();
  kasubag.sync();
  expect_converged(o, {"sekretaris", "kasubag", "laptop"}, id);
}

// ------------------------------------------------------------------------------------
// Concurrent writes through real syncs (sync/PROTOCOL.md §7).

TEST(SyncMergeTest, ConcurrentWritesBecomeConflictsEveryReplicaSeesAndCanResolve) {
  Office o;
  Api& pc = o.enroll("sekretaris");
  Api& laptop = o.enroll("sekretaris", "laptop");
  Api& kasubag = o.enroll("kasubag");
  Api& pelaksana = o.enroll("pelaksana");
  const std::vector<std::string> homes = {"sekretaris", "laptop", "kasubag", "pelaksana"};
  auto sync_all = [&] {
    for (const auto& h : homes) o[h].sync();
    for (const auto& h : homes) o[h].sync();  // everyone has pulled everything
  };
  json opened = pc.case_open("LAKIP", "2026-Q3");
  const std::string id = opened["case"];
  pc.act(task(id, "1"), "Arahan awal", std::nullopt);
  sync_all();

  // Disposition: two devices of its author rewrite it concurrently -> two siblings.
  pc.disposition_set(task(id, "1"), "Arahan A (PC)");
  laptop.disposition_set(task(id, "1"), "Arahan B (laptop)");
  sync_all();
  expect_converged(o, homes, id);
  for (const auto& h : homes) {
    json c = o[h].case_show(id)["conflicts"];
    ASSERT_EQ(c.size(), 1u) << h << c.dump();
    EXPECT_EQ(c[0]["kind"], "disposition");
    EXPECT_EQ(c[0]["values"].size(), 2u);
  }
  // Its author resolves it by writing again, having seen both.
  pc.disposition_set(task(id, "1"), "Arahan C (gabungan)");
  sync_all();
  expect_converged(o, homes, id);
  for (const auto& h : homes) EXPECT_TRUE(o[h].case_show(id)["conflicts"].empty()) << h;
  EXPECT_EQ(o.server_case(id)["dispositions"]["1"]["siblings"].size(), 1u);
  EXPECT_EQ(o.server_case(id)["dispositions"]["1"]["siblings"][0]["text"], "Arahan C (gabungan)");

  // Correction status: "resolved" and "reopened" concurrently -> reopened.
  kasubag.draft_put(id, "catatan", file("baris 1\nbaris 2\nbaris 3\n", "catatan.txt"));
  sync_all();
  json corr = kasubag.correction_add(id, "catatan", "Baris 2 kurang jelas.");
  sync_all();
  const std::string cid = corr["correction"];
  kasubag.correction_status(id, cid, "resolved");
  pelaksana.correction_status(id, cid, "reopened");
  sync_all();
  expect_converged(o, homes, id);
  for (const auto& h : homes) {
    json cs = o[h].case_show(id)["corrections"];
    ASSERT_EQ(cs.size(), 1u) << h;
    EXPECT_EQ(cs[0]["id"], cid);
    EXPECT_EQ(cs[0]["state"], "reopened") << h;
  }
  kasubag.correction_status(id, cid, "resolved");
  sync_all();
  for (const auto& h : homes)
    EXPECT_EQ(o[h].case_show(id)["corrections"][0]["state"], "resolved") << h;

  // Draft: overlapping concurrent edits do not merge automatically; a manual revision
  // naming both heads does.
  kasubag.draft_put(id, "catatan", file("baris 1\nbaris 2 (kasubag)\nbaris 3\n", "catatan.txt"));
  pelaksana.draft_put(id, "catatan",
                      file("baris 1\nbaris 2 (pelaksana)\nbaris 3\n", "catatan.txt"));
  sync_all();
  expect_converged(o, homes, id);
  EXPECT_EQ(pelaksana.draft_show(id, "catatan")["heads"].size(), 2u);
  EXPECT_EQ(error_code_of([&] { pelaksana.draft_merge(id, "catatan"); }), "merge_conflict");
  EXPECT_EQ(pelaksana.status()["tentative"], 0) << "a failed merge writes nothing";
  json manual = pelaksana.draft_put(id, "catatan",
                                    file("baris 1\nbaris 2 (berdua)\nbaris 3\n", "catatan.txt"));
  EXPECT_EQ(manual["parents"].size(), 2u);
  sync_all();
  expect_converged(o, homes, id);
  for (const auto& h : homes) {
    EXPECT_EQ(o[h].draft_show(id, "catatan")["heads"].size(), 1u) << h;
    EXPECT_EQ(o[h].draft_get(id, "catatan", "").second, "baris 1\nbaris 2 (berdua)\nbaris 3\n")
        << h;
  }
}

// ------------------------------------------------------------------------------------
// Attachments.

// Where the attachment tests start: the Sekretaris, the Kasubag and the Kadis enrolled, and a
// case the Sekretaris has disposed that the Kasubag has pulled.
std::string enrol_three_and_dispose(Office& o) {
  Api& sek = o.enroll("sekretaris");
  Api& kasubag = o.enroll("kasubag");
  o.enroll("kadis");
  const std::string id = open_with_disposition(sek, "Siapkan data.");
  sek.sync();
  kasubag.sync();
  return id;
}

TEST(SyncBlobTest, LargeAttachmentUploadResumesAfterACutAndDownloadsInChunks) {
  Office o;
  const std::string id = enrol_three_and_dispose(o);
  Api &sek = o["sekretaris"], &kasubag = o["kasubag"], &kadis = o["kadis"];

  // 2.5 MiB of binary (a spreadsheet): three chunks each way.
  std::string content(5u << 19, '\0');
  std::uint32_t x = 12345;
  for (auto& ch : content) {
    x = x * 1103515245u + 12345u;
    ch = static_cast<char>(x >> 24);
  }
  const std::string sha = crypto::sha256_hex(content);
  kasubag.act(task(id, "3"), "Data seluruh bidang", file(content, "data.xlsx"));

  // Welcome, BlobState (query), BlobState (chunk 1) — the answer to chunk 2 is lost.
  o.net.drop_next_connection_after(3);
  EXPECT_EQ(error_code_of([&] { kasubag.sync(); }), "closed");
  EXPECT_FALSE(o.db.has_blob(sha));
  EXPECT_EQ(kasubag.status()["tentative"], 1);

  // The next sync resumes where the server stopped, then pushes the change.
  const std::size_t mark = o.net.trace().size();
  json r = kasubag.sync();
  EXPECT_EQ(r["accepted"], 1);
  std::optional<std::uint64_t> resumed_at;
  for (const auto& m : o.delivered(mark))
    if (auto* b = std::get_if<sync::BlobState>(&m); b && !resumed_at) resumed_at = b->have;
  ASSERT_TRUE(resumed_at);
  EXPECT_EQ(*resumed_at, 2u << 20) << "the two chunks the server stored are not sent again";
  EXPECT_TRUE(o.db.has_blob(sha));

  // Another replica downloads it during its sync, in chunks, and can open it.
  const std::size_t mark2 = o.net.trace().size();
  kadis.sync();
  std::size_t chunks = 0;
  for (const auto& m : o.delivered(mark2))
    if (std::holds_alternative<sync::BlobChunk>(m)) ++chunks;
  EXPECT_EQ(chunks, 3u);
  EXPECT_TRUE(kadis.replica().missing_blobs().empty());
  auto [meta, data] = kadis.draft_get(id, "laporan-persiapan-rapat", "");
  EXPECT_EQ(meta["sha256"], sha);
  EXPECT_EQ(meta["filename"], "data.xlsx");
  EXPECT_TRUE(data == content);
  json shown = kadis.draft_show(id, "laporan-persiapan-rapat");
  EXPECT_EQ(shown["revisions"][0]["media"], "binary");
  EXPECT_TRUE(shown["revisions"][0]["downloaded"]);
  sek.sync();
  expect_converged(o, {"sekretaris", "kasubag", "kadis"}, id);
}

// The Kasubag does step 3 with a small file as its draft (`laporan-persiapan-rapat`) and
// syncs; returns the file's content.
std::string kasubag_attaches_a_small_draft(Office& o, const std::string& id) {
  const std::string content = "Capaian IKU triwulan III: 92 persen.\n";
  o["kasubag"].act(task(id, "3"), "Data seluruh bidang", file(content, "capaian.txt"));
  o["kasubag"].sync();
  return content;
}

TEST(SyncBlobTest, ADownloadCutOffIsFinishedByTheNextSyncThoughNothingNewIsPulled) {
  Office o;
  const std::string id = enrol_three_and_dispose(o);
  const std::string content = kasubag_attaches_a_small_draft(o, id);
  Api& kadis = o["kadis"];

  // The Kadis pulls the case and its draft; the connection goes before the draft's content
  // arrives (Welcome and the Entries reach him, the BlobChunk does not).
  o.net.drop_next_connection_after(2);
  EXPECT_EQ(error_code_of([&] { kadis.sync(); }), "closed");
  EXPECT_EQ(kadis.replica().cursor(), o.db.head());
  EXPECT_EQ(kadis.replica().missing_blobs().size(), 1u);

  // The next sync has nothing new to pull, and still fetches it.
  json r = kadis.sync();
  EXPECT_EQ(r["pulled"], 0);
  EXPECT_TRUE(kadis.replica().missing_blobs().empty());
  EXPECT_EQ(kadis.draft_get(id, "laporan-persiapan-rapat", "").second, content);
  // And a sync after that downloads nothing again.
  const std::size_t mark = o.net.trace().size();
  kadis.sync();
  for (const auto& m : o.delivered(mark))
    EXPECT_FALSE(std::holds_alternative<sync::BlobChunk>(m)) << "a blob sent again";
}

// A download whose bytes were altered on the way (they do not hash to what the draft names)
// is not kept, and the next sync, though it pulls nothing, fetches it again.
TEST(SyncBlobTest, AnAlteredDownloadIsNotKeptAndTheNextSyncFetchesItAgain) {
  Office o;
  const std::string id = enrol_three_and_dispose(o);
  const std::string content = kasubag_attaches_a_small_draft(o, id);
  Api& kadis = o["kadis"];

  std::size_t altered = 0;
  o.net.set_server_message_filter([&](std::string& bytes) {
    sync::Message m = sync::decode(bytes);
    auto* c = std::get_if<sync::BlobChunk>(&m);
    if (!c || c->data.empty()) return;
    c->data[0] = static_cast<char>(c->data[0] ^ 0x01);
    ++altered;
    bytes = sync::encode(m);
  });
  kadis.sync();
  EXPECT_EQ(altered, 1u);
  EXPECT_EQ(kadis.replica().cursor(), o.db.head());
  EXPECT_EQ(kadis.replica().missing_blobs().size(), 1u) << "altered bytes were kept";

  o.net.set_server_message_filter({});
  json r = kadis.sync();
  EXPECT_EQ(r["pulled"], 0);
  EXPECT_TRUE(kadis.replica().missing_blobs().empty());
  EXPECT_EQ(kadis.draft_get(id, "laporan-persiapan-rapat", "").second, content);
}

// ------------------------------------------------------------------------------------
// Syncs cut off halfway.

TEST(SyncInterruptedTest, LostPushResultLosesNothingAndDuplicatesNothing) {
  Office o;
  Api& sek = o.enroll("sekretaris");
  Api& kadis = o.enroll("kadis");
  const std::string id = open_with_disposition(sek, "Siapkan rapat koordinasi.");
  const std::string rid = sek.replica().require_meta("replica");
  const std::uint64_t head_before = o.db.head();

  // Cut after the Welcome: the push is committed, its PushResult never arrives.
  o.net.drop_next_connection_after(1);
  EXPECT_EQ(error_code_of([&] { sek.sync(); }), "closed");
  EXPECT_TRUE(o.net.last_connection()->dropped());
  EXPECT_EQ(o.db.head(), head_before + 2);
  EXPECT_EQ(o.times_in_log(rid, 1), 1u);
  EXPECT_EQ(o.times_in_log(rid, 2), 1u);
  EXPECT_EQ(sek.status()["tentative"], 2);
  EXPECT_EQ(sek.replica().count_pending(), 2u);

  // Meanwhile the sekretaris writes once more, offline.
  sek.disposition_set(task(id, "1"), "Rapat hari Senin.");

  const std::size_t mark = o.net.trace().size();
  json r = sek.sync();
  EXPECT_EQ(r["pushed"], 3);
  EXPECT_EQ(r["accepted"], 3);
  EXPECT_EQ(r["rejected"], 0);
  auto results = push_results(o, mark);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].results.size(), 3u);
  EXPECT_EQ(results[0].results[0].outcome, Outcome::kDuplicate);
  EXPECT_EQ(results[0].results[1].outcome, Outcome::kDuplicate);
  EXPECT_EQ(results[0].results[2].outcome, Outcome::kAccepted);
  EXPECT_EQ(results[0].results[0].seq, head_before + 1);
  EXPECT_EQ(results[0].results[1].seq, head_before + 2);
  EXPECT_EQ(results[0].results[2].seq, head_before + 3);

  // Exactly once in the server's log, each.
  EXPECT_EQ(o.db.head(), head_before + 3);
  for (std::uint64_t c = 1; c <= 3; ++c) EXPECT_EQ(o.times_in_log(rid, c), 1u) << c;
  auto rows = sek.replica().outbox();
  ASSERT_EQ(rows.size(), 3u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].status, "accepted");
    EXPECT_EQ(rows[i].seq, head_before + 1 + i);
  }
  EXPECT_EQ(sek.status()["rejected"].size(), 0u);
  kadis.sync();
  expect_converged(o, {"sekretaris", "kadis"}, id);
}

// The sekretaris, the kasubag and the kepala dinas enrolled and synced on one case with a
// step-1 disposition; then the sekretaris rewords it `n` times ("Arahan revisi ke-<i>"),
// syncing after every `every`, while the other two stay offline. Returns the case.
std::string disposition_rewrites(Office& o, std::size_t n, std::size_t every) {
  Api& sek = o.enroll("sekretaris");
  const std::string id = open_with_disposition(sek, "Siapkan rapat koordinasi.");
  sek.sync();
  o.enroll("kasubag");
  o.enroll("kadis");
  for (std::size_t i = 0; i < n; ++i) {
    sek.disposition_set(task(id, "1"), "Arahan revisi ke-" + std::to_string(i));
    if (i % every == every - 1) sek.sync();
  }
  sek.sync();
  return id;
}

TEST(SyncInterruptedTest, PullCutBetweenBatchesResumesFromTheCursor) {
  Office o;
  // More than one pull batch of committed entries for the kasubag and the kepala dinas.
  const std::size_t n = server::kMaxEntriesPerPull + 150;
  const std::string id = disposition_rewrites(o, n, 150);
  Api& kasubag = o["kasubag"];
  Api& kadis = o["kadis"];
  const std::uint64_t head = o.db.head();
  ASSERT_GE(head, kasubag.replica().cursor() + server::kMaxEntriesPerPull + 1);

  // The kasubag's pull is cut after the first Entries (Welcome, Entries, ✂).
  const std::uint64_t before = kasubag.replica().cursor();
  o.net.drop_next_connection_after(2);
  EXPECT_EQ(error_code_of([&] { kasubag.sync(); }), "closed");
  EXPECT_TRUE(o.net.last_connection()->dropped());
  // The first batch was applied with its cursor; nothing after it.
  EXPECT_EQ(kasubag.replica().cursor(), before + server::kMaxEntriesPerPull);
  {
    sql::Statement s(kasubag.replica().db(), "SELECT COUNT(*), MAX(seq) FROM log");
    ASSERT_TRUE(s.step());
    EXPECT_EQ(static_cast<std::uint64_t>(s.get_int(1)), before + server::kMaxEntriesPerPull);
  }

  // The next sync resumes from the cursor.
  const std::size_t mark = o.net.trace().size();
  json r = kasubag.sync();
  EXPECT_EQ(r["pulled"], head - before - server::kMaxEntriesPerPull);
  EXPECT_EQ(kasubag.replica().cursor(), head);
  for (const auto& m : o.delivered(mark)) {
    if (auto* e = std::get_if<sync::Entries>(&m); e && !e->entries.empty()) {
      EXPECT_GT(e->entries.front().seq, before + server::kMaxEntriesPerPull);
    }
  }

  // The replica that was offline for all of it catches up with one sync.
  r = kadis.sync();
  EXPECT_EQ(kadis.replica().cursor(), head);
  EXPECT_EQ(kadis.status()["cursor"], head);

  // So does a device enrolled only now (its enrolment syncs once).
  o.enroll("kabid_ukm");
  expect_converged(o, {"sekretaris", "kasubag", "kadis", "kabid_ukm"}, id);
  auto last = kadis.replica().load_case(id)->dispositions.at("1").value.siblings();
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last.front().value.text, "Arahan revisi ke-" + std::to_string(n - 1));
}

// Where the transport allows it (wss), the client receives and checks the next pulled batch
// on another thread while it applies the one before (SyncClient::pull, sync::link_entries).
// A batch whose log hash chain is broken is refused whole there too — broken at its first
// entry (which the applying thread checks against the replica's last log hash) or inside it
// (a link checked on the receiving thread) — while the batch after it is being read: what
// came before stays applied, the connection is never used by two threads at once, and the
// next sync with an honest server brings everything.
TEST(SyncOverlapTest, ABrokenBatchIsRefusedWhileTheNextIsReadAndTheNextSyncCatchesUp) {
  Office o;
  // Three pull batches and more for the kasubag and the kepala dinas.
  const std::string id = disposition_rewrites(o, 2 * server::kMaxEntriesPerPull + 150, 500);
  Api& kasubag = o["kasubag"];
  Api& kadis = o["kadis"];
  const std::uint64_t head = o.db.head();

  o.net.set_receive_on_any_thread(true);
  for (auto [api, broken] : {std::pair<Api*, std::size_t>{&kasubag, 0}, {&kadis, 17}}) {
    SCOPED_TRACE("entry " + std::to_string(broken) + " of the second batch broken");
    const std::uint64_t before = api->replica().cursor();
    ASSERT_GE(head, before + 2 * server::kMaxEntriesPerPull + 1);
    std::size_t batches = 0;
    std::uint64_t broken_seq = 0;
    o.net.set_server_message_filter([&](std::string& bytes) {
      sync::Message m = sync::decode(bytes);
      auto* e = std::get_if<sync::Entries>(&m);
      if (!e || e->entries.empty() || ++batches != 2) return;
      auto& entry = e->entries.at(broken);
      entry.log_hash[5] = static_cast<char>(entry.log_hash[5] ^ 0x20);
      broken_seq = entry.seq;
      bytes = sync::encode(m);
    });
    try {
      api->sync();
      ADD_FAILURE() << "a broken log hash chain was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "log_mismatch");
      EXPECT_NE(std::string(e.what()).find("#" + std::to_string(broken_seq)), std::string::npos)
          << e.what();
    }
    EXPECT_EQ(batches, 3u) << "the third batch was asked for and read while the second failed";
    EXPECT_EQ(o.net.concurrent_uses(), 0u);
    // The first batch stays applied; nothing of the second.
    EXPECT_EQ(api->replica().cursor(), before + server::kMaxEntriesPerPull);
    {
      sql::Statement s(api->replica().db(), "SELECT MAX(seq) FROM log");
      ASSERT_TRUE(s.step());
      EXPECT_EQ(static_cast<std::uint64_t>(s.get_int(0)), before + server::kMaxEntriesPerPull);
    }
    o.net.set_server_message_filter({});
    json r = api->sync();
    EXPECT_EQ(r["pulled"], head - before - server::kMaxEntriesPerPull);
    EXPECT_EQ(api->replica().cursor(), head);
    EXPECT_EQ(o.net.concurrent_uses(), 0u);
  }
  expect_converged(o, {"sekretaris", "kasubag", "kadis"}, id);
}

// The sekretaris's backlog of `n` rewrites of the step-1 disposition of a synced case,
// written offline: its case, its replica and the counter of its first pending change.
struct Backlog {
  std::string id, rid;
  std::uint64_t first;
};

Backlog disposition_backlog(Api& sek, std::size_t n) {
  Backlog b;
  b.id = open_with_disposition(sek, "Siapkan rapat koordinasi.");
  sek.sync();
  b.rid = sek.replica().require_meta("replica");
  b.first = std::stoull(sek.replica().require_meta("counter")) + 1;
  for (std::size_t i = 0; i < n; ++i)
    sek.disposition_set(task(b.id, "1"), "Arahan ke-" + std::to_string(i));
  return b;
}

TEST(SyncInterruptedTest, MultiBatchPushCutBeforeTheLastPushResultResumes) {
  Office o;
  Api& sek = o.enroll("sekretaris");
  Api& kadis = o.enroll("kadis");
  // A backlog of more than one push batch (the client pushes 500 changes at a time).
  const std::size_t n = 520;
  const auto [id, rid, first] = disposition_backlog(sek, n);
  const std::uint64_t last = first + n - 1;
  const std::uint64_t head_before = o.db.head();

  // Welcome, PushResult of batch 1, Notify of its commit — then the connection drops: the
  // second batch is committed but its PushResult never arrives.
  o.net.drop_next_connection_after(3);
  EXPECT_EQ(error_code_of([&] { sek.sync(); }), "closed");
  EXPECT_EQ(o.db.head(), head_before + n) << "both batches committed";
  EXPECT_EQ(sek.replica().count_pending(), n - 500) << "only the first batch was acknowledged";

  const std::size_t mark = o.net.trace().size();
  json r = sek.sync();
  EXPECT_EQ(r["pushed"], n - 500);
  EXPECT_EQ(r["accepted"], n - 500);
  for (const auto& pr : push_results(o, mark))
    for (const auto& cr : pr.results) EXPECT_EQ(cr.outcome, Outcome::kDuplicate) << cr.counter;
  EXPECT_EQ(o.db.head(), head_before + n);
  for (std::uint64_t c : {first, first + 499, first + 500, last})
    EXPECT_EQ(o.times_in_log(rid, c), 1u) << c;
  EXPECT_EQ(sek.replica().count_pending(), 0u);
  kadis.sync();
  expect_converged(o, {"sekretaris", "kadis"}, id);
}

// The client keeps up to 4 push batches in flight (client/src/sync_client.cpp, push): a
// backlog of more batches than that is committed once each, in counter order, and every
// batch is answered in the order it was sent.
TEST(SyncPipelinedPushTest, ABacklogOfMoreBatchesThanTheWindowIsCommittedOnceInOrder) {
  Office o;
  Api& sek = o.enroll("sekretaris");
  Api& kadis = o.enroll("kadis");
  const std::size_t n = 4 * 500 + 120;  // five batches of at most 500
  const auto [id, rid, first] = disposition_backlog(sek, n);
  const std::uint64_t head_before = o.db.head();

  const std::size_t mark = o.net.trace().size();
  json r = sek.sync();
  EXPECT_EQ(r["pushed"], n);
  EXPECT_EQ(r["accepted"], n);
  EXPECT_EQ(sek.replica().count_pending(), 0u);
  EXPECT_EQ(o.db.head(), head_before + n);
  auto results = push_results(o, mark);
  ASSERT_EQ(results.size(), 5u);
  std::uint64_t expected = first, seq = head_before;
  for (const auto& pr : results)
    for (const auto& cr : pr.results) {
      EXPECT_EQ(cr.counter, expected++);
      EXPECT_EQ(cr.outcome, Outcome::kAccepted) << cr.counter;
      EXPECT_EQ(cr.seq, ++seq) << cr.counter;  // committed in the order written
    }
  for (std::uint64_t c : {first, first + 1999, first + 2000, first + n - 1})
    EXPECT_EQ(o.times_in_log(rid, c), 1u) << c;
  kadis.sync();
  expect_converged(o, {"sekretaris", "kadis"}, id);
  auto last = kadis.replica().load_case(id)->dispositions.at("1").value.siblings();
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last.front().value.text, "Arahan ke-" + std::to_string(n - 1));
}

TEST(SyncRejectTest, ChangesBuiltOnARejectedChangeAreRejectedTooAndKept) {
  Office o;
  Api& pc = o.enroll("sekretaris");
  Api& laptop = o.enroll("sekretaris", "laptop");
  // Both devices open the quarter's case offline; the laptop also disposes in its own.
  json mine = pc.case_open("LAKIP", "2026-Q3");
  json theirs = laptop.case_open("LAKIP", "2026-Q3");
  json act = laptop.act(task(theirs["case"], "1"), "Arahan dari laptop", std::nullopt);
  EXPECT_EQ(pc.sync()["accepted"], 1);
  json r = laptop.sync();
  EXPECT_EQ(r["rejected"], 2);
  json st = laptop.status();
  EXPECT_EQ(st["tentative"], 0);
  ASSERT_EQ(st["rejected"].size(), 2u) << st.dump();
  EXPECT_EQ(st["rejected"][0]["change"], theirs["change"]);
  EXPECT_EQ(st["rejected"][0]["code"], "case_exists");
  EXPECT_EQ(st["rejected"][1]["change"], act["change"]);
  EXPECT_EQ(st["rejected"][1]["code"], "unknown_case");
  // The laptop now shows the one real case, and can work in it.
  json cases = laptop.case_list();
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0]["case"], mine["case"]);
  laptop.act(task(mine["case"], "1"), "Arahan dari laptop, di kasus yang benar", std::nullopt);
  r = laptop.sync();
  EXPECT_EQ(r["accepted"], 1);
  EXPECT_EQ(laptop.status()["rejected"].size(), 2u);
  pc.sync();
  expect_converged(o, {"sekretaris", "laptop"}, mine["case"]);
}

// ------------------------------------------------------------------------------------
// Bugs found (failing on purpose until fixed in client/src; see the report).

// Stores `c` in the outbox the way Replica::write does (client/SCHEMA.md: the encoded
// change, pending; meta counter, last_hash, hlc) but without re-validating it against the
// overlay of every pending change: that costs one JSON parse of every pending body per
// write, so a backlog of a hundred 64 KiB texts takes seconds to build through the Api.
// client/src/sync_client.cpp, SyncClient::push: batches are cut by count only
// (kPushBatch = 500 changes), never by bytes. The server reads at most
// server::kMaxMessageBytes (8 MiB) per message and closes the connection on a larger one
// (net::ServerLimits in server/src/main.cpp). A change may carry up to 64 KiB of text
// (kMaxTextBytes; a body up to 256 KiB), so ~128 long texts written offline make one Push
// larger than the bound: the server drops it unread, and every later sync resends the
// same oversized first batch — the device can never sync again.
TEST(SyncPushBatchBytesRegression, ALargeOfflineBacklogStillSyncs) {
  Office o;
  Api& sek = o.enroll("sekretaris");
  const std::string id = open_with_disposition(sek, "Siapkan rapat koordinasi.");
  sek.sync();

  // Offline for a while: long instructions for step 1, each within the 64 KiB text limit,
  // each written with the context of the one before (as Api::disposition_set does).
  Replica& rep = sek.replica();
  const std::string rid = rep.require_meta("replica");
  const std::size_t n = 129;
  const std::string long_text(sync::kMaxTextBytes - 8, 'a');
  sync::VersionVector context =
      rep.view(TemplateRegistry::builtin()).load_case(id)->dispositions.at("1").value.vv();
  std::uint64_t last_counter = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sync::Change c =
        rep.next_change("disp/" + id + "/1", sync::op::kDispositionSet,
                        json{{"text", std::to_string(i) + long_text}}.dump(), context, o.clock);
    if (i == 0)
      rep.write(c, TemplateRegistry::builtin(), std::nullopt);  // validated like any write
    else
      store_unchecked(rep, c);
    context.add(c.dot);
    last_counter = c.dot.counter;
  }
  ASSERT_EQ(sek.status()["tentative"], n);
  ASSERT_TRUE(sek.status()["conflicting"].empty()) << "every backlog change is valid";

  EXPECT_EQ(error_code_of([&] { sek.sync(); }), "<no error>");
  EXPECT_EQ(error_code_of([&] { sek.sync(); }), "<no error>") << "a retry does not help either";
  EXPECT_LE(o.net.largest_client_message(), server::kMaxMessageBytes);
  EXPECT_EQ(sek.status()["tentative"], 0);
  EXPECT_EQ(o.times_in_log(rid, last_counter), 1u);
}

}  // namespace
}  // namespace alur::client::testing
