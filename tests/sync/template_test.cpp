// Tests of the template schema (shared/templates/SCHEMA.md): the shipped LAKIP template and
// the synthetic DATA-LAKIP fixture are valid; a broken file reports every problem with its
// field and line; decisions, several actors and related SOPs are read as documented.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "alur/shared/error.h"
#include "alur/shared/sop_template.h"
#include "common/fixtures.h"

namespace alur {
namespace {

using alur::testing::fixture;
using nlohmann::json;

TEST(TemplateTest, ShippedLakipTemplateIsValidWithItsRelatedSops) {
  const Template* t = TemplateRegistry::builtin().find("LAKIP", 1);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->steps.size(), 13u);
  EXPECT_EQ(t->roles.size(), 5u);
  ASSERT_EQ(t->related.size(), 2u);
  EXPECT_EQ(t->related[1].sop, "DATA-LAKIP");
  EXPECT_TRUE(t->relates_to("DATA-LAKIP"));
  EXPECT_EQ(t->step(2)->actors, std::vector<std::string>{"kabid"});
  EXPECT_TRUE(t->precedes(1, 13));
  EXPECT_FALSE(t->precedes(3, 2));  // parallel branches
}

TEST(TemplateTest, SyntheticTemplateHasADecisionSeveralActorsAndAJoin) {
  Template t = parse_template(fixture("sop/data-lakip.json"));
  EXPECT_EQ(t.sop, "DATA-LAKIP");
  EXPECT_EQ(t.step(4)->actors, (std::vector<std::string>{"kasubag_kpe", "sekretaris"}));
  EXPECT_EQ(t.step(4)->actor, "kasubag_kpe");
  EXPECT_EQ(t.step(5)->after, (std::vector<int>{3, 4}));
  ASSERT_NE(t.step(5)->outcome("tolak"), nullptr);
  EXPECT_EQ(t.step(5)->outcome("tolak")->return_to, 2);
  EXPECT_FALSE(t.step(5)->outcome("setuju")->return_to.has_value());
  EXPECT_TRUE(t.relates_to("LAKIP"));
}

// Every problem of the broken fixture, each with the line it is on (lines counted in
// tests/fixtures/sop/broken.json), sorted by line.
TEST(TemplateTest, ValidateReportsEveryErrorWithFieldAndLine) {
  TemplateCheck check = check_template(fixture("sop/broken.json"));
  EXPECT_FALSE(check.template_.has_value());
  std::vector<std::pair<int, std::string>> got;
  for (const auto& i : check.issues) {
    got.emplace_back(i.line, i.path);
    EXPECT_FALSE(i.message.empty());
  }
  std::vector<std::pair<int, std::string>> want = {
      {4, "version"},        {8, "identity.tanggal_pembuatan"}, {18, "steps[1].actor"},
      {19, "steps[2].kind"}, {19, "steps[2].after[0]"},         {20, "steps[3].days"},
      {20, "steps[3]"},      {21, "steps[3].predecesors"}};
  EXPECT_EQ(got, want);
}

TEST(TemplateTest, ParseErrorPointsAtItsLine) {
  TemplateCheck check = check_template("{\n  \"sop\": \"X\",\n  \"title\": oops\n}\n");
  ASSERT_EQ(check.issues.size(), 1u);
  EXPECT_EQ(check.issues[0].line, 3);
  try {
    parse_template("{\n");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "bad_template");
  }
}

json valid() { return json::parse(fixture("sop/data-lakip.json")); }

std::vector<std::string> paths(const json& j) {
  std::vector<std::string> out;
  for (const auto& i : check_template(j.dump(2)).issues) out.push_back(i.path);
  return out;
}

TEST(TemplateTest, DecisionsAndActorsAreChecked) {
  json j = valid();
  j["steps"][4]["outcomes"][1]["return_to"] = 6;  // not before the decision
  EXPECT_EQ(paths(j), std::vector<std::string>{"steps[4].outcomes[1].return_to"});
  j = valid();
  j["steps"][4]["outcomes"] = json::array({{{"code", "tolak"}, {"label", "x"}, {"return_to", 2}},
                                           {{"code", "ulang"}, {"label", "y"}, {"return_to", 1}}});
  EXPECT_EQ(paths(j), std::vector<std::string>{"steps[4].outcomes"});  // nothing goes on
  j = valid();
  j["steps"][3]["actors"] = json::array({"kasubag_kpe", "kadis"});  // kadis not in roles
  EXPECT_EQ(paths(j), std::vector<std::string>{"steps[3].actors[1]"});
  j = valid();
  j["steps"][1]["actor"] = "sekretaris";  // per bidang needs a per-bidang role
  EXPECT_EQ(paths(j), std::vector<std::string>{"steps[1].actor"});
  j = valid();
  j["steps"][0]["outcomes"] = json::array();
  EXPECT_EQ(paths(j), std::vector<std::string>{"steps[0].outcomes"});
}

TEST(TemplateTest, IdentitySectionIsRequired) {
  json j = valid();
  j["identity"].erase("disahkan_oleh");
  j["identity"]["keterkaitan"].push_back(42);
  auto got = paths(j);
  EXPECT_EQ(got, (std::vector<std::string>{"identity", "identity.keterkaitan[1]"}));
}

}  // namespace
}  // namespace alur
