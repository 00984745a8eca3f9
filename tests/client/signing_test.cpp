// Personal signatures through the client and the real server logic over the in-memory
// network (client_harness.h): a paraf and a tanda tangan carry the signer's own Ed25519
// signature, a wrong or missing passphrase writes nothing, a forged signature is refused by
// the client's rules and by the server, keys move to a new PC or are replaced without
// invalidating old signatures, `verify` names an edited signature, and an export re-checks
// without the server.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "alur/client/export.h"
#include "alur/server/admin.h"
#include "alur/server/verify.h"
#include "alur/sync/signing.h"
#include "client_harness.h"
#include "common/fixtures.h"
#include "unchecked_write.h"

namespace alur::client::testing {
namespace {

namespace fs = std::filesystem;
using alur::testing::fixture;

// A letter: the pelaksana drafts it, the kasubag initials it, the kadis signs it.
std::string surat_template() {
  json j = json::parse(fixture("sop/data-lakip.json"));
  j["sop"] = "SURAT";
  j["title"] = "Penandatanganan Surat";
  j["roles"] = {"pelaksana_kpe", "kasubag_kpe", "kadis"};
  j["openers"] = {"pelaksana_kpe"};
  j["identity"]["keterkaitan"] = json::array();
  j["steps"] = json::array(
      {{{"no", 1}, {"actor", "pelaksana_kpe"}, {"kind", "draft"}, {"title", "Konsep surat"},
        {"days", 1}, {"draft", "surat"}},
       {{"no", 2}, {"actor", "kasubag_kpe"}, {"kind", "initial"}, {"title", "Paraf"},
        {"days", 1}, {"after", {1}}, {"draft", "surat"}},
       {{"no", 3}, {"actor", "kadis"}, {"kind", "sign"}, {"title", "Tanda tangan"},
        {"days", 1}, {"after", {2}}, {"draft", "surat"}}});
  return j.dump();
}

struct SuratOffice : Office {
  SuratOffice() : Office(/*signing=*/true) {
    EXPECT_TRUE(server::import_template(db, TemplateRegistry::builtin(), clock, surat_template())
                    ["imported"]
                        .get<bool>());
    for (const char* u : {"pelaksana", "kasubag", "kadis"}) enroll(u);
  }
  // A letter drafted and synced: ready for the kasubag's paraf.
  std::string drafted() {
    Api& pel = (*this)["pelaksana"];
    std::string id = pel.case_open("SURAT", "2026-Q3")["case"];
    pel.act(task(id, "1"), "", Attachment{"Surat undangan rapat LAKIP.\n", "surat.txt"});
    EXPECT_EQ(pel.sync()["accepted"], 2);
    (*this)["kasubag"].sync();
    return id;
  }
  // The letter initialled and signed, everyone synced.
  std::string signed_letter() {
    std::string id = drafted();
    (*this)["kasubag"].act(task(id, "2"), "", std::nullopt, "", passphrase_of("kasubag"));
    EXPECT_EQ((*this)["kasubag"].sync()["accepted"], 1);
    (*this)["kadis"].sync();
    (*this)["kadis"].act(task(id, "3"), "", std::nullopt, "", passphrase_of("kadis"));
    EXPECT_EQ((*this)["kadis"].sync()["accepted"], 1);
    for (auto& [home, a] : officials) a->sync();
    return id;
  }
  std::size_t outbox_rows(Api& a) {
    auto s = a.replica().db().cached("SELECT COUNT(*) FROM outbox");
    s.step();
    return static_cast<std::size_t>(s.get_int(0));
  }
  std::vector<std::string> server_problems() {
    return server::verify_server(db, TemplateRegistry::builtin()).problems;
  }
};

TEST(SigningTest, ParafAndSignatureCarryTheSignersOwnVerifiedSignature) {
  SuratOffice o;
  std::string id = o.signed_letter();
  json shown = o["pelaksana"].case_show(id);
  EXPECT_EQ(shown["state"], "completed");
  auto c = o.db.load_case(id);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->approvals.size(), 2u);
  const auto& ttd = c->approvals[1];
  EXPECT_EQ(ttd.kind, "tanda_tangan");
  EXPECT_NE(ttd.statement.find("pengguna: kadis\n"), std::string::npos) << ttd.statement;
  EXPECT_NE(ttd.statement.find("peran: Kepala Dinas\n"), std::string::npos) << ttd.statement;
  EXPECT_NE(ttd.statement.find("sha256: " + ttd.sha256 + "\n"), std::string::npos);
  EXPECT_TRUE(sync::verify_b64(ttd.public_key, ttd.statement, ttd.signature));
  EXPECT_EQ(o["kadis"].key_show()["public_key"], ttd.public_key);
  EXPECT_TRUE(o["kadis"].key_show()["recorded"].get<bool>());
  EXPECT_TRUE(o.server_problems().empty());
  EXPECT_TRUE(o["pelaksana"].verify()["ok"].get<bool>()) << o["pelaksana"].verify().dump();
}

TEST(SigningTest, AWrongOrMissingPassphraseWritesNothing) {
  SuratOffice o;
  std::string id = o.drafted();
  Api& kasubag = o["kasubag"];
  const std::size_t before = o.outbox_rows(kasubag);
  try {
    kasubag.act(task(id, "2"), "", std::nullopt, "", std::string("frasa sandi salah"));
    FAIL() << "expected wrong_passphrase";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "wrong_passphrase");
    EXPECT_NE(std::string(e.what()).find("Frasa sandi salah"), std::string::npos);
  }
  EXPECT_EQ(error_code_of([&] { kasubag.act(task(id, "2"), "", std::nullopt); }),
            "passphrase_required");
  EXPECT_EQ(o.outbox_rows(kasubag), before);
  EXPECT_EQ(kasubag.case_show(id)["steps"][1]["tasks"][0]["state"], "ready");
}

