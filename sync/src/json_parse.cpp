// parse_json: RapidJSON's SAX reader feeding an nlohmann::json builder (json_parse.h).
#include "alur/sync/json_parse.h"

#include "alur/sync/utf8.h"

// Strings are copied sixteen bytes at a time (SSE2, which every x86-64 processor has). Its
// aligned loads may read past the text's terminating NUL within the same 16 bytes, which
// AddressSanitizer would report: its builds copy a byte at a time.
#if defined(__SSE2__) && !defined(__SANITIZE_ADDRESS__)
#define RAPIDJSON_SSE2
#endif
#include <rapidjson/reader.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace alur::sync {

namespace {

using nlohmann::json;

// Builds the value as nlohmann's own DOM parser does (json_sax_dom_parser): containers are
// opened in place in their parent and kept on a stack while they are filled. A pointer to
// an array's last element stays valid while it is on the stack: nothing is appended to that
// array until the element is closed.
class Builder {
 public:
  // escapes: whether the text has \\u escapes (only they can produce a surrogate).
  explicit Builder(bool escapes) : escapes_(escapes) {}

  // RapidJSON 1.1 turns an escaped lone low surrogate ("\\udc00") into the three bytes
  // ED B0 80, which are not UTF-8; nlohmann refuses the text. Raw input bytes are validated
  // already (valid_bytes), so only an escape can have produced such bytes (ED A0..BF).
  bool no_surrogate(const char* s, std::size_t n) const {
    if (!escapes_) return true;
    for (const char* p = s; (p = static_cast<const char*>(std::memchr(p, '\xED', n - (p - s))));
         ++p)
      if (p + 1 < s + n && static_cast<unsigned char>(p[1]) >= 0xA0) return false;
    return true;
  }

  json& root() { return root_; }

  bool Null() { return put(json(nullptr)); }
  bool Bool(bool b) { return put(json(b)); }
  // RapidJSON reports a negative integer as Int/Int64 and any other as Uint/Uint64, as
  // nlohmann stores them (number_integer, number_unsigned); beyond 64 bits, a Double.
  bool Int(int i) { return put(json(static_cast<std::int64_t>(i))); }
  bool Uint(unsigned u) { return put(json(static_cast<std::uint64_t>(u))); }
  bool Int64(std::int64_t i) { return put(json(i)); }
  bool Uint64(std::uint64_t u) { return put(json(u)); }
  bool Double(double d) { return put(json(d)); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }  // not requested
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return no_surrogate(s, n) && put(json(std::string(s, n)));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    key_.assign(s, n);
    return no_surrogate(s, n);
  }
  bool StartObject() { return open(json::value_t::object); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(json::value_t::array); }
  bool EndArray(rapidjson::SizeType) { return close(); }

 private:
  // Where the next value goes: the root, the end of the open array, or the open object's
  // member named by the last key (a repeated key keeps the last value, as in nlohmann).
  json& slot() {
    if (open_.empty()) return root_;
    json& top = *open_.back();
    if (top.is_array()) {
      top.push_back(json());
      return top.back();
    }
    return top[key_];
  }
  bool put(json&& value) {
    slot() = std::move(value);
    return true;
  }
  bool open(json::value_t type) {
    json& s = slot();
    s = json(type);
    open_.push_back(&s);
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  json root_;
  std::vector<json*> open_;
  std::string key_;
  bool escapes_;
};

// Whether `s` can be JSON as far as its bytes go: UTF-8 (utf8.h), which both parsers
// require of a string's bytes, and no control character other than JSON's whitespace (tab,
// LF, CR), which JSON allows nowhere else. Checked for the whole text at once, eight ASCII
// bytes at a time: outside strings any byte above 0x7F is a syntax error for both parsers
// anyway. (RapidJSON's own UTF-8 check, a character at a time, was a third of its parse;
// and its SSE2 string scan of 1.1.0 lets 0x1A..0x1F through, which this check refuses
// first.)
bool valid_bytes(std::string_view s) {
  constexpr std::uint64_t kHigh = 0x8080808080808080ull, kSpace = 0x2020202020202020ull;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    if (end - p >= 8) {
      std::uint64_t eight;
      std::memcpy(&eight, p, 8);
      // No byte above 0x7F and none below 0x20 (the borrow of a byte below 0x20 sets its
      // high bit in eight - kSpace).
      if (((eight | (eight - kSpace)) & kHigh) == 0) {
        p += 8;
        continue;
      }
    }
    const unsigned char b = *p;
    if (b < 0x80) {
      if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') return false;
      ++p;
      continue;
    }
    const std::size_t len = utf8_multibyte_length(p, static_cast<std::size_t>(end - p));
    if (len == 0) return false;
    p += len;
  }
  return true;
}

}  // namespace

json parse_json(const std::string& text) {
  // nlohmann reads a NUL byte as the end of the text, and so does RapidJSON's StringStream.
  const char* begin = text.c_str();
  // nlohmann skips a byte order mark at the very start.
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) begin += 3;
  const std::string_view view(begin);
  if (!valid_bytes(view)) return json(json::value_t::discarded);
  rapidjson::StringStream in(begin);
  Builder builder(view.find("\\u") != std::string_view::npos);
  rapidjson::Reader reader;
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag;
  if (reader.Parse<kFlags>(in, builder).IsError()) return json(json::value_t::discarded);
  return std::move(builder.root());
}

}  // namespace alur::sync
