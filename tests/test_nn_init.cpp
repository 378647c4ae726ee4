// nn::init: fans and gains exactly; the bounds and spread of every
// initializer on big tensors (within sampling tolerance); trunc_normal_ stays
// in [a, b] with the truncated normal's mean and std; a given Generator is
// used instead of the default one; parameters and strided views work.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <lucid/lucid.h>

#include "check_values.h"

using namespace lucid;
using lucid::testing::values;
namespace init = lucid::nn::init;

namespace {

struct Stats {
  double mean = 0, std = 0, min = 0, max = 0;
};

Stats stats(const Tensor& t) {
  const std::vector<double> v = values(t);
  Stats s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / static_cast<double>(v.size() - 1));
  return s;
}

// 262144 samples: the sample std is within ~0.2% of the true one (one sigma),
// so 1.5% is a wide margin; the mean within ~0.002 std.
constexpr double kStdTol = 0.015;

}  // namespace

TEST_CASE("fan_in and fan_out follow PyTorch's rule") {
  CHECK(init::calculate_fan_in_and_fan_out(empty({10, 784})) == std::pair<int64_t, int64_t>{784, 10});
  // Conv2d weight [out, in/groups, kh, kw]
  CHECK(init::calculate_fan_in_and_fan_out(empty({16, 8, 3, 5})) ==
        std::pair<int64_t, int64_t>{8 * 15, 16 * 15});
  CHECK_THROWS_WITH_AS(init::calculate_fan_in_and_fan_out(empty({5})),
                       doctest::Contains("fewer than 2 dimensions (shape [5])"), Error);
}

TEST_CASE("calculate_gain matches torch.nn.init.calculate_gain") {
  CHECK(init::calculate_gain(init::kLinear) == 1.0);
  CHECK(init::calculate_gain(init::kConv2D) == 1.0);
  CHECK(init::calculate_gain(init::kSigmoid) == 1.0);
  CHECK(init::calculate_gain(init::kTanh) == doctest::Approx(5.0 / 3.0));
  CHECK(init::calculate_gain(init::kReLU) == doctest::Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain(init::kLeakyReLU) == doctest::Approx(std::sqrt(2.0 / 1.0001)));
  CHECK(init::calculate_gain(init::kLeakyReLU, 0.2) == doctest::Approx(std::sqrt(2.0 / 1.04)));
  CHECK(init::calculate_gain(init::kSELU) == 0.75);
}

TEST_CASE("kaiming_uniform_: U(-b, b) with b = gain sqrt(3 / fan)") {
  manual_seed(10);
  Tensor w = empty({256, 1024});
  init::kaiming_uniform_(w);  // a = 0, fan_in, leaky_relu: gain sqrt(2)
  const double b = std::sqrt(2.0) * std::sqrt(3.0 / 1024);
  Stats s = stats(w);
  CHECK(s.min >= -b);
  CHECK(s.max <= b);
  CHECK(s.max > 0.999 * b);
  CHECK(s.std == doctest::Approx(b / std::sqrt(3.0)).epsilon(kStdTol));
  CHECK(std::abs(s.mean) < 0.01 * b);
  // Linear's a = sqrt(5): b = 1 / sqrt(fan_in); fan_out mode uses size(0).
  init::kaiming_uniform_(w, std::sqrt(5.0), init::kFanOut);
  s = stats(w);
  CHECK(s.max <= 1.0 / 16.0);
  CHECK(s.max > 0.999 / 16.0);
}

TEST_CASE("kaiming_normal_: N(0, (gain / sqrt(fan))^2)") {
  manual_seed(11);
  Tensor w = empty({256, 64, 4, 4});  // fan_in 1024, fan_out 4096
  init::kaiming_normal_(w, 0.0, init::kFanOut, init::kReLU);
  Stats s = stats(w);
  CHECK(s.std == doctest::Approx(std::sqrt(2.0) / std::sqrt(4096.0)).epsilon(kStdTol));
  CHECK(std::abs(s.mean) < 0.01 * s.std);
  init::kaiming_normal_(w, 0.0, init::kFanIn, init::kTanh);
  CHECK(stats(w).std == doctest::Approx(5.0 / 3.0 / 32.0).epsilon(kStdTol));
}

TEST_CASE("xavier_uniform_ and xavier_normal_ use fan_in + fan_out and the gain") {
  manual_seed(12);
  Tensor w = empty({512, 512});
  init::xavier_uniform_(w, 2.0);
  const double b = 2.0 * std::sqrt(6.0 / 1024.0);
  Stats s = stats(w);
  CHECK(s.min >= -b);
  CHECK(s.max <= b);
  CHECK(s.max > 0.999 * b);
  init::xavier_normal_(w, 0.5);
  CHECK(stats(w).std == doctest::Approx(0.5 * std::sqrt(2.0 / 1024.0)).epsilon(kStdTol));
}

