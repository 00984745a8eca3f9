// The alur CLI's report and SOP document commands (render.h does the layout).
#include <fstream>
#include <iostream>

#include "alur/client/commands.h"
#include "alur/client/render.h"
#include "alur/shared/error.h"
#include "alur/shared/paths.h"

namespace alur::client {

using nlohmann::json;

namespace {
void write_text_file(const std::string& path, const std::string& content) {
  std::ofstream out(u8_path(path), std::ios::binary | std::ios::trunc);
  if (!out) throw Error("io", "Tidak dapat menulis berkas " + path);
  out << content;
  if (!out.flush()) throw Error("io", "Gagal menulis berkas " + path);
}
}  // namespace

int Commands::report(const std::string& period, const std::string& case_ref,
                     const std::string& csv_file, const std::string& html_file) {
  json r = api_.report(period, case_ref);
  if (!csv_file.empty()) write_text_file(csv_file, report_csv(r));
  if (!html_file.empty()) write_text_file(html_file, report_html(r));
  if (options_.json) {
    std::cout << r.dump() << std::endl;
    return 0;
  }
  std::cout << report_text(r);
  if (!csv_file.empty()) std::cout << "\nCSV disimpan ke " << csv_file << "\n";
  if (!html_file.empty()) std::cout << "Halaman cetak disimpan ke " << html_file << "\n";
  std::cout << std::flush;
  return 0;
}

int Commands::sop_show(const std::string& sop, const std::string& html_file) {
  json s = api_.sop_show(sop);
  if (!html_file.empty()) write_text_file(html_file, sop_html(s));
  if (options_.json) {
    std::cout << s.dump() << std::endl;
    return 0;
  }
  if (html_file.empty())
    std::cout << sop_text(s);
  else
    std::cout << "SOP " << s["title"].get<std::string>() << " disimpan ke " << html_file
              << " (buka di peramban lalu cetak)\n";
  std::cout << std::flush;
  return 0;
}

}  // namespace alur::client
