// Several units (dinas) of a pemda on one server, kept apart by construction.
//
// Each unit has its own database — its own org and people, cases, drafts, committed log,
// devices and tokens — and its own SyncService. The unit in the data folder itself is
// addressed as "/" (wss://host:8443, what a one-unit office uses); others live in
// DATA/units/<code>/ and are addressed by the URL's path (wss://host:8443/<code>). A
// person, a device or a token of one unit does not exist in another unit's database, so
// no query, however wrong, can hand one unit's records to another.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "alur/net/ws_server.h"

namespace alur::server {

// A unit code: 1..32 of [a-z0-9_-], e.g. "dkukm", "disdik".
bool valid_unit_code(const std::string& code);
// DATA/units/<code>; throws Error("bad_unit") for an invalid code.
std::filesystem::path unit_dir(const std::string& data_dir, const std::string& code);
// The codes of DATA/units/*, sorted.
std::vector<std::string> unit_codes(const std::string& data_dir);

// Hands each connection to the handler of the unit its request target names ("/" or
// "/<code>", a trailing "/" or a query ignored); an unknown unit is closed at once.
class UnitRouter final : public net::Handler {
 public:
  void add(const std::string& code, net::Handler& handler);  // "" for the unit at "/"

  void on_open(const std::shared_ptr<net::Connection>& conn) override;
  void on_message(const std::shared_ptr<net::Connection>& conn, std::string message) override;
  void on_close(const std::shared_ptr<net::Connection>& conn, const std::string& why) override;

 private:
  std::map<std::string, net::Handler*> units_;                  // by code
  std::unordered_map<std::uint64_t, net::Handler*> by_conn_;  // by connection id
};

// Hands every call of a unit's handler to `post`, which runs it later, in the order of the
// calls and one at a time (serve gives each unit a strand of a worker pool). The network's
// I/O thread then only reads and writes sockets: one unit's commit, waiting for its disk,
// holds up neither the network nor another unit's commits. The connection is kept alive
// until its call has run; a Connection may be used from any thread (net/ws_server.h). As
// the network layer does for a handler it calls itself, a call that throws is logged and
// its connection closed ("kesalahan internal server").
class PostedHandler final : public net::Handler {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using Log = std::function<void(const std::string&)>;
  PostedHandler(net::Handler& inner, Post post, Log log = [](const std::string&) {})
      : inner_(inner), post_(std::move(post)), log_(std::move(log)) {}

  void on_open(const std::shared_ptr<net::Connection>& conn) override;
  void on_message(const std::shared_ptr<net::Connection>& conn, std::string message) override;
  void on_close(const std::shared_ptr<net::Connection>& conn, const std::string& why) override;

 private:
  // Runs call; if it throws, logs why and closes conn.
  void guarded(const std::shared_ptr<net::Connection>& conn, const char* what,
               const std::function<void()>& call);

  net::Handler& inner_;
  Post post_;
  Log log_;
};

}  // namespace alur::server
