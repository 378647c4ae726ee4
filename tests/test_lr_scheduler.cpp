// LR schedulers: PyTorch 1.13 goldens (goldens/optim.txt, 100 epochs, two groups, within
// 1e-12 relative in float64), last_epoch semantics, state_dict round trips and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include <lucid/lucid.h>

#include "golden_file.h"
#include "optim_cases.h"

using namespace lucid;
using namespace lucid::testing;

namespace {

std::vector<double> group_lrs(const optim::Optimizer& opt) {
  std::vector<double> out;
  for (const auto& g : opt.param_groups()) out.push_back(g.options().lr());
  return out;
}

std::vector<double> group_momenta(const optim::Optimizer& opt) {
  std::vector<double> out;
  for (const auto& g : opt.param_groups()) out.push_back(*g.options().cycled_momentum());
  return out;
}

// Row `epoch` of a [epochs, groups] float64 golden equals `got` within 1e-12 relative.
void check_row(const Tensor& want, int64_t epoch, const std::vector<double>& got) {
  REQUIRE(want.size(1) == static_cast<int64_t>(got.size()));
  for (size_t g = 0; g < got.size(); ++g) {
    const double w = want.data_ptr<double>()[epoch * want.size(1) + static_cast<int64_t>(g)];
    CAPTURE(epoch);
    CAPTURE(g);
    CHECK(got[g] == doctest::Approx(w).epsilon(1e-12).scale(0));
  }
}

const GoldenCase& golden(const std::string& name) {
  for (const GoldenCase& c : optim_goldens())
    if (c.name == name) return c;
  throw Error("no golden case " + name);
}

}  // namespace

TEST_CASE("every scheduler golden case matches PyTorch 1.13 over 100 epochs") {
  for (const auto& [name, make] : scheduler_cases()) {
    SUBCASE(name.c_str()) {
      const GoldenCase& c = golden(name);
      const Tensor& lr = record(c.outputs, "lr");
      const bool one_cycle = name.rfind("onecyclelr", 0) == 0;
      Scheduled s = make();
      for (int64_t epoch = 0; epoch < lr.size(0); ++epoch) {
        if (epoch > 0) s.sched->step();
        check_row(lr, epoch, group_lrs(*s.opt));
        check_row(lr, epoch, s.sched->get_last_lr());
        if (one_cycle) check_row(record(c.outputs, "momentum"), epoch, group_momenta(*s.opt));
      }
      CHECK(s.sched->last_epoch() == lr.size(0) - 1);
    }
  }
}

TEST_CASE("ReduceLROnPlateau matches PyTorch 1.13 on a fixed metric sequence") {
  for (const std::string name : {"plateau_min_rel", "plateau_max_abs"}) {
    SUBCASE(name.c_str()) {
      const GoldenCase& c = golden(name);
      const Tensor& metric = record(c.inputs, "metric");
      const Tensor& lr = record(c.outputs, "lr");
      auto opt = two_group_sgd();
      optim::ReduceLROnPlateau sched(*opt, plateau_options(name));
      for (int64_t k = 0; k < metric.numel(); ++k) {
        sched.step(metric.data_ptr<double>()[k]);
        check_row(lr, k, group_lrs(*opt));
        check_row(lr, k, sched.get_last_lr());
      }
    }
  }
}

TEST_CASE("every golden case in optim.txt is run by a test") {
  std::set<std::string> known;
  for (const auto& [name, make] : optimizer_cases()) known.insert(name);
  for (const auto& [name, make] : scheduler_cases()) known.insert(name);
  known.insert("plateau_min_rel");
  known.insert("plateau_max_abs");
  for (const GoldenCase& c : optim_goldens()) {
    CAPTURE(c.name);
    CHECK(known.count(c.name) == 1);
  }
}

TEST_CASE("constructing a scheduler performs the initial step and sets initial_lr") {
  auto opt = two_group_sgd();
  optim::LinearLR sched(*opt, 0.5, 1.0, 4);
  CHECK(sched.last_epoch() == 0);
  CHECK(opt->param_groups()[0].options().initial_lr() == 0.1);
  CHECK(opt->param_groups()[1].options().initial_lr() == 0.05);
  CHECK(sched.base_lrs() == std::vector<double>{0.1, 0.05});
  CHECK(group_lrs(*opt) == std::vector<double>{0.05, 0.025});  // epoch 0: lr * start_factor
  // A second scheduler keeps the first one's initial_lr (PyTorch's setdefault).
  optim::StepLR step(*opt, 3);
  CHECK(step.base_lrs() == std::vector<double>{0.1, 0.05});
}

TEST_CASE("resuming a scheduler at last_epoch needs initial_lr in the optimizer") {
  auto opt = two_group_sgd();
  CHECK_THROWS_WITH_AS(optim::StepLR(*opt, 3, 0.1, /*last_epoch=*/5),
                       doctest::Contains("StepLR: resuming at last_epoch 5 needs initial_lr in parameter group 0"),
                       Error);
}

TEST_CASE("chainable schedulers follow a manual lr change, as PyTorch's do") {
  auto opt = two_group_sgd();
  optim::ExponentialLR sched(*opt, 0.5);
  opt->param_groups()[0].options().set_lr(1.0);
  sched.step();
  CHECK(group_lrs(*opt)[0] == 0.5);
}

