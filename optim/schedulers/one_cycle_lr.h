// OneCycleLR (Smith & Topin, super-convergence), PyTorch 1.13's schedule:
//   two phases:   initial_lr -> max_lr over pct_start * total_steps, then max_lr -> min_lr
//   three_phase:  initial_lr -> max_lr -> initial_lr (symmetric), then initial_lr -> min_lr
// with initial_lr = max_lr / div_factor and min_lr = initial_lr / final_div_factor, each phase
// annealed by cos (end + (start - end) (1 + cos(pi pct)) / 2) or linearly. With cycle_momentum
// the momentum (SGD/RMSprop momentum, Adam beta1) moves the opposite way between max_momentum
// and base_momentum. It is stepped once per batch; stepping past total_steps is an error.
//
//   optim::OneCycleLR sched(opt, optim::OneCycleLROptions({0.1}, /*total_steps=*/1000));
#pragma once
#include <lucid/optim/schedulers/lr_scheduler.h>

namespace lucid::optim {

enum class AnnealStrategy { Cos, Linear };

class OneCycleLROptions {
 public:
  // One max_lr for all groups, or one per group.
  OneCycleLROptions(std::vector<double> max_lr, int64_t total_steps)
      : max_lr_(std::move(max_lr)), total_steps_(total_steps) {}

  const std::vector<double>& max_lr() const { return max_lr_; }
  int64_t total_steps() const { return total_steps_; }
  double pct_start() const { return pct_start_; }
  OneCycleLROptions& pct_start(double v) { pct_start_ = v; return *this; }
  AnnealStrategy anneal_strategy() const { return anneal_strategy_; }
  OneCycleLROptions& anneal_strategy(AnnealStrategy v) { anneal_strategy_ = v; return *this; }
  bool cycle_momentum() const { return cycle_momentum_; }
  OneCycleLROptions& cycle_momentum(bool v) { cycle_momentum_ = v; return *this; }
  double base_momentum() const { return base_momentum_; }
  OneCycleLROptions& base_momentum(double v) { base_momentum_ = v; return *this; }
  double max_momentum() const { return max_momentum_; }
  OneCycleLROptions& max_momentum(double v) { max_momentum_ = v; return *this; }
  double div_factor() const { return div_factor_; }
  OneCycleLROptions& div_factor(double v) { div_factor_ = v; return *this; }
  double final_div_factor() const { return final_div_factor_; }
  OneCycleLROptions& final_div_factor(double v) { final_div_factor_ = v; return *this; }
  bool three_phase() const { return three_phase_; }
  OneCycleLROptions& three_phase(bool v) { three_phase_ = v; return *this; }

 private:
  std::vector<double> max_lr_;
  int64_t total_steps_;
  double pct_start_ = 0.3;
  AnnealStrategy anneal_strategy_ = AnnealStrategy::Cos;
  bool cycle_momentum_ = true;
  double base_momentum_ = 0.85;
  double max_momentum_ = 0.95;
  double div_factor_ = 25.0;
  double final_div_factor_ = 1e4;
  bool three_phase_ = false;
};

class OneCycleLR : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& options, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  void save_hyper(StateDict& dict) const override;
  void load_hyper(const StateDict& dict, const std::string& who) override;

 private:
  // Which per-group value a phase starts or ends at.
  enum class Point { Initial, Max, Min };
  struct Phase {
    double end_step;
    Point start_lr, end_lr;
    Point start_momentum, end_momentum;  // Max: max_momentum, Min (and Initial): base_momentum
  };
  double anneal(double start, double end, double pct) const;

  OneCycleLROptions options_;
  std::vector<Phase> phases_;
  // per group, as PyTorch keeps them in the param group
  std::vector<double> initial_lrs_, max_lrs_, min_lrs_;
};

}  // namespace lucid::optim
