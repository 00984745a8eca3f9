// UTF-8 paths and environment (alur/shared/paths.h).
#include "alur/shared/paths.h"

#include <cstdlib>

#ifdef _WIN32
#include <windows.h>
#endif

namespace alur {

// C++20's char8_t strings are UTF-8 for std::filesystem on every platform (libstdc++ on
// mingw converts them to UTF-16); the narrow constructor and string() are not on Windows.
std::filesystem::path u8_path(std::string_view utf8) {
  return std::filesystem::path(std::u8string(utf8.begin(), utf8.end()));
}

std::string u8_string(const std::filesystem::path& p) {
  const std::u8string s = p.u8string();
  return std::string(s.begin(), s.end());
}

#ifdef _WIN32

std::string utf8_from_wide(std::wstring_view wide) {
  if (wide.empty()) return {};
  const int len = static_cast<int>(wide.size());
  const int n = WideCharToMultiByte(CP_UTF8, 0, wide.data(), len, nullptr, 0, nullptr, nullptr);
  if (n <= 0) return {};
  std::string out(static_cast<std::size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, wide.data(), len, out.data(), n, nullptr, nullptr);
  return out;
}

// GetEnvironmentVariableW reads the process's own wide environment: the CRT's getenv and
// even _wgetenv (built from the narrow copy in a main() program) pass through the ANSI code
// page, where letters outside it are lost.
std::optional<std::string> env_utf8(const char* name) {
  const std::wstring wide_name(name, name + std::char_traits<char>::length(name));  // ASCII
  std::wstring value(64, L'\0');
  for (;;) {
    const DWORD n =
        GetEnvironmentVariableW(wide_name.c_str(), value.data(), static_cast<DWORD>(value.size()));
    if (n == 0) return std::nullopt;  // unset, or set to ""
    if (n < value.size()) {
      value.resize(n);
      return utf8_from_wide(value);
    }
    value.resize(n);  // n counts the terminating NUL when the buffer was too small
  }
}

#else

std::optional<std::string> env_utf8(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

#endif

}  // namespace alur
