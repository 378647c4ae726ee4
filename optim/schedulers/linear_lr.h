// LinearLR (warmup): the lr factor moves linearly from start_factor to end_factor over
// total_iters epochs, then stays:  lr_e = base_lr * (start + (end - start) * min(e, total_iters) / total_iters)
// (PyTorch 1.13 computes it in chainable form: lr_e = lr_{e-1} * (1 + (end - start) /
// (total_iters * start + (e - 1) * (end - start)))).
#pragma once
#include <lucid/optim/schedulers/lr_scheduler.h>

namespace lucid::optim {

class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0,
           int64_t total_iters = 5, int64_t last_epoch = -1);

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void save_hyper(StateDict& dict) const override;
  void load_hyper(const StateDict& dict, const std::string& who) override;

 private:
  double start_factor_;
  double end_factor_;
  int64_t total_iters_;
};

}  // namespace lucid::optim
