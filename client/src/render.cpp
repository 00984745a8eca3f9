// Printable SOP documents and performance reports (render.h).
#include "alur/client/render.h"

#include <sstream>
#include <vector>

namespace alur::client {

using nlohmann::json;

namespace {

std::string str(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}

std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string h(const json& j) { return esc(str(j)); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

const char* kind_label(const std::string& kind) {
  if (kind == "disposition") return "Disposisi";
  if (kind == "prepare") return "Persiapan bahan";
  if (kind == "meeting") return "Rapat";
  if (kind == "review") return "Telaah";
  if (kind == "draft") return "Penyusunan draft";
  if (kind == "correct") return "Koreksi";
  if (kind == "initial") return "Paraf";
  if (kind == "sign") return "Tanda tangan";
  return "";
}

const char* status_label(const std::string& s) {
  if (s == "tepat_waktu") return "Tepat waktu";
  if (s == "terlambat") return "Terlambat";
  if (s == "berjalan") return "Berjalan";
  if (s == "berjalan_terlambat") return "Berjalan, lewat tenggat";
  return "Belum dimulai";
}

// Keterangan of a step: its kind, fan-out and predecessors.
// True if `role` may do the step: its actor, or one of its actors (a step done by any of
// several roles is marked in each of their columns).
bool acts_in(const json& step, const json& role) {
  if (step.contains("actors") && step["actors"].is_array()) {
    for (const auto& a : step["actors"])
      if (a == role) return true;
    return false;
  }
  return step["actor"] == role;
}

std::string keterangan(const json& step) {
  std::string out = kind_label(str(step["kind"]));
  if (step.value("per_bidang", false)) out += "; dikerjakan oleh setiap bidang";
  if (step.contains("actors") && step["actors"].size() > 1) out += "; oleh salah satu pelaksana";
  if (step.contains("outcomes"))
    for (const auto& o : step["outcomes"])
      if (o.contains("return_to") && o["return_to"].is_number())
        out += "; " + str(o["label"]) + ": kembali ke langkah " +
               std::to_string(o["return_to"].get<int>());
  const json& after = step["after"];
  if (after.size() > 1 || (after.size() == 1 && after[0].get<int>() != step["no"].get<int>() - 1)) {
    out += "; setelah langkah ";
    for (std::size_t i = 0; i < after.size(); ++i)
      out +=
          (i ? (i + 1 == after.size() ? " dan " : ", ") : "") + std::to_string(after[i].get<int>());
  }
  return out;
}

// An identity list item: plain text, or a link to another SOP ({"sop", "title"}: a
// keterkaitan entry, shared/templates/SCHEMA.md) printed as "title (SOP code)".
std::string item_text(const json& x) {
  if (x.is_object() && x.contains("title"))
    return str(x["title"]) + (x.contains("sop") ? " (SOP " + str(x["sop"]) + ")" : "");
  return str(x);
}

std::vector<std::string> items(const json& identity, const char* key) {
  std::vector<std::string> out;
  auto it = identity.find(key);
  if (it == identity.end() || it->is_null()) return out;
  if (it->is_array()) {
    for (const auto& x : *it) out.push_back(item_text(x));
  } else {
    out.push_back(item_text(*it));
  }
  return out;
}

std::string date_or_dash(const json& identity, const char* key) {
  std::string d = identity.contains(key) ? str(identity[key]) : "";
  return d.empty() ? "-" : tanggal_indonesia(d);
}

// The identity section's rows: label, identity key.
const std::pair<const char*, const char*> kIdentityLists[] = {
    {"Dasar Hukum", "dasar_hukum"}, {"Kualifikasi Pelaksana", "kualifikasi_pelaksana"},
    {"Keterkaitan", "keterkaitan"}, {"Peralatan/ Perlengkapan", "peralatan"},
    {"Peringatan", "peringatan"},   {"Pencatatan dan Pendataan", "pencatatan"},
};

const char* kPrintCss = R"css(
  @page { size: A4 landscape; margin: 12mm; }
  body { font-family: "Liberation Sans", Arial, sans-serif; font-size: 10pt; color: #000; margin: 0; }
  h1 { font-size: 14pt; margin: 0 0 4pt; } h2 { font-size: 12pt; margin: 14pt 0 4pt; }
  table { border-collapse: collapse; width: 100%; margin-bottom: 8pt; }
  th, td { border: 1px solid #000; padding: 3pt 4pt; vertical-align: top; text-align: left; }
  th { background: #e8e8e8; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; break-inside: avoid; }
  ol { margin: 0; padding-left: 16pt; } ul { margin: 0; padding-left: 12pt; }
  .kop { text-align: center; font-weight: bold; text-transform: uppercase; }
  .tengah { text-align: center; } .angka { text-align: right; white-space: nowrap; }
  .aktivitas { display: inline-block; min-width: 22pt; padding: 2pt; border: 1.5pt solid #000;
               background: #fff; font-weight: bold; text-align: center; }
  .catatan { border: 1px solid #000; padding: 4pt; margin: 6pt 0; }
  .terlambat { font-weight: bold; }
  @media print { .catatan { background: none; } }
)css";

std::string page_start(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"id\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         esc(title) + "</title>\n<style>" + kPrintCss + "</style>\n</head>\n<body>\n";
}

}  // namespace

std::string tanggal_indonesia(const std::string& iso) {
  static const char* months[] = {"Januari",   "Februari", "Maret",    "April",
                                 "Mei",       "Juni",     "Juli",     "Agustus",
                                 "September", "Oktober",  "November", "Desember"};
  if (iso.size() < 10 || iso[4] != '-' || iso[7] != '-') return iso;
  int y = 0, m = 0, d = 0;
  try {
    y = std::stoi(iso.substr(0, 4));
    m = std::stoi(iso.substr(5, 2));
    d = std::stoi(iso.substr(8, 2));
  } catch (const std::exception&) {
    return iso;
  }
  if (m < 1 || m > 12) return iso;
  return std::to_string(d) + " " + months[m - 1] + " " + std::to_string(y);
}

// --- the SOP -----------------------------------------------------------------------

std::string sop_text(const json& sop) {
  const json& id = sop["identity"];
  std::ostringstream o;
  o << "PEMERINTAH KABUPATEN SUKABUMI\n" << str(sop["unit"]) << "\n\n";
  o << "Nomor SOP          : " << str(id.value("nomor", json(""))) << "\n"
    << "Tanggal Pembuatan  : " << date_or_dash(id, "tanggal_pembuatan") << "\n"
    << "Tanggal Revisi     : " << date_or_dash(id, "tanggal_revisi") << "\n"
    << "Tanggal Pengesahan : " << date_or_dash(id, "tanggal_pengesahan") << "\n"
    << "Disahkan Oleh      : " << str(id.value("disahkan_oleh", json(""))) << "\n"
    << "Nama SOP           : " << str(sop["title"]) << " (versi " << sop["version"] << ")\n";
  for (const auto& [label, key] : kIdentityLists) {
    o << "\n" << label << ":\n";
    auto list = items(id, key);
    if (list.empty()) o << "  -\n";
    for (std::size_t i = 0; i < list.size(); ++i) o << "  " << i + 1 << ". " << list[i] << "\n";
  }
  o << "\nPelaksana (kolom): ";
  for (std::size_t i = 0; i < sop["roles"].size(); ++i)
    o << (i ? " | " : "") << str(sop["roles"][i]["label"]);
  o << "\n\nNo  Uraian Prosedur\n";
  for (const auto& s : sop["steps"]) {
    o << s["no"].get<int>() << ".  " << str(s["description"]) << "\n    Pelaksana: ";
    for (std::size_t i = 0; i < sop["roles"].size(); ++i) {
      bool mine = acts_in(s, sop["roles"][i]["role"]);
      o << (i ? " " : "") << "[" << (mine ? "X" : " ") << "] " << str(sop["roles"][i]["short"]);
    }
    o << "\n    Mutu baku — Kelengkapan: ";
    for (std::size_t k = 0; k < s["inputs"].size(); ++k)
      o << (k ? ", " : "") << str(s["inputs"][k]);
    o << "; Waktu: " << s["days"].get<int>() << " hari; Output: " << str(s["output"]) << "\n"
      << "    Keterangan: " << keterangan(s) << "\n";
  }
  return o.str();
}

std::string sop_html(const json& sop) {
  const json& id = sop["identity"];
  const json& roles = sop["roles"];
  std::ostringstream o;
  o << page_start("SOP " + str(sop["title"]));
  o << "<div class=\"kop\">Pemerintah Kabupaten Sukabumi<br>" << h(sop["unit"]) << "</div>\n";
  o << "<table class=\"identitas\">\n";
  auto row = [&](const char* label, const std::string& value) {
    o << "<tr><th style=\"width:25%\">" << label << "</th><td>" << esc(value) << "</td></tr>\n";
  };
  row("Nomor SOP", str(id.value("nomor", json(""))));
  row("Tanggal Pembuatan", date_or_dash(id, "tanggal_pembuatan"));
  row("Tanggal Revisi", date_or_dash(id, "tanggal_revisi"));
  row("Tanggal Pengesahan", date_or_dash(id, "tanggal_pengesahan"));
  row("Disahkan Oleh", str(id.value("disahkan_oleh", json(""))));
  row("Nama SOP", str(sop["title"]) + " (versi " + std::to_string(sop["version"].get<int>()) + ")");
  o << "</table>\n<table class=\"identitas\">\n";
  for (std::size_t i = 0; i < std::size(kIdentityLists); i += 2) {
    o << "<tr><th style=\"width:50%\">" << kIdentityLists[i].first << "</th><th>"
      << kIdentityLists[i + 1].first << "</th></tr>\n<tr>";
    for (std::size_t k = i; k < i + 2; ++k) {
      auto list = items(id, kIdentityLists[k].second);
      o << "<td>";
      if (list.empty())
        o << "-";
      else {
        o << "<ol>";
        for (const auto& x : list) o << "<li>" << esc(x) << "</li>";
        o << "</ol>";
      }
      o << "</td>";
    }
    o << "</tr>\n";
  }
  o << "</table>\n";
  o << "<table class=\"prosedur\">\n<thead>\n<tr><th rowspan=\"2\" class=\"tengah\">No</th>"
    << "<th rowspan=\"2\">Uraian Prosedur</th><th colspan=\"" << roles.size()
    << "\" class=\"tengah\">Pelaksana</th><th colspan=\"3\" class=\"tengah\">Mutu Baku</th>"
    << "<th rowspan=\"2\">Keterangan</th></tr>\n<tr>";
  for (const auto& r : roles) o << "<th class=\"tengah\">" << h(r["label"]) << "</th>";
  o << "<th>Persyaratan/ Kelengkapan</th><th>Waktu</th><th>Output</th></tr>\n</thead>\n<tbody>\n";
  for (const auto& s : sop["steps"]) {
    o << "<tr><td class=\"tengah\">" << s["no"].get<int>() << ".</td><td>" << h(s["description"])
      << "</td>";
    for (const auto& r : roles) {
      o << "<td class=\"tengah\">";
      if (acts_in(s, r["role"]))
        o << "<span class=\"aktivitas\" title=\"" << h(s["title"]) << "\">" << s["no"].get<int>()
          << "</span>";
      o << "</td>";
    }
    o << "<td><ul>";
    for (const auto& in : s["inputs"]) o << "<li>" << h(in) << "</li>";
    o << "</ul></td><td class=\"angka\">" << s["days"].get<int>() << " hari</td><td>"
      << h(s["output"]) << "</td><td>" << esc(keterangan(s)) << "</td></tr>\n";
  }
  o << "</tbody>\n</table>\n</body>\n</html>\n";
  return o.str();
}

// --- the report --------------------------------------------------------------------

namespace {

std::string period_label(const json& r) {
  std::string p = r["period"].is_null() ? "semua periode" : str(r["period"]);
  if (!r["case"].is_null()) p += ", kasus " + str(r["case"]);
  return p;
}

std::string days_or_dash(const json& j) {
  return j.is_number() ? std::to_string(j.get<int>()) : "-";
}

std::string number1(const json& j) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << j.get<double>();
  std::string s = o.str();
  for (char& c : s)
    if (c == '.') c = ',';  // Indonesian decimal comma
  return s;
}

}  // namespace

std::string report_text(const json& r) {
  std::ostringstream o;
  o << "Laporan Kinerja Pelaksanaan SOP — " << period_label(r) << "\n"
    << str(r["unit"]) << "\nDibuat " << str(r["generated_at"]) << "\n";
  if (!r["certain"].get<bool>()) o << "CATATAN: " << str(r["note"]) << "\n";
  o << "\nLangkah paling lambat (rata-rata hari kerja terhadap waktu baku):\n";
  if (r["slowest_steps"].empty()) o << "  belum ada langkah yang selesai\n";
  for (const auto& s : r["slowest_steps"])
    o << "  " << str(s["sop"]) << " langkah " << s["step"] << " " << str(s["title"])
      << ": rata-rata " << number1(s["avg_working_days"]) << " (baku " << s["days"] << ", terlama "
      << s["max_working_days"] << "), terlambat " << s["late"] << " dari " << s["tasks"] << "\n";
  o << "\nKeterlambatan:\n";
  if (r["late"].empty()) o << "  tidak ada\n";
  for (const auto& x : r["late"])
    o << "  " << str(x["task"]) << " " << str(x["step_title"]) << " — " << str(x["by_name"]) << " ("
      << str(x["actor"]) << "): " << x["late_days"] << " hari kerja"
      << (x["state"] == "done" ? "" : ", belum selesai") << "\n";
  for (const auto& c : r["cases"]) {
    o << "\n" << str(c["title"]) << " [" << str(c["case"]) << "]\n";
    for (const auto& t : c["tasks"])
      o << "  " << t["step"] << (t["bidang"].is_null() ? "" : "." + str(t["bidang"])) << " "
        << str(t["title"]) << ": " << status_label(str(t["status"])) << ", baku " << t["days"]
        << ", realisasi " << days_or_dash(t["working_days"]) << ", terlambat "
        << days_or_dash(t["late_days"]) << "\n";
  }
  return o.str();
}

std::string report_csv(const json& r) {
  std::ostringstream o;
  o << "\xEF\xBB\xBF";  // BOM
  o << "kasus,judul,periode,langkah,uraian,pelaksana,bidang,oleh,putaran,siap,selesai,"
       "batas_waktu,waktu_baku_hari,realisasi_hari_kerja,terlambat_hari_kerja,status,pasti\r\n";
  for (const auto& c : r["cases"])
    for (const auto& t : c["tasks"]) {
      std::vector<std::string> f = {
          str(c["case"]),
          str(c["title"]),
          str(c["period"]),
          std::to_string(t["step"].get<int>()),
          str(t["title"]),
          str(t["actor"]),
          str(t["bidang"]),
          str(t["by_name"]),
          std::to_string(t["round"].get<int>()),
          str(t["ready_date"]),
          str(t["done_date"]),
          str(t["due"]),
          std::to_string(t["days"].get<int>()),
          t["working_days"].is_number() ? days_or_dash(t["working_days"]) : "",
          t["late_days"].is_number() ? days_or_dash(t["late_days"]) : "",
          status_label(str(t["status"])),
          t["due_certain"].get<bool>() ? "ya" : "belum pasti"};
      for (std::size_t i = 0; i < f.size(); ++i) o << (i ? "," : "") << csv_field(f[i]);
      o << "\r\n";
    }
  return o.str();
}

std::string report_html(const json& r) {
  std::ostringstream o;
  o << page_start("Laporan Kinerja Pelaksanaan SOP — " + period_label(r));
  o << "<div class=\"kop\">Pemerintah Kabupaten Sukabumi<br>" << h(r["unit"]) << "</div>\n"
    << "<h1>Laporan Kinerja Pelaksanaan SOP</h1>\n<p>Periode: " << esc(period_label(r))
    << ". Dibuat " << esc(tanggal_indonesia(str(r["today"])))
    << ". Waktu dihitung dalam hari kerja (Senin–Jumat di luar hari libur nasional dan cuti "
       "bersama), sejak langkah siap dikerjakan; hari siap dihitung hari pertama.</p>\n";
  if (!r["certain"].get<bool>()) o << "<p class=\"catatan\">" << h(r["note"]) << "</p>\n";

  o << "<h2>Langkah Paling Lambat</h2>\n<table><thead><tr><th>SOP</th><th>Langkah</th>"
       "<th>Uraian</th><th>Waktu baku (hari)</th><th>Rata-rata realisasi</th><th>Terlama</th>"
       "<th>Selisih rata-rata</th><th>Terlambat</th></tr></thead><tbody>\n";
  if (r["slowest_steps"].empty())
    o << "<tr><td colspan=\"8\">Belum ada langkah yang selesai.</td></tr>\n";
  for (const auto& s : r["slowest_steps"])
    o << "<tr><td>" << h(s["sop"]) << "</td><td class=\"tengah\">" << s["step"] << "</td><td>"
      << h(s["title"]) << "</td><td class=\"angka\">" << s["days"] << "</td><td class=\"angka\">"
      << number1(s["avg_working_days"]) << "</td><td class=\"angka\">" << s["max_working_days"]
      << "</td><td class=\"angka\">" << number1(s["over_standard"]) << "</td><td class=\"angka\">"
      << s["late"] << " dari " << s["tasks"] << "</td></tr>\n";
  o << "</tbody></table>\n";

  o << "<h2>Keterlambatan</h2>\n<table><thead><tr><th>Kasus</th><th>Langkah</th>"
       "<th>Pelaksana</th><th>Nama</th><th>Batas waktu</th><th>Selesai</th>"
       "<th>Terlambat (hari kerja)</th></tr></thead><tbody>\n";
  if (r["late"].empty()) o << "<tr><td colspan=\"7\">Tidak ada keterlambatan.</td></tr>\n";
  for (const auto& x : r["late"])
    o << "<tr><td>" << h(x["title"]) << "</td><td>" << x["step"] << ". " << h(x["step_title"])
      << "</td><td>" << h(x["actor"]) << "</td><td>" << h(x["by_name"]) << "</td><td>"
      << esc(tanggal_indonesia(str(x["due"]))) << "</td><td>"
      << (x["done_date"].is_null() ? std::string("belum selesai")
                                   : esc(tanggal_indonesia(str(x["done_date"]))))
      << "</td><td class=\"angka terlambat\">" << x["late_days"] << "</td></tr>\n";
  o << "</tbody></table>\n";

  o << "<h2>Rekap per Pegawai</h2>\n<table><thead><tr><th>Nama</th><th>Tugas selesai</th>"
       "<th>Terlambat</th><th>Jumlah hari terlambat</th></tr></thead><tbody>\n";
  if (r["people"].empty()) o << "<tr><td colspan=\"4\">Belum ada tugas yang selesai.</td></tr>\n";
  for (const auto& p : r["people"])
    o << "<tr><td>" << h(p["name"]) << "</td><td class=\"angka\">" << p["tasks"]
      << "</td><td class=\"angka\">" << p["late"] << "</td><td class=\"angka\">" << p["late_days"]
      << "</td></tr>\n";
  o << "</tbody></table>\n";

  o << "<h2>Rincian per Kasus</h2>\n";
  for (const auto& c : r["cases"]) {
    o << "<h3>" << h(c["title"])
      << "</h3>\n<table><thead><tr><th>No</th><th>Langkah</th>"
         "<th>Pelaksana</th><th>Oleh</th><th>Siap</th><th>Selesai</th><th>Batas waktu</th>"
         "<th>Baku</th><th>Realisasi</th><th>Terlambat</th><th>Status</th></tr></thead><tbody>\n";
    for (const auto& t : c["tasks"]) {
      bool late = t["late_days"].is_number() && t["late_days"].get<int>() > 0;
      o << "<tr><td class=\"tengah\">" << t["step"] << "</td><td>" << h(t["title"]) << "</td><td>"
        << h(t["actor"]) << "</td><td>" << h(t["by_name"]) << "</td><td>"
        << esc(tanggal_indonesia(str(t["ready_date"]))) << "</td><td>"
        << esc(tanggal_indonesia(str(t["done_date"]))) << "</td><td>"
        << esc(tanggal_indonesia(str(t["due"])))
        << (t["due_certain"].get<bool>() ? "" : " (belum pasti)") << "</td><td class=\"angka\">"
        << t["days"] << "</td><td class=\"angka\">" << days_or_dash(t["working_days"])
        << "</td><td class=\"angka" << (late ? " terlambat" : "") << "\">"
        << days_or_dash(t["late_days"]) << "</td><td>" << status_label(str(t["status"]))
        << "</td></tr>\n";
    }
    o << "</tbody></table>\n";
  }
  o << "</body>\n</html>\n";
  return o.str();
}

}  // namespace alur::client
