// Coop: a body of code with its own stack that runs only when the simulator's scheduler
// hands it the turn, and hands the turn back when it waits (yield) or ends. Exactly one
// body runs at any moment, so the whole simulation stays deterministic while the real,
// blocking client code (SyncClient waiting for a reply) runs unchanged.
//
// A parked body can be killed: its pending yield() then throws Killed, which unwinds the
// body's stack like a process dying (destructors run; SQLite rolls back what was not
// committed).
//
// Two implementations with one interface: POSIX ucontext (a user-space switch, a few
// hundred nanoseconds; the default) and a thread per body handing a baton (for sanitizer
// builds, which do not follow hand-made stack switches; define ALUR_SIM_THREADS). A body
// must not yield from inside a catch block or a destructor: with ucontext, the C++
// runtime's per-thread exception state is shared by every stack.
#pragma once

#include <exception>
#include <functional>
#include <utility>

#ifdef ALUR_SIM_THREADS
#include <condition_variable>
#include <mutex>
#include <thread>
#else
#include <ucontext.h>

#include <cstdint>
#include <memory>
#endif

namespace alur::sim {

#ifndef ALUR_SIM_THREADS

class Coop {
 public:
  struct Killed {};  // thrown by yield() in a killed body; not a std::exception

  explicit Coop(std::function<void()> body) : body_(std::move(body)) {}
  ~Coop() {
    if (started_ && !finished_) kill();
  }
  Coop(const Coop&) = delete;
  Coop& operator=(const Coop&) = delete;

  // Scheduler side: runs the body until it yields or ends. True once it has ended.
  bool resume() {
    if (finished_) return true;
    if (!started_) {
      started_ = true;
      stack_.reset(new char[kStackBytes]);  // not zeroed: the kernel maps pages lazily
      getcontext(&body_ctx_);
      body_ctx_.uc_stack.ss_sp = stack_.get();
      body_ctx_.uc_stack.ss_size = kStackBytes;
      body_ctx_.uc_link = &scheduler_ctx_;  // where the body goes when it returns
      const auto self = reinterpret_cast<std::uintptr_t>(this);
      makecontext(&body_ctx_, reinterpret_cast<void (*)()>(&Coop::entry), 2,
                  static_cast<unsigned>(self & 0xffffffffu), static_cast<unsigned>(self >> 32));
    }
    swapcontext(&scheduler_ctx_, &body_ctx_);
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return finished_;
  }

  // Scheduler side: makes the parked body's yield() throw Killed, and runs it to its end.
  void kill() {
    killed_ = true;
    if (!started_) {
      finished_ = true;
      return;
    }
    while (!resume()) {
    }
  }

  // Body side: hands the turn back to the scheduler until the next resume().
  void yield() {
    swapcontext(&body_ctx_, &scheduler_ctx_);
    if (killed_ && std::uncaught_exceptions() == 0) throw Killed{};
  }

  bool finished() const { return finished_; }
  bool killed() const { return killed_; }

 private:
  static constexpr std::size_t kStackBytes = 1u << 20;  // SQLite and the codec run here

  static void entry(unsigned lo, unsigned hi) {
    auto* self = reinterpret_cast<Coop*>(static_cast<std::uintptr_t>(lo) |
                                         (static_cast<std::uintptr_t>(hi) << 32));
    self->run();
  }
  void run() {
    try {
      if (!killed_) body_();
    } catch (const Killed&) {
    } catch (...) {
      error_ = std::current_exception();  // rethrown by resume() on the scheduler's side
    }
    finished_ = true;
  }

  std::function<void()> body_;
  std::unique_ptr<char[]> stack_;
  ucontext_t scheduler_ctx_{}, body_ctx_{};
  bool started_ = false;
  bool finished_ = false;
  bool killed_ = false;
  std::exception_ptr error_;
};

#else  // ALUR_SIM_THREADS

class Coop {
 public:
  struct Killed {};  // thrown by yield() in a killed body; not a std::exception

  explicit Coop(std::function<void()> body) : body_(std::move(body)) {}
  ~Coop() {
    if (thread_.joinable()) {
      if (!finished_) kill();
      thread_.join();
    }
  }
  Coop(const Coop&) = delete;
  Coop& operator=(const Coop&) = delete;

  // Scheduler side: runs the body until it yields or ends. True once it has ended.
  bool resume() {
    if (finished_) return true;
    std::unique_lock lock(mutex_);
    worker_turn_ = true;
    if (!thread_.joinable()) {
      thread_ = std::thread([this] { run(); });
    } else {
      cv_.notify_all();
    }
    cv_.wait(lock, [this] { return !worker_turn_; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return finished_;
  }

  // Scheduler side: makes the parked body's yield() throw Killed, and runs it to its end.
  void kill() {
    killed_ = true;
    while (!resume()) {
    }
  }

  // Body side: hands the turn back to the scheduler until the next resume().
  void yield() {
    {
      std::unique_lock lock(mutex_);
      worker_turn_ = false;
      cv_.notify_all();
      cv_.wait(lock, [this] { return worker_turn_; });
    }
    if (killed_ && std::uncaught_exceptions() == 0) throw Killed{};
  }

  bool finished() const { return finished_; }
  bool killed() const { return killed_; }

 private:
  void run() {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return worker_turn_; });
    }
    try {
      if (!killed_) body_();
    } catch (const Killed&) {
    } catch (...) {
      error_ = std::current_exception();  // rethrown by resume() on the scheduler's side
    }
    std::unique_lock lock(mutex_);
    finished_ = true;
    worker_turn_ = false;
    cv_.notify_all();
  }

  std::function<void()> body_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool worker_turn_ = false;
  bool finished_ = false;
  bool killed_ = false;
  std::exception_ptr error_;
};

#endif

}  // namespace alur::sim
