// alur export: the case as verifiable evidence (export.h).
#include "alur/client/export.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "alur/client/api.h"
#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/shared/files.h"
#include "alur/shared/paths.h"
#include "alur/sync/signing.h"

namespace alur::client {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace alur::sync;

namespace {

// A file name that is safe everywhere: letters, digits, '-', '_', '.'.
std::string safe_name(const std::string& s) {
  std::string out;
  for (char ch : s)
    out += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.')
               ? ch
               : '_';
  return out.empty() ? "_" : out;
}

void write_file(const fs::path& p, const std::string& data) {
  std::ofstream o(p, std::ios::binary | std::ios::trunc);
  o << data;
  if (!o.flush()) throw Error("io", "Gagal menulis " + u8_string(p));
}

// The value of "field: value" in a statement, or "".
std::string statement_field(const std::string& statement, const std::string& field) {
  std::istringstream in(statement);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ": ", 0) == 0) return line.substr(field.size() + 2);
  return {};
}

const char* kind_label(const std::string& kind) {
  return kind == "paraf" ? "paraf" : "tanda tangan";
}

}  // namespace

json Api::export_case(const std::string& case_ref, const std::string& out_dir) {
  Replica& r = replica();
  View v = r.view(TemplateRegistry::builtin());
  const std::string id = resolve_case(v, case_ref);
  auto committed = r.load_case(id);  // evidence is what the server committed, never tentative
  if (!committed)
    throw Error("unknown_case", "Kasus " + case_ref + " belum tersinkron; jalankan alur sync.");
  const CaseState& c = *committed;
  const Org& org = r.org();
  auto name_of = [&](const std::string& u) {
    const Person* p = org.find(u);
    return p ? p->name : u;
  };
  fs::create_directories(u8_path(out_dir) / "dokumen");
  json documents = json::array(), revisions = json::array();
  for (const auto& [name, d] : c.drafts) {
    for (const auto& [rid, rv] : d.revisions)
      revisions.push_back({{"draft", name},
                           {"revision", rid},
                           {"sha256", rv.sha256},
                           {"size", rv.size},
                           {"filename", rv.filename},
                           {"by", rv.by},
                           {"name", name_of(rv.by)},
                           {"at", format_time_utc(rv.at)},
                           {"parents", rv.parents}});
    for (const auto& head : d.heads()) {  // the final document(s) of each draft
      const Revision& rv = d.revisions.at(head);
      auto data = r.blob(rv.sha256);
      if (!data)
        throw Error("blob_missing", "Isi revisi " + head + " draft " + name +
                                        " belum diunduh; jalankan alur sync lalu ulangi.");
      std::string file = "dokumen/" + safe_name(name) + "-" + safe_name(rv.filename);
      write_file(u8_path(out_dir) / file, *data);
      documents.push_back(
          {{"draft", name}, {"revision", head}, {"sha256", rv.sha256}, {"file", file}});
    }
  }
  json approvals = json::array(), keys = json::array();
  for (const auto& a : c.approvals)
    approvals.push_back({{"kind", a.kind},
                         {"step", a.step},
                         {"task", task_id(c.id, a.task)},
                         {"by", a.by},
                         {"name", name_of(a.by)},
                         {"role", a.role},
                         {"acting", a.acting.empty() ? json() : json(a.acting)},
                         {"at", format_time_utc(a.at)},
                         {"draft", a.draft},
                         {"revision", a.revision},
                         {"sha256", a.sha256},
                         {"superseded", a.superseded},
                         {"change", a.change},
                         {"public_key", a.public_key},
                         {"key_id", a.public_key.empty() ? "" : personal_key_id(a.public_key)},
                         {"statement", a.statement},
                         {"signature", a.signature}});
  for (const auto& k : org.keys)
    keys.push_back({{"username", k.username},
                    {"name", name_of(k.username)},
                    {"public_key", k.public_key},
                    {"key_id", personal_key_id(k.public_key)},
                    {"added_at", format_time_utc(k.added_at)}});
  json manifest{{"format", kExportFormat},
                {"unit", org.unit},
                {"case", {{"id", c.id}, {"title", c.title}, {"sop", c.sop},
                          {"period", c.period}, {"state", c.state}}},
                {"exported_at", format_time_utc(clock_.now_ms())},
                {"exported_by", r.require_meta("username")},
                {"log_entries", r.cursor()},
                {"documents", documents},
                {"revisions", revisions},
                {"approvals", approvals},
                {"keys", keys}};
  write_file(u8_path(out_dir) / "manifest.json", manifest.dump(2) + "\n");
  write_file(u8_path(out_dir) / "verifikasi.html", export_html(manifest));
  return {{"case", c.id},
          {"out", out_dir},
          {"documents", documents.size()},
          {"revisions", revisions.size()},
          {"approvals", approvals.size()}};
}