TEST_CASE("scheduler state_dict round trip: save after 3 steps, continue on both, identical lrs") {
  for (const auto& [name, make] : scheduler_cases()) {
    SUBCASE(name.c_str()) {
      Scheduled a = make();
      for (int i = 0; i < 3; ++i) a.sched->step();
      const StateDict opt_state = a.opt->state_dict();
      const StateDict sched_state = a.sched->state_dict();
      Scheduled b = make();  // fresh: its construction moved the lrs; the loads restore them
      b.opt->load_state_dict(opt_state);
      b.sched->load_state_dict(sched_state);
      CHECK(b.sched->last_epoch() == a.sched->last_epoch());
      CHECK(b.sched->get_last_lr() == a.sched->get_last_lr());
      for (int i = 0; i < 20; ++i) {
        a.sched->step();
        b.sched->step();
        CHECK(group_lrs(*a.opt) == group_lrs(*b.opt));  // bit-identical
        if (name.rfind("onecyclelr", 0) == 0) CHECK(group_momenta(*a.opt) == group_momenta(*b.opt));
      }
    }
  }
}

TEST_CASE("ReduceLROnPlateau state_dict round trip continues identically") {
  auto opt_a = two_group_sgd();
  optim::ReduceLROnPlateau a(*opt_a, plateau_options("plateau_min_rel"));
  const Tensor& metric = record(golden("plateau_min_rel").inputs, "metric");
  for (int k = 0; k < 40; ++k) a.step(metric.data_ptr<double>()[k]);
  auto opt_b = two_group_sgd();
  optim::ReduceLROnPlateau b(*opt_b);  // default options: the load restores them
  opt_b->load_state_dict(opt_a->state_dict());
  b.load_state_dict(a.state_dict());
  CHECK(b.best() == a.best());
  for (int k = 40; k < 100; ++k) {
    a.step(metric.data_ptr<double>()[k]);
    b.step(metric.data_ptr<double>()[k]);
    CHECK(group_lrs(*opt_a) == group_lrs(*opt_b));
  }
}

TEST_CASE("scheduler load_state_dict rejects a state for another number of groups and changes nothing") {
  auto one = std::make_unique<optim::SGD>(std::vector<Tensor>{zeros({2}).requires_grad_()}, optim::SGDOptions(0.1));
  optim::StepLR small(*one, 3);
  for (int i = 0; i < 4; ++i) small.step();
  auto two = two_group_sgd();
  optim::StepLR sched(*two, 3);
  CHECK_THROWS_WITH_AS(sched.load_state_dict(small.state_dict()),
                       doctest::Contains("StepLR.load_state_dict: 'base_lrs' has 1 values but the optimizer has 2"),
                       Error);
  CHECK(sched.last_epoch() == 0);
  StateDict missing = small.state_dict();
  missing.erase("gamma");
  optim::StepLR other(*one, 3);
  CHECK_THROWS_WITH_AS(other.load_state_dict(missing),
                       doctest::Contains("StepLR.load_state_dict: state_dict has no entry 'gamma'"), Error);
  CHECK(other.last_epoch() == 0);
}

TEST_CASE("scheduler errors name the scheduler and the problem") {
  auto opt = two_group_sgd();
  optim::OneCycleLR cycle(*opt, optim::OneCycleLROptions({0.1}, 3));
  cycle.step();
  cycle.step();
  cycle.step();
  CHECK_THROWS_WITH_AS(cycle.step(), doctest::Contains("OneCycleLR: tried to step 5 times; the specified number "
                                                       "of total steps is 3"), Error);
  CHECK_THROWS_WITH_AS(optim::OneCycleLR(*opt, optim::OneCycleLROptions({0.1, 0.2, 0.3}, 10)),
                       doctest::Contains("OneCycleLR: expected 1 or 2 values for max_lr"), Error);
  auto a = std::make_shared<optim::LinearLR>(*opt);
  CHECK_THROWS_WITH_AS(optim::SequentialLR(*opt, {a}, {5}),
                       doctest::Contains("SequentialLR: expects one milestone fewer than schedulers, got 1 "
                                         "schedulers and 1 milestones"), Error);
  auto other = two_group_sgd();
  auto b = std::make_shared<optim::LinearLR>(*other);
  CHECK_THROWS_WITH_AS(optim::SequentialLR(*opt, {a, b}, {5}),
                       doctest::Contains("SequentialLR: scheduler 1 belongs to another optimizer"), Error);
  CHECK_THROWS_WITH_AS(optim::ReduceLROnPlateau(*opt, optim::ReduceLROnPlateauOptions().factor(1.5)),
                       doctest::Contains("ReduceLROnPlateau: factor should be < 1.0, got 1.5"), Error);
  auto sgd_plain = std::make_unique<optim::RMSprop>(std::vector<Tensor>{zeros({2}).requires_grad_()},
                                                    optim::RMSpropOptions());
  CHECK_NOTHROW(optim::OneCycleLR(*sgd_plain, optim::OneCycleLROptions({0.1}, 10)));  // RMSprop has momentum
  CHECK_THROWS_WITH_AS(optim::StepLR(*opt, 0), doctest::Contains("StepLR: step_size must be positive, got 0"),
                       Error);
}
