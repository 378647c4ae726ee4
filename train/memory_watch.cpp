#include <lucid/train/memory_watch.h>

#include <cstdio>

#include <lucid/autograd/tape.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/storage.h>

namespace lucid::train {

namespace {
std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}
}  // namespace

MemoryWatch::MemoryWatch(Device device, MemoryWatchOptions options) : device_(device), options_(options) {
  LUCID_CHECK(options_.window >= 2 && options_.warmup_steps >= 0 && options_.min_bytes > 0 &&
                  options_.min_tape_growth > 0,
              "MemoryWatch: window (", options_.window, ") must be >= 2, warmup_steps (", options_.warmup_steps,
              ") >= 0, min_bytes (", options_.min_bytes, ") and min_tape_growth (", options_.min_tape_growth,
              ") > 0");
}

std::optional<LeakReport> MemoryWatch::observe(int64_t step) {
  return observe(step, memory_allocated(device_), static_cast<int64_t>(autograd::tape_size()));
}

bool MemoryWatch::grows(Series& s, int64_t step, int64_t value, int64_t min_growth) const {
  if (!s.started || value < s.last) {  // a decrease (or the first sample) starts a new run
    s = Series{value, value, -1, 0, 0, false, true};
    return false;
  }
  if (value > s.last) {
    ++s.run_rises;
    if (s.run_first_rise < 0) s.run_first_rise = step;
  }
  ++s.run_steps;
  s.last = value;
  return !s.reported && s.run_steps >= options_.window && 2 * s.run_rises >= s.run_steps &&
         value - s.run_start_value >= min_growth;
}

std::optional<LeakReport> MemoryWatch::observe(int64_t step, int64_t allocated, int64_t tape) {
  if (observed_++ < options_.warmup_steps) return std::nullopt;
  const bool tape_leak = grows(tape_, step, tape, options_.min_tape_growth);
  const bool memory_leak = grows(memory_, step, allocated, options_.min_bytes);
  if (!tape_leak && !memory_leak) return std::nullopt;

  LeakReport r;
  r.step = step;
  r.tape_ops = autograd::tape_op_counts();
  std::string top = "none";
  if (!r.tape_ops.empty())
    top = detail::str_cat("'", r.tape_ops.front().first, "' (", r.tape_ops.front().second, " of ", tape, " entries)");
  if (tape_leak) {  // the tape explains the memory too, when both grow
    Series& s = tape_;
    s.reported = true;
    if (memory_leak) memory_.reported = true;
    r.kind = LeakReport::Kind::Tape;
    r.since_step = s.run_first_rise;
    r.from = s.run_start_value;
    r.to = tape;
    const double per_step = static_cast<double>(r.to - r.from) / static_cast<double>(s.run_steps);
    r.message = detail::str_cat(
        "memory watch: the autograd tape has grown steadily since step ", r.since_step, " (never shrinking: from ",
        r.from, " to ", r.to, " entries in ", s.run_steps, " steps, ", per_step, " per step; allocated on ", device_, ": ",
        mib(allocated), "). The op recorded most is ", top,
        ". Something that requires grad is kept from step to step, so each step's graph stays recorded. "
        "The classic cause is a running total of the loss, `total_loss = total_loss + loss`: "
        "accumulate `loss.item<double>()` (or `loss.detach()`) instead, and keep only detached tensors "
        "(or plain numbers) across steps.");
  } else {
    Series& s = memory_;
    s.reported = true;
    r.kind = LeakReport::Kind::Memory;
    r.since_step = s.run_first_rise;
    r.from = s.run_start_value;
    r.to = allocated;
    r.message = detail::str_cat(
        "memory watch: allocated memory on ", device_, " has grown steadily since step ", r.since_step,
        " (never falling: from ", mib(r.from), " to ", mib(r.to), " in ", s.run_steps, " steps) while the autograd tape stayed at ",
        tape, " entries (most: ", top, "). Tensors are kept from step to step: a list of outputs or losses, "
        "a cache keyed by step, a .grad never cleared. Keep plain numbers (.item()) or release them.");
  }
  return r;
}

}  // namespace lucid::train
