// `alur export CASE --out DIR`: a case as evidence that can be checked without the server —
// its final documents, every revision's hash, every paraf and tanda tangan with the
// signer's name, role (Plt./Plh. where it applies), time, public key, signed statement and
// signature, in manifest.json, plus verifikasi.html (checks the signatures in a browser
// with WebCrypto Ed25519) — and `alur export verify DIR`, which re-checks all of it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace alur::client {

// The export format's name, in manifest.json "format".
inline constexpr const char* kExportFormat = "alur-ekspor/1";

// Re-checks an export folder: every signature over its statement with its public key,
// every statement against the fields the manifest shows, every document file against its
// hash. {"ok","problems":[...],"approvals","documents"}; problems name the first broken
// entry first. Throws Error("bad_export") when DIR holds no readable manifest.
nlohmann::json verify_export(const std::string& dir);

// The self-contained verification page for a manifest (inline script, no network).
std::string export_html(const nlohmann::json& manifest);

}  // namespace alur::client