json verify_export(const std::string& dir) {
  json m;
  try {
    m = json::parse(read_file(u8_path(dir) / "manifest.json"));
  } catch (const std::exception& e) {
    throw Error("bad_export", "Folder " + dir + " bukan ekspor alur (manifest.json): " + e.what());
  }
  if (!m.is_object() || m.value("format", "") != kExportFormat)
    throw Error("bad_export", "manifest.json bukan format " + std::string(kExportFormat) + ".");
  std::vector<std::string> problems;
  std::size_t checked = 0, docs = 0;
  try {
    for (const auto& d : m.at("documents")) {
      ++docs;
      const std::string file = d.at("file").get<std::string>();
      std::string where = "dokumen " + file + ": ";
      if (file.find("..") != std::string::npos || file.empty() || file[0] == '/') {
        problems.push_back(where + "nama berkas tidak sah");
        continue;
      }
      std::string data;
      try {
        data = read_file(u8_path(dir) / file);
      } catch (const Error&) {
        problems.push_back(where + "tidak ada");
        continue;
      }
      if (crypto::sha256_hex(data) != d.at("sha256").get<std::string>())
        problems.push_back(where + "isinya tidak cocok dengan hash sha256 yang ditandatangani");
    }
    for (const auto& a : m.at("approvals")) {
      ++checked;
      const std::string statement = a.at("statement").get<std::string>();
      std::string where = kind_label(a.at("kind").get<std::string>()) + std::string(" langkah ") +
                          std::to_string(a.at("step").get<int>()) + " oleh " +
                          a.at("by").get<std::string>() + ": ";
      if (!verify_b64(a.at("public_key").get<std::string>(), statement,
                      a.at("signature").get<std::string>())) {
        problems.push_back(where + "tanda tangan tidak cocok dengan pernyataan dan kunci publiknya");
        continue;
      }
      // The manifest's fields must say what the signed statement says.
      static const std::pair<const char*, const char*> kFields[] = {
          {"sha256", "sha256"}, {"revisi", "revision"}, {"pengguna", "by"},
          {"peran", "role"},    {"jenis", "kind"},      {"tugas", "task"}};
      for (const auto& [field, key] : kFields)
        if (statement_field(statement, field) != a.at(key).get<std::string>())
          problems.push_back(where + "\"" + key + "\" pada manifest berbeda dari pernyataan yang "
                                                  "ditandatangani");
      bool known_revision = false;
      for (const auto& rv : m.at("revisions"))
        known_revision = known_revision || (rv.at("revision") == a.at("revision") &&
                                            rv.at("sha256") == a.at("sha256"));
      if (!known_revision) problems.push_back(where + "revisi yang ditandatangani tidak tercantum");
    }
  } catch (const json::exception& e) {
    problems.push_back(std::string("manifest.json tidak lengkap: ") + e.what());
  }
  return {{"ok", problems.empty()},
          {"problems", problems},
          {"approvals", checked},
          {"documents", docs}};
}

}  // namespace alur::client
