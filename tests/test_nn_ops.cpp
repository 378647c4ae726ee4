// Forward values of matmul, linear, conv2d, pooling and normalization against
// PyTorch, batch_norm's running-statistics update, the error messages, and
// gradients through float32 inputs.
//
// The expected values come from /usr/bin/python3 with torch 1.13:
//
//   import torch, torch.nn.functional as F
//   def pat(shape, a=7, m=11):   # the same pattern as pattern() below
//       n = 1
//       for s in shape: n *= s
//       return torch.tensor([((i * a) % m - m // 2) / 4.0 for i in range(n)],
//                           dtype=torch.float64).reshape(shape)
//   def show(name, t): print(name, "=", "{" + ", ".join("%.10g" % v for v in t.flatten().tolist()) + "}")
//   a = pat((2, 1, 2, 3)); b = pat((3, 3, 2), 5, 7)
//   show("matmul_batched", torch.matmul(a, b))
//   x = pat((2, 3)); w = pat((4, 3), 3, 5); bias = pat((4,), 2, 3)
//   show("linear", F.linear(x, w, bias))
//   x = pat((1, 4, 5, 5)); w = pat((4, 2, 3, 3), 3, 5); bias = pat((4,), 2, 3)
//   show("conv2d", F.conv2d(x, w, bias, stride=2, padding=1, dilation=1, groups=2))
//   x2 = pat((1, 2, 5, 6)); w2 = pat((3, 2, 2, 2), 3, 5)
//   show("conv2d_dil", F.conv2d(x2, w2, None, stride=1, padding=(1, 0), dilation=2))
//   x = pat((1, 1, 5, 5), 7, 13)
//   v, i = F.max_pool2d(x, 2, 2, 0, 1, ceil_mode=True, return_indices=True)
//   show("maxpool_ceil", v); show("maxpool_ceil_idx", i)
//   show("avgpool_excl_ceil", F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False))
//   show("avgpool_incl", F.avg_pool2d(x, 3, 2, 1, ceil_mode=False, count_include_pad=True))
//   show("adaptive", F.adaptive_avg_pool2d(x, (3, 2)))
//   x = pat((3, 2, 2)); rm = torch.zeros(2, dtype=torch.float64); rv = torch.ones(2, dtype=torch.float64)
//   w = torch.tensor([1.5, -0.5], dtype=torch.float64); b = torch.tensor([0.25, 1.0], dtype=torch.float64)
//   show("bn_train", F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5))
//   show("bn_rm", rm); show("bn_rv", rv)
//   show("bn_eval", F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-5))
//   x = pat((2, 2, 3)); w = pat((2, 3), 3, 5); b = pat((2, 3), 2, 3)
//   show("ln", F.layer_norm(x, (2, 3), w, b, 1e-5))
//   show("ln_plain", F.layer_norm(x, (3,)))
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <lucid/lucid.h>

#include "check_values.h"

using namespace lucid;
using namespace lucid::nn::functional;

namespace {

// ((i * a) % m - m / 2) / 4 for element i of a float64 tensor of `shape`.
Tensor pattern(const Shape& shape, int64_t a = 7, int64_t m = 11) {
  std::vector<double> v(static_cast<size_t>(numel_of(shape)));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<double>((static_cast<int64_t>(i) * a) % m - m / 2) / 4.0;
  return tensor(v, kFloat64).reshape(shape);
}

using lucid::testing::check_values;

double max_abs_diff(const Tensor& a, const Tensor& b) {
  return (a.detach().to(kFloat64) - b.detach().to(kFloat64)).abs().max().item<double>();
}

}  // namespace

// ---- forward values against PyTorch ------------------------------------------------------

TEST_CASE("matmul broadcasts batch dims like torch.matmul") {
  Tensor out = matmul(pattern({2, 1, 2, 3}), pattern({3, 3, 2}, 5, 7));
  CHECK(out.sizes() == Shape{2, 3, 2, 2});
  check_values(out, {0.5625, -1, -1.5, 0.3125, 0.8125, 0.5625, 0.1875, -1.5, -0.6875, 0.8125, 0.125, 0.1875,
                     -1.5, 0.25, -1.5, 0.1875, 0.25, -1.5, 0.3125, -1.5, 0.25, 0.25, 0.375, 0.3125});
}

