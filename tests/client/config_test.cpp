// alur.conf (client/config.h): the key=value format the Windows installer writes, every
// malformed line refused with its file and line, and which file wins for each key.
#include "alur/client/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "alur/shared/error.h"
#include "common/test_support.h"

namespace alur::client {
namespace {

using alur::testing::error_code_of;
using alur::testing::TempDir;

TEST(ClientConfig, ReadsKeysCommentsBlankLinesAndWindowsLineEnds) {
  auto c = parse_client_config(
      "\xEF\xBB\xBF# dipasang oleh TI\r\n\r\nserver = wss://alur.dkukm.local:8443/dkukm\r\n"
      "  fingerprint=sha256:ab12  \r\n",
      "alur.conf");
  EXPECT_EQ(c.server, "wss://alur.dkukm.local:8443/dkukm");
  EXPECT_EQ(c.fingerprint, "sha256:ab12");
  auto empty = parse_client_config("# nothing yet\n", "alur.conf");
  EXPECT_FALSE(empty.server);
  EXPECT_FALSE(empty.fingerprint);
}

TEST(ClientConfig, RefusesMalformedLinesNamingFileAndLine) {
  const auto message_of = [](const std::string& text) {
    try {
      parse_client_config(text, "C:/alur/alur.conf");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), "bad_config");
      return std::string(e.what());
    }
    return std::string("<no error>");
  };
  EXPECT_EQ(message_of("server wss://x:1\n"), "C:/alur/alur.conf baris 1: harus berbentuk kunci=nilai");
  EXPECT_NE(message_of("# a\nsever=wss://x:1\n").find("baris 2: kunci tidak dikenal \"sever\""),
            std::string::npos);
  EXPECT_NE(message_of("fingerprint=\n").find("nilai fingerprint kosong"), std::string::npos);
  EXPECT_NE(message_of("server=wss://a:1\nserver=wss://b:1\n").find("baris 2: server disebut dua kali"),
            std::string::npos);
  EXPECT_NE(message_of("compression = ya\n").find("baris 1: compression harus auto, on atau off"),
            std::string::npos);
}

TEST(ClientConfig, CompressionIsAutoOnOrOff) {
  EXPECT_EQ(parse_client_config("compression = on\n", "alur.conf").compression, "on");
  EXPECT_FALSE(parse_client_config("server = wss://x:1\n", "alur.conf").compression);
  EXPECT_EQ(compression_named("auto"), net::Compression::kAuto);
  EXPECT_EQ(compression_named("on"), net::Compression::kAlways);
  EXPECT_EQ(compression_named("off"), net::Compression::kNever);
  EXPECT_EQ(error_code_of([] { compression_named("ya"); }), "usage");
}

TEST(ClientConfig, LooksInTheHomeThenBesideTheBinaryThenEtc) {
  TempDir dir;
  const auto paths = client_config_paths(dir.sub("home"));
  // The home folder, then beside the binary (here: the test binary), then /etc/alur.
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[0], std::filesystem::path(dir.sub("home")) / "alur.conf");
  EXPECT_EQ(paths[1], std::filesystem::read_symlink("/proc/self/exe").parent_path() / "alur.conf");
  EXPECT_EQ(paths[2], std::filesystem::path("/etc/alur/alur.conf"));
  std::filesystem::create_directories(dir.sub("home"));
  std::ofstream(paths[0]) << "fingerprint = sha256:beef\n";
  auto c = load_client_config(dir.sub("home"));
  EXPECT_EQ(c.fingerprint, "sha256:beef");
  std::ofstream(paths[0]) << "fingerprint sha256:beef\n";
  EXPECT_EQ(error_code_of([&] { load_client_config(dir.sub("home")); }), "bad_config");
}

}  // namespace
}  // namespace alur::client
