// Reads a test data file of tests/fixtures (e.g. "sop/data-lakip.json").
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace alur::testing {

inline std::string fixture(const std::string& name) {
  std::ifstream in(std::string(ALUR_TEST_FIXTURES) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing test fixture " + name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace alur::testing
