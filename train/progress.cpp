#include <lucid/train/progress.h>

#include <cmath>
#include <string>

#include <unistd.h>

#include <lucid/autograd/grad_mode.h>
#include <lucid/kernels/error.h>

namespace lucid::train {

using Clock = std::chrono::steady_clock;

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return buf;
}

Progress::Progress(std::FILE* out, ProgressOptions options) : out_(out), options_(options) {
  LUCID_CHECK(out_ != nullptr, "Progress: no output stream");
  LUCID_CHECK(options_.log_every > 0 && options_.epochs > 0, "Progress: log_every (", options_.log_every,
              ") and epochs (", options_.epochs, ") must be positive");
  bar_ = options_.style == ProgressStyle::Bar ||
         (options_.style == ProgressStyle::Auto && ::isatty(::fileno(out_)) == 1);
}

void Progress::start_epoch(int64_t epoch, int64_t steps_done) {
  epoch_ = epoch;
  step_in_epoch_ = steps_done;
  global_step_ = epoch * options_.steps_per_epoch + steps_done;
  epoch_start_step_ = steps_done;
  window_steps_ = window_samples_ = 0;
  loss_sum_ = Tensor();
  epoch_loss_sum_ = 0;
  epoch_loss_steps_ = 0;
  window_start_ = last_draw_ = epoch_start_ = Clock::now();
}

void Progress::step(const Tensor& loss, int64_t samples, double lr) {
  {
    NoGradGuard no_grad;  // the running sum is bookkeeping, not part of any graph
    const Tensor l = loss.detach().to(kFloat64);
    loss_sum_ = loss_sum_.defined() ? loss_sum_ + l : l.clone();
  }
  ++step_in_epoch_;
  ++global_step_;
  ++window_steps_;
  window_samples_ += samples;
  lr_ = lr;
  const auto now = Clock::now();
  const bool due = bar_ ? std::chrono::duration<double>(now - last_draw_).count() >= options_.refresh_seconds
                        : step_in_epoch_ % options_.log_every == 0;
  if (due || step_in_epoch_ == options_.steps_per_epoch) print(false);
}

void Progress::print(bool final_line) {
  const auto now = Clock::now();
  if (window_steps_ > 0) {
    const double window_loss = loss_sum_.item<double>();  // the one read of the device per line
    last_loss_ = window_loss / static_cast<double>(window_steps_);
    epoch_loss_sum_ += window_loss;
    epoch_loss_steps_ += window_steps_;
    const double seconds = std::chrono::duration<double>(now - window_start_).count();
    if (seconds > 0) rate_ = static_cast<double>(window_samples_) / seconds;
    loss_sum_ = Tensor();
    window_steps_ = window_samples_ = 0;
    window_start_ = now;
  }
  last_draw_ = now;
  const int64_t total = options_.steps_per_epoch;
  const int64_t done_in_epoch = step_in_epoch_ - epoch_start_step_;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double eta = done_in_epoch > 0 && total > 0
                         ? elapsed / static_cast<double>(done_in_epoch) * static_cast<double>(total - step_in_epoch_)
                         : NAN;
  char tail[160];
  std::snprintf(tail, sizeof tail, "loss %.4f  lr %.2e  %.0f samples/s  ETA %s", last_loss_, lr_, rate_,
                format_duration(eta).c_str());
  if (bar_) {
    constexpr int kWidth = 24;
    const int filled = total > 0 ? static_cast<int>(kWidth * step_in_epoch_ / total) : 0;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(out_, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld  %s%s", static_cast<long long>(epoch_ + 1),
                 static_cast<long long>(options_.epochs), bar.c_str(), static_cast<long long>(step_in_epoch_),
                 static_cast<long long>(total), tail, final_line ? "\n" : "");
  } else {
    std::fprintf(out_, "epoch %lld/%lld step %lld/%lld (global %lld)  %s\n", static_cast<long long>(epoch_ + 1),
                 static_cast<long long>(options_.epochs), static_cast<long long>(step_in_epoch_),
                 static_cast<long long>(total), static_cast<long long>(global_step_), tail);
  }
  std::fflush(out_);
}

double Progress::end_epoch() {
  if (window_steps_ > 0) print(false);
  if (bar_) {
    std::fprintf(out_, "\r\033[K");
    std::fflush(out_);
  }
  return epoch_loss_steps_ > 0 ? epoch_loss_sum_ / static_cast<double>(epoch_loss_steps_) : NAN;
}

void Progress::line(const std::string& text) {
  if (bar_) std::fprintf(out_, "\r\033[K");
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

}  // namespace lucid::train
