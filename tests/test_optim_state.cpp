// Optimizer behaviour beyond the goldens: state_dict round trips (bit-identical continuation),
// rejected loads that change nothing, zero_grad, per-group hyper-parameters, parameters
// without gradients, argument errors, and that every optimizer lowers a quadratic.
#include <doctest/doctest.h>

#include <lucid/lucid.h>

#include "check_values.h"
#include "golden_file.h"
#include "optim_cases.h"

using namespace lucid;
using namespace lucid::testing;

namespace {

const GoldenCase& golden(const std::string& name) {
  for (const GoldenCase& c : optim_goldens())
    if (c.name == name) return c;
  throw Error("no golden case " + name);
}

std::vector<Tensor> initial_params(const GoldenCase& c) {
  std::vector<Tensor> p;
  for (int i = 0; i < 3; ++i) p.push_back(record(c.inputs, "p" + std::to_string(i)).clone().requires_grad_());
  return p;
}

void set_grads(const GoldenCase& c, int step, const std::vector<Tensor>& params) {
  for (int i = 0; i < 3; ++i)
    params[i].set_grad(record(c.inputs, "grad" + std::to_string(step) + "_" + std::to_string(i)).clone());
}

std::vector<Tensor> copies(const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  for (const Tensor& p : params) out.push_back(p.detach().clone().requires_grad_());
  return out;
}

bool identical(const Tensor& a, const Tensor& b) { return values(a) == values(b); }

}  // namespace

TEST_CASE("optimizer state_dict round trip: save after 3 steps, load into a fresh optimizer, 2 more steps identical") {
  for (const auto& [name, make] : optimizer_cases()) {
    SUBCASE(name.c_str()) {
      const GoldenCase& c = golden(name);
      std::vector<Tensor> pa = initial_params(c);
      auto a = make(pa);
      for (int k = 0; k < 3; ++k) {
        set_grads(c, k, pa);
        a->step();
      }
      const StateDict saved = a->state_dict();
      std::vector<Tensor> pb = copies(pa);
      auto b = make(pb);
      b->load_state_dict(saved);
      for (int k = 3; k < 5; ++k) {
        set_grads(c, k, pa);
        set_grads(c, k, pb);
        a->step();
        b->step();
      }
      for (int i = 0; i < 3; ++i) CHECK(identical(pa[i], pb[i]));
    }
  }
}

TEST_CASE("state_dict keys follow the documented scheme") {
  const GoldenCase& c = golden("adam_amsgrad_wd");
  std::vector<Tensor> p = initial_params(c);
  auto opt = optimizer_cases().at("adam_amsgrad_wd")(p);
  set_grads(c, 0, p);
  opt->step();
  const StateDict d = opt->state_dict();
  for (const char* key : {"state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.2.max_exp_avg_sq",
                          "param_groups.0.params", "param_groups.0.lr", "param_groups.1.lr",
                          "param_groups.1.betas.0", "param_groups.1.amsgrad"}) {
    CAPTURE(key);
    CHECK(d.contains(key));
  }
  CHECK(read_int(d, "state.0.step", "test") == 1);
  CHECK(read_double(d, "param_groups.1.lr", "test") == 0.005);
  CHECK(values(d["param_groups.1.params"]) == std::vector<double>{2});
  CHECK(d["state.1.exp_avg"].sizes() == Shape{5});
  // A snapshot: stepping again leaves the saved buffers alone.
  const std::vector<double> before = values(d["state.0.exp_avg"]);
  set_grads(c, 1, p);
  opt->step();
  CHECK(values(d["state.0.exp_avg"]) == before);
}

