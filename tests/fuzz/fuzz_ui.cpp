// Fuzz target: the request rules of `alur ui` (client::ui::App::handle) — what every HTTP
// request to the local web app meets after Beast has parsed it (ui_server.cpp has no parser
// of its own). The input is a script of up to 8 requests (below) sent to an App over a real
// replica: sekretaris, enrolled on the in-process office (tests/client/office.h) with a
// signing key and an open LAKIP case, restored from a pristine copy for every input.
//
// A finding (ui_app.h states the rules):
//   - an exception escaping handle(), or a 500 (Api promises alur::Error for every failure);
//   - an error reply (4xx/5xx) whose body is not {"error": {"code", "message"}};
//   - any answer below 400 to a request without the secret (the /s/<secret>/ prefix or the
//     cookie alur_<port>=<secret>), with a foreign Host or Origin, or a POST without Origin
//     or with another content type than JSON;
//   - a refused request (4xx/5xx) after which the replica's tables differ.
//
// Script: requests separated by a line "%"; each is "METHOD TARGET", header lines
// ("Host:", "Origin:", "Content-Type:", "Cookie:"; others ignored), an empty line, then
// the body. A first line "setup CODE" starts the App in setup mode (App::need_setup; for
// not_enrolled and replica_deleted on a home without a replica, as `alur ui` does). In
// every field $S is the secret, $C the case id, $P the passphrase of the signing key.
#include <sqlite3.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alur/client/api.h"
#include "alur/client/replica.h"
#include "alur/client/ui_app.h"
#include "alur/shared/crypto.h"
#include "client/office.h"
#include "common/signing.h"
#include "fuzz.h"

using namespace alur;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::uint16_t kPort = 4321;
constexpr std::size_t kMaxRequests = 8;
const std::string kUser = "sekretaris";

std::string replica_tables(const std::string& home);

// The office, the pristine enrolled home and the names the script's $-words stand for;
// built once per process.
struct World {
  client::testing::OfficeServer office;
  std::string pristine = office.dir.sub("home-pristine");
  std::string work = office.dir.sub("home-work");
  std::string secret = crypto::to_hex(crypto::random_bytes(24));
  std::string case_id;
  // What a new, empty replica holds (its schema version): a failed enrolment leaves one
  // behind, which is not a write of anyone's data.
  std::string empty_replica;

  World() {
    client::Api api(pristine, office.clock, office.net.connector());
    api.set_kdf_for_testing(alur::testing::kFastKdf);
    api.enroll(client::testing::kServerUrl, kUser, office.passwords.at(kUser),
               client::testing::test_fingerprint(), alur::testing::passphrase_of(kUser));
    case_id = api.case_open("LAKIP", "2026-Q3")["case"].get<std::string>();
    // /api/sync and enrolment fail cleanly: every input starts from the same server.
    office.net.set_offline(true);
    const std::string empty = office.dir.sub("home-empty");
    client::Api(empty, office.clock, office.net.connector()).replica();
    empty_replica = replica_tables(empty);
  }

  std::string expand(std::string s) const {
    const std::vector<std::pair<std::string, std::string>> words = {
        {"$S", secret}, {"$C", case_id}, {"$P", alur::testing::passphrase_of(kUser)}};
    for (const auto& [word, value] : words) {
      for (std::size_t at = s.find(word); at != std::string::npos; at = s.find(word, at + value.size()))
        s.replace(at, word.size(), value);
    }
    return s;
  }
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One request of the script ("METHOD TARGET", headers, empty line, body).
client::ui::Request parse_request(const World& w, std::string_view text) {
  client::ui::Request r;
  std::size_t pos = 0;
  auto next_line = [&]() -> std::optional<std::string> {
    if (pos >= text.size()) return std::nullopt;
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    return line;
  };
  const std::string first = next_line().value_or("");
  const std::size_t space = first.find(' ');
  r.method = first.substr(0, space);
  r.target = space == std::string::npos ? "" : w.expand(first.substr(space + 1));
  while (auto line = next_line()) {
    if (line->empty()) break;
    const std::size_t colon = line->find(':');
    if (colon == std::string::npos) continue;
    const std::string name = lower(line->substr(0, colon));
    std::string value = line->substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.erase(0, 1);
    value = w.expand(value);
    if (name == "host") r.host = value;
    if (name == "origin") r.origin = value;
    if (name == "content-type") r.content_type = value;
    if (name == "cookie") r.cookie = value;
  }
  if (pos < text.size()) r.body = w.expand(std::string(text.substr(pos)));
  return r;
}

std::vector<std::string_view> split_requests(std::string_view script) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= script.size() && out.size() < kMaxRequests) {
    std::size_t end = script.find("\n%\n", pos);
    if (end == std::string_view::npos) end = script.size();
    out.push_back(script.substr(pos, end - pos));
    pos = end + 3;
  }
  return out;
}

