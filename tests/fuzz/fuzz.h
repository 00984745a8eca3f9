// Shared by the fuzz targets (tests/fuzz/README.md): what counts as a finding.
//
// Each target feeds hostile bytes to one parser or rule path that takes input from outside
// (the network, an administrator's file) and checks the contract it documents: either a
// clean result that survives a round trip, or alur::Error — never another exception, a
// crash, a hang or unbounded memory. A finding aborts, so libFuzzer saves the input and
// the corpus replay test (fuzz.corpus.*) fails on it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "alur/shared/error.h"

namespace alur::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

// Runs `parse` on the input; alur::Error is the documented refusal, anything else a finding.
template <typename F>
void expect_only_alur_errors(const char* target, F&& parse) {
  try {
    parse();
  } catch (const Error&) {
    // A clean, coded refusal: what callers turn into a message for the person.
  } catch (const std::exception& e) {
    finding(std::string(target) + ": exception other than alur::Error: " + e.what());
  }
}

inline std::string_view as_view(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace alur::fuzz