TEST_CASE("matmul result shapes follow torch for 1-D operands") {
  CHECK(matmul(pattern({4}), pattern({4})).sizes() == Shape{});
  CHECK(matmul(pattern({3}), pattern({3, 5})).sizes() == Shape{5});
  CHECK(matmul(pattern({2, 3}), pattern({3})).sizes() == Shape{2});
  CHECK(matmul(pattern({4}), pattern({2, 4, 3})).sizes() == Shape{2, 3});
  CHECK(matmul(pattern({2, 3, 4}), pattern({4})).sizes() == Shape{2, 3});
  // an empty inner dim is an empty sum; an empty outer dim an empty result
  Tensor empty_sum = matmul(ones({2, 0}), ones({0, 3}));
  CHECK(empty_sum.sizes() == Shape{2, 3});
  CHECK(empty_sum.abs().sum().item<double>() == 0.0);
  CHECK(matmul(ones({0, 4}), ones({4, 3})).sizes() == Shape{0, 3});
  CHECK(linear(ones({0, 4}), ones({3, 4})).sizes() == Shape{0, 3});
  // the dot product, by hand
  Tensor a = tensor({1.0, 2.0, 3.0}, kFloat64), b = tensor({4.0, -5.0, 6.0}, kFloat64);
  CHECK(matmul(a, b).item<double>() == 12.0);
}

TEST_CASE("matmul reads transposed and sliced views the same as packed copies") {
  manual_seed(7);
  for (ScalarType t : {kFloat32, kFloat64}) {
    Tensor a = randn({6, 5}, t).t();                 // [5, 6], strides (1, 5)
    Tensor b = randn({3, 7, 8}, t).slice(2, 1, 7, 2);  // [3, 7, 3], column stride 2
    Tensor c = randn({4, 6}, t).slice(0, 0, 4).t();  // [6, 4]
    CHECK(max_abs_diff(matmul(a, c), matmul(a.contiguous(), c.contiguous())) < 1e-5);
    Tensor bt = b.transpose(1, 2);                   // [3, 3, 7]
    Tensor x = randn({7, 2}, t);
    CHECK(max_abs_diff(matmul(bt, x), matmul(bt.contiguous(), x)) < 1e-5);
    CHECK(max_abs_diff(matmul(b.transpose(1, 2), b), matmul(bt.contiguous(), b.contiguous())) < 1e-5);
  }
}

TEST_CASE("linear is x W^T + b, as F.linear") {
  Tensor out = linear(pattern({2, 3}), pattern({4, 3}, 3, 5), pattern({4}, 2, 3));
  check_values(out, {0.625, -0.125, -0.6875, -0.625, -0.625, 1.25, -0.125, -0.5625});
  // one fused op on the tape, not matmul + transpose + add
  Tensor w = pattern({4, 3}, 3, 5).requires_grad_(true);
  Tensor y = linear(pattern({2, 3}), w, pattern({4}, 2, 3));
  CHECK(std::string(y.grad_fn_name()) == "linear");
  CHECK(autograd::tape_size() == 1);
  autograd::clear_tape();
}

TEST_CASE("conv2d matches F.conv2d with stride, padding and groups") {
  Tensor out = conv2d(pattern({1, 4, 5, 5}), pattern({4, 2, 3, 3}, 3, 5), pattern({4}, 2, 3), {2, 2},
                      {1, 1}, {1, 1}, 2);
  CHECK(out.sizes() == Shape{1, 4, 3, 3});
  check_values(out, {0.375, -1.4375, 0.4375, 0.1875, -0.9375, 0.6875, 0.125, 0.3125, -0.0625,
                     1.3125, 1.3125, -1, -1.5625, -1, 0.875, 0.5625, 1.5, -0.375,
                     -1.1875, 0.6875, 0.4375, 1.6875, 1.5, -0.9375, -0.8125, -1.9375, 0.5625,
                     -1.0625, -0.3125, -0.875, 1.4375, -0.125, 0.375, -1.4375, 0.5, -1.5});
}

