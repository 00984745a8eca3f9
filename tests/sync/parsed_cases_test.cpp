#include "alur/sync/parsed_cases.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace alur::sync {
namespace {

CaseState named(const std::string& id, const std::string& title) {
  CaseState c;
  c.id = id;
  c.title = title;
  return c;
}

// A kept case is given back for its text without parsing it: here the text is not even
// JSON, so a parse would throw.
TEST(ParsedCases, AKeptCaseIsGivenForItsTextWithoutParsing) {
  ParsedCases memo(4);
  memo.keep("teks-a", named("a", "Kasus A"));
  EXPECT_EQ(memo.parse("a", "teks-a").title, "Kasus A");
}

// Any other text (another process wrote the case, or the write was rolled back) is parsed.
TEST(ParsedCases, AnotherTextIsParsed) {
  ParsedCases memo(4);
  memo.keep("teks-lama", named("a", "Lama"));
  const std::string stored = case_json_text(named("a", "Baru"));
  EXPECT_EQ(memo.parse("a", stored).title, "Baru");
  // ...and kept for that text from then on.
  EXPECT_EQ(memo.parse("a", stored).title, "Baru");
  EXPECT_THROW(memo.parse("a", "teks-lama"), nlohmann::json::parse_error);
}

TEST(ParsedCases, KeepsAtMostItsCapacityDroppingTheLeastRecentlyUsed) {
  ParsedCases memo(2);
  memo.keep("A", named("a", "A"));
  memo.keep("B", named("b", "B"));
  EXPECT_EQ(memo.parse("a", "A").title, "A");  // a used after b
  memo.keep("C", named("c", "C"));
  EXPECT_EQ(memo.size(), 2u);
  EXPECT_THROW(memo.parse("b", "B"), nlohmann::json::parse_error);  // b was dropped
  EXPECT_EQ(memo.parse("c", "C").title, "C");
}

// A replica keeps every case it read (kUnbounded), and forgets them all when it empties
// their table (clear): a text kept before is then parsed again.
TEST(ParsedCases, UnboundedKeepsEveryCaseUntilCleared) {
  ParsedCases memo(ParsedCases::kUnbounded);
  for (int i = 0; i < 1000; ++i) memo.keep("T" + std::to_string(i), named(std::to_string(i), "x"));
  EXPECT_EQ(memo.size(), 1000u);
  EXPECT_EQ(memo.parse("0", "T0").title, "x");
  memo.clear();
  EXPECT_EQ(memo.size(), 0u);
  EXPECT_THROW(memo.parse("0", "T0"), nlohmann::json::parse_error);
  memo.keep("T1", named("1", "y"));  // usable again after clear
  EXPECT_EQ(memo.parse("1", "T1").title, "y");
}

}  // namespace
}  // namespace alur::sync
