// JSON text to nlohmann::json, fast. Every change a replica or the server applies has a
// JSON body the rules read (a bootstrap of 100,000 changes parses 100,000 bodies), and
// nlohmann's own parser took a sixth of a bootstrap's applying thread, most of it in its
// character-at-a-time lexer. parse_json reads with RapidJSON's SAX reader (iterative, so
// deep nesting cannot overflow the stack; UTF-8 validated; numbers rounded exactly) and
// builds the same nlohmann::json the rules already use.
//
// The contract is nlohmann::json::parse(text, nullptr, false): the same texts are accepted
// and give equal values (integer, unsigned and floating-point numbers alike; a repeated key
// keeps its last value; a leading UTF-8 byte order mark is skipped; a NUL byte ends the
// text), and a text that is not JSON gives a discarded value. Every replica must decide
// alike which bodies are valid; tests/sync/json_parse_test.cpp compares the two parsers
// on edge cases and on many random texts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace alur::sync {

// The value of `text`, or a value whose is_discarded() is true if `text` is not JSON.
nlohmann::json parse_json(const std::string& text);

}  // namespace alur::sync
