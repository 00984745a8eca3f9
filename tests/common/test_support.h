// Test helpers shared by every test binary: a clock the test moves by hand and a
// temporary directory removed with everything in it.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <system_error>

#include "alur/shared/clock.h"
#include "alur/shared/error.h"

namespace alur::testing {

// A wall clock the test moves by hand. Atomic: socket tests read it from a server thread.
class FakeClock : public Clock {
 public:
  explicit FakeClock(Millis start = 1'790'000'000'000) : now_(start) {}  // 2026-09
  Millis now_ms() const override { return now_.load(); }
  void advance(Millis ms) { now_ += ms; }

 private:
  std::atomic<Millis> now_;
};

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (;;) {
      path_ = base / ("alur-test-" + std::to_string(rd()) + std::to_string(rd()));
      if (std::filesystem::create_directory(path_)) break;
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The code of the alur::Error f throws, or "<no error>".
inline std::string error_code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return "<no error>";
}

}  // namespace alur::testing
