// Step-decay schedulers: multiply the lr by gamma at fixed epochs (PyTorch 1.13 formulas).
//   StepLR          every step_size epochs        lr_e = base * gamma^(e / step_size)
//   MultiStepLR     at each milestone             lr_e = base * gamma^(milestones <= e)
//   ExponentialLR   every epoch                   lr_e = base * gamma^e
#pragma once
#include <vector>

#include <lucid/optim/schedulers/lr_scheduler.h>

namespace lucid::optim {

class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void save_hyper(StateDict& dict) const override;
  void load_hyper(const StateDict& dict, const std::string& who) override;

 private:
  int64_t step_size_;
  double gamma_;
};

// A milestone listed twice multiplies by gamma twice (PyTorch counts them).
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1,
              int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void save_hyper(StateDict& dict) const override;
  void load_hyper(const StateDict& dict, const std::string& who) override;

 private:
  std::vector<int64_t> milestones_;  // sorted, with repeats
  double gamma_;
};

class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void save_hyper(StateDict& dict) const override;
  void load_hyper(const StateDict& dict, const std::string& who) override;

 private:
  double gamma_;
};

}  // namespace lucid::optim
