// UTF-8 paths and environment (alur/shared/paths.h): a folder named with a space and letters
// outside ASCII is made, found and read back under exactly that name.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "alur/shared/files.h"
#include "alur/shared/paths.h"

namespace fs = std::filesystem;

namespace alur {
namespace {

TEST(Paths, NonAsciiFolderRoundTripsAsUtf8) {
  const fs::path base = fs::temp_directory_path() / ("alur-paths-" + std::to_string(::getpid()));
  const std::string folder = u8_string(base) + "/Siti Aminah \xC3\x91 \xC5\x9E";  // Ñ, Ş
  fs::create_directories(u8_path(folder));
  std::ofstream(u8_path(folder + "/replica.db")) << "x";
  // What a directory listing sees is the UTF-8 name, byte for byte.
  bool found = false;
  for (const auto& e : fs::directory_iterator(base))
    found = found || u8_string(e.path().filename()) == "Siti Aminah \xC3\x91 \xC5\x9E";
  EXPECT_TRUE(found);
  EXPECT_EQ(read_file(u8_path(folder + "/replica.db")), "x");
  EXPECT_EQ(u8_string(u8_path(folder) / "replica.db"), folder + "/replica.db");
  fs::remove_all(base);
}

TEST(Paths, EnvironmentUnsetOrEmptyIsNone) {
  ::setenv("ALUR_PATHS_TEST", "C:\\Users\\Siti Aminah \xC3\x91", 1);
  EXPECT_EQ(env_utf8("ALUR_PATHS_TEST"), "C:\\Users\\Siti Aminah \xC3\x91");
  ::setenv("ALUR_PATHS_TEST", "", 1);
  EXPECT_EQ(env_utf8("ALUR_PATHS_TEST"), std::nullopt);
  ::unsetenv("ALUR_PATHS_TEST");
  EXPECT_EQ(env_utf8("ALUR_PATHS_TEST"), std::nullopt);
}

}  // namespace
}  // namespace alur
