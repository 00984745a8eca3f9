// Wall clock, hybrid logical clock, date formats and working-day arithmetic.
#include "alur/shared/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "alur/shared/error.h"

namespace alur {

namespace {

class SystemClock final : public Clock {
 public:
  Millis now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

constexpr Millis kWibOffsetMs = 7LL * 3600 * 1000;
constexpr Millis kDayMs = 24LL * 3600 * 1000;

// Days since 1970-01-01 <-> civil date (Howard Hinnant's algorithms).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int>(yoe) + static_cast<int>(era) * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp + (mp < 10 ? 3 : -9);
  y += m <= 2;
}

std::string format_day(std::int64_t day) {
  int y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

std::int64_t parse_day(const std::string& date) {
  int y;
  unsigned m, d;
  if (std::sscanf(date.c_str(), "%d-%u-%u", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
    throw Error("bad_date", "Tanggal tidak valid: " + date);
  return days_from_civil(y, m, d);
}

// 1970-01-01 was a Thursday. Returns 0=Monday .. 6=Sunday.
int weekday(std::int64_t day) { return static_cast<int>(((day % 7) + 7 + 3) % 7); }
bool is_working_day(std::int64_t day) { return weekday(day) < 5; }

}  // namespace

std::int64_t parse_date(const std::string& date) {
  int y;
  unsigned m, d;
  char tail;
  if (date.size() != 10 || date[4] != '-' || date[7] != '-' ||
      std::sscanf(date.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 ||
      d < 1 || d > 31)
    throw Error("bad_date", "Tanggal tidak valid: " + date);
  std::int64_t day = days_from_civil(y, m, d);
  if (format_day(day) != date) throw Error("bad_date", "Tanggal tidak ada: " + date);
  return day;
}

std::string format_date(std::int64_t day) { return format_day(day); }

std::int64_t day_wib(Millis ms) {
  Millis local = ms + kWibOffsetMs;
  return local >= 0 ? local / kDayMs : (local - kDayMs + 1) / kDayMs;
}

int weekday_of(std::int64_t day) { return weekday(day); }

const Clock& Clock::system() {
  static const SystemClock clock;
  return clock;
}

std::uint64_t HybridClock::now() {
  std::uint64_t wall = from_ms(clock_.now_ms());
  last_ = wall > last_ ? wall : last_ + 1;
  return last_;
}

void HybridClock::observe(std::uint64_t remote) {
  if (remote > last_) last_ = remote;
}

std::string format_time_utc(Millis ms) {
  std::int64_t day = ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs;
  Millis rem = ms - day * kDayMs;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", format_day(day).c_str(),
                static_cast<int>(rem / 3600000), static_cast<int>(rem / 60000 % 60),
                static_cast<int>(rem / 1000 % 60));
  return buf;
}

std::string format_date_wib(Millis ms) {
  Millis local = ms + kWibOffsetMs;
  std::int64_t day = local >= 0 ? local / kDayMs : (local - kDayMs + 1) / kDayMs;
  return format_day(day);
}

std::string add_working_days_wib(Millis start, int days) {
  std::int64_t day = parse_day(format_date_wib(start));
  while (!is_working_day(day)) ++day;
  // The day a step becomes ready is its first working day: a 1-day step is due that day.
  for (int i = 1; i < days;) {
    ++day;
    if (is_working_day(day)) ++i;
  }
  return format_day(day);
}

int working_days_between(const std::string& from_date, const std::string& to_date) {
  std::int64_t a = parse_day(from_date), b = parse_day(to_date);
  int sign = 1;
  if (b < a) {
    std::swap(a, b);
    sign = -1;
  }
  int n = 0;
  for (std::int64_t d = a + 1; d <= b; ++d)
    if (is_working_day(d)) ++n;
  return sign * n;
}

}  // namespace alur
