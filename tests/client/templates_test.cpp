// Templates as data and acting officials through the client and the real server logic over
// the in-memory network (client_harness.h): a template imported on the server reaches every
// replica and runs there offline; related cases show on each other; a Plh. sees the
// delegated task in the inbox, acts offline, and the delegation ends before the sync.
#include <gtest/gtest.h>

#include "alur/client/render.h"
#include "alur/server/admin.h"
#include "client_harness.h"
#include "common/fixtures.h"

namespace alur::client::testing {
namespace {

using alur::testing::fixture;

constexpr Millis kHour = 3'600'000;
constexpr Millis kDay = 24 * kHour;

// Officials enrolled for the synthetic DATA-LAKIP SOP.
struct DataLakipOffice : Office {
  DataLakipOffice() {
    json r = server::import_template(db, TemplateRegistry::builtin(), clock,
                                     fixture("sop/data-lakip.json"));
    EXPECT_TRUE(r["imported"].get<bool>());
    for (const char* u :
         {"sekretaris", "kasubag", "pelaksana", "kabid_koperasi", "kabid_mikro", "kabid_ukm"})
      enroll(u);
  }
  void sync_all() {
    for (int round = 0; round < 2; ++round)
      for (auto& [home, api] : officials) api->sync();
  }
  json step_tasks(Api& a, const std::string& id, int step) {
    json shown = a.case_show(id);
    for (const auto& s : shown["steps"])
      if (s["step"] == step) return s["tasks"];
    return json();
  }
};

bool in_inbox(Api& a, const std::string& task_id) {
  for (const auto& i : a.inbox())
    if (i["task"] == task_id) return true;
  return false;
}

TEST(ClientTemplatesTest, AnImportedTemplateRunsOnEveryReplicaWithItsDecision) {
  DataLakipOffice o;
  // Importing the same text again is a no-op; the server lists it beside LAKIP.
  EXPECT_FALSE(server::import_template(o.db, TemplateRegistry::builtin(), o.clock,
                                       fixture("sop/data-lakip.json"))["imported"]
                   .get<bool>());
  json list = server::list_templates(o.db, TemplateRegistry::builtin());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["sop"], "DATA-LAKIP");
  EXPECT_EQ(list[0]["source"], "impor");

  Api& kasubag = o["kasubag"];
  Api& sek = o["sekretaris"];
  Api& pel = o["pelaksana"];
  // Opened offline from the replicated template.
  o.net.set_offline(true);
  json opened = kasubag.case_open("DATA-LAKIP", "2026-Q3");
  const std::string id = opened["case"];
  EXPECT_EQ(opened["title"], "Pengumpulan Data LAKIP \u2014 Triwulan III 2026");
  kasubag.act(task(id, "1"), "Mohon data triwulan III", std::nullopt);
  o.net.set_offline(false);
  o.sync_all();
  for (const char* u : {"kabid_koperasi", "kabid_mikro", "kabid_ukm"}) {
    std::string bidang = std::string(u) == "kabid_koperasi" ? "koperasi"
                         : std::string(u) == "kabid_mikro"  ? "usaha_mikro"
                                                            : "ukm";
    o[u].act(task(id, "2." + bidang), "Data bidang", std::nullopt);
  }
  o.sync_all();
  // Step 4 may be done by the Kasubag or the Sekretaris: it is in both inboxes.
  EXPECT_TRUE(in_inbox(kasubag, task(id, "4")));
  EXPECT_TRUE(in_inbox(sek, task(id, "4")));
  EXPECT_TRUE(in_inbox(pel, task(id, "3")));  // the parallel branch
  sek.act(task(id, "4"), "Dokumen lengkap", std::nullopt);
  pel.act(task(id, "3"), "Rekap", std::nullopt);
  o.sync_all();
  EXPECT_FALSE(in_inbox(kasubag, task(id, "4")));
  // The decision needs an outcome; "tolak" sends the case back to the bidang.
  EXPECT_EQ(error_code_of([&] { sek.act(task(id, "5"), "", std::nullopt); }), "bad_action");
  sek.act(task(id, "5"), "Data UKM belum lengkap", std::nullopt, "tolak");
  o.sync_all();
  json shown = kasubag.case_show(id);
  ASSERT_EQ(shown["returns"].size(), 1u);
  EXPECT_EQ(shown["returns"][0]["outcome"], "tolak");
  EXPECT_EQ(shown["returns"][0]["to_step"], 2);
  EXPECT_EQ(o.step_tasks(kasubag, id, 2)[0]["state"], "ready");
  EXPECT_EQ(o.step_tasks(kasubag, id, 4)[0]["state"], "pending");
  // Every replica shows the same case as the server.
  for (auto& [home, api] : o.officials)
    EXPECT_EQ(without_tentative(api->case_show(id)), without_tentative(shown)) << home;
  EXPECT_EQ(sync::case_to_json(*kasubag.replica().load_case(id)), o.server_case(id));
}

TEST(ClientTemplatesTest, RelatedCasesOfTheSamePeriodShowOnEachOther) {
  DataLakipOffice o;
  Api& kasubag = o["kasubag"];
  std::string data = kasubag.case_open("DATA-LAKIP", "2026-Q3")["case"];
  std::string lakip = kasubag.case_open("LAKIP", "2026-Q3")["case"];
  std::string other = kasubag.case_open("LAKIP", "2026-Q2")["case"];
  json related = kasubag.case_show(lakip)["related"];
  ASSERT_EQ(related.size(), 1u);  // the same period only
  EXPECT_EQ(related[0]["case"], data);
  EXPECT_EQ(related[0]["sop"], "DATA-LAKIP");
  json back = kasubag.case_show(data)["related"];
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0]["case"], lakip);
  EXPECT_TRUE(kasubag.case_show(other)["related"].empty());
}

