#include <lucid/optim/schedulers/linear_lr.h>

#include <algorithm>

namespace lucid::optim {

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, int64_t total_iters,
                   int64_t last_epoch)
    : LRScheduler("LinearLR", optimizer, last_epoch),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  LUCID_CHECK(start_factor > 0 && start_factor <= 1, "LinearLR: start_factor must be in (0, 1], got ",
              start_factor);
  LUCID_CHECK(end_factor >= 0 && end_factor <= 1, "LinearLR: end_factor must be in [0, 1], got ", end_factor);
  LUCID_CHECK(total_iters > 0, "LinearLR: total_iters must be positive, got ", total_iters);
  initial_step();
}

std::vector<double> LinearLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0) {
    for (double& lr : lrs) lr *= start_factor_;
  } else if (last_epoch_ <= total_iters_) {
    const double d = end_factor_ - start_factor_;
    const double factor =
        1. + d / (static_cast<double>(total_iters_) * start_factor_ + static_cast<double>(last_epoch_ - 1) * d);
    for (double& lr : lrs) lr *= factor;
  }
  return lrs;
}

std::optional<std::vector<double>> LinearLR::closed_form_lr() const {
  const double done = static_cast<double>(std::min(total_iters_, last_epoch_));
  std::vector<double> lrs;
  for (double base : base_lrs_)
    lrs.push_back(base * (start_factor_ + (end_factor_ - start_factor_) * done / static_cast<double>(total_iters_)));
  return lrs;
}

void LinearLR::save_hyper(StateDict& dict) const {
  dict.insert("start_factor", state_double(start_factor_));
  dict.insert("end_factor", state_double(end_factor_));
  dict.insert("total_iters", state_int(total_iters_));
}

void LinearLR::load_hyper(const StateDict& dict, const std::string& who) {
  const double start = read_double(dict, "start_factor", who);
  const double end = read_double(dict, "end_factor", who);
  const int64_t total = read_int(dict, "total_iters", who);
  LUCID_CHECK(total > 0, who, ": total_iters must be positive, got ", total);
  start_factor_ = start;
  end_factor_ = end;
  total_iters_ = total;
}

}  // namespace lucid::optim
