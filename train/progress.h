#pragma once
// Progress: what a run prints while it trains.
//
//   train::Progress progress(std::cout-like FILE*, {.epochs = 5, .steps_per_epoch = 468});
//   progress.start_epoch(epoch);
//   ... each step: progress.step(loss, batch_size, lr);   // loss: the step's loss tensor, any device
//   progress.end_epoch();
//   progress.line("epoch 1: val accuracy 0.8812");        // a whole line, above the bar
//
// On a terminal (isatty) it redraws one status line in place, at most every
// `refresh_seconds`:
//   epoch 2/5 [#########.............] 312/468  loss 0.3412  lr 2.10e-03  1530 samples/s  ETA 0:41
// Elsewhere (a log file, CI) it prints a plain line every `log_every` steps:
//   epoch 2/5 step 312/468 (global 780)  loss 0.3412  lr 2.10e-03  1530 samples/s  ETA 0:41
//
// The loss never costs a GPU sync per step: step() adds the loss tensor to a
// running sum on the loss's own device (loss.detach(), so nothing is recorded),
// and .item() reads that sum only when a line is printed. So the rate it
// prints is the real throughput of an asynchronous device.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include <lucid/kernels/tensor.h>

namespace lucid::train {

enum class ProgressStyle { Auto, Bar, Lines };

struct ProgressOptions {
  int64_t epochs = 1;
  int64_t steps_per_epoch = 0;
  int64_t log_every = 50;          // Lines: a line every this many steps
  double refresh_seconds = 0.25;   // Bar: redraw at most this often
  ProgressStyle style = ProgressStyle::Auto;  // Auto: Bar on a terminal, else Lines
};

class Progress {
 public:
  explicit Progress(std::FILE* out, ProgressOptions options);

  // epoch is 0-based; steps_done > 0 when an epoch resumes part way.
  void start_epoch(int64_t epoch, int64_t steps_done = 0);
  void step(const Tensor& loss, int64_t samples, double lr);
  // Clears the bar; the running loss of the epoch so far (a sync point).
  double end_epoch();
  // Prints a full line (clearing the bar first on a terminal).
  void line(const std::string& text);
  bool is_terminal() const { return bar_; }

 private:
  void print(bool final_line);

  std::FILE* out_;
  ProgressOptions options_;
  bool bar_;
  int64_t epoch_ = 0, step_in_epoch_ = 0, global_step_ = 0;
  int64_t window_steps_ = 0, window_samples_ = 0;
  Tensor loss_sum_;          // on the loss's device; undefined at the start of a window
  double epoch_loss_sum_ = 0;
  int64_t epoch_loss_steps_ = 0;
  double lr_ = 0;
  double last_loss_ = 0;
  double rate_ = 0;
  std::chrono::steady_clock::time_point window_start_, last_draw_, epoch_start_;
  int64_t epoch_start_step_ = 0;
};

// "1:02:03" or "4:05": seconds as [h:]mm:ss.
std::string format_duration(double seconds);

}  // namespace lucid::train