// The delegate works offline on the last day of the delegation and syncs after it ended:
// the action counts (done while it lasted, synced within 7 days), dated when it was done,
// shown as "Plh. Sekretaris" and the person. An action done after the end is rejected with
// delegation_ended and shown in status.
TEST(ClientTemplatesTest, PlhActsOfflineAndTheDelegationEndsBeforeTheSync) {
  Office o;
  Api& kasubag = o.enroll("kasubag");
  Api& sek = o.enroll("sekretaris");
  std::string today = format_date_wib(o.clock.now_ms());
  Delegation d;
  d.username = "kasubag";
  d.role = "sekretaris";
  d.kind = "plh";
  d.from = today;
  d.until = today;
  std::string did = server::add_delegation(o.db, TemplateRegistry::builtin(), o.clock, d);
  json listed = server::list_delegations(o.db, o.clock.now_ms());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["label"], "Plh. Sekretaris");
  EXPECT_EQ(listed[0]["state"], "berlaku");
  std::string q3 = kasubag.case_open("LAKIP", "2026-Q3")["case"];
  std::string q2 = kasubag.case_open("LAKIP", "2026-Q2")["case"];
  kasubag.sync();
  // Step 1 is the Sekretaris's; the Plh. sees it in the inbox.
  bool seen = false;
  for (const auto& i : kasubag.inbox())
    if (i["task"] == task(q3, "1")) {
      seen = true;
      EXPECT_EQ(i["as"], "Plh. Sekretaris");
    }
  EXPECT_TRUE(seen);
  // Offline: acts on Q3 today; then the day ends, and on the next day acts on Q2.
  o.net.set_offline(true);
  Millis done_at = o.clock.now_ms();
  kasubag.act(task(q3, "1"), "Disposisi oleh Plh.", std::nullopt);
  o.clock.advance(kDay);
  EXPECT_FALSE(in_inbox(kasubag, task(q2, "1")));  // no longer the Plh.
  // After the end the replica itself refuses, as the server would.
  EXPECT_EQ(error_code_of([&] { kasubag.act(task(q2, "1"), "terlambat", std::nullopt); }),
            "delegation_ended");
  // Back online two days after the end: the action done while it lasted is accepted.
  o.clock.advance(2 * kDay);
  o.net.set_offline(false);
  json r = kasubag.sync();
  EXPECT_EQ(r["accepted"], 1) << r.dump();
  EXPECT_EQ(r["rejected"], 0) << r.dump();
  sek.sync();
  json t = sek.case_show(q3)["steps"][0]["tasks"][0];
  EXPECT_EQ(t["state"], "done");
  EXPECT_EQ(t["by"], "kasubag");
  EXPECT_EQ(t["as"], "Plh. Sekretaris");
  EXPECT_EQ(t["acting"], "plh");
  EXPECT_EQ(t["at"], format_time_utc(done_at));
  EXPECT_EQ(server::list_delegations(o.db, o.clock.now_ms())[0]["state"], "berakhir");
  // The Sekretaris, back, does the other quarter's step 1 herself.
  sek.act(task(q2, "1"), "Disposisi", std::nullopt);
  EXPECT_EQ(sek.sync()["accepted"], 1);
  // Ending a delegation that is over is refused.
  EXPECT_EQ(error_code_of(
                [&] { server::end_delegation(o.db, TemplateRegistry::builtin(), o.clock, did); }),
            "bad_action");
}

