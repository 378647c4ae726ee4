#include <lucid/optim/schedulers/reduce_lr_on_plateau.h>

#include <algorithm>
#include <limits>

#include <lucid/kernels/factory.h>
#include <lucid/optim/schedulers/lr_scheduler.h>

namespace lucid::optim {

namespace {
constexpr const char* kName = "ReduceLROnPlateau";

void check(const ReduceLROnPlateauOptions& o, size_t groups, const std::string& who) {
  LUCID_CHECK(o.factor() < 1.0, who, ": factor should be < 1.0, got ", o.factor());
  LUCID_CHECK(o.patience() >= 0 && o.cooldown() >= 0, who, ": patience and cooldown must be >= 0, got ",
              o.patience(), " and ", o.cooldown());
  LUCID_CHECK(o.min_lr().size() == 1 || o.min_lr().size() == groups, who, ": expected 1 or ", groups,
              " values for min_lr (one per parameter group), got ", o.min_lr().size());
}

double worst(PlateauMode mode) {
  const double inf = std::numeric_limits<double>::infinity();
  return mode == PlateauMode::Min ? inf : -inf;
}

std::vector<double> per_group(const std::vector<double>& v, size_t groups) {
  return v.size() == 1 ? std::vector<double>(groups, v[0]) : v;
}
}  // namespace

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(optimizer), options_(std::move(options)), best_(worst(options_.mode())) {
  const size_t groups = optimizer.param_groups().size();
  check(options_, groups, kName);
  min_lrs_ = per_group(options_.min_lr(), groups);
  for (const OptimizerParamGroup& g : optimizer.param_groups()) last_lr_.push_back(g.options().lr());
}

bool ReduceLROnPlateau::is_better(double a) const {
  const double t = options_.threshold();
  const bool rel = options_.threshold_mode() == ThresholdMode::Rel;
  if (options_.mode() == PlateauMode::Min) return rel ? a < best_ * (1. - t) : a < best_ - t;
  return rel ? a > best_ * (t + 1.) : a > best_ + t;
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs in cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience()) {
    reduce_lr();
    cooldown_counter_ = options_.cooldown();
    num_bad_epochs_ = 0;
  }
  last_lr_.clear();
  for (const OptimizerParamGroup& g : optimizer_.param_groups()) last_lr_.push_back(g.options().lr());
}

// lr = max(lr * factor, min_lr), skipped when the change would be eps or less.
void ReduceLROnPlateau::reduce_lr() {
  std::vector<OptimizerParamGroup>& groups = optimizer_.param_groups();
  LUCID_CHECK(groups.size() == min_lrs_.size(), kName, ": the optimizer has ", groups.size(),
              " parameter groups but the scheduler was made for ", min_lrs_.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    const double old_lr = groups[g].options().lr();
    const double new_lr = std::max(old_lr * options_.factor(), min_lrs_[g]);
    if (old_lr - new_lr > options_.eps()) groups[g].options().set_lr(new_lr);
  }
}

StateDict ReduceLROnPlateau::state_dict() const {
  StateDict dict("scheduler state");
  dict.insert("best", state_double(best_));
  dict.insert("num_bad_epochs", state_int(num_bad_epochs_));
  dict.insert("cooldown_counter", state_int(cooldown_counter_));
  dict.insert("last_epoch", state_int(last_epoch_));
  dict.insert("last_lr", tensor(last_lr_, kFloat64));
  dict.insert("mode", state_int(static_cast<int64_t>(options_.mode())));
  dict.insert("factor", state_double(options_.factor()));
  dict.insert("patience", state_int(options_.patience()));
  dict.insert("threshold", state_double(options_.threshold()));
  dict.insert("threshold_mode", state_int(static_cast<int64_t>(options_.threshold_mode())));
  dict.insert("cooldown", state_int(options_.cooldown()));
  dict.insert("min_lrs", tensor(min_lrs_, kFloat64));
  dict.insert("eps", state_double(options_.eps()));
  return dict;
}

void ReduceLROnPlateau::load_state_dict(const StateDict& dict) {
  const std::string who = std::string(kName) + ".load_state_dict";
  const size_t groups = optimizer_.param_groups().size();
  const int64_t mode = read_int(dict, "mode", who), threshold_mode = read_int(dict, "threshold_mode", who);
  LUCID_CHECK((mode == 0 || mode == 1) && (threshold_mode == 0 || threshold_mode == 1), who,
              ": unknown mode ", mode, " or threshold_mode ", threshold_mode);
  std::vector<double> min_lrs = read_group_values(dict, "min_lrs", who, groups);
  std::vector<double> last_lr = read_group_values(dict, "last_lr", who, groups);
  ReduceLROnPlateauOptions o;
  o.mode(static_cast<PlateauMode>(mode))
      .factor(read_double(dict, "factor", who))
      .patience(read_int(dict, "patience", who))
      .threshold(read_double(dict, "threshold", who))
      .threshold_mode(static_cast<ThresholdMode>(threshold_mode))
      .cooldown(read_int(dict, "cooldown", who))
      .min_lr(min_lrs)
      .eps(read_double(dict, "eps", who));
  check(o, groups, who);
  const double best = read_double(dict, "best", who);
  const int64_t bad = read_int(dict, "num_bad_epochs", who);
  const int64_t cooldown_counter = read_int(dict, "cooldown_counter", who);
  const int64_t last_epoch = read_int(dict, "last_epoch", who);
  options_ = o;
  min_lrs_ = std::move(min_lrs);
  best_ = best;
  num_bad_epochs_ = bad;
  cooldown_counter_ = cooldown_counter;
  last_epoch_ = last_epoch;
  last_lr_ = std::move(last_lr);
}

}  // namespace lucid::optim
