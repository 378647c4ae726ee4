#pragma once
// MemoryWatch: finds the leak that makes a long run die at hour three.
//
//   train::MemoryWatch watch(device);
//   for (...) { ...; optimizer.step(); if (auto leak = watch.observe(step)) std::cerr << leak->message; }
//
// After every step it reads two numbers: the bytes of live tensors on the
// device (memory_allocated, PyTorch's statistic) and the entries on this
// thread's autograd tape. In a healthy loop both come back to the same level
// after every step: backward frees what the step recorded, and the step's
// tensors die with it. A leak shows as a series that only grows.
//
// Rule: after `warmup_steps`, a series that has not gone down once during the
// last `window` steps, went up in at least half of them, and grew by at least
// `min_tape_growth` entries (tape) or `min_bytes` bytes (memory) is a leak.
// The report names the step where the growth began (the first increase after
// the last decrease), and for the tape, the op that holds most entries.
//
// The classic one: total_loss = total_loss + loss, without .item() or
// .detach(). total_loss requires grad, so every step records an `add` that
// keeps it attached to the graph; backward never runs through it, so the tape
// (and, with saved tensors, the memory) grows by one step's worth each step.
// The report says so and gives the fix.
//
// observe() reports a leak once; it reports again only after the series has
// gone down (the leak stopped) and grown anew.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <lucid/kernels/device.h>

namespace lucid::train {

struct MemoryWatchOptions {
  int64_t warmup_steps = 10;        // the first steps may grow (optimizer state, caches)
  int64_t window = 50;              // steps of steady growth before it is called a leak
  int64_t min_bytes = int64_t(1) << 20;  // memory: at least this much growth over the window
  int64_t min_tape_growth = 10;     // tape: at least this many entries over the window
};

struct LeakReport {
  enum class Kind { Tape, Memory };
  Kind kind;
  int64_t since_step;       // the first step of the growth
  int64_t step;             // the step at which it was detected
  int64_t from, to;         // entries or bytes, at since_step and now
  std::vector<std::pair<std::string, size_t>> tape_ops;  // the tape's ops, most frequent first
  std::string message;      // what it is, where it began, the likely cause and fix
};

class MemoryWatch {
 public:
  explicit MemoryWatch(Device device, MemoryWatchOptions options = {});

  // Call once per step, after optimizer.step(). Returns a report when a leak
  // is first detected.
  std::optional<LeakReport> observe(int64_t step);
  // The same, with the two numbers given (for tests and other allocators).
  std::optional<LeakReport> observe(int64_t step, int64_t allocated_bytes, int64_t tape_entries);

 private:
  // One watched number: where its current non-decreasing run started.
  struct Series {
    int64_t last = 0;
    int64_t run_start_value = 0;   // the value after the last decrease
    int64_t run_first_rise = -1;   // step of the first increase of the run
    int64_t run_steps = 0;         // steps observed in the run
    int64_t run_rises = 0;         // of which increases
    bool reported = false;
    bool started = false;
  };
  // Updates `s` with `value`; true when the rule above holds now.
  bool grows(Series& s, int64_t step, int64_t value, int64_t min_growth) const;

  Device device_;
  MemoryWatchOptions options_;
  int64_t observed_ = 0;
  Series memory_, tape_;
};

}  // namespace lucid::train
