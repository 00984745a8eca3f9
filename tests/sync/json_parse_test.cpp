// sync::parse_json against its contract, nlohmann::json::parse(text, nullptr, false): the
// same texts accepted, the same values with the same number types. A difference would let
// the server accept a change body that a replica refuses when it replays the log (or the
// other way round), so the two are compared on the edges of JSON and on many random texts.
#include "alur/sync/json_parse.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace alur::sync {
namespace {

using nlohmann::json;

// Equal values of equal types all the way down (nlohmann's == calls 1 and 1u and 1.0 equal).
bool same(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(), jt = b.begin(); it != a.end(); ++it, ++jt)
        if (it.key() != jt.key() || !same(*it, *jt)) return false;
      return true;
    }
    case json::value_t::array:
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i])) return false;
      return true;
    case json::value_t::number_float:
      return a.dump() == b.dump();  // -0.0 and 0.0 are ==, not the same text
    case json::value_t::discarded:
      return true;
    default:
      return a == b;
  }
}

std::string shown(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    }
  }
  return out;
}

// Both parsers agree on `text`; returns whether it was JSON.
bool expect_agree(const std::string& text) {
  const json theirs = json::parse(text, nullptr, false);
  const json ours = parse_json(text);
  EXPECT_EQ(ours.is_discarded(), theirs.is_discarded()) << "text: " << shown(text);
  if (!theirs.is_discarded() && !ours.is_discarded())
    EXPECT_TRUE(same(ours, theirs)) << "text: " << shown(text) << "\nnlohmann: " << theirs.dump()
                                    << "\nparse_json: " << ours.dump();
  return !theirs.is_discarded();
}

TEST(JsonParseTest, AgreesWithNlohmannOnTheEdgesOfJson) {
  // clang-format off
  const std::vector<std::string> texts = {
      // Change bodies as the client writes them.
      R"({"sop":"LAKIP","version":1,"period":"2026-Q3"})",
      R"({"draft":"laporan","revision":"r1:17","text":"Koreksi nomor 3: periksa angka capaian IKU."})",
      R"({"sha256":"ab","size":1234,"filename":"laporan.docx","media":"docx","parents":[]})",
      // Structure.
      "{}", "[]", "[[[]]]", R"({"a":{"b":{"c":[1,{"d":[]}]}}})", "null", "true", "false",
      "\"\"", " {} ", "\t\r\n{}\n", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\"}", "{\"a\":}",
      "{a:1}", "{'a':1}", "[1 2]", "{} {}", "{}x", "{}[]", "", " ", "nul", "nulll", "True",
      R"({"a":1,"a":2})", R"({"a":{"x":1},"a":[2]})", R"({"":0})",
      // Numbers.
      "0", "-0", "0.0", "-0.0", "1", "-1", "01", "00", "1.", ".5", "-", "+1", "1e5", "1E5",
      "1e+5", "1e-5", "1e", "1e+", "-1.5e-3", "2147483647", "2147483648", "-2147483648",
      "-2147483649", "4294967295", "4294967296", "9223372036854775807", "9223372036854775808",
      "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
      "18446744073709551616", "123456789012345678901234567890", "1e308", "1e309", "-1e309",
      "1e-400", "4.9e-324", "2.2250738585072011e-308", "0.1", "0.30000000000000004",
      "1.7976931348623157e308", "9007199254740993", "9007199254740993.0", "1E400", "NaN",
      "Infinity", "-Infinity", "0x10", "1_000",
      // Strings and escapes.
      R"("a\"b\\c\/d\b\f\n\r\t")", R"("\u0041\u00e9\u20ac")", R"("\ud83d\ude00")",
      R"("\u0000")", R"("\ud800")", R"("\udc00")", R"("\ud800\u0041")", R"("\ud800\udbff")",
      R"("\udbff\udfff")", R"("\u12")", R"("\uZZZZ")", R"("\x41")", R"("\a")", "\"\t\"",
      "\"\x01\"", "\"\x7f\"", "\"abc", "\"Sukabumi \xC3\xA9\"", "\"\xE2\x82\xAC\"",
      "\"\xF0\x9F\x98\x80\"", "\"\xC3\"", "\"\xC0\xAF\"", "\"\xE0\x80\xAF\"", "\"\xED\xA0\x80\"",
      "\"\xF4\x90\x80\x80\"", "\"\xFF\"", "\"\x80\"", R"({"\ud800":1})", R"({"\u00e9":1})",
      // Byte order marks and NUL bytes.
      "\xEF\xBB\xBF{}", "\xEF\xBB{}", " \xEF\xBB\xBF{}", "\xEF\xBB\xBF", std::string("{}\0x", 4),
      std::string("{\"a\":\0}", 7), std::string("\"a\0b\"", 5), std::string("\0", 1),
      // Whitespace JSON does not allow; control characters in long strings (RapidJSON
      // 1.1.0's SSE2 scan of a string misses 0x1A..0x1F).
      "\x0c{}", "{}\x0b", "\xC2\xA0{}", "{}\x1e", "\"\x1f\"",
      "\"Koreksi nomor tiga puluh: angka capaian\x1a tabel IKU\"",
      "\"Koreksi nomor tiga puluh: angka capaian\x19 tabel IKU\"",
      "\"Koreksi nomor tiga puluh: angka capaian\t tabel IKU\"",
  };
  // clang-format on
  std::size_t valid = 0;
  for (const auto& t : texts) valid += expect_agree(t);
  // The table holds both kinds (a parser that refused everything would agree on few).
  EXPECT_GT(valid, 50u);
  EXPECT_LT(valid, texts.size() - 50);
}