TEST_CASE("conv2d matches F.conv2d with dilation and asymmetric padding, and unbatched input") {
  const std::vector<double> expected = {
      -0.25, 0.1875, -0.0625, -0.3125, 1.625, 0.75, -0.8125, -0.3125, -0.1875, -0.375, 0.125, -0.0625,
      0.75, -0.8125, -0.3125, -0.5, -0.3125, 0.4375, -0.1875, -0.125, -0.375, -0.3125, 0.4375, -0.1875,
      0.1875, -0.5, -0.5, 0.1875, -0.5, 0.875, -0.5, -0.5, -0.5, -0.5, 0.1875, 0.875,
      0.4375, -0.3125, -0.375, 0.25, -0.1875, 0.4375, -0.3125, -0.375, -0.3125, -0.8125, 0.75, 1.625,
      0.125, -0.375, -0.1875, 0, -0.8125, 0.75, 1.625, -0.25, -0.0625, 0.1875, -0.25, 0};
  Tensor out = conv2d(pattern({1, 2, 5, 6}), pattern({3, 2, 2, 2}, 3, 5), Tensor(), {1, 1}, {1, 0}, {2, 2});
  CHECK(out.sizes() == Shape{1, 3, 5, 4});
  check_values(out, expected);
  Tensor unbatched = conv2d(pattern({2, 5, 6}), pattern({3, 2, 2, 2}, 3, 5), Tensor(), {1, 1}, {1, 0}, {2, 2});
  CHECK(unbatched.sizes() == Shape{3, 5, 4});
  check_values(unbatched, expected);
}

TEST_CASE("max_pool2d with ceil_mode returns PyTorch's values and flat plane indices") {
  auto [values, indices] = max_pool2d_with_indices(pattern({1, 1, 5, 5}, 7, 13), {2, 2}, {2, 2}, {0, 0},
                                                   {1, 1}, /*ceil_mode=*/true);
  CHECK(values.sizes() == Shape{1, 1, 3, 3});
  check_values(values, {0.75, 1, 1.25, 1.5, 0.75, 0.25, 1, 1.25, 1.5});
  CHECK(indices.dtype() == kInt64);
  check_values(indices, {5, 7, 9, 11, 18, 14, 20, 22, 24});
  CHECK(max_pool2d(pattern({1, 5, 5}, 7, 13), {2, 2}, {0, 0}, {0, 0}, {1, 1}, true).sizes() == Shape{1, 3, 3});
}

TEST_CASE("avg_pool2d counts padding as PyTorch does, with and without ceil_mode") {
  Tensor x = pattern({1, 1, 5, 5}, 7, 13);
  check_values(avg_pool2d(x, {3, 3}, {2, 2}, {1, 1}, /*ceil_mode=*/true, /*count_include_pad=*/false),
               {-0.3125, -0.125, 0.0625, 0.08333333333, 0, -0.08333333333, -0.0625, 0.125, 0.3125});
  check_values(avg_pool2d(x, {3, 3}, {2, 2}, {1, 1}, false, true),
               {-0.1388888889, -0.08333333333, 0.02777777778, 0.05555555556, 0, -0.05555555556,
                -0.02777777778, 0.08333333333, 0.1388888889});
}

TEST_CASE("adaptive_avg_pool2d splits non-divisible sizes as PyTorch does") {
  Tensor out = adaptive_avg_pool2d(pattern({1, 1, 5, 5}, 7, 13), {3, 2});
  CHECK(out.sizes() == Shape{1, 1, 3, 2});
  check_values(out, {-0.25, 0, 0.05555555556, -0.05555555556, 0, 0.25});
}

