// Time: an injectable wall clock (tests and the simulator use a fake one), the hybrid
// logical clock that stamps changes, working-day arithmetic for due dates, and formats.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace alur {

// Milliseconds since the Unix epoch.
using Millis = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now_ms() const = 0;
  static const Clock& system();
};

// A hybrid logical clock: 48 bits of milliseconds, 16 bits of logical counter. Each
// stamp is greater than every stamp issued or observed before, even when the wall clock
// steps back.
class HybridClock {
 public:
  explicit HybridClock(const Clock& clock, std::uint64_t last = 0) : clock_(clock), last_(last) {}
  std::uint64_t now();
  void observe(std::uint64_t remote);
  std::uint64_t last() const { return last_; }
  static Millis to_ms(std::uint64_t hlc) { return static_cast<Millis>(hlc >> 16); }
  static std::uint64_t from_ms(Millis ms) { return static_cast<std::uint64_t>(ms) << 16; }

 private:
  const Clock& clock_;
  std::uint64_t last_;
};

// "2026-09-30T08:15:00Z"
std::string format_time_utc(Millis ms);
// "2026-09-30" in WIB (UTC+7), the office's local date.
std::string format_date_wib(Millis ms);

// Civil dates as day numbers (days since 1970-01-01), for calendar arithmetic.
// parse_date throws alur::Error("bad_date") unless the text is a real "YYYY-MM-DD".
std::int64_t parse_date(const std::string& date);
std::string format_date(std::int64_t day);
// The office's (WIB) day number of an instant.
std::int64_t day_wib(Millis ms);
// 0 = Monday .. 6 = Sunday.
int weekday_of(std::int64_t day);

// Working days Monday to Friday only. Due dates count national holidays and cuti bersama
// too: see alur/shared/calendar.h (WorkCalendar), which the client uses.
// The due date (WIB) of a step of `days` working days that became ready at `start`: the
// ready day is day 1 (a start on a weekend counts from the next working day).
std::string add_working_days_wib(Millis start, int days);
// Working days from today (WIB) until due (negative when overdue).
int working_days_between(const std::string& from_date, const std::string& to_date);

}  // namespace alur
