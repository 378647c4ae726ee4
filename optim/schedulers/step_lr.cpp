#include <lucid/optim/schedulers/step_lr.h>

#include <algorithm>
#include <cmath>

#include <lucid/kernels/factory.h>

namespace lucid::optim {

namespace {
std::vector<double> scaled(std::vector<double> lrs, double factor) {
  for (double& lr : lrs) lr *= factor;
  return lrs;
}
}  // namespace

// ---- StepLR ---------------------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma, int64_t last_epoch)
    : LRScheduler("StepLR", optimizer, last_epoch), step_size_(step_size), gamma_(gamma) {
  LUCID_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  initial_step();
}

// lr *= gamma when last_epoch is a positive multiple of step_size.
std::vector<double> StepLR::get_lr() {
  if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return group_lrs();
  return scaled(group_lrs(), gamma_);
}

std::optional<std::vector<double>> StepLR::closed_form_lr() const {
  return scaled(base_lrs_, std::pow(gamma_, static_cast<double>(last_epoch_ / step_size_)));
}

void StepLR::save_hyper(StateDict& dict) const {
  dict.insert("step_size", state_int(step_size_));
  dict.insert("gamma", state_double(gamma_));
}

void StepLR::load_hyper(const StateDict& dict, const std::string& who) {
  const int64_t step_size = read_int(dict, "step_size", who);
  const double gamma = read_double(dict, "gamma", who);
  LUCID_CHECK(step_size > 0, who, ": step_size must be positive, got ", step_size);
  step_size_ = step_size;
  gamma_ = gamma;
}

// ---- MultiStepLR ------------------------------------------------------------------

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma,
                         int64_t last_epoch)
    : LRScheduler("MultiStepLR", optimizer, last_epoch), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  initial_step();
}

// At a milestone listed k times: lr *= gamma^k.
std::vector<double> MultiStepLR::get_lr() {
  const auto k = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
  if (k == 0) return group_lrs();
  return scaled(group_lrs(), std::pow(gamma_, static_cast<double>(k)));
}

std::optional<std::vector<double>> MultiStepLR::closed_form_lr() const {
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin();
  return scaled(base_lrs_, std::pow(gamma_, static_cast<double>(passed)));
}

void MultiStepLR::save_hyper(StateDict& dict) const {
  dict.insert("milestones", tensor(milestones_));
  dict.insert("gamma", state_double(gamma_));
}

void MultiStepLR::load_hyper(const StateDict& dict, const std::string& who) {
  const Tensor* m = dict.find("milestones");
  LUCID_CHECK(m != nullptr && m->dim() == 1 && m->dtype() == kInt64, who,
              ": state_dict needs 'milestones', a 1-D int64 tensor");
  const double gamma = read_double(dict, "gamma", who);
  const Tensor c = m->cpu().contiguous();
  milestones_.assign(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  std::sort(milestones_.begin(), milestones_.end());
  gamma_ = gamma;
}

// ---- ExponentialLR ----------------------------------------------------------------

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma, int64_t last_epoch)
    : LRScheduler("ExponentialLR", optimizer, last_epoch), gamma_(gamma) {
  initial_step();
}

// lr *= gamma every epoch after the first.
std::vector<double> ExponentialLR::get_lr() {
  if (last_epoch_ == 0) return group_lrs();
  return scaled(group_lrs(), gamma_);
}

std::optional<std::vector<double>> ExponentialLR::closed_form_lr() const {
  return scaled(base_lrs_, std::pow(gamma_, static_cast<double>(last_epoch_)));
}

void ExponentialLR::save_hyper(StateDict& dict) const { dict.insert("gamma", state_double(gamma_)); }

void ExponentialLR::load_hyper(const StateDict& dict, const std::string& who) {
  gamma_ = read_double(dict, "gamma", who);
}

}  // namespace lucid::optim