TEST(SigningTest, AWeakPassphraseAtEnrolmentIsRefusedAndNothingIsWritten) {
  SuratOffice o;
  Api& a = o.api("lemah");
  for (const char* weak : {"pendek", "aaaaaaaaaaaaaaa", "kasubag"})
    EXPECT_EQ(error_code_of([&] {
                a.enroll(kServerUrl, "kasubag", o.passwords.at("kasubag"), test_fingerprint(),
                         std::string(weak));
              }),
              "weak_passphrase")
        << weak;
  EXPECT_FALSE(fs::exists(fs::path(a.home()) / Replica::kFileName));
}

TEST(SigningTest, AForgedSignatureIsRefusedByTheClientsRulesAndByTheServer) {
  SuratOffice o;
  std::string id = o.drafted();
  Api& kasubag = o["kasubag"];
  Replica& r = kasubag.replica();
  // The kasubag's recorded key, but a signature made with another key.
  json shown = kasubag.case_show(id);
  std::string head = kasubag.draft_show(id, "surat")["heads"][0];
  std::string sha = kasubag.draft_show(id, "surat")["revisions"][0]["sha256"];
  json body{{"round", 0}, {"bind_revision", head}, {"bind_sha256", sha}};
  sync::Change c =
      r.next_change("task/" + id + "/2", sync::op::kTaskComplete, body.dump(), {}, o.clock);
  View v = r.view(TemplateRegistry::builtin());
  std::string statement = sync::statement_to_sign(v, TemplateRegistry::builtin(), c);
  body["public_key"] = kasubag.key_show()["public_key"];
  body["signature"] = crypto::base64_encode(crypto::Ed25519Key::generate().sign(statement));
  c.body = body.dump();
  EXPECT_EQ(error_code_of([&] { r.write(c, TemplateRegistry::builtin(), std::nullopt); }),
            "bad_signature");
  // Sent anyway by a client that skips its own checks: the server refuses it.
  store_unchecked(r, c);
  json rep = kasubag.sync();
  ASSERT_EQ(rep["rejections"].size(), 1u) << rep.dump();
  EXPECT_EQ(rep["rejections"][0]["code"], "bad_signature");
  EXPECT_EQ(o.db.load_case(id)->approvals.size(), 0u);
}

