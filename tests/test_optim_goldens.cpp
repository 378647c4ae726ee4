// Optimizers against PyTorch 1.13: goldens/optim.txt (made by goldens/make_optim_goldens.py)
// holds, per case, three float32 parameters, the gradients of 5 steps and the parameters after
// each step. Here each case name maps to the same optimizer in lucid (tests/optim_cases.h);
// the test sets the same gradients, steps, and compares.
//
// Tolerance: |lucid - torch| <= 1e-6 |torch|, as the issue asks. This holds because lucid's
// add/add_ with alpha compute p + alpha * g with one fused multiply-add, as PyTorch's vectorized
// kernels do; with two roundings, 3 of ~1000 values (parameters that cancel to near zero)
// missed it.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include <lucid/lucid.h>

#include "golden_file.h"
#include "optim_cases.h"

using namespace lucid;
using namespace lucid::testing;

namespace {

void check_close(const Tensor& got, const Tensor& want, double rtol, double atol) {
  REQUIRE(got.sizes() == want.sizes());
  const Tensor g = got.detach().to(kFloat64).contiguous(), w = want.to(kFloat64).contiguous();
  for (int64_t i = 0; i < g.numel(); ++i) {
    const double a = g.data_ptr<double>()[i], b = w.data_ptr<double>()[i];
    CAPTURE(i);
    CAPTURE(a);
    CAPTURE(b);
    CHECK(std::abs(a - b) <= atol + rtol * std::abs(b));
  }
}

void run_optimizer_case(const GoldenCase& c, const MakeOptimizer& make) {
  std::vector<Tensor> params;
  for (int i = 0; i < 3; ++i) params.push_back(record(c.inputs, "p" + std::to_string(i)).clone().requires_grad_());
  std::unique_ptr<optim::Optimizer> opt = make(params);
  for (int k = 0; k < 5; ++k) {
    for (int i = 0; i < 3; ++i)
      params[i].set_grad(record(c.inputs, "grad" + std::to_string(k) + "_" + std::to_string(i)).clone());
    opt->step();
    for (int i = 0; i < 3; ++i) {
      const std::string name = "p" + std::to_string(i) + "_" + std::to_string(k);
      CAPTURE(name);
      check_close(params[i], record(c.outputs, name), 1e-6, 0.0);
    }
  }
}

}  // namespace

TEST_CASE("every optimizer golden case matches PyTorch 1.13 over 5 steps") {
  std::set<std::string> seen;
  for (const GoldenCase& c : optim_goldens()) {
    auto it = optimizer_cases().find(c.name);
    if (it == optimizer_cases().end()) continue;  // a scheduler case (test_lr_scheduler.cpp)
    seen.insert(c.name);
    SUBCASE(c.name.c_str()) { run_optimizer_case(c, it->second); }
  }
  for (const auto& [name, make] : optimizer_cases()) {
    CAPTURE(name);
    CHECK(seen.count(name) == 1);  // every lucid case has a golden
  }
}

TEST_CASE("the amsgrad golden depends on the maximum (amsgrad off misses it)") {
  // The gradient scale drops 20x between steps 2 and 4, so max(v) != v there: running the
  // amsgrad case without amsgrad must end measurably away from the golden.
  const GoldenCase* c = nullptr;
  for (const GoldenCase& g : optim_goldens())
    if (g.name == "adam_amsgrad_wd") c = &g;
  REQUIRE(c != nullptr);
  std::vector<Tensor> params;
  for (int i = 0; i < 3; ++i) params.push_back(record(c->inputs, "p" + std::to_string(i)).clone().requires_grad_());
  auto o = optim::AdamOptions(0.02).betas({0.8, 0.9}).weight_decay(0.05);
  auto opt = two_groups<optim::Adam>(params, o, optim::AdamOptions(o).lr(0.005).betas({0.7, 0.95}));
  for (int k = 0; k < 5; ++k) {
    for (int i = 0; i < 3; ++i)
      params[i].set_grad(record(c->inputs, "grad" + std::to_string(k) + "_" + std::to_string(i)).clone());
    opt->step();
  }
  const Tensor diff = (params[0].detach() - record(c->outputs, "p0_4")).abs().max();
  CHECK(diff.item<double>() > 1e-3);
}
