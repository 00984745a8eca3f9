// Password-guessing limiter (see rate_limit.h).
#include "alur/server/rate_limit.h"

#include <algorithm>

namespace alur::server {

Millis GuessLimiter::wait_ms(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  return std::max<Millis>(0, it->second.until - clock_.now_ms());
}

void GuessLimiter::failed(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= limits_.max_keys) {
      entries_.erase(oldest_.front());
      oldest_.pop_front();
    }
    oldest_.push_back(key);
    it = entries_.emplace(key, Entry{0, 0, std::prev(oldest_.end())}).first;
  } else {
    oldest_.splice(oldest_.end(), oldest_, it->second.age);  // now the newest
  }
  Entry& e = it->second;
  ++e.failures;
  const int over = e.failures - limits_.free_attempts;
  if (over <= 0) return;
  Millis delay = limits_.first_delay_ms;
  for (int i = 1; i < over && delay < limits_.max_delay_ms; ++i) delay *= 2;
  e.until = clock_.now_ms() + std::min(delay, limits_.max_delay_ms);
}

void GuessLimiter::succeeded(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  oldest_.erase(it->second.age);
  entries_.erase(it);
}

}  // namespace alur::server