TEST_CASE("batch_norm training normalizes with batch statistics and updates the running ones") {
  Tensor x = pattern({3, 2, 2});
  Tensor rm = zeros({2}, kFloat64), rv = ones({2}, kFloat64);
  Tensor w = tensor({1.5, -0.5}, kFloat64), b = tensor({0.25, 1.0}, kFloat64);
  Tensor out = batch_norm(x, rm, rv, w, b, /*training=*/true, 0.1, 1e-5);
  check_values(out, {-1.679786592, 1.697339944, 1.315294176, 0.2966514536, 1.214893296, -0.7148932961,
                     0.4421718425, 1.024253398, -1.197339944, 2.179786592, 1.169773787, 1.751855343});
  // running = 0.9 running + 0.1 batch statistic, with the unbiased variance
  check_values(rm, {-0.025, 0.004166666667});
  check_values(rv, {0.9725, 0.9885416667});
  // eval: the updated running statistics
  check_values(batch_norm(x, rm, rv, w, b, /*training=*/false, 0.1, 1e-5),
               {-1.613289385, 1.048552594, 1.253538809, 0.3734867437, 0.6682894538, -0.8527631056,
                0.4992084673, 1.002095362, -1.233026245, 1.428815734, 1.127817086, 1.63070398});
  check_values(rm, {-0.025, 0.004166666667});  // eval leaves them alone
}

TEST_CASE("batch_norm updates float32 running statistics of a float64 input, without recording") {
  Tensor x = pattern({3, 2, 2}).requires_grad_(true);
  Tensor rm = zeros({2}), rv = ones({2});
  Tensor y = batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.1, 1e-5);
  CHECK(rm.dtype() == kFloat32);
  CHECK(!rm.requires_grad());
  check_values(rm, {-0.025, 0.004166666667}, 1e-6);
  check_values(rv, {0.9725, 0.9885416667}, 1e-6);
  CHECK(autograd::tape_size() == 1);
  autograd::clear_tape();
}

TEST_CASE("layer_norm matches F.layer_norm over one and two trailing dims") {
  Tensor x = pattern({2, 2, 3});
  check_values(layer_norm(x, {2, 3}, pattern({2, 3}, 3, 5), pattern({2, 3}, 2, 3), 1e-5),
               {0.4465210679, 0.424130267, 0.1243787621, 0.5460240776, 0.25, 0.3980120388, -0.9309799272,
                0.2878322182, 0.2648255273, 0.2796510545, 0.25, 0.6809799272});
  check_values(layer_norm(x, {3}),
               {-1.162465077, 1.278711585, -0.1162465077, 1.224735686, 0, -1.224735686, 1.224735686, 0,
                -1.224735686, 1.224735686, 0, -1.224735686});
}

// ---- error messages ---------------------------------------------------------------------

TEST_CASE("matmul family names the op and the shapes in its errors") {
  Tensor a = zeros({2, 3}), b = zeros({4, 5});
  CHECK_THROWS_WITH_AS(matmul(a, b), "matmul: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)",
                       lucid::Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({3}), zeros({4})),
                       "matmul: shapes [3] and [4] cannot be multiplied (3 != 4)", lucid::Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 2, 3}), zeros({3, 3, 4})),
                       doctest::Contains("matmul: batch dims of shapes [2, 2, 3] and [3, 3, 4] cannot be broadcast"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({}), zeros({3})), doctest::Contains("matmul: both arguments need at least 1 dim"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({3, 2}, kFloat64)),
                       doctest::Contains("matmul: expected both operands to have the same dtype"), lucid::Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}, kInt64), zeros({3, 2}, kInt64)), doctest::Contains("matmul"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(mm(zeros({2, 2, 3}), zeros({3, 2})),
                       "mm: expected 2-D tensors, got shapes [2, 2, 3] and [3, 2]", lucid::Error);
  CHECK_THROWS_WITH_AS(bmm(zeros({2, 2, 3}), zeros({3, 3, 2})),
                       "bmm: shapes [2, 2, 3] and [3, 3, 2] have different batch sizes (2 != 3)", lucid::Error);
  CHECK_THROWS_WITH_AS(linear(zeros({2, 3}), zeros({4, 5})),
                       "linear: input [2, 3] and weight [4, 5] do not match (in_features 3 != 5)", lucid::Error);
  CHECK_THROWS_WITH_AS(linear(zeros({2, 3}), zeros({4, 3}), zeros({5})),
                       doctest::Contains("linear: bias [5] does not match weight [4, 3]"), lucid::Error);
}