TEST(JsonParseTest, AgreesWithNlohmannOnRandomTexts) {
  std::mt19937_64 rng(20261202);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  // clang-format off
  const std::vector<std::string> atoms = {
      "{", "}", "[", "]", ",", ":", " ", "\n", "\"", "\\", "\\u", "\\ud83d", "\\udc00", "0",
      "-", "1", "9", ".", "e", "E", "+", "18446744073709551616", "-9223372036854775809",
      "1e309", "true", "false", "null", "\"k\"", "\"t\xC3\xA9ks\"", "\xC3", "\xED\xA0\x80",
      "\xF0\x9F\x98\x80", "\x01", "\t", "\"\\n\"", "1.5e-7", "\"a\":", "\"a\":1",
  };
  // clang-format on
  // Texts built from JSON's pieces, and valid bodies with bytes changed, cut or added.
  const std::vector<std::string> bodies = {
      R"({"draft":"laporan","revision":"r1:17","text":"Koreksi \u00e9 nomor 3.","n":[1,-2,3.5e2]})",
      R"({"sop":"LAKIP","version":1,"period":"2026-Q3","x":{"y":[true,false,null,""]}})",
  };
  std::size_t valid = 0, total = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    if (i % 2 == 0) {
      const std::size_t n = 1 + pick(12);
      for (std::size_t k = 0; k < n; ++k) text += atoms[pick(atoms.size())];
    } else {
      text = bodies[pick(bodies.size())];
      const std::size_t edits = 1 + pick(3);
      for (std::size_t k = 0; k < edits && !text.empty(); ++k) {
        const std::size_t at = pick(text.size());
        switch (pick(4)) {
          case 0:
            text[at] = static_cast<char>(rng());
            break;
          case 1:
            text.erase(at, 1 + pick(4));
            break;
          case 2:
            text.insert(at, atoms[pick(atoms.size())]);
            break;
          default:
            text.resize(at);
            break;
        }
      }
    }
    ++total;
    valid += expect_agree(text);
    if (::testing::Test::HasFailure()) break;  // the first difference is the one to read
  }
  // Both kinds occur often enough for the comparison to mean something.
  EXPECT_GT(valid, total / 50);
  EXPECT_LT(valid, total - total / 50);
}

TEST(JsonParseTest, DeepNestingIsParsedWithoutRecursion) {
  // A body is at most kMaxBodyBytes (256 KiB): 100,000 nested arrays fit in one and must not
  // overflow the stack of the server's or a replica's thread.
  const std::size_t depth = 100000;
  std::string text = std::string(depth, '[') + std::string(depth, ']');
  json j = parse_json(text);
  ASSERT_FALSE(j.is_discarded());
  std::size_t seen = 0;
  for (const json* p = &j; p->is_array() && !p->empty(); p = &(*p)[0]) ++seen;
  EXPECT_EQ(seen, depth - 1);
  EXPECT_TRUE(parse_json(std::string(depth, '[') + std::string(depth - 1, ']')).is_discarded());
}

}  // namespace
}  // namespace alur::sync
