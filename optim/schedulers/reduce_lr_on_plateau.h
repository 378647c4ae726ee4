// ReduceLROnPlateau: lowers the lr by `factor` when a metric stops improving (PyTorch 1.13).
//
//   optim::ReduceLROnPlateau sched(opt, optim::ReduceLROnPlateauOptions().factor(0.5).patience(3));
//   for (epoch ...) { train(...); sched.step(validation_loss); }
//
// A metric is better than the best so far when (Min mode; Max mirrors it)
//   Rel: metric < best * (1 - threshold)        Abs: metric < best - threshold.
// After more than `patience` epochs without improvement every group's lr becomes
// max(lr * factor, min_lr) (unless that changes it by eps or less), and the next `cooldown`
// epochs count no bad epochs. Not an LRScheduler: it is stepped with a metric.
// state_dict keys: best, num_bad_epochs, cooldown_counter, last_epoch, last_lr and the options.
#pragma once
#include <vector>

#include <lucid/kernels/ordered_dict.h>
#include <lucid/optim/optimizer.h>

namespace lucid::optim {

enum class PlateauMode { Min, Max };   // is lower or higher metric better
enum class ThresholdMode { Rel, Abs }; // improvement measured relative to best, or absolute

class ReduceLROnPlateauOptions {
 public:
  PlateauMode mode() const { return mode_; }
  ReduceLROnPlateauOptions& mode(PlateauMode v) { mode_ = v; return *this; }
  double factor() const { return factor_; }
  ReduceLROnPlateauOptions& factor(double v) { factor_ = v; return *this; }
  int64_t patience() const { return patience_; }
  ReduceLROnPlateauOptions& patience(int64_t v) { patience_ = v; return *this; }
  double threshold() const { return threshold_; }
  ReduceLROnPlateauOptions& threshold(double v) { threshold_ = v; return *this; }
  ThresholdMode threshold_mode() const { return threshold_mode_; }
  ReduceLROnPlateauOptions& threshold_mode(ThresholdMode v) { threshold_mode_ = v; return *this; }
  int64_t cooldown() const { return cooldown_; }
  ReduceLROnPlateauOptions& cooldown(int64_t v) { cooldown_ = v; return *this; }
  // One min_lr for all groups, or one per group.
  const std::vector<double>& min_lr() const { return min_lr_; }
  ReduceLROnPlateauOptions& min_lr(std::vector<double> v) { min_lr_ = std::move(v); return *this; }
  double eps() const { return eps_; }
  ReduceLROnPlateauOptions& eps(double v) { eps_ = v; return *this; }

 private:
  PlateauMode mode_ = PlateauMode::Min;
  double factor_ = 0.1;
  int64_t patience_ = 10;
  double threshold_ = 1e-4;
  ThresholdMode threshold_mode_ = ThresholdMode::Rel;
  int64_t cooldown_ = 0;
  std::vector<double> min_lr_{0.0};
  double eps_ = 1e-8;
};

class ReduceLROnPlateau {
 public:
  explicit ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});

  void step(double metric);
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }

  StateDict state_dict() const;
  void load_state_dict(const StateDict& dict);  // validates everything before it changes anything

 private:
  bool is_better(double metric) const;
  void reduce_lr();

  Optimizer& optimizer_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_;  // one per group
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
  int64_t last_epoch_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace lucid::optim