TEST_CASE("conv2d and pooling name the op and the shapes in their errors") {
  CHECK_THROWS_WITH_AS(conv2d(zeros({1, 3, 5, 5}), zeros({4, 2, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 2),
                       doctest::Contains("conv2d: input [1, 3, 5, 5] has 3 channels, but weight [4, 2, 3, 3] "
                                         "with groups = 2 expects 4"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(conv2d(zeros({1, 4, 5, 5}), zeros({3, 2, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 2),
                       doctest::Contains("conv2d: weight [3, 2, 3, 3] has 3 output channels, not divisible by groups = 2"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(conv2d(zeros({1, 1, 3, 3}), zeros({1, 1, 5, 5})),
                       doctest::Contains("conv2d: padded input 3x3 (input [1, 1, 3, 3], padding (0, 0)) is "
                                         "smaller than the dilated kernel 5x5"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(conv2d(zeros({5, 5}), zeros({1, 1, 3, 3})),
                       doctest::Contains("conv2d: expected a 3-D (unbatched) or 4-D (batched) input, got shape [5, 5]"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(conv2d(zeros({1, 1, 5, 5}), zeros({1, 1, 3, 3}), zeros({2})),
                       doctest::Contains("conv2d: bias [2] does not match weight [1, 1, 3, 3]"), lucid::Error);
  CHECK_THROWS_WITH_AS(conv2d(zeros({1, 1, 5, 5}), zeros({1, 1, 3, 3}), Tensor(), {0, 1}),
                       doctest::Contains("conv2d: stride (0, 1) must be positive"), lucid::Error);
  CHECK_THROWS_WITH_AS(max_pool2d(zeros({1, 1, 4, 4}), {2, 2}, {1, 1}, {2, 2}),
                       doctest::Contains("max_pool2d: padding (2, 2) must be at most half the kernel size (2, 2)"),
                       lucid::Error);
  // dilation 2 with padding 1: the only window's taps are -1 and +1, both outside a 1x1 input
  CHECK_THROWS_WITH_AS(max_pool2d(zeros({1, 1, 1, 1}), {2, 2}, {1, 1}, {1, 1}, {2, 2}),
                       doctest::Contains("max_pool2d: with input [1, 1, 1, 1], kernel (2, 2), padding (1, 1) and "
                                         "dilation (2, 2), output row 0's window lies entirely in the padding"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(max_pool2d(zeros({1, 1, 2, 2}), {3, 3}),
                       doctest::Contains("max_pool2d: input [1, 1, 2, 2] is too small for kernel (3, 3)"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(avg_pool2d(zeros({1, 2, 2}), {3, 3}),
                       doctest::Contains("avg_pool2d: input [1, 2, 2] is too small for kernel (3, 3)"), lucid::Error);
  CHECK_THROWS_WITH_AS(adaptive_avg_pool2d(zeros({1, 1, 4, 4}), {0, 2}),
                       doctest::Contains("adaptive_avg_pool2d: output_size (0, 2) must be positive"), lucid::Error);
  CHECK_THROWS_WITH_AS(max_pool2d(zeros({1, 4, 4}, kInt64), {2, 2}), doctest::Contains("max_pool2d"), lucid::Error);
}

TEST_CASE("batch_norm and layer_norm name the op and the shapes in their errors") {
  CHECK_THROWS_WITH_AS(batch_norm(zeros({4, 3}), zeros({4}), ones({3})),
                       "batch_norm: running_mean has shape [4], expected [3] for input [4, 3]", lucid::Error);
  CHECK_THROWS_WITH_AS(batch_norm(zeros({4, 3}), Tensor(), Tensor()),
                       doctest::Contains("batch_norm: running_mean and running_var are needed in eval mode"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       "batch_norm: expected more than 1 value per channel when training, got input [1, 3]",
                       lucid::Error);
  CHECK_THROWS_WITH_AS(batch_norm(zeros({4, 3}), zeros({3}), ones({3}), zeros({3}, kFloat64)),
                       doctest::Contains("batch_norm: weight has dtype float64 but input has dtype float32"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(batch_norm(zeros({4}), zeros({4}), ones({4})),
                       doctest::Contains("batch_norm: expected input [N, C] or [N, C, *], got shape [4]"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 3, 4}), {3}),
                       "layer_norm: input [2, 3, 4] does not end with normalized_shape [3]", lucid::Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 3, 4}), {4}, ones({3})),
                       "layer_norm: weight has shape [3], expected [4] for input [2, 3, 4]", lucid::Error);
}

// ---- float32 gradients --------------------------------------------------------------------

namespace {

// Gradients of sum(f(inputs) * upstream) for float32 copies of float64 inputs
// agree with the float64 ones to float32 precision.
void check_float32_grads(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                         const std::vector<Tensor>& inputs64) {
  auto grads = [&](ScalarType t) {
    std::vector<Tensor> xs;
    for (const Tensor& x : inputs64) xs.push_back(x.to(t).requires_grad_(true));
    Tensor y = f(xs);
    CHECK(y.dtype() == t);
    Tensor up = pattern(y.sizes(), 5, 9).to(t);
    (y * up).sum().backward();
    std::vector<Tensor> gs;
    for (const Tensor& x : xs) {
      REQUIRE(x.grad().defined());
      CHECK(x.grad().dtype() == t);
      gs.push_back(x.grad());
    }
    return gs;
  };
  std::vector<Tensor> g32 = grads(kFloat32), g64 = grads(kFloat64);
  for (size_t i = 0; i < g32.size(); ++i) {
    CAPTURE(i);
    CHECK(max_abs_diff(g32[i], g64[i]) < 1e-4);
  }
}

}  // namespace

TEST_CASE("gradients flow through float32 inputs of every op") {
  using V = std::vector<Tensor>;
  check_float32_grads([](const V& x) { return matmul(x[0], x[1]); }, {pattern({2, 3, 4}), pattern({4, 2}, 3, 5)});
  check_float32_grads([](const V& x) { return linear(x[0], x[1], x[2]); },
                      {pattern({3, 4}), pattern({2, 4}, 3, 5), pattern({2}, 2, 3)});
  check_float32_grads([](const V& x) { return conv2d(x[0], x[1], x[2], {2, 1}, {1, 1}); },
                      {pattern({2, 2, 5, 4}), pattern({3, 2, 3, 3}, 3, 5), pattern({3}, 2, 3)});
  check_float32_grads([](const V& x) { return max_pool2d(x[0] * 1.1, {2, 2}); },
                      {pattern({1, 2, 4, 4}, 7, 13)});
  check_float32_grads([](const V& x) { return avg_pool2d(x[0], {3, 3}, {2, 2}, {1, 1}); }, {pattern({1, 2, 5, 5})});
  check_float32_grads([](const V& x) { return adaptive_avg_pool2d(x[0], {2, 3}); }, {pattern({1, 2, 5, 5})});
  check_float32_grads(
      [](const V& x) { return batch_norm(x[0], Tensor(), Tensor(), x[1], x[2], true); },
      {pattern({4, 3, 2}), pattern({3}, 3, 5) + 1.0, pattern({3}, 2, 3)});
  check_float32_grads([](const V& x) { return layer_norm(x[0], {4}, x[1], x[2]); },
                      {pattern({3, 4}), pattern({4}, 3, 5) + 1.0, pattern({4}, 2, 3)});
}