TEST(SigningTest, PassphraseChangeAndTheKeyMovedToANewPc) {
  SuratOffice o;
  std::string id = o.drafted();
  Api& kasubag = o["kasubag"];
  const std::string fresh = "frasa sandi baru kasubag";
  EXPECT_EQ(error_code_of([&] { kasubag.passphrase_change("bukan frasa lama", fresh); }),
            "wrong_passphrase");
  EXPECT_EQ(error_code_of([&] { kasubag.passphrase_change(passphrase_of("kasubag"), "lemah"); }),
            "weak_passphrase");
  kasubag.passphrase_change(passphrase_of("kasubag"), fresh);
  EXPECT_EQ(error_code_of([&] {
              kasubag.act(task(id, "2"), "", std::nullopt, "", passphrase_of("kasubag"));
            }),
            "wrong_passphrase");
  // Moved to a new PC with the same key; it signs there.
  std::string exported = kasubag.key_export();
  Api& pc2 = o.api("kasubag-pc2");
  pc2.set_kdf_for_testing(kFastKdf);
  EXPECT_EQ(error_code_of([&] {
              pc2.enroll(kServerUrl, "kadis", o.passwords.at("kadis"), test_fingerprint(), fresh,
                         exported);
            }),
            "bad_key_file");
  json r = pc2.enroll(kServerUrl, "kasubag", o.passwords.at("kasubag"), test_fingerprint(), fresh,
                      exported);
  EXPECT_TRUE(r["synced"].get<bool>());
  EXPECT_EQ(pc2.key_show()["public_key"], kasubag.key_show()["public_key"]);
  pc2.act(task(id, "2"), "", std::nullopt, "", fresh);
  EXPECT_EQ(pc2.sync()["accepted"], 1);
  std::size_t kasubag_keys = 0;
  for (const auto& k : o.db.org().keys) kasubag_keys += k.username == "kasubag";
  EXPECT_EQ(kasubag_keys, 1u);
}

TEST(SigningTest, ANewKeyOnANewPcKeepsOldSignaturesValid) {
  SuratOffice o;
  std::string id = o.signed_letter();
  Api& pc2 = o.api("kadis-pc2");
  pc2.set_kdf_for_testing(kFastKdf);
  pc2.enroll(kServerUrl, "kadis", o.passwords.at("kadis"), test_fingerprint(),
             std::string("frasa sandi PC kedua"));
  EXPECT_NE(pc2.key_show()["public_key"], o["kadis"].key_show()["public_key"]);
  EXPECT_TRUE(pc2.key_show()["recorded"].get<bool>());
  std::size_t kadis_keys = 0;
  for (const auto& k : o.db.org().keys) kadis_keys += k.username == "kadis";
  EXPECT_EQ(kadis_keys, 2u);
  EXPECT_TRUE(o.server_problems().empty());
  EXPECT_TRUE(pc2.verify()["ok"].get<bool>()) << pc2.verify().dump();
  (void)id;
}

// Edits one field of the stored case's first approval in a SQLite database.
void edit_approval(sql::Database& db, const std::string& id, const std::string& field,
                   const std::string& value) {
  auto s = db.cached("SELECT body FROM cases WHERE id = ?");
  s.bind_text(1, id);
  ASSERT_TRUE(s.step());
  json body = json::parse(s.get_text(0));
  s.reset();
  body["approvals"][0][field] = value;
  db.cached("UPDATE cases SET body = ? WHERE id = ?").bind_text(1, body.dump()).bind_text(2, id).exec();
}

