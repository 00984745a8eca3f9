// Personal signatures: the statement and the key proof (signing.h).
#include "alur/sync/signing.h"

#include <cstdio>
#include <vector>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"

namespace alur::sync {

namespace {

std::string one_line(std::string s) {
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

// "2026-09-30T08:15:00.123Z": the HLC time to the millisecond, so the statement is exactly
// the one the rules rebuild from the change.
std::string time_ms_utc(Millis ms) {
  std::string t = format_time_utc(ms);  // "...T08:15:00Z"
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(((ms % 1000) + 1000) % 1000));
  return t.substr(0, t.size() - 1) + frac + "Z";
}

}  // namespace

std::string signing_statement(const SigningFacts& f) {
  std::string s = "alur: pernyataan " + std::string(f.kind == "paraf" ? "paraf" : "tanda tangan") +
                  ", versi 1\n";
  auto line = [&](const char* key, const std::string& value) {
    s += key;
    s += ": ";
    s += one_line(value);
    s += "\n";
  };
  line("jenis", f.kind);
  line("pengguna", f.username);
  line("nama", f.name);
  line("peran", f.role);
  line("kasus", f.case_id);
  line("judul", f.case_title);
  line("tugas", f.task);
  line("langkah", std::to_string(f.step) + " " + f.step_title);
  line("draft", f.draft);
  line("revisi", f.revision);
  line("sha256", f.sha256);
  line("waktu", time_ms_utc(f.at));
  line("perubahan", f.change);
  return s;
}

std::string key_proof_message(const std::string& username, const std::string& public_key_b64) {
  return "alur: kunci tanda tangan pribadi, versi 1\npengguna: " + one_line(username) +
         "\nkunci: " + public_key_b64 + "\n";
}

std::string personal_key_id(const std::string& public_key_b64) {
  return crypto::sha256_hex(crypto::base64_decode(public_key_b64)).substr(0, 16);
}

bool verify_b64(const std::string& public_key_b64, const std::string& message,
                const std::string& signature_b64) {
  try {
    return crypto::ed25519_verify(crypto::base64_decode(public_key_b64), message,
                                  crypto::base64_decode(signature_b64));
  } catch (const Error&) {
    return false;
  }
}

namespace {

std::string statement_field(const std::string& statement, const std::string& field) {
  const std::string prefix = "\n" + field + ": ";
  auto at = statement.find(prefix);
  if (at == std::string::npos) return {};
  at += prefix.size();
  return statement.substr(at, statement.find('\n', at) - at);
}

}  // namespace

std::vector<std::string> check_approval_signatures(const CaseState& c, const Org& org) {
  std::vector<std::string> problems;
  for (const auto& a : c.approvals) {
    const std::string what = (a.kind == "paraf" ? "paraf" : "tanda tangan") +
                             std::string(" langkah ") + std::to_string(a.step) + " oleh " + a.by +
                             " (perubahan " + a.change + ") pada kasus " + c.id + ": ";
    if (!org.find_key(a.by, a.public_key))
      problems.push_back(what + "kuncinya tidak tercatat atas nama " + a.by);
    else if (!verify_b64(a.public_key, a.statement, a.signature))
      problems.push_back(what + "tanda tangan tidak cocok dengan pernyataannya");
    else if (statement_field(a.statement, "pengguna") != a.by ||
             statement_field(a.statement, "peran") != a.role ||
             statement_field(a.statement, "revisi") != a.revision ||
             statement_field(a.statement, "sha256") != a.sha256 ||
             statement_field(a.statement, "perubahan") != a.change)
      problems.push_back(what + "catatan berbeda dari pernyataan yang ditandatangani");
  }
  return problems;
}

}  // namespace alur::sync
