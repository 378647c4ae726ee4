// nn::utils: clip_grad_norm_ (2-norm, inf-norm, p-norms) against PyTorch,
// clip_grad_value_, and check_grad_flow finding a parameter without a
// gradient, one with a NaN gradient and one with an all-zero gradient.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include <lucid/lucid.h>

#include "check_values.h"

using namespace lucid;
using lucid::testing::check_values;
using lucid::testing::values;

namespace {

// Two parameters with fixed gradients, as in the python below.
std::vector<Tensor> params_with_grads() {
  Tensor a = zeros({2, 2}).requires_grad_(true), b = zeros({3}).requires_grad_(true);
  a.set_grad(tensor({{1.0, -2.0}, {3.0, 0.5}}));
  b.set_grad(tensor({-4.0, 2.5, 0.25}));
  return {a, b};
}

std::vector<double> all_grads(const std::vector<Tensor>& ps) {
  std::vector<double> out;
  for (const Tensor& p : ps)
    for (double v : values(p.grad())) out.push_back(v);
  return out;
}

}  // namespace

// Expected values from /usr/bin/python3, torch 1.13 (torch sums in float32, lucid in
// float64: the norms agree to ~1e-7 relative):
//   def run(nt, maxn):
//       a = torch.zeros(2, 2, requires_grad=True); b = torch.zeros(3, requires_grad=True)
//       a.grad = torch.tensor([[1.0, -2.0], [3.0, 0.5]]); b.grad = torch.tensor([-4.0, 2.5, 0.25])
//       n = torch.nn.utils.clip_grad_norm_([a, b], maxn, norm_type=nt)
//       print(nt, maxn, '%.10g' % n, ['%.10g' % v for v in a.grad.flatten().tolist() + b.grad.tolist()])
//   run(2.0, 1.0); run(float('inf'), 2.0); run(1.0, 100.0); run(3.0, 0.5)
TEST_CASE("clip_grad_norm_ returns the total norm and scales as PyTorch") {
  auto ps = params_with_grads();
  CHECK(nn::utils::clip_grad_norm_(ps, 1.0) == doctest::Approx(6.046693325).epsilon(1e-7));
  check_values(ps[0].grad(), {0.1653796136, -0.3307592273, 0.4961388409, 0.08268980682}, 1e-6);
  check_values(ps[1].grad(), {-0.6615184546, 0.413449049, 0.04134490341}, 1e-6);

  ps = params_with_grads();
  CHECK(nn::utils::clip_grad_norm_(ps, 2.0, nn::utils::kInfNorm) == 4.0);
  check_values(ps[0].grad(), {0.4999998808, -0.9999997616, 1.499999642, 0.2499999404}, 1e-6);
  check_values(ps[1].grad(), {-1.999999523, 1.249999762, 0.1249999702}, 1e-6);

  ps = params_with_grads();  // a total below max_norm: unchanged
  CHECK(nn::utils::clip_grad_norm_(ps, 100.0, 1.0) == doctest::Approx(13.25).epsilon(1e-12));
  CHECK(all_grads(ps) == std::vector<double>{1, -2, 3, 0.5, -4, 2.5, 0.25});

  ps = params_with_grads();
  CHECK(nn::utils::clip_grad_norm_(ps, 0.5, 3.0) == doctest::Approx(4.87371254).epsilon(1e-7));
  check_values(ps[0].grad(), {0.1025911793, -0.2051823586, 0.3077735305, 0.05129558966}, 1e-6);
  check_values(ps[1].grad(), {-0.4103647172, 0.256477952, 0.02564779483}, 1e-6);
}

TEST_CASE("clip_grad_norm_ skips parameters without a gradient; hand-computed 2-norm") {
  Tensor a = zeros({2}).requires_grad_(true), none = zeros({3}).requires_grad_(true);
  a.set_grad(tensor({3.0, 4.0}));  // norm 5
  CHECK(nn::utils::clip_grad_norm_({a, none}, 10.0) == doctest::Approx(5.0));
  CHECK_FALSE(none.grad().defined());
  CHECK(nn::utils::clip_grad_norm_(a, 1.0) == doctest::Approx(5.0));
  check_values(a.grad(), {3.0 / (5.0 + 1e-6), 4.0 / (5.0 + 1e-6)}, 1e-7);
  CHECK(nn::utils::clip_grad_norm_({none}, 1.0) == 0.0);
  CHECK_THROWS_WITH_AS(nn::utils::clip_grad_norm_(a, 1.0, -1.0),
                       doctest::Contains("norm_type must be > 0"), Error);
}

TEST_CASE("clip_grad_value_ clamps every gradient element") {
  auto ps = params_with_grads();
  nn::utils::clip_grad_value_(ps, 1.5);
  CHECK(all_grads(ps) == std::vector<double>{1, -1.5, 1.5, 0.5, -1.5, 1.5, 0.25});
  CHECK_THROWS_WITH_AS(nn::utils::clip_grad_value_(ps, -1.0), doctest::Contains("clip_value"),
                       Error);
}

TEST_CASE("check_grad_flow names the parameters with no, non-finite or all-zero gradients") {
  manual_seed(20);
  nn::Sequential model(nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2));
  nn::Linear unused(2, 2);
  model->push_back("unused", nn::Identity());
  model->register_module("head", unused);  // registered, never called in forward
  Tensor frozen = model->register_parameter("frozen", ones({2}), /*requires_grad=*/false);
  Tensor x = randn({5, 3});
  model(x).sum().backward();

  nn::utils::GradFlowReport r = nn::utils::check_grad_flow(*model);
  CHECK_FALSE(r.ok());
  CHECK(r.missing == std::vector<std::string>{"head.weight", "head.bias"});
  CHECK(r.non_finite.empty());
  CHECK(r.healthy == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});

  // A NaN gradient, and an all-zero one.
  model->ptr<nn::LinearImpl>(0)->bias.grad().data_ptr<float>()[1] = std::nanf("");
  model->ptr<nn::LinearImpl>(2)->weight.grad().zero_();
  unused->weight.set_grad(zeros({2, 2}));
  unused->bias.set_grad(full({2}, std::numeric_limits<double>::infinity()));
  r = nn::utils::check_grad_flow(*model);
  CHECK(r.missing.empty());
  CHECK(r.non_finite == std::vector<std::string>{"0.bias", "head.bias"});
  CHECK(r.all_zero == std::vector<std::string>{"2.weight", "head.weight"});
  std::ostringstream os;
  os << r;
  CHECK(os.str() ==
        "gradient flow problems: 2 parameters with a usable gradient\n"
        "non-finite gradient (2): 0.bias head.bias\n"
        "all-zero gradient (2): 2.weight head.weight\n");

  model->zero_grad();
  model(x).sum().backward();
  unused->zero_grad();
  unused(randn({1, 2})).sum().backward();
  CHECK(nn::utils::check_grad_flow(*model).ok());
}