TEST(SigningTest, VerifyNamesAnEditedSignatureStatementOrSwappedKey) {
  SuratOffice o;
  std::string id = o.signed_letter();
  auto c = o.db.load_case(id);
  const auto paraf = c->approvals[0], ttd = c->approvals[1];
  std::string other_sig = ttd.signature;
  struct Edit {
    std::string field, value, expect;
  };
  std::string statement = paraf.statement;
  statement.replace(statement.find("peran: "), 7, "peran: Plt. ");
  const std::vector<Edit> edits{
      {"signature", other_sig, "tanda tangan tidak cocok"},
      {"statement", statement, "tanda tangan tidak cocok"},
      {"public_key", ttd.public_key, "tidak tercatat atas nama kasubag"},
  };
  for (const auto& e : edits) {
    SCOPED_TRACE(e.field);
    // The server's database.
    edit_approval(o.db.db(), id, e.field, e.value);
    auto problems = o.server_problems();
    ASSERT_FALSE(problems.empty());
    EXPECT_NE(problems[0].find("paraf langkah 2 oleh kasubag"), std::string::npos) << problems[0];
    EXPECT_NE(problems[0].find(e.expect), std::string::npos) << problems[0];
    edit_approval(o.db.db(), id, e.field, e.field == "signature"   ? paraf.signature
                                          : e.field == "statement" ? paraf.statement
                                                                   : paraf.public_key);
    EXPECT_TRUE(o.server_problems().empty());
    // A replica's file.
    Api& pel = o["pelaksana"];
    edit_approval(pel.replica().db(), id, e.field, e.value);
    json v = pel.verify();
    EXPECT_FALSE(v["ok"].get<bool>());
    EXPECT_NE(v["problems"][0].get<std::string>().find(e.expect), std::string::npos) << v.dump();
    edit_approval(pel.replica().db(), id, e.field, e.field == "signature"   ? paraf.signature
                                                   : e.field == "statement" ? paraf.statement
                                                                            : paraf.public_key);
    EXPECT_TRUE(pel.verify()["ok"].get<bool>());
  }
}

TEST(SigningTest, AnExportReChecksWithoutTheServerAndFindsTampering) {
  SuratOffice o;
  std::string id = o.signed_letter();
  const std::string dir = o.dir.sub("ekspor");
  json r = o["pelaksana"].export_case(id, dir);
  EXPECT_EQ(r["approvals"], 2);
  EXPECT_EQ(r["documents"], 1);
  json ok = verify_export(dir);
  EXPECT_TRUE(ok["ok"].get<bool>()) << ok.dump();
  EXPECT_EQ(ok["approvals"], 2);
  json manifest = json::parse(std::ifstream(fs::path(dir) / "manifest.json"));
  EXPECT_EQ(manifest["approvals"][1]["name"], o.org.find("kadis")->name);
  EXPECT_EQ(manifest["approvals"][1]["role"], "Kepala Dinas");
  std::ifstream html(fs::path(dir) / "verifikasi.html");
  std::string page((std::istreambuf_iterator<char>(html)), {});
  EXPECT_NE(page.find("Ed25519"), std::string::npos);
  EXPECT_NE(page.find(manifest["approvals"][0]["signature"].get<std::string>()),
            std::string::npos);

  // A document changed after signing.
  const std::string doc = (fs::path(dir) / manifest["documents"][0]["file"].get<std::string>()).string();
  std::ofstream(doc, std::ios::app) << "tambahan\n";
  json bad = verify_export(dir);
  EXPECT_FALSE(bad["ok"].get<bool>());
  EXPECT_NE(bad["problems"][0].get<std::string>().find("dokumen"), std::string::npos);
  // A signer's role changed in the manifest.
  o["pelaksana"].export_case(id, dir);
  manifest["approvals"][1]["role"] = "Plt. Kepala Dinas";
  std::ofstream(fs::path(dir) / "manifest.json") << manifest.dump();
  bad = verify_export(dir);
  EXPECT_FALSE(bad["ok"].get<bool>());
  EXPECT_NE(bad["problems"][0].get<std::string>().find("tanda tangan langkah 3 oleh kadis"),
            std::string::npos)
      << bad.dump();
  EXPECT_EQ(error_code_of([&] { verify_export(o.dir.sub("kosong")); }), "bad_export");
}

}  // namespace
}  // namespace alur::client::testing
