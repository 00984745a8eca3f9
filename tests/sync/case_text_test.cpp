// case_json_text writes the stored, compared text of a case without the JSON tree: it must
// be case_to_json(c).dump() byte for byte, or replicas would disagree about their state.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "alur/sync/case_state.h"

namespace alur::sync {
namespace {

// A case with every field set, both ways where a field is optional, and text that needs
// escaping: quotes, backslashes, control characters, Indonesian and other non-ASCII text.
CaseState every_field() {
  CaseState c;
  c.id = "5e0c1d2a3b4c5d6e";
  c.sop = "LAKIP";
  c.version = 3;
  c.period = "2026-Q4";
  c.title = "Pengukuran \"Kinerja\" \\ LAKIP\tTriwulan IV\n";
  c.opened_by = "sekretaris";
  c.opened_at = 1764000000000;
  c.state = "open";
  TaskState t1;
  t1.key = "1";
  t1.step = 1;
  t1.role = "sekretaris";
  t1.state = "done";
  t1.round = 2;
  t1.ready_at = 1764000000001;
  t1.by = "Siti Ş. Rahayu";
  t1.at = -5;
  t1.change = "abcd:1";
  t1.text = std::string("kontrol \x01\x1f\x7f\b\f\r akhir", 20);
  t1.revision = "abcd:2";
  t1.acting = "plt";
  t1.acted_as = "kabid";
  t1.outcome = "setuju";
  TaskState t2 = t1;
  t2.key = "2.ukm";
  t2.bidang = "ukm";
  t2.acted_as.clear();
  TaskState t3;
  t3.key = "3";
  t3.outcome = "tolak";
  c.tasks = {t1, t2, t3};
  Revision r1{"abcd:2", "laporan", {}, "pelaksana", 7, std::string(64, 'a'), 123456789012,
              "laporan LAKIP.docx", "binary", 4};
  Revision r2{"abcd:3", "laporan", {"abcd:2", "ef01:9"}, "kasubag", 8, std::string(64, 'b'), 0,
              "laporan.txt", "text", 0};
  c.drafts["laporan"] = {"laporan", {{r1.id, r1}, {r2.id, r2}}};
  c.drafts["lampiran"] = {"lampiran", {}};
  Disposition d;
  d.task = "1";
  d.value.apply({"abcd", 4}, {}, {"Segera \"proses\"", "sekretaris", 9});
  d.value.apply({"ef01", 2}, {}, {"Tunda", "kadis", 10});
  c.dispositions["1"] = d;
  c.dispositions["2.ukm"] = Disposition{"2.ukm", {}};
  Correction k;
  k.id = "abcd:5";
  k.draft = "laporan";
  k.revision = "abcd:2";
  k.text = "Periksa angka capaian IKU — tabel 3";
  k.by = "kabid";
  k.at = 11;
  k.status.apply({"abcd", 6}, {}, {"resolved", "pelaksana", 12});
  k.status.apply({"ef01", 3}, {}, {"reopened", "kabid", 13});
  c.corrections[k.id] = k;
  Correction open_one = k;
  open_one.id = "abcd:10";
  open_one.status = {};
  c.corrections[open_one.id] = open_one;
  Approval a{"paraf", "11", 11, "laporan", "abcd:3", std::string(64, 'b'), "kasubag",
             "Kepala Sub Bagian", 14, "abcd:11", false, "", "", "", ""};
  Approval signed_one{"tanda_tangan", "13", 13, "laporan", "abcd:3", std::string(64, 'b'),
                      "kadis", "Plt. Kepala Dinas", 15, "abcd:12", true, "plt",
                      "Saya menandatangani ...", "cHVibGlj", "c2lnbmF0dXJl"};
  c.approvals = {a, signed_one};
  ReturnEvent ret{"9", 4, "Perbaiki \"bab 2\"", "kabid", 16, "abcd:13", "", ""};
  ReturnEvent decided{"10", 5, "", "kadis", 17, "abcd:14", "plh", "kembalikan"};
  c.returns = {ret, decided};
  return c;
}

TEST(CaseJsonText, IsTheDumpOfTheJsonTree) {
  const CaseState c = every_field();
  const std::string text = case_json_text(c);
  EXPECT_EQ(text, case_to_json(c).dump());
  // And it reads back to the same case.
  EXPECT_EQ(case_json_text(case_from_json(nlohmann::json::parse(text))), text);
}

TEST(CaseJsonText, AnEmptyCaseToo) {
  CaseState c;
  EXPECT_EQ(case_json_text(c), case_to_json(c).dump());
}

TEST(CaseJsonText, TextThatIsNotUtf8IsRefusedAsBefore) {
  CaseState c;
  c.title = std::string("rusak \xC3\x28", 8);
  EXPECT_THROW(case_to_json(c).dump(), nlohmann::json::type_error);
  EXPECT_THROW(case_json_text(c), nlohmann::json::type_error);
}

}  // namespace
}  // namespace alur::sync
