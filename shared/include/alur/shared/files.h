// Small file helpers shared by the server's commands and its backups: whole-file reads,
// private atomic writes, and a streaming SHA-256 of a file. Errors throw alur::Error("io").
#pragma once

#include <filesystem>
#include <string>

namespace alur {

// The whole file; Error("io") naming the path if it cannot be read.
std::string read_file(const std::filesystem::path& p);

// Readable by the owner only, and never half-written: the content goes to a temporary file
// that is made private before anything is written to it, then renamed over `p`.
void write_private_file(const std::filesystem::path& p, const std::string& content);

// SHA-256 of a file's content as 64 lowercase hex digits, read in chunks (database files
// may be large).
std::string sha256_file_hex(const std::filesystem::path& p);

// Creates `dir` (and its missing parents) and makes it, and each folder it had to create,
// accessible to its owner only (0700).
void make_private_dir(const std::filesystem::path& dir);

}  // namespace alur
