// alur.conf: enrolment defaults that IT presets for many PCs (the Windows silent installer
// writes one beside alur.exe; packaging/README.md documents the format). Lines of
// `key = value`, `#` comments and blank lines; keys: `server` (wss:// URL) and
// `fingerprint` (the server certificate's sha256:...). Read from, first match per key:
// HOME/alur.conf, the folder of the alur binary, and (not on Windows) /etc/alur/alur.conf.
// `alur enroll` uses them where --server / --trust-fingerprint are not given. A third key,
// `compression` (auto, on or off), is what `alur sync` and `alur ui` use where
// --compression is not given: whether to ask the server to compress the sync connection
// (auto: unless the server is this PC; on: also then, for a slow line through a local tunnel).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "alur/net/ws_client.h"

namespace alur::client {

inline constexpr const char* kConfigFileName = "alur.conf";

struct ClientConfig {
  std::optional<std::string> server;
  std::optional<std::string> fingerprint;
  std::optional<std::string> compression;  // "auto", "on" or "off"
};

// "auto", "on", "off" as the connection's setting; throws Error("usage") for another word.
net::Compression compression_named(const std::string& word);

// Parses one file's text; `source` names it in errors. Throws Error("bad_config") naming
// the file and line for a line without '=', an unknown key, an empty value or a key given
// twice.
ClientConfig parse_client_config(const std::string& text, const std::string& source);

// The files that may hold defaults for `home`, in the order they are consulted.
std::vector<std::filesystem::path> client_config_paths(const std::string& home);

// Merges the files of client_config_paths that exist (the first to name a key wins).
ClientConfig load_client_config(const std::string& home);

}  // namespace alur::client
