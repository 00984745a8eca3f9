// Fuzz target: the org file an administrator imports (`alur-server org import`). Contract:
// parse_org_file() accepts or throws alur::Error("bad_org") naming the field.
#include "alur/shared/org.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  alur::fuzz::expect_only_alur_errors(
      "parse_org_file", [&] { (void)alur::parse_org_file(alur::fuzz::as_view(data, size)); });
  return 0;
}
