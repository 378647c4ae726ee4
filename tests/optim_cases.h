// The optimizer and scheduler configurations of goldens/make_optim_goldens.py, built in lucid
// (shared by the golden tests and the state_dict round-trip tests), and the goldens themselves.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <lucid/lucid.h>

#include "golden_file.h"

namespace lucid::testing {

// goldens/optim.txt, read once (tests run from tests/).
inline const std::vector<GoldenCase>& optim_goldens() {
  static const std::vector<GoldenCase> cases = read_goldens("goldens/optim.txt");
  return cases;
}

// Group 0 = {p0, p1} with the defaults, group 1 = {p2} with `group1` options.
template <class Opt, class Options>
std::unique_ptr<optim::Optimizer> two_groups(const std::vector<Tensor>& p, Options defaults, Options group1) {
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{p[0], p[1]});
  groups.emplace_back(std::vector<Tensor>{p[2]}, std::make_unique<Options>(group1));
  return std::make_unique<Opt>(groups, defaults);
}

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(const std::vector<Tensor>&)>;

// Case name -> the optimizer of make_optim_goldens.py's OPTIMIZERS table.
inline const std::map<std::string, MakeOptimizer>& optimizer_cases() {
  using namespace optim;
  static const std::map<std::string, MakeOptimizer> cases = {
      {"sgd_nesterov_wd",
       [](const std::vector<Tensor>& p) {
         auto o = SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(0.01);
         return two_groups<SGD>(p, o, SGDOptions(o).lr(0.05));
       }},
      {"sgd_dampening_maximize",
       [](const std::vector<Tensor>& p) {
         auto o = SGDOptions(0.1).momentum(0.8).dampening(0.3).maximize(true);
         return two_groups<SGD>(p, o, o);
       }},
      {"sgd_plain", [](const std::vector<Tensor>& p) { return two_groups<SGD>(p, SGDOptions(0.2), SGDOptions(0.2)); }},
      {"adam_wd",
       [](const std::vector<Tensor>& p) {
         auto o = AdamOptions(0.01).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.1);
         return two_groups<Adam>(p, o, o);
       }},
      {"adam_amsgrad_wd",
       [](const std::vector<Tensor>& p) {
         auto o = AdamOptions(0.02).betas({0.8, 0.9}).weight_decay(0.05).amsgrad(true);
         return two_groups<Adam>(p, o, AdamOptions(o).lr(0.005).betas({0.7, 0.95}));
       }},
      {"adamw",
       [](const std::vector<Tensor>& p) {
         auto o = AdamWOptions(0.01).weight_decay(0.1);
         return two_groups<AdamW>(p, o, AdamWOptions(o).lr(0.03));
       }},
      {"adamw_amsgrad",
       [](const std::vector<Tensor>& p) {
         auto o = AdamWOptions(0.01).betas({0.85, 0.9}).weight_decay(0.2).amsgrad(true);
         return two_groups<AdamW>(p, o, o);
       }},
      {"rmsprop_centered_momentum",
       [](const std::vector<Tensor>& p) {
         auto o = RMSpropOptions(0.01).alpha(0.9).eps(1e-6).weight_decay(0.01).momentum(0.5).centered(true);
         return two_groups<RMSprop>(p, o, RMSpropOptions(o).lr(0.002));
       }},
      {"rmsprop_plain",
       [](const std::vector<Tensor>& p) { return two_groups<RMSprop>(p, RMSpropOptions(0.01), RMSpropOptions(0.01)); }},
  };
  return cases;
}

// The scheduler goldens' optimizer: two groups (lr 0.1 and 0.05), SGD with momentum 0.9.
inline std::unique_ptr<optim::Optimizer> two_group_sgd() {
  using namespace optim;
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{zeros({2}).requires_grad_()});
  groups.emplace_back(std::vector<Tensor>{zeros({3}).requires_grad_()},
                      std::make_unique<SGDOptions>(SGDOptions(0.05).momentum(0.9)));
  return std::make_unique<SGD>(groups, SGDOptions(0.1).momentum(0.9));
}