TEST_CASE("uniform_, normal_, constant_, zeros_, ones_") {
  manual_seed(13);
  Tensor t = empty({512, 512}, kFloat64);
  init::uniform_(t, -3.0, 5.0);
  Stats s = stats(t);
  CHECK(s.min >= -3.0);
  CHECK(s.max < 5.0);
  CHECK(s.mean == doctest::Approx(1.0).epsilon(0.01));
  init::normal_(t, 2.0, 0.5);
  s = stats(t);
  CHECK(s.mean == doctest::Approx(2.0).epsilon(0.005));
  CHECK(s.std == doctest::Approx(0.5).epsilon(kStdTol));
  init::constant_(t, 0.25);
  CHECK(stats(t).min == 0.25);
  CHECK(stats(t).max == 0.25);
  init::ones_(t);
  CHECK(stats(t).min == 1.0);
  init::zeros_(t);
  CHECK(stats(t).max == 0.0);
  CHECK_THROWS_WITH_AS(init::uniform_(t, 2.0, 1.0), doctest::Contains("low <= high"), Error);
  CHECK_THROWS_WITH_AS(init::normal_(empty({2}, kInt64)),
                       doctest::Contains("floating-point tensor, got int64"), Error);
}

TEST_CASE("trunc_normal_ stays in [a, b] with the truncated normal's mean and std") {
  manual_seed(14);
  const double mean = 0.5, sd = 2.0, a = -1.0, b = 4.0;
  Tensor t = empty({512, 512});
  init::trunc_normal_(t, mean, sd, a, b);
  Stats s = stats(t);
  CHECK(s.min >= a);
  CHECK(s.max <= b);
  // Moments of N(mean, sd^2) truncated to [a, b], alpha/beta standardized:
  //   m = mean + sd (phi(alpha) - phi(beta)) / Z
  //   v = sd^2 (1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)^2)
  auto phi = [](double x) { return std::exp(-x * x / 2) / std::sqrt(2 * M_PI); };
  auto Phi = [](double x) { return 0.5 * (1 + std::erf(x / std::sqrt(2.0))); };
  const double al = (a - mean) / sd, be = (b - mean) / sd, Z = Phi(be) - Phi(al);
  const double d = (phi(al) - phi(be)) / Z;
  const double m = mean + sd * d;
  const double v = sd * sd * (1 + (al * phi(al) - be * phi(be)) / Z - d * d);
  CHECK(s.mean == doctest::Approx(m).epsilon(0.01));
  CHECK(s.std == doctest::Approx(std::sqrt(v)).epsilon(kStdTol));
  // The default: N(0, 1) truncated to [-2, 2].
  init::trunc_normal_(t);
  CHECK(stats(t).min >= -2.0);
  CHECK(stats(t).max <= 2.0);
  CHECK(stats(t).min < -1.99);
  CHECK_THROWS_WITH_AS(init::trunc_normal_(t, 0, 1, 2, 1), doctest::Contains("a < b"), Error);
}

TEST_CASE("a given Generator is used, and the default one is left alone") {
  Generator g1(42), g2(42);
  Tensor x = empty({7, 9}), y = empty({7, 9});
  const uint64_t offset = default_generator().offset();
  init::kaiming_normal_(x, 0.0, init::kFanIn, init::kReLU, &g1);
  init::kaiming_normal_(y, 0.0, init::kFanIn, init::kReLU, &g2);
  CHECK(values(x) == values(y));
  CHECK(default_generator().offset() == offset);
  init::trunc_normal_(x, 0, 1, -2, 2, &g1);
  init::trunc_normal_(y, 0, 1, -2, 2, &g2);
  CHECK(values(x) == values(y));
  // The same seed on the default generator gives the same draw as a fresh Generator.
  manual_seed(42);
  Generator g3(42);
  init::xavier_uniform_(x);
  init::xavier_uniform_(y, 1.0, &g3);
  CHECK(values(x) == values(y));
}

TEST_CASE("initializers work on parameters that require grad and on strided views") {
  Tensor p = zeros({4, 6}).requires_grad_(true);
  init::xavier_uniform_(p);  // grad mode on: runs under no-grad inside
  CHECK(p.requires_grad());
  CHECK(p.is_leaf());
  CHECK(stats(p).max > 0.0);
  Tensor base = zeros({6, 4});
  Tensor view = base.t();  // [4, 6], not contiguous
  init::ones_(view);
  init::uniform_(view.narrow(0, 0, 2), 5.0, 6.0);
  const std::vector<double> v = values(base);  // base[:, 0:2] in [5, 6), the rest 1
  for (int64_t r = 0; r < 6; ++r)
    for (int64_t c = 0; c < 4; ++c) {
      const double x = v[static_cast<size_t>(r * 4 + c)];
      if (c < 2) CHECK((x >= 5.0 && x < 6.0));
      else CHECK(x == 1.0);
    }
  Tensor empty_weight = empty({0, 3});
  init::kaiming_uniform_(empty_weight);  // no elements: nothing to do, no error
  CHECK(empty_weight.numel() == 0);
}