// The report and the SOP document know imported templates: a DATA-LAKIP case is reported
// with its steps' standards, and `alur sop show DATA-LAKIP` renders the replicated template.
TEST(ClientTemplatesTest, AnImportedTemplatesCaseIsReportedAndItsSopDocumentRendered) {
  DataLakipOffice o;
  const Template tpl = parse_template(fixture("sop/data-lakip.json"));
  Api& kasubag = o["kasubag"];
  Api& sek = o["sekretaris"];
  std::string id = kasubag.case_open("DATA-LAKIP", "2026-Q3")["case"];
  kasubag.act(task(id, "1"), "Mohon data triwulan III", std::nullopt);
  o.sync_all();

  json r = sek.report("2026-Q3", "");
  ASSERT_EQ(r["cases"].size(), 1u) << r.dump();
  const json& c = r["cases"][0];
  EXPECT_EQ(c["sop"], "DATA-LAKIP");
  EXPECT_EQ(c["title"], "Pengumpulan Data LAKIP \u2014 Triwulan III 2026");
  // Every task of the case (step 2 once per bidang), each with its step's standard.
  ASSERT_EQ(c["tasks"].size(), 1u + 3u + 4u);
  for (const auto& t : c["tasks"]) {
    const StepDef* s = tpl.step(t["step"].get<int>());
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(t["days"], s->days) << t.dump();
    EXPECT_EQ(t["title"], s->title);
  }
  EXPECT_EQ(c["tasks"][0]["state"], "done");
  EXPECT_EQ(c["tasks"][0]["by"], "kasubag");
  // Step 4 may be done by the Kasubag or the Sekretaris: the report names both holders.
  const Org org = parse_org_file(demo_org_json()).org;
  for (const auto& t : c["tasks"])
    if (t["step"] == 4) {
      EXPECT_NE(t["by_name"].get<std::string>().find(org.find("kasubag")->name),
                std::string::npos);
      EXPECT_NE(t["by_name"].get<std::string>().find(org.find("sekretaris")->name),
                std::string::npos);
    }
  ASSERT_EQ(r["slowest_steps"].size(), 1u);
  EXPECT_EQ(r["slowest_steps"][0]["sop"], "DATA-LAKIP");
  EXPECT_EQ(r["slowest_steps"][0]["title"], tpl.step(1)->title);
  EXPECT_NE(report_html(r).find("Pengumpulan Data LAKIP"), std::string::npos);

  json sop = kasubag.sop_show("DATA-LAKIP");
  EXPECT_EQ(sop["title"], "Pengumpulan Data LAKIP");
  ASSERT_EQ(sop["steps"].size(), 6u);
  std::vector<std::string> roles;
  for (const auto& x : sop["roles"]) roles.push_back(x["role"]);
  EXPECT_EQ(roles, tpl.roles);
  std::string html = sop_html(sop), text = sop_text(sop);
  for (const auto& s : tpl.steps) {
    EXPECT_NE(html.find(s.description), std::string::npos) << s.no;
    EXPECT_NE(text.find(s.description), std::string::npos) << s.no;
  }
  // Step 4 is marked in the columns of both its roles: seven marks for six steps.
  std::size_t marks = 0;
  for (std::size_t p = 0; (p = html.find("class=\"aktivitas\"", p)) != std::string::npos; ++p)
    ++marks;
  EXPECT_EQ(marks, 7u);
  // The decision that returns the case says where it goes.
  EXPECT_NE(html.find("Data ditolak, kembali ke bidang: kembali ke langkah 2"), std::string::npos);
  EXPECT_NE(text.find("Data ditolak, kembali ke bidang: kembali ke langkah 2"), std::string::npos);
  EXPECT_NE(html.find(tpl.identity["nomor"].get<std::string>()), std::string::npos);
  // A PC not enrolled knows only the built-in templates.
  EXPECT_EQ(error_code_of([&] { o.api("tamu").sop_show("DATA-LAKIP"); }), "unknown_sop");
}

}  // namespace
}  // namespace alur::client::testing
