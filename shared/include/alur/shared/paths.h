// Paths as UTF-8 text on every platform: the one place where alur turns the text it is given
// (command-line arguments, the environment, JSON) into std::filesystem paths and back.
// On POSIX these are plain copies. On Windows, std::filesystem and the CRT read narrow strings
// in the ANSI code page, so a profile folder such as C:\Users\Siti Aminah Ñ would be mangled
// or unreachable; these go through UTF-16 instead.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace alur {

// The path named by UTF-8 text. Use it wherever a std::string becomes a path (also for
// fstreams, which take the path).
std::filesystem::path u8_path(std::string_view utf8);

// The path as UTF-8 text (for SQLite, messages and JSON), never the ANSI code page.
std::string u8_string(const std::filesystem::path& p);

// An environment variable as UTF-8 (on Windows read through the wide API); nullopt when it
// is unset or empty.
std::optional<std::string> env_utf8(const char* name);

#ifdef _WIN32
// UTF-16 from a wide Windows API as UTF-8.
std::string utf8_from_wide(std::wstring_view wide);
#endif

}  // namespace alur
