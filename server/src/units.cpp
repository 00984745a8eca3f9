#include "alur/server/units.h"

#include <algorithm>

#include "alur/shared/error.h"
#include "alur/shared/paths.h"

namespace alur::server {

bool valid_unit_code(const std::string& code) {
  return !code.empty() && code.size() <= 32 &&
         std::all_of(code.begin(), code.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
         });
}

std::filesystem::path unit_dir(const std::string& data_dir, const std::string& code) {
  if (!valid_unit_code(code))
    throw Error("bad_unit", "Kode unit \"" + code +
                                "\" tidak valid: 1–32 huruf kecil, angka, '_' atau '-'.");
  return u8_path(data_dir) / "units" / code;
}

std::vector<std::string> unit_codes(const std::string& data_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(u8_path(data_dir) / "units", ec))
    if (e.is_directory() && valid_unit_code(u8_string(e.path().filename())))
      out.push_back(u8_string(e.path().filename()));
  std::sort(out.begin(), out.end());
  return out;
}

void UnitRouter::add(const std::string& code, net::Handler& handler) { units_[code] = &handler; }

void UnitRouter::on_open(const std::shared_ptr<net::Connection>& conn) {
  std::string code = conn->target();
  code = code.substr(0, code.find_first_of("?#"));
  while (!code.empty() && code.front() == '/') code.erase(0, 1);
  while (!code.empty() && code.back() == '/') code.pop_back();
  auto it = units_.find(code);
  if (it == units_.end()) {
    conn->close("unit tidak dikenal");
    return;
  }
  by_conn_[conn->id()] = it->second;
  it->second->on_open(conn);
}

void UnitRouter::on_message(const std::shared_ptr<net::Connection>& conn, std::string message) {
  if (auto it = by_conn_.find(conn->id()); it != by_conn_.end())
    it->second->on_message(conn, std::move(message));
}

void UnitRouter::on_close(const std::shared_ptr<net::Connection>& conn, const std::string& why) {
  auto it = by_conn_.find(conn->id());
  if (it == by_conn_.end()) return;
  net::Handler* unit = it->second;
  by_conn_.erase(it);
  unit->on_close(conn, why);
}

void PostedHandler::guarded(const std::shared_ptr<net::Connection>& conn, const char* what,
                            const std::function<void()>& call) {
  try {
    call();
  } catch (const std::exception& e) {
    log_(std::string(what) + " melempar pengecualian (koneksi " + std::to_string(conn->id()) +
         "): " + e.what());
    conn->close("kesalahan internal server");
  }
}

void PostedHandler::on_open(const std::shared_ptr<net::Connection>& conn) {
  post_([this, conn] { guarded(conn, "on_open", [&] { inner_.on_open(conn); }); });
}

void PostedHandler::on_message(const std::shared_ptr<net::Connection>& conn, std::string message) {
  post_([this, conn, message = std::move(message)]() mutable {
    guarded(conn, "on_message", [&] { inner_.on_message(conn, std::move(message)); });
  });
}

void PostedHandler::on_close(const std::shared_ptr<net::Connection>& conn, const std::string& why) {
  post_([this, conn, why] { guarded(conn, "on_close", [&] { inner_.on_close(conn, why); }); });
}

}  // namespace alur::server
