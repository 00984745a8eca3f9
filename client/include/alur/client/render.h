// Printable documents from the Api's JSON: the SOP in the standard SOP AP layout (identity
// section, then the procedure table with a column per role and the mutu baku columns) and
// the performance report, as plain text, CSV and self-contained HTML (inline CSS, no
// scripts, A4 landscape, table headers repeated on every printed page). Pure functions of
// their input; headings and labels in Bahasa Indonesia.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace alur::client {

// Api::sop_show's JSON.
std::string sop_text(const nlohmann::json& sop);
std::string sop_html(const nlohmann::json& sop);

// Api::report's JSON. The CSV has one row per task (UTF-8 with a byte-order mark, so that
// spreadsheet programs read the Indonesian text right; RFC 4180 quoting).
std::string report_text(const nlohmann::json& report);
std::string report_csv(const nlohmann::json& report);
std::string report_html(const nlohmann::json& report);

// "6 Februari 2023" for "2023-02-06" (anything else is returned as it is).
std::string tanggal_indonesia(const std::string& iso_date);

}  // namespace alur::client