TEST_CASE("load_state_dict of a mismatched optimizer raises, names the problem and changes nothing") {
  const GoldenCase& c = golden("sgd_nesterov_wd");
  std::vector<Tensor> p = initial_params(c);
  auto opt = optimizer_cases().at("sgd_nesterov_wd")(p);
  set_grads(c, 0, p);
  opt->step();
  const StateDict before = opt->state_dict();
  auto unchanged = [&] {
    const StateDict now = opt->state_dict();
    REQUIRE(now.size() == before.size());
    for (size_t i = 0; i < now.size(); ++i) {
      CHECK(now[i].key() == before[i].key());
      CHECK(values(now[i].value()) == values(before[i].value()));
    }
  };

  SUBCASE("different number of groups") {
    optim::SGD one(std::vector<Tensor>{zeros({3, 4}).requires_grad_()}, optim::SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(opt->load_state_dict(one.state_dict()),
                         doctest::Contains("SGD.load_state_dict: the state_dict has 1 parameter groups, this "
                                           "optimizer has 2"), Error);
  }
  SUBCASE("different number of parameters in a group") {
    std::vector<Tensor> q{zeros({3, 4}).requires_grad_(), zeros({2, 3}).requires_grad_()};
    std::vector<optim::OptimizerParamGroup> groups{optim::OptimizerParamGroup({q[0]}), optim::OptimizerParamGroup({q[1]})};
    optim::SGD other(groups, optim::SGDOptions(0.1));
    CHECK_THROWS_WITH_AS(opt->load_state_dict(other.state_dict()),
                         doctest::Contains("SGD.load_state_dict: parameter group 0 has 1 parameters in the "
                                           "state_dict but 2 in this optimizer"), Error);
  }
  SUBCASE("a buffer of another shape") {
    StateDict bad = before;
    bad["state.1.momentum_buffer"] = zeros({4});
    CHECK_THROWS_WITH_AS(opt->load_state_dict(bad),
                         doctest::Contains("SGD.load_state_dict: 'state.1.momentum_buffer' has shape [4] but "
                                           "parameter 1 has shape [5]"), Error);
  }
  SUBCASE("another optimizer's state") {
    std::vector<Tensor> q = copies(p);
    auto adam = optimizer_cases().at("adam_wd")(q);
    CHECK_THROWS_WITH_AS(opt->load_state_dict(adam->state_dict()),
                         doctest::Contains("SGD.load_state_dict: state_dict has no entry 'param_groups.0.momentum'"),
                         Error);
  }
  SUBCASE("an unknown key") {
    StateDict bad = before;
    bad.insert("param_groups.0.betas.0", state_double(0.9));
    CHECK_THROWS_WITH_AS(opt->load_state_dict(bad),
                         doctest::Contains("SGD.load_state_dict: unexpected state_dict key 'param_groups.0.betas.0'"),
                         Error);
    StateDict bad_index = before;
    bad_index.insert("state.7.momentum_buffer", zeros({5}));
    CHECK_THROWS_WITH_AS(opt->load_state_dict(bad_index),
                         doctest::Contains("'state.7.momentum_buffer' is the state of parameter 7, which no "
                                           "parameter group of the state_dict lists"), Error);
  }
  unchanged();
}

TEST_CASE("zero_grad drops the gradients, or zeroes them with set_to_none = false") {
  Tensor w = ones({3}).requires_grad_();
  optim::SGD opt({w}, optim::SGDOptions(0.1));
  (w * w).sum().backward();
  REQUIRE(w.grad().defined());
  opt.zero_grad(/*set_to_none=*/false);
  REQUIRE(w.grad().defined());
  CHECK(values(w.grad()) == std::vector<double>{0, 0, 0});
  opt.zero_grad();
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("a parameter without a gradient is skipped: unchanged and without state") {
  Tensor a = ones({2}).requires_grad_(), b = ones({2}).requires_grad_();
  optim::Adam opt({a, b}, optim::AdamOptions(0.1));
  a.set_grad(ones({2}));
  opt.step();
  opt.step();
  CHECK(values(b) == std::vector<double>{1, 1});
  CHECK(opt.state(b) == nullptr);
  REQUIRE(opt.state(a) != nullptr);
  CHECK(opt.state(a)->step == 2);
  const StateDict d = opt.state_dict();
  CHECK(d.contains("state.0.exp_avg"));
  CHECK_FALSE(d.contains("state.1.exp_avg"));
  CHECK_FALSE(d.contains("state.1.step"));
}

TEST_CASE("parameter groups keep their own hyper-parameters") {
  Tensor a = ones({1}).requires_grad_(), b = ones({1}).requires_grad_();
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{a});
  groups.emplace_back(std::vector<Tensor>{b}, std::make_unique<optim::SGDOptions>(optim::SGDOptions(0.5).weight_decay(1.0)));
  optim::SGD opt(groups, optim::SGDOptions(0.1).momentum(0.9));
  for (int k = 0; k < 2; ++k) {
    a.set_grad(ones({1}));
    b.set_grad(ones({1}));
    opt.step();
  }
  // a: momentum 0.9, buf = 1 then 1.9: a = 1 - 0.1 - 0.19;  b: d = 1 + b, no momentum.
  check_values(a, {0.71}, 1e-6);
  check_values(b, {1 - 0.5 * 2 - 0.5 * (1 + 0.0)}, 1e-6);
  CHECK(opt.state(b)->buffers.find("momentum_buffer") == nullptr);
  opt.add_param_group(optim::OptimizerParamGroup({ones({2}).requires_grad_()}));
  CHECK(opt.param_groups().size() == 3);
  CHECK(opt.param_groups()[2].options().lr() == 0.1);  // the defaults
}

TEST_CASE("optimizer argument errors name the optimizer and the problem") {
  Tensor w = ones({2}).requires_grad_();
  CHECK_THROWS_WITH_AS(optim::SGD({w, w}, optim::SGDOptions(0.1)),
                       doctest::Contains("SGD: a parameter of shape [2] appears in more than one parameter group"),
                       Error);
  CHECK_THROWS_WITH_AS(optim::SGD({w * 2.0}, optim::SGDOptions(0.1)),
                       doctest::Contains("SGD: can't optimize a non-leaf tensor (shape [2]"), Error);
  CHECK_THROWS_WITH_AS(optim::Adam({zeros({2}, kInt64)}, optim::AdamOptions()),
                       doctest::Contains("Adam: can only optimize floating-point tensors, got int64"), Error);
  CHECK_THROWS_WITH_AS(optim::SGD({w}, optim::SGDOptions(0.1).nesterov(true)),
                       doctest::Contains("SGD: nesterov momentum requires a momentum and zero dampening"), Error);
  CHECK_THROWS_WITH_AS(optim::Adam({w}, optim::AdamOptions().betas({0.9, 1.0})),
                       doctest::Contains("Adam: invalid beta2 1"), Error);
  CHECK_THROWS_WITH_AS(optim::RMSprop({w}, optim::RMSpropOptions(-1.0)),
                       doctest::Contains("RMSprop: invalid learning rate -1"), Error);
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{w}, std::make_unique<optim::AdamOptions>());
  CHECK_THROWS_WITH_AS(optim::SGD(groups, optim::SGDOptions(0.1)),
                       doctest::Contains("SGD: a parameter group has options of another optimizer"), Error);
}

