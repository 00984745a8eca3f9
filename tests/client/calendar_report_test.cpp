// Working-day deadlines, reports and the SOP document on real replicas against the real
// server logic (client_harness.h): a calendar imported on the server reaches every replica
// and moves due dates, including an amendment imported after a case started; a year
// without a calendar shows as uncertain; the performance report, its CSV and printable
// HTML; the SOP rendered in the SOP AP layout.
#include <gtest/gtest.h>

#include <sstream>

#include "alur/client/render.h"
#include "alur/server/calendars.h"
#include "alur/shared/calendar.h"
#include "client_harness.h"

namespace alur::client::testing {
namespace {

// 09:00 WIB (or `hour`) on `date`.
Millis wib(const std::string& date, int hour = 9) {
  return parse_date(date) * 86'400'000LL + (hour - 7) * 3'600'000LL;
}

void set_clock(Office& o, Millis t) {
  ASSERT_GE(t, o.clock.now_ms()) << "the office clock only moves forward";
  o.clock.advance(t - o.clock.now_ms());
}

// The shipped 2026 calendar with one more amendment, decreed on `decreed`, adding `days`.
std::string amended_2026(const std::string& decreed, const std::vector<std::string>& days) {
  json j = calendar_to_json(*WorkCalendar::builtin().year(2026));
  json add = json::array();
  for (const auto& d : days)
    add.push_back({{"date", d}, {"kind", "cuti_bersama"}, {"name", "Cuti bersama uji"}});
  j["amendments"].push_back(
      {{"number", "Uji 7/2026"}, {"date", decreed}, {"title", "Perubahan uji"}, {"add", add}});
  return j.dump();
}

json inbox_item(Api& a, const std::string& task_id) {
  for (const auto& i : a.inbox())
    if (i["task"] == task_id) return i;
  ADD_FAILURE() << task_id << " not in inbox: " << a.inbox().dump();
  return json();
}

std::optional<Attachment> text_file(const std::string& content, const std::string& name) {
  return Attachment{content, name};
}

TEST(CalendarReplicationTest, AnAmendmentImportedAfterTheCaseStartedMovesTheDueDateEverywhere) {
  Office o;
  set_clock(o, wib("2026-10-02"));  // Friday
  Api& sek = o.enroll("sekretaris");
  Api& kasubag = o.enroll("kasubag");
  std::string id = sek.case_open("LAKIP", "2026-Q4")["case"];
  sek.act(task(id, "1"), "Siapkan rapat koordinasi.", std::nullopt);
  sek.sync();
  kasubag.sync();
  // Step 3 (4 working days) became ready on Friday 2 October: 2, 5, 6, 7 October.
  json item = inbox_item(kasubag, task(id, "3"));
  EXPECT_EQ(item["due"], "2026-10-07");
  EXPECT_EQ(item["due_certain"], true);
  EXPECT_TRUE(item["due_note"].is_null());
  EXPECT_EQ(item["days"], 4);
  EXPECT_EQ(item["remaining_days"], 3);
  EXPECT_EQ(item["overdue"], false);

  // On Saturday the government amends the decree: cuti bersama on Tuesday 6 October, and
  // (retroactively) on Friday 2 October. The administrator imports it.
  set_clock(o, wib("2026-10-03"));
  size_t log_before = o.log().size();
  server::import_calendar(o.db, TemplateRegistry::builtin(), o.clock,
                          amended_2026("2026-10-03", {"2026-10-02", "2026-10-06"}));
  ASSERT_EQ(o.log().size(), log_before + 1);
  EXPECT_EQ(o.log().back().change.op, sync::op::kCalendarSet);
  EXPECT_EQ(o.log().back().change.record, "calendar/2026");
  // Before it syncs, a replica still counts with what it has.
  EXPECT_EQ(inbox_item(kasubag, task(id, "3"))["due"], "2026-10-07");
  kasubag.sync();
  sek.sync();
  // 2 October was already counted and stays counted; 6 October is now off: 2, 5, 7, 8.
  EXPECT_EQ(inbox_item(kasubag, task(id, "3"))["due"], "2026-10-08");
  json shown = sek.case_show(id);
  EXPECT_EQ(shown["steps"][2]["tasks"][0]["due"], "2026-10-08");
  EXPECT_EQ(shown["steps"][2]["tasks"][0]["due_certain"], true);
  EXPECT_EQ(shown["steps"][0]["tasks"][0]["working_days"], 1);
  EXPECT_EQ(shown["steps"][0]["tasks"][0]["late_days"], 0);

  // The server lists the imported year, with its amendment.
  json list = server::list_calendars(o.db);
  bool found = false;
  for (const auto& c : list)
    if (c["year"] == 2026) {
      found = true;
      EXPECT_EQ(c["origin"], "impor");
      EXPECT_EQ(c["amendments"].size(), 1u);
      // The decree's 8 and 6 October; 2 October was past when the amendment was decreed.
      EXPECT_EQ(c["cuti_bersama"], 9);
    }
  EXPECT_TRUE(found);

  // Friday 9 October: past the due date.
  set_clock(o, wib("2026-10-09"));
  item = inbox_item(kasubag, task(id, "3"));
  EXPECT_EQ(item["overdue"], true);
  EXPECT_EQ(item["remaining_days"], -1);
}

TEST(CalendarReplicationTest, AnInvalidCalendarIsRefusedNamingTheFieldAndNothingIsCommitted) {
  Office o;
  json j = calendar_to_json(*WorkCalendar::builtin().year(2026));
  j["days"][4]["kind"] = "libur";
  size_t log_before = o.log().size();
  try {
    server::import_calendar(o.db, TemplateRegistry::builtin(), o.clock, j.dump());
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "bad_calendar");
    EXPECT_NE(std::string(e.what()).find("days[4].kind"), std::string::npos) << e.what();
  }
  EXPECT_EQ(o.log().size(), log_before);
  EXPECT_TRUE(o.db.calendars().empty());
}

TEST(CalendarReplicationTest, ADueDateInAYearWithoutACalendarIsUncertain) {
  Office o;
  set_clock(o, wib("2026-12-29"));  // Tuesday
  Api& sek = o.enroll("sekretaris");
  Api& kasubag = o.enroll("kasubag");
  std::string id = sek.case_open("LAKIP", "2026-Q4")["case"];
  sek.act(task(id, "1"), "Siapkan rapat koordinasi.", std::nullopt);
  sek.sync();
  kasubag.sync();
  // 4 working days from 29 December: 29, 30, 31 December and a day of 2027, for which no
  // decree is loaded: the earliest it can be, marked uncertain with a plain note.
  json item = inbox_item(kasubag, task(id, "3"));
  EXPECT_EQ(item["due"], "2027-01-01");
  EXPECT_EQ(item["due_certain"], false);
  ASSERT_TRUE(item["due_note"].is_string());
  EXPECT_NE(item["due_note"].get<std::string>().find("2027"), std::string::npos);
  json shown = kasubag.case_show(id);
  EXPECT_EQ(shown["steps"][2]["tasks"][0]["due_certain"], false);

  // The administrator imports 2027 (New Year's Day off): certain, one day later.
  json y2027 = {{"schema", "alur.calendar/1"},
                {"year", 2027},
                {"decree", {{"number", "Uji 2027"}, {"date", "2026-09-30"}, {"title", "Uji"}}},
                {"provenance", "data uji"},
                {"days", json::array({{{"date", "2027-01-01"},
                                       {"kind", "libur_nasional"},
                                       {"name", "Tahun Baru 2027 Masehi"}}})}};
  server::import_calendar(o.db, TemplateRegistry::builtin(), o.clock, y2027.dump());
  kasubag.sync();
  item = inbox_item(kasubag, task(id, "3"));
  EXPECT_EQ(item["due"], "2027-01-04");
  EXPECT_EQ(item["due_certain"], true);
}

TEST(ReportTest, WorkingDaysAgainstTheStandardLateTasksAndSlowestSteps) {
  Office o;
  set_clock(o, wib("2026-10-05"));  // Monday
  Api& sek = o.enroll("sekretaris");
  Api& kop = o.enroll("kabid_koperasi");
  Api& mikro = o.enroll("kabid_mikro");
  Api& ukm = o.enroll("kabid_ukm");
  Api& kasubag = o.enroll("kasubag");
  std::string id = sek.case_open("LAKIP", "2026-Q4")["case"];
  sek.act(task(id, "1"), "Siapkan rapat koordinasi.", std::nullopt);  // 1 day: on time
  sek.sync();
  for (Api* a : {&kop, &mikro, &ukm, &kasubag}) a->sync();
  // Step 2 (4 days, due Thursday 8 October) and step 3 (4 days).
  set_clock(o, wib("2026-10-06"));
  kop.act(task(id, "2.koperasi"), "Siapkan bahan Bidang Koperasi.", std::nullopt);
  kop.sync();
  set_clock(o, wib("2026-10-07"));
  kasubag.act(task(id, "3"), "Data dihimpun", text_file("Capaian kinerja\n", "persiapan.txt"));
  kasubag.sync();
  set_clock(o, wib("2026-10-12"));  // Monday after the due date: 2 working days late
  mikro.act(task(id, "2.usaha_mikro"), "Siapkan bahan Bidang Usaha Mikro.", std::nullopt);
  mikro.sync();
  // Bidang UKM has not acted by Wednesday 14 October: 4 working days past its due date.
  set_clock(o, wib("2026-10-14"));
  sek.sync();

  json r = sek.report("2026-Q4", "");
  ASSERT_EQ(r["cases"].size(), 1u);
  EXPECT_EQ(r["certain"], true);
  std::map<std::string, json> rows;
  for (const auto& t : r["cases"][0]["tasks"]) rows[t["task"]] = t;
  ASSERT_EQ(rows.size(), 15u);  // 13 steps, step 2 for each of three bidang
  EXPECT_EQ(rows[task(id, "1")]["working_days"], 1);
  EXPECT_EQ(rows[task(id, "1")]["status"], "tepat_waktu");
  EXPECT_EQ(rows[task(id, "2.koperasi")]["working_days"], 2);
  EXPECT_EQ(rows[task(id, "2.koperasi")]["late_days"], 0);
  EXPECT_EQ(rows[task(id, "2.usaha_mikro")]["working_days"], 6);
  EXPECT_EQ(rows[task(id, "2.usaha_mikro")]["late_days"], 2);
  EXPECT_EQ(rows[task(id, "2.usaha_mikro")]["status"], "terlambat");
  EXPECT_EQ(rows[task(id, "2.usaha_mikro")]["by_name"], "Euis Komariah");
  EXPECT_EQ(rows[task(id, "2.ukm")]["status"], "berjalan_terlambat");
  EXPECT_EQ(rows[task(id, "2.ukm")]["late_days"], 4);
  EXPECT_EQ(rows[task(id, "2.ukm")]["by_name"], "Dadang Hermawan");  // who holds the task
  EXPECT_EQ(rows[task(id, "3")]["working_days"], 3);
  EXPECT_EQ(rows[task(id, "4")]["status"], "belum");
  EXPECT_TRUE(rows[task(id, "4")]["late_days"].is_null());

  // Who was late, by how much, most first.
  ASSERT_EQ(r["late"].size(), 2u);
  EXPECT_EQ(r["late"][0]["task"], task(id, "2.ukm"));
  EXPECT_EQ(r["late"][0]["late_days"], 4);
  EXPECT_EQ(r["late"][1]["task"], task(id, "2.usaha_mikro"));
  EXPECT_EQ(r["late"][1]["late_days"], 2);
  ASSERT_FALSE(r["people"].empty());
  EXPECT_EQ(r["people"][0]["by"], "kabid_mikro");
  EXPECT_EQ(r["people"][0]["late_days"], 2);

  // Slowest steps across cases: step 2 (average 4.0 against 4, one late of two) first.
  ASSERT_EQ(r["slowest_steps"].size(), 3u);
  EXPECT_EQ(r["slowest_steps"][0]["step"], 2);
  EXPECT_DOUBLE_EQ(r["slowest_steps"][0]["avg_working_days"].get<double>(), 4.0);
  EXPECT_EQ(r["slowest_steps"][0]["max_working_days"], 6);
  EXPECT_EQ(r["slowest_steps"][0]["late"], 1);
  EXPECT_EQ(r["slowest_steps"][0]["tasks"], 2);
  EXPECT_EQ(r["slowest_steps"][2]["step"], 3);  // 3 days against 4: fastest

  // Periods: another quarter is empty, the whole year includes it, a bad one is refused.
  EXPECT_TRUE(sek.report("2026-Q3", "")["cases"].empty());
  EXPECT_EQ(sek.report("2026", "")["cases"].size(), 1u);
  EXPECT_EQ(sek.report("", id.substr(0, 6))["cases"].size(), 1u);
  EXPECT_EQ(error_code_of([&] { sek.report("2026-Q5", ""); }), "bad_period");
  // Every replica computes the same report from the same log.
  kasubag.sync();
  json other = kasubag.report("2026-Q4", "");
  EXPECT_EQ(other["cases"], r["cases"]);

  // CSV: a header and one row per task; HTML: a printable page with Indonesian headings.
  std::string csv = report_csv(r);
  EXPECT_EQ(csv.rfind("\xEF\xBB\xBFkasus,judul,periode,langkah", 0), 0u);
  std::istringstream lines(csv);
  std::string line;
  int n = 0;
  bool mikro_row = false;
  while (std::getline(lines, line)) {
    ++n;
    if (line.find("Euis Komariah") != std::string::npos) {
      mikro_row = true;
      EXPECT_NE(line.find(",4,6,2,Terlambat,ya"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(n, 16);
  EXPECT_TRUE(mikro_row);
  std::string html = report_html(r);
  for (const char* s :
       {"<!DOCTYPE html>", "<h1>Laporan Kinerja Pelaksanaan SOP</h1>",
        "<h2>Langkah Paling Lambat</h2>", "<h2>Keterlambatan</h2>", "<h2>Rekap per Pegawai</h2>",
        "<h2>Rincian per Kasus</h2>", "@page", "Euis Komariah", "Dadang Hermawan", "8 Oktober 2026",
        "Berjalan, lewat tenggat"})
    EXPECT_NE(html.find(s), std::string::npos) << s;
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(report_text(r).find("Keterlambatan"), std::string::npos);
}

TEST(SopDocumentTest, RenderedInTheSopApLayoutWithEveryStepRoleAndIdentityField) {
  Office o;
  Api& a = o.api("tamu");  // not enrolled: an office can print its SOP before enrolling
  json sop = a.sop_show("LAKIP");
  const Template& tpl = *TemplateRegistry::builtin().latest("LAKIP");
  std::string html = sop_html(sop);
  std::string text = sop_text(sop);
  // Every step, with its mutu baku.
  ASSERT_EQ(sop["steps"].size(), tpl.steps.size());
  for (const auto& s : tpl.steps) {
    EXPECT_NE(html.find(s.description), std::string::npos) << "step " << s.no;
    EXPECT_NE(text.find(s.description), std::string::npos) << "step " << s.no;
    EXPECT_NE(html.find("<td class=\"tengah\">" + std::to_string(s.no) + ".</td>"),
              std::string::npos);
    EXPECT_NE(html.find(std::to_string(s.days) + " hari</td>"), std::string::npos);
    EXPECT_NE(html.find(s.output), std::string::npos);
    for (const auto& in : s.inputs) EXPECT_NE(html.find("<li>" + in + "</li>"), std::string::npos);
  }
  // A column per role, in the SOP's order, and the activity mark in the actor's column.
  std::vector<std::string> roles;
  for (const auto& r : sop["roles"]) roles.push_back(r["role"]);
  EXPECT_EQ(roles, (std::vector<std::string>{"sekretaris", "kabid", "kasubag_kpe", "pelaksana_kpe",
                                             "kadis"}));
  std::size_t last = 0;
  for (const auto& r : sop["roles"]) {
    std::size_t at = html.find("<th class=\"tengah\">" + r["label"].get<std::string>() + "</th>");
    ASSERT_NE(at, std::string::npos) << r["label"];
    EXPECT_GT(at, last);
    last = at;
    EXPECT_NE(text.find(r["label"].get<std::string>()), std::string::npos);
  }
  EXPECT_NE(html.find("colspan=\"5\" class=\"tengah\">Pelaksana"), std::string::npos);
  std::size_t marks = 0;
  for (std::size_t p = 0; (p = html.find("class=\"aktivitas\"", p)) != std::string::npos; ++p)
    ++marks;
  EXPECT_EQ(marks, tpl.steps.size());
  for (const char* h : {"Mutu Baku", "Persyaratan/ Kelengkapan", "<th>Waktu</th>",
                        "<th>Output</th>", "Keterangan", "Uraian Prosedur"})
    EXPECT_NE(html.find(h), std::string::npos) << h;
  // The identity section: every field and every item of every list.
  for (const char* h :
       {"Nomor SOP", "Tanggal Pembuatan", "Tanggal Revisi", "Tanggal Pengesahan", "Disahkan Oleh",
        "Nama SOP", "Dasar Hukum", "Kualifikasi Pelaksana", "Keterkaitan",
        "Peralatan/ Perlengkapan", "Peringatan", "Pencatatan dan Pendataan"}) {
    EXPECT_NE(html.find(h), std::string::npos) << h;
    EXPECT_NE(text.find(h), std::string::npos) << h;
  }
  EXPECT_NE(html.find("6 Februari 2023"), std::string::npos);
  EXPECT_NE(html.find(tpl.identity["disahkan_oleh"].get<std::string>()), std::string::npos);
  for (const char* list : {"dasar_hukum", "kualifikasi_pelaksana", "keterkaitan", "peralatan",
                           "peringatan", "pencatatan"})
    for (const auto& item : tpl.identity[list]) {
      // A related SOP is a link {"sop", "title"}, printed as "title (SOP code)".
      const std::string expected =
          item.is_string() ? item.get<std::string>()
                           : item["title"].get<std::string>() + " (SOP " +
                                 item["sop"].get<std::string>() + ")";
      EXPECT_NE(html.find("<li>" + expected + "</li>"), std::string::npos) << item;
      EXPECT_NE(text.find(expected), std::string::npos) << item;
    }
  EXPECT_NE(html.find("@page { size: A4 landscape"), std::string::npos);
  EXPECT_EQ(error_code_of([&] { a.sop_show("TIDAKADA"); }), "unknown_sop");
}

}  // namespace
}  // namespace alur::client::testing
