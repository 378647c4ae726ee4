#include <lucid/optim/schedulers/one_cycle_lr.h>

#include <cmath>
#include <numbers>

#include <lucid/kernels/factory.h>

namespace lucid::optim {

namespace {
// The phase boundaries (as PyTorch: float steps, the last one total_steps - 1).
std::vector<double> phase_ends(const OneCycleLROptions& o) {
  const double up = o.pct_start() * static_cast<double>(o.total_steps()) - 1;
  const double last = static_cast<double>(o.total_steps() - 1);
  if (o.three_phase()) return {up, 2 * o.pct_start() * static_cast<double>(o.total_steps()) - 2, last};
  return {up, last};
}

void check(const OneCycleLROptions& o, size_t groups, const std::string& who) {
  LUCID_CHECK(o.total_steps() > 0, who, ": total_steps must be positive, got ", o.total_steps());
  LUCID_CHECK(o.pct_start() >= 0 && o.pct_start() <= 1, who, ": pct_start must be in [0, 1], got ",
              o.pct_start());
  LUCID_CHECK(o.max_lr().size() == 1 || o.max_lr().size() == groups, who, ": expected 1 or ", groups,
              " values for max_lr (one per parameter group), got ", o.max_lr().size());
}
}  // namespace

OneCycleLR::OneCycleLR(Optimizer& optimizer, const OneCycleLROptions& options, int64_t last_epoch)
    : LRScheduler("OneCycleLR", optimizer, last_epoch), options_(options) {
  check(options, num_groups(), name_);
  const std::vector<double> ends = phase_ends(options);
  if (options.three_phase())
    phases_ = {{ends[0], Point::Initial, Point::Max, Point::Max, Point::Min},
               {ends[1], Point::Max, Point::Initial, Point::Min, Point::Max},
               {ends[2], Point::Initial, Point::Min, Point::Max, Point::Max}};
  else
    phases_ = {{ends[0], Point::Initial, Point::Max, Point::Max, Point::Min},
               {ends[1], Point::Max, Point::Min, Point::Min, Point::Max}};

  std::vector<OptimizerParamGroup>& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    const double max_lr = options.max_lr()[options.max_lr().size() == 1 ? 0 : g];
    max_lrs_.push_back(max_lr);
    initial_lrs_.push_back(max_lr / options.div_factor());
    min_lrs_.push_back(initial_lrs_.back() / options.final_div_factor());
    if (last_epoch == -1) groups[g].options().set_initial_lr(initial_lrs_.back());
  }
  if (last_epoch == -1) base_lrs_ = initial_lrs_;  // OneCycleLR overrides any earlier initial_lr
  if (options.cycle_momentum()) {
    LUCID_CHECK(optimizer.defaults().cycled_momentum().has_value(), name_, ": ", optimizer.name(),
                " has no momentum to cycle; pass cycle_momentum(false)");
    if (last_epoch == -1)
      for (OptimizerParamGroup& g : groups) g.options().set_cycled_momentum(options.max_momentum());
  }
  initial_step();
}

// cos: end + (start - end) / 2 * (1 + cos(pi pct));  linear: start + (end - start) * pct
double OneCycleLR::anneal(double start, double end, double pct) const {
  if (options_.anneal_strategy() == AnnealStrategy::Cos)
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
  return (end - start) * pct + start;
}

std::vector<double> OneCycleLR::get_lr() {
  LUCID_CHECK(last_epoch_ <= options_.total_steps(), name_, ": tried to step ", last_epoch_ + 1,
              " times; the specified number of total steps is ", options_.total_steps());
  const double step = static_cast<double>(last_epoch_);
  std::vector<OptimizerParamGroup>& groups = optimizer_.param_groups();
  std::vector<double> lrs;
  for (size_t g = 0; g < groups.size(); ++g) {
    auto lr_at = [&](Point p) { return p == Point::Initial ? initial_lrs_[g] : p == Point::Max ? max_lrs_[g] : min_lrs_[g]; };
    auto momentum_at = [&](Point p) { return p == Point::Max ? options_.max_momentum() : options_.base_momentum(); };
    double start_step = 0;
    for (size_t i = 0; i < phases_.size(); ++i) {
      const Phase& ph = phases_[i];
      if (step <= ph.end_step || i + 1 == phases_.size()) {
        const double pct = (step - start_step) / (ph.end_step - start_step);
        lrs.push_back(anneal(lr_at(ph.start_lr), lr_at(ph.end_lr), pct));
        if (options_.cycle_momentum())
          groups[g].options().set_cycled_momentum(
              anneal(momentum_at(ph.start_momentum), momentum_at(ph.end_momentum), pct));
        break;
      }
      start_step = ph.end_step;
    }
  }
  return lrs;
}

void OneCycleLR::save_hyper(StateDict& dict) const {
  dict.insert("total_steps", state_int(options_.total_steps()));
  dict.insert("pct_start", state_double(options_.pct_start()));
  dict.insert("anneal_strategy", state_int(static_cast<int64_t>(options_.anneal_strategy())));
  dict.insert("three_phase", state_int(options_.three_phase() ? 1 : 0));
  dict.insert("cycle_momentum", state_int(options_.cycle_momentum() ? 1 : 0));
  dict.insert("base_momentum", state_double(options_.base_momentum()));
  dict.insert("max_momentum", state_double(options_.max_momentum()));
  dict.insert("initial_lrs", tensor(initial_lrs_, kFloat64));
  dict.insert("max_lrs", tensor(max_lrs_, kFloat64));
  dict.insert("min_lrs", tensor(min_lrs_, kFloat64));
}

void OneCycleLR::load_hyper(const StateDict& dict, const std::string& who) {
  std::vector<double> initial = read_group_values(dict, "initial_lrs", who, num_groups());
  std::vector<double> max = read_group_values(dict, "max_lrs", who, num_groups());
  std::vector<double> min = read_group_values(dict, "min_lrs", who, num_groups());
  const int64_t strategy = read_int(dict, "anneal_strategy", who);
  LUCID_CHECK(strategy == 0 || strategy == 1, who, ": unknown anneal_strategy ", strategy);
  OneCycleLROptions o(max, read_int(dict, "total_steps", who));
  o.pct_start(read_double(dict, "pct_start", who))
      .anneal_strategy(static_cast<AnnealStrategy>(strategy))
      .three_phase(read_int(dict, "three_phase", who) != 0)
      .cycle_momentum(read_int(dict, "cycle_momentum", who) != 0)
      .base_momentum(read_double(dict, "base_momentum", who))
      .max_momentum(read_double(dict, "max_momentum", who));
  check(o, num_groups(), who);
  const std::vector<double> ends = phase_ends(o);
  LUCID_CHECK(ends.size() == phases_.size(), who, ": three_phase differs from this scheduler's");
  for (size_t i = 0; i < ends.size(); ++i) phases_[i].end_step = ends[i];
  options_ = o;
  initial_lrs_ = std::move(initial);
  max_lrs_ = std::move(max);
  min_lrs_ = std::move(min);
}

}  // namespace lucid::optim
