// The alur CLI's commands: each calls the Api and prints its result as human text
// (Bahasa Indonesia) or, with --json, as the Api's JSON (the command-line contract, README),
// and returns the process exit code. Errors are thrown as alur::Error and reported by fail().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <string>

#include "alur/client/api.h"

namespace alur::client {

struct Options {
  std::string home;  // empty: default_home()
  bool json = false;
  // Test-only: added to the system clock (ALUR_TEST_CLOCK_OFFSET_MS, read by main), so the
  // end-to-end tests can run a client whose clock is days off.
  std::int64_t clock_offset_ms = 0;
  std::chrono::seconds heartbeat = kDefaultHeartbeat;  // sync: a silent connection is dead
  net::Compression compression = net::Compression::kAuto;  // sync and ui: permessage-deflate
};

class Commands {
 public:
  explicit Commands(Options options);
  // For sync and ui: whether to ask the server for permessage-deflate.
  void use_compression(net::Compression compression);

  // passphrase: of the new signing key (none: enrolled without one, said on stderr);
  // import_key: a file of `alur key export` to use instead of a new key.
  int enroll(const std::string& server, const std::string& username, const std::string& password,
             const std::string& fingerprint, const std::optional<std::string>& passphrase = {},
             const std::string& import_key = "");
  int case_open(const std::string& sop, const std::string& period);
  int case_show(const std::string& case_ref);
  int case_list();
  int inbox();
  // ask_passphrase: called only when the step is a paraf or tanda tangan.
  int act(const std::string& task, const std::string& text, const std::string& file,
          const std::string& outcome = "",
          const std::function<std::optional<std::string>()>& ask_passphrase = {});
  // commands_sign.cpp: the signing key, and the verifiable export of a case.
  int key_show();
  int key_export(const std::string& out);
  int key_new(const std::optional<std::string>& passphrase);
  int passphrase_change(const std::optional<std::string>& old_passphrase,
                        const std::optional<std::string>& new_passphrase);
  int export_case(const std::string& case_ref, const std::string& out_dir);
  int export_verify(const std::string& dir);
  int return_task(const std::string& task, int to_step, const std::string& reason);
  int sync(bool watch);
  int status();
  int repair(bool force);
  int verify();
  int draft_put(const std::string& case_ref, const std::string& name, const std::string& file);
  int draft_show(const std::string& case_ref, const std::string& name);
  int draft_get(const std::string& case_ref, const std::string& name, const std::string& rev,
                const std::string& out);
  int draft_merge(const std::string& case_ref, const std::string& name);
  int disposition_set(const std::string& task, const std::string& text);
  int correction_add(const std::string& case_ref, const std::string& name, const std::string& text);
  int correction_status(const std::string& case_ref, const std::string& id,
                        const std::string& status);
  // commands_report.cpp: the performance report and the SOP document, printed or written
  // to CSV / printable HTML files.
  int report(const std::string& period, const std::string& case_ref, const std::string& csv_file,
             const std::string& html_file);
  int sop_show(const std::string& sop, const std::string& html_file);
  // commands_ui.cpp: `alur ui`, the local web app; runs until Ctrl+C.
  int ui(bool no_browser, int port);

  // Prints an error (stderr line; with --json also {"error": {...}} on stdout); returns 1.
  int fail(const std::string& code, const std::string& message);

 private:
  // Prints the result of a write: its message and that it waits for sync.
  int written(const nlohmann::json& result);

  // The system clock moved by Options::clock_offset_ms.
  struct OffsetClock : Clock {
    explicit OffsetClock(std::int64_t offset) : offset_ms(offset) {}
    Millis now_ms() const override { return Clock::system().now_ms() + offset_ms; }
    std::int64_t offset_ms;
  };

  Options options_;
  OffsetClock clock_;
  Api api_;
};

}  // namespace alur::client
