// alur.conf: enrolment defaults that IT presets for many PCs (the Windows silent installer
// writes one beside alur.exe; packaging/README.md documents the format). Lines of
// `key = value`, `#` comments and blank lines; keys: `server` (wss:// URL) and
// `fingerprint` (the server certificate's sha256:...). Read from, first match per key:
// HOME/alur.conf, the folder of the alur binary, and (not on Windows) /etc/alur/alur.conf.
// `alur enroll` uses them where --server / --trust-fingerprint are not given.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace alur::client {

inline constexpr const char* kConfigFileName = "alur.conf";

struct ClientConfig {
  std::optional<std::string> server;
  std::optional<std::string> fingerprint;
};

// Parses one file's text; `source` names it in errors. Throws Error("bad_config") naming
// the file and line for a line without '=', an unknown key, an empty value or a key given
// twice.
ClientConfig parse_client_config(const std::string& text, const std::string& source);

// The files that may hold defaults for `home`, in the order they are consulted.
std::vector<std::filesystem::path> client_config_paths(const std::string& home);

// Merges the files of client_config_paths that exist (the first to name a key wins).
ClientConfig load_client_config(const std::string& home);

}  // namespace alur::client
