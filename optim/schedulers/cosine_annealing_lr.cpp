#include <lucid/optim/schedulers/cosine_annealing_lr.h>

#include <cmath>
#include <numbers>

namespace lucid::optim {

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min, int64_t last_epoch)
    : LRScheduler("CosineAnnealingLR", optimizer, last_epoch), T_max_(T_max), eta_min_(eta_min) {
  LUCID_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be positive, got ", T_max);
  initial_step();
}

// The branches and their operation order are PyTorch 1.13's, so the values agree to the bit.
std::vector<double> CosineAnnealingLR::get_lr() {
  const double pi = std::numbers::pi;
  const double e = static_cast<double>(last_epoch_), T = static_cast<double>(T_max_);
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0) return lrs;
  if (step_count_ == 1 && last_epoch_ > 0) return *closed_form_lr();  // resumed at last_epoch
  const int64_t period = 2 * T_max_;
  const int64_t phase = ((last_epoch_ - 1 - T_max_) % period + period) % period;  // Python's %
  for (size_t g = 0; g < lrs.size(); ++g) {
    if (phase == 0)  // at the bottom of the cosine: the ratio below would be 0/0
      lrs[g] = lrs[g] + (base_lrs_[g] - eta_min_) * (1 - std::cos(pi / T)) / 2;
    else
      lrs[g] = (1 + std::cos(pi * e / T)) / (1 + std::cos(pi * (e - 1) / T)) * (lrs[g] - eta_min_) + eta_min_;
  }
  return lrs;
}

std::optional<std::vector<double>> CosineAnnealingLR::closed_form_lr() const {
  const double e = static_cast<double>(last_epoch_), T = static_cast<double>(T_max_);
  std::vector<double> lrs;
  for (double base : base_lrs_)
    lrs.push_back(eta_min_ + (base - eta_min_) * (1 + std::cos(std::numbers::pi * e / T)) / 2);
  return lrs;
}

void CosineAnnealingLR::save_hyper(StateDict& dict) const {
  dict.insert("T_max", state_int(T_max_));
  dict.insert("eta_min", state_double(eta_min_));
}

void CosineAnnealingLR::load_hyper(const StateDict& dict, const std::string& who) {
  const int64_t T_max = read_int(dict, "T_max", who);
  const double eta_min = read_double(dict, "eta_min", who);
  LUCID_CHECK(T_max > 0, who, ": T_max must be positive, got ", T_max);
  T_max_ = T_max;
  eta_min_ = eta_min;
}

}  // namespace lucid::optim