// Every row of every table of the replica, read through a connection of its own; "" when
// there is no replica file. Left out: the outcome of the last sync (meta last_sync_error),
// which a failed /api/sync records for the status bar by design.
std::string replica_tables(const std::string& home) {
  sqlite3* raw = nullptr;
  const std::string file = (fs::path(home) / client::Replica::kFileName).string();
  if (!fs::exists(file) ||
      sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return "";
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, sqlite3_close);
  std::vector<std::string> tables;
  auto collect = [](void* out, int n, char** values, char**) {
    auto* rows = static_cast<std::vector<std::string>*>(out);
    std::string row;
    for (int i = 0; i < n; ++i) (row += values[i] ? values[i] : "<null>") += '\x1f';
    rows->push_back(row);
    return 0;
  };
  sqlite3_exec(db.get(), "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
               collect, &tables, nullptr);
  std::vector<std::string> rows;
  for (std::string table : tables) {
    table.pop_back();  // the separator
    rows.push_back("table " + table);
    // A table name from the schema itself, quoted; there is nothing to bind.
    const std::string where = table == "meta" ? " WHERE key <> 'last_sync_error'" : "";
    sqlite3_exec(db.get(), ("SELECT * FROM \"" + table + "\"" + where + " ORDER BY rowid").c_str(),
                 collect, &rows, nullptr);
  }
  std::string all;
  for (const std::string& r : rows) (all += r) += '\n';
  return all;
}

bool allowed_host(const std::string& host) {
  const std::string port = ":" + std::to_string(kPort);
  return host == "127.0.0.1" + port || host == "localhost" + port;
}

// Whether the request carries the secret: in its /s/<secret>/ prefix, or as the value of
// some cookie named alur_<port> (the App may be stricter, never looser).
bool carries_secret(const World& w, const client::ui::Request& r) {
  if (r.target.rfind("/s/" + w.secret + "/", 0) == 0) return true;
  if (r.target.rfind('/', 0) != 0) return false;
  const std::string pair = "alur_" + std::to_string(kPort) + "=" + w.secret;
  std::size_t pos = 0;
  while (pos <= r.cookie.size()) {
    std::size_t end = r.cookie.find(';', pos);
    if (end == std::string::npos) end = r.cookie.size();
    std::string_view part(r.cookie.data() + pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part == pair) return true;
    pos = end + 1;
  }
  return false;
}

// Why a request must be refused, or "" when the App may answer it.
std::string must_refuse(const World& w, const client::ui::Request& r) {
  if (!carries_secret(w, r)) return "no secret";
  if (!allowed_host(r.host)) return "foreign Host";
  const bool get = r.method == "GET" || r.method == "HEAD";
  if (!get && r.method != "POST") return "method " + r.method;
  if (!r.origin.empty() || !get) {
    if (r.origin.rfind("http://", 0) != 0 || !allowed_host(r.origin.substr(7)))
      return "foreign or missing Origin";
  }
  if (!get) {
    const std::string ct = r.content_type.substr(0, r.content_type.find(';'));
    if (ct.rfind("application/json", 0) != 0) return "not JSON";
  }
  return "";
}

void check_error_body(const client::ui::Reply& reply, const std::string& what) {
  const json body = json::parse(reply.body, nullptr, false);
  const json* error = body.is_object() && body.contains("error") ? &body["error"] : nullptr;
  if (reply.content_type.rfind("application/json", 0) != 0 || !error || !error->is_object() ||
      !error->contains("code") || !(*error)["code"].is_string() ||
      (*error)["code"].get<std::string>().empty() || !error->contains("message") ||
      !(*error)["message"].is_string() || (*error)["message"].get<std::string>().empty())
    alur::fuzz::finding(what + ": error reply " + std::to_string(reply.status) +
                        " is not {\"error\": {\"code\", \"message\"}}: " + reply.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  static World w;
  static const bool trace = std::getenv("ALUR_FUZZ_TRACE") != nullptr;
  std::string_view script = alur::fuzz::as_view(data, size);

  std::string setup;  // the setup screen the script asks for, if any
  if (script.rfind("setup ", 0) == 0) {
    const std::size_t end = script.find('\n');
    setup = script.substr(6, end == std::string_view::npos ? end : end - 6);
    script.remove_prefix(end == std::string_view::npos ? script.size() : end + 1);
  }
  // The enrolment screen is shown on a PC without a replica; every other start has one.
  fs::remove_all(w.work);
  if (setup == "not_enrolled" || setup == "replica_deleted")
    fs::create_directories(w.work);
  else
    fs::copy(w.pristine, w.work, fs::copy_options::recursive);
  client::Api api(w.work, w.office.clock, w.office.net.connector());
  client::ui::App app(api, w.secret, kPort);
  if (!setup.empty()) app.need_setup({setup, "Perangkat perlu disiapkan."}, [] {});

  for (std::string_view text : split_requests(script)) {
    const client::ui::Request req = parse_request(w, text);
    const std::string what = req.method + " " + req.target;
    auto state = [&] {
      std::string tables = replica_tables(w.work);
      return tables.empty() ? w.empty_replica : tables;
    };
    const std::string before = state();
    client::ui::Reply reply;
    try {
      reply = app.handle(req);
    } catch (const std::exception& e) {
      alur::fuzz::finding(what + ": handle() threw: " + e.what());
    } catch (...) {
      alur::fuzz::finding(what + ": handle() threw a non-exception");
    }
    if (trace) std::fprintf(stderr, "%s -> %d %.200s\n", what.c_str(), reply.status, reply.body.c_str());
    if (reply.status >= 500) alur::fuzz::finding(what + ": internal error: " + reply.body);
    if (reply.status < 400) {
      const std::string why = must_refuse(w, req);
      if (!why.empty())
        alur::fuzz::finding(what + ": answered " + std::to_string(reply.status) + " (" + why + ")");
      continue;
    }
    check_error_body(reply, what);
    if (state() != before)
      alur::fuzz::finding(what + ": refused with " + std::to_string(reply.status) +
                          " but the replica changed: " + reply.body);
  }
  return 0;
}
