// Fuzz target: working-day calendar files (`alur-server calendar import`). Contract:
// parse_calendar() returns a validated year or throws alur::Error("bad_calendar").
#include "alur/shared/calendar.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  alur::fuzz::expect_only_alur_errors(
      "parse_calendar", [&] { (void)alur::parse_calendar(alur::fuzz::as_view(data, size)); });
  return 0;
}