TEST_CASE("every optimizer lowers a quadratic") {
  // loss = sum((w - target)^2), from w = 0; 30 steps must cut it at least 4x.
  using Make = std::function<std::unique_ptr<optim::Optimizer>(Tensor)>;
  const std::vector<std::pair<std::string, Make>> makers = {
      {"SGD", [](Tensor w) { return std::make_unique<optim::SGD>(std::vector<Tensor>{w}, optim::SGDOptions(0.05).momentum(0.9)); }},
      {"Adam", [](Tensor w) { return std::make_unique<optim::Adam>(std::vector<Tensor>{w}, optim::AdamOptions(0.1)); }},
      {"AdamW", [](Tensor w) { return std::make_unique<optim::AdamW>(std::vector<Tensor>{w}, optim::AdamWOptions(0.1)); }},
      {"RMSprop", [](Tensor w) { return std::make_unique<optim::RMSprop>(std::vector<Tensor>{w}, optim::RMSpropOptions(0.05).centered(true)); }},
  };
  const Tensor target = tensor({1.0, -2.0, 0.5, 3.0});
  for (const auto& [name, make] : makers) {
    CAPTURE(name);
    Tensor w = zeros({4}).requires_grad_();
    auto opt = make(w);
    auto loss_of = [&] { return ((w - target) * (w - target)).sum(); };
    const double first = loss_of().item<double>();
    for (int k = 0; k < 30; ++k) {
      opt->zero_grad();
      loss_of().backward();
      opt->step();
    }
    CHECK(loss_of().item<double>() < first / 4);
  }
}

