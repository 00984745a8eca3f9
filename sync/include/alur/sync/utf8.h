// One UTF-8 character as RFC 3629 defines it: no overlong forms, no surrogates, nothing
// above U+10FFFF. What a change's record name (rules.cpp) and a change body's bytes
// (json_parse.cpp) are checked with, each adding its own rule on control characters.
#pragma once

#include <cstddef>

namespace alur::sync {

// The length (2 to 4) of the valid multi-byte character that starts at `p` with `left`
// bytes remaining (left >= 1, *p >= 0x80); 0 if none does.
inline std::size_t utf8_multibyte_length(const unsigned char* p, std::size_t left) {
  const unsigned char b = p[0];
  const std::size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
  if (len == 0 || b > 0xF4 || left < len) return 0;
  const unsigned char b1 = p[1];
  if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 > 0x9F) || (b == 0xF0 && b1 < 0x90) ||
      (b == 0xF4 && b1 > 0x8F))
    return 0;
  for (std::size_t k = 1; k < len; ++k)
    if ((p[k] & 0xC0) != 0x80) return 0;
  return len;
}

}  // namespace alur::sync
