// alur::Error — the one exception type of the project.
//
// Error policy: code below the process boundary (shared/, sync/, stores) throws
// alur::Error with a stable machine `code` (snake_case, part of the CLI and wire
// contract) and a human message in Bahasa Indonesia. It is caught and converted at
// exactly one place per boundary: the CLI's main (stderr line / JSON error, exit code),
// the server session (an Error message on the wire, then close), and async handlers,
// which never let an exception escape.
#pragma once

#include <stdexcept>
#include <string>

namespace alur {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}

  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

}  // namespace alur