namespace {

// Two parameters, two steps of `opt` on fixed gradients.
std::vector<Tensor> two_params() {
  return {tensor({1.0, -2.0, 3.0}).requires_grad_(), tensor({{0.5, 0.25}, {-1.0, 2.0}}).requires_grad_()};
}

void take_steps(optim::Optimizer& opt, const std::vector<Tensor>& params, int steps) {
  for (int k = 0; k < steps; ++k) {
    for (const Tensor& p : params) p.set_grad(p.detach() * 0.5 + 0.1 * (k + 1));
    opt.step();
  }
}

// Whether `opt` (hyper-parameters, state) and its parameters are as `saved` and `values` say.
void check_unchanged(const optim::Optimizer& opt, const StateDict& saved, const std::vector<Tensor>& params,
                     const std::vector<std::vector<double>>& saved_values) {
  const StateDict now = opt.state_dict();
  REQUIRE(now.size() == saved.size());
  for (size_t i = 0; i < now.size(); ++i) {
    CHECK(now[i].key() == saved[i].key());
    CHECK(values(now[i].value()) == values(saved[i].value()));
  }
  for (size_t i = 0; i < params.size(); ++i) CHECK(values(params[i]) == saved_values[i]);
}

std::vector<std::vector<double>> values_of(const std::vector<Tensor>& params) {
  std::vector<std::vector<double>> out;
  for (const Tensor& p : params) out.push_back(values(p));
  return out;
}

void set_amsgrad(optim::Optimizer& opt) {
  optim::OptimizerOptions& o = opt.param_groups()[0].options();
  if (auto* adam = dynamic_cast<optim::AdamOptions*>(&o)) adam->amsgrad(true);
  if (auto* adamw = dynamic_cast<optim::AdamWOptions*>(&o)) adamw->amsgrad(true);
}

}  // namespace

TEST_CASE("amsgrad switched on after the first step raises (as PyTorch 1.13) and changes nothing") {
  // The update used to hold references into the state's buffers across an insert that could
  // move them: use after free. PyTorch raises a KeyError for max_exp_avg_sq before updating
  // anything; lucid an Error naming the buffer, before any parameter or step count changes.
  using Make = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;
  const std::vector<std::pair<std::string, Make>> makers = {
      {"Adam", [](std::vector<Tensor> w) { return std::make_unique<optim::Adam>(w, optim::AdamOptions(0.1)); }},
      {"AdamW", [](std::vector<Tensor> w) { return std::make_unique<optim::AdamW>(w, optim::AdamWOptions(0.1)); }},
  };
  for (const auto& [name, make] : makers) {
    CAPTURE(name);
    std::vector<Tensor> params = two_params();
    Tensor fresh = ones({2}).requires_grad_();  // no gradient yet: no state
    params.push_back(fresh);
    auto opt = make(params);
    take_steps(*opt, {params[0], params[1]}, 2);
    REQUIRE(opt->state(fresh) == nullptr);
    set_amsgrad(*opt);
    for (const Tensor& p : params) p.set_grad(ones_like(p));
    const StateDict saved = opt->state_dict();
    const auto saved_values = values_of(params);
    const std::string message = name + ".step: 'state.0.max_exp_avg_sq' is missing: " + name +
                                " keeps it from a parameter's first step when amsgrad is on";
    CHECK_THROWS_WITH_AS(opt->step(), doctest::Contains(message.c_str()), Error);
    check_unchanged(*opt, saved, params, saved_values);
    CHECK(opt->state(fresh) == nullptr);
    CHECK(opt->state(params[0])->step == 2);
  }
}

