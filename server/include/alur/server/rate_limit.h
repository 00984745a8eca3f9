// GuessLimiter: slows down password guessing. Each failed login counts against the
// username and against the address it came from; after a few free attempts, the next one
// for that key is refused — without running scrypt, so guessing costs the server nothing —
// until a delay that doubles with every further failure has passed (capped). A success
// clears the username's count. Memory is bounded: the oldest entries are forgotten first.
//
// In memory, per server process: a restart forgives, which is acceptable for an office
// server (an attacker who can restart it has won anyway). Threading: the server's io
// thread only.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

#include "alur/shared/clock.h"

namespace alur::server {

struct GuessLimits {
  int free_attempts = 5;                // failures before any waiting
  Millis first_delay_ms = 30'000;       // after the first failure beyond the free ones
  Millis max_delay_ms = 15 * 60'000;    // never more than this
  std::size_t max_keys = 100'000;       // entries remembered (~100 bytes each)
};

class GuessLimiter {
 public:
  explicit GuessLimiter(const Clock& clock, GuessLimits limits = {})
      : clock_(clock), limits_(limits) {}

  // Milliseconds until `key` may try again; 0 when it may now.
  Millis wait_ms(const std::string& key) const;
  void failed(const std::string& key);
  void succeeded(const std::string& key);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    int failures = 0;
    Millis until = 0;
    std::list<std::string>::iterator age;
  };
  const Clock& clock_;
  GuessLimits limits_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> oldest_;  // front: least recently failed
};

}  // namespace alur::server