inline std::unique_ptr<optim::Optimizer> two_group_adam() {
  using namespace optim;
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{zeros({2}).requires_grad_()});
  groups.emplace_back(std::vector<Tensor>{zeros({3}).requires_grad_()},
                      std::make_unique<AdamOptions>(AdamOptions(0.05)));
  return std::make_unique<Adam>(groups, AdamOptions(0.1));
}

// A scheduler plus the optimizer it drives (the scheduler holds a reference to it).
struct Scheduled {
  std::unique_ptr<optim::Optimizer> opt;
  std::unique_ptr<optim::LRScheduler> sched;
};
using MakeScheduled = std::function<Scheduled()>;

// Case name -> make_optim_goldens.py's SCHEDULERS table (and onecyclelr_linear_3phase).
inline const std::map<std::string, MakeScheduled>& scheduler_cases() {
  using namespace optim;
  static const std::map<std::string, MakeScheduled> cases = {
      {"steplr", [] { Scheduled s{two_group_sgd(), nullptr}; s.sched = std::make_unique<StepLR>(*s.opt, 7, 0.5); return s; }},
      {"multisteplr",
       [] {
         Scheduled s{two_group_sgd(), nullptr};
         s.sched = std::make_unique<MultiStepLR>(*s.opt, std::vector<int64_t>{10, 30, 30, 75}, 0.3);
         return s;
       }},
      {"exponentiallr",
       [] { Scheduled s{two_group_sgd(), nullptr}; s.sched = std::make_unique<ExponentialLR>(*s.opt, 0.97); return s; }},
      {"cosineannealinglr",
       [] { Scheduled s{two_group_sgd(), nullptr}; s.sched = std::make_unique<CosineAnnealingLR>(*s.opt, 30, 0.001); return s; }},
      {"linearlr",
       [] { Scheduled s{two_group_sgd(), nullptr}; s.sched = std::make_unique<LinearLR>(*s.opt, 0.25, 1.0, 10); return s; }},
      {"onecyclelr_cos",
       [] {
         Scheduled s{two_group_sgd(), nullptr};
         s.sched = std::make_unique<OneCycleLR>(*s.opt, OneCycleLROptions({1.0, 0.5}, 100));
         return s;
       }},
      {"onecyclelr_linear_3phase",
       [] {
         Scheduled s{two_group_adam(), nullptr};
         s.sched = std::make_unique<OneCycleLR>(*s.opt, OneCycleLROptions({0.01}, 100)
                                                            .pct_start(0.25)
                                                            .anneal_strategy(AnnealStrategy::Linear)
                                                            .div_factor(10)
                                                            .final_div_factor(100)
                                                            .three_phase(true)
                                                            .base_momentum(0.8)
                                                            .max_momentum(0.9));
         return s;
       }},
      {"sequentiallr",
       [] {
         Scheduled s{two_group_sgd(), nullptr};
         auto warmup = std::make_shared<LinearLR>(*s.opt, 0.1, 1.0, 10);
         auto cosine = std::make_shared<CosineAnnealingLR>(*s.opt, 90, 1e-4);
         s.sched = std::make_unique<SequentialLR>(*s.opt, std::vector<std::shared_ptr<LRScheduler>>{warmup, cosine},
                                                  std::vector<int64_t>{10});
         return s;
       }},
  };
  return cases;
}

// make_optim_goldens.py's PLATEAUS table.
inline optim::ReduceLROnPlateauOptions plateau_options(const std::string& name) {
  using namespace optim;
  if (name == "plateau_min_rel")
    return ReduceLROnPlateauOptions().mode(PlateauMode::Min).factor(0.5).patience(3).threshold(1e-2).cooldown(2).min_lr({1e-3, 1e-4});
  LUCID_CHECK(name == "plateau_max_abs", "no plateau case named ", name);
  return ReduceLROnPlateauOptions()
      .mode(PlateauMode::Max)
      .factor(0.3)
      .patience(2)
      .threshold(0.05)
      .threshold_mode(ThresholdMode::Abs)
      .min_lr({0.002})
      .eps(1e-4);
}

}  // namespace lucid::testing
