// CosineAnnealingLR: lr follows half a cosine from base_lr down to eta_min over T_max epochs,
// then back up (period 2 T_max), in PyTorch 1.13's chainable form:
//   lr_e = eta_min + (lr_{e-1} - eta_min) * (1 + cos(pi e / T_max)) / (1 + cos(pi (e-1) / T_max))
// whose closed form is  lr_e = eta_min + (base_lr - eta_min) * (1 + cos(pi e / T_max)) / 2.
#pragma once
#include <lucid/optim/schedulers/lr_scheduler.h>

namespace lucid::optim {

class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0.0, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void save_hyper(StateDict& dict) const override;
  void load_hyper(const StateDict& dict, const std::string& who) override;

 private:
  int64_t T_max_;
  double eta_min_;
};

}  // namespace lucid::optim
