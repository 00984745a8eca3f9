// Fuzz target: SOP template files (`alur-server sop validate|import`). Contract:
// parse_template() returns a validated template or throws alur::Error("bad_template")
// pointing at the field and line.
#include "alur/shared/sop_template.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  alur::fuzz::expect_only_alur_errors(
      "parse_template", [&] { (void)alur::parse_template(alur::fuzz::as_view(data, size)); });
  return 0;
}