TEST_CASE("load_state_dict refuses incomplete or unknown state and invalid hyper-parameters, changing nothing") {
  std::vector<Tensor> params = two_params();
  optim::Adam adam(params, optim::AdamOptions(0.1).amsgrad(true));
  take_steps(adam, params, 3);
  const StateDict good = adam.state_dict();
  const auto saved_values = values_of(params);
  auto refused = [&](const StateDict& bad, const std::string& message) {
    CAPTURE(message);
    CHECK_THROWS_WITH_AS(adam.load_state_dict(bad), doctest::Contains(message.c_str()), Error);
    check_unchanged(adam, good, params, saved_values);
  };
  auto without = [&](const std::string& key) {
    StateDict d("optimizer state");
    for (const auto& item : good)
      if (item.key() != key) d.insert(item.key(), item.value());
    return d;
  };
  SUBCASE("a missing moment") {
    refused(without("state.0.exp_avg_sq"),
            "Adam.load_state_dict: 'state.0.exp_avg_sq' is missing: Adam keeps it from a parameter's first step");
  }
  SUBCASE("amsgrad on without its maximum") {
    refused(without("state.1.max_exp_avg_sq"),
            "Adam.load_state_dict: 'state.1.max_exp_avg_sq' is missing: Adam keeps it from a parameter's first "
            "step when amsgrad is on");
  }
  SUBCASE("buffers without a step count") {
    refused(without("state.1.step"), "Adam.load_state_dict: 'state.1.step' is missing");
  }
  SUBCASE("a negative step count") {
    StateDict bad = good;
    bad["state.0.step"] = state_int(-2);
    refused(bad, "Adam.load_state_dict: 'state.0.step' is -2; a step count can't be negative");
  }
  SUBCASE("a buffer Adam does not keep") {
    StateDict bad = good;
    bad.insert("state.0.momentum_buffer", zeros({3}));
    refused(bad, "Adam.load_state_dict: unexpected state_dict key 'state.0.momentum_buffer' (Adam keeps "
                 "exp_avg, exp_avg_sq, max_exp_avg_sq)");
  }
  SUBCASE("a buffer of another shape") {
    StateDict bad = good;
    bad["state.1.exp_avg"] = zeros({4});
    refused(bad, "Adam.load_state_dict: 'state.1.exp_avg' has shape [4] but parameter 1 has shape [2, 2]");
  }
  SUBCASE("a negative learning rate") {
    StateDict bad = good;
    bad["param_groups.0.lr"] = state_double(-0.1);
    refused(bad, "Adam.load_state_dict: param_groups.0 is invalid: Adam: invalid learning rate -0.1");
  }
  SUBCASE("beta2 of 1") {
    StateDict bad = good;
    bad["param_groups.0.betas.1"] = state_double(1.0);
    refused(bad, "Adam.load_state_dict: param_groups.0 is invalid: Adam: invalid beta2 1");
  }
  // The refused loads left the optimizer able to continue exactly as before.
  take_steps(adam, params, 1);
  CHECK(adam.state(params[0])->step == 4);
}

TEST_CASE("load_state_dict checks SGD and RMSprop state against their options") {
  std::vector<Tensor> params = two_params();
  SUBCASE("SGD: nesterov without momentum is refused") {
    optim::SGD sgd(params, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
    take_steps(sgd, params, 2);
    const StateDict good = sgd.state_dict();
    StateDict bad = good;
    bad["param_groups.0.momentum"] = state_double(0.0);
    CHECK_THROWS_WITH_AS(sgd.load_state_dict(bad),
                         doctest::Contains("SGD.load_state_dict: param_groups.0 is invalid: SGD: nesterov momentum "
                                           "requires a momentum"), Error);
    check_unchanged(sgd, good, params, values_of(params));
  }
  SUBCASE("SGD: a missing momentum buffer is legal and made by the next step (as PyTorch)") {
    optim::SGD sgd(params, optim::SGDOptions(0.1).momentum(0.9));
    take_steps(sgd, params, 2);
    StateDict d("optimizer state");
    for (const auto& item : sgd.state_dict())
      if (item.key() != "state.1.momentum_buffer") d.insert(item.key(), item.value());
    sgd.load_state_dict(d);
    CHECK(sgd.state(params[1])->buffers.find("momentum_buffer") == nullptr);
    const std::vector<double> before = values(params[1]);
    params[1].set_grad(full({2, 2}, 2.0));
    params[0].set_grad(Tensor());
    sgd.step();  // buf = d at the first step after the load: p -= lr * grad
    check_values(params[1], {before[0] - 0.2, before[1] - 0.2, before[2] - 0.2, before[3] - 0.2}, 1e-6);
    CHECK(values(sgd.state(params[1])->buffers["momentum_buffer"]) == std::vector<double>{2, 2, 2, 2});
  }
  SUBCASE("RMSprop: centered needs grad_avg, momentum needs momentum_buffer") {
    optim::RMSprop rms(params, optim::RMSpropOptions(0.01).centered(true).momentum(0.5));
    take_steps(rms, params, 2);
    const StateDict good = rms.state_dict();
    for (const char* key : {"state.0.grad_avg", "state.1.momentum_buffer", "state.0.square_avg"}) {
      CAPTURE(key);
      StateDict bad("optimizer state");
      for (const auto& item : good)
        if (item.key() != key) bad.insert(item.key(), item.value());
      CHECK_THROWS_WITH_AS(rms.load_state_dict(bad), doctest::Contains((std::string("'") + key + "' is missing").c_str()),
                           Error);
      check_unchanged(rms, good, params, values_of(params));
    }
    // Switching centered off keeps grad_avg loadable (PyTorch keeps such buffers too).
    StateDict plain = good;
    plain["param_groups.0.centered"] = state_int(0);
    rms.load_state_dict(plain);
    CHECK(rms.state(params[0])->buffers.contains("grad_avg"));
  }
}
