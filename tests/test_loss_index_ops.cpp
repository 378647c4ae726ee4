// Forward values of the losses, index ops and attention against PyTorch 1.13,
// the dropout mask's statistics and reproducibility, and the error messages.
//
// Expected numbers come from /usr/bin/python3 (torch 1.13, float64):
//   import torch, torch.nn.functional as F
//   x = torch.tensor([[1., 2., .5, -1.], [.3, -.2, 2., 1.], [0., 0., 0., 0.]], dtype=torch.float64)
//   t = torch.tensor([1, 3, 0]); w = torch.tensor([1., 2., .5, 1.5], dtype=torch.float64)
//   F.cross_entropy(x, t)                                                   # 1.1297054964
//   F.cross_entropy(x, t, weight=w)                                         # 1.0306930005
//   F.cross_entropy(x, t, weight=w, ignore_index=3)                         # 0.7922193858
//   F.cross_entropy(x, t, weight=w, ignore_index=3, label_smoothing=0.1)    # 0.8434756247 (+ .grad)
//   F.cross_entropy(x, t, ignore_index=3, label_smoothing=0.2, reduction='none')
//   F.cross_entropy(x, t, weight=w, label_smoothing=0.3, reduction='sum')   # 5.181351635
//   x3 = (torch.arange(12.).reshape(2, 3, 2) * 0.37).sin(); t3 = torch.tensor([[0, 2], [1, 1]])
//   F.cross_entropy(x3, t3, reduction='none')
//   F.nll_loss(F.log_softmax(x, 1), t, weight=w)                            # 1.0306930005
//   a = [[.5, -1.], [2., 3.]]; b = [[1., 1.], [0., 3.5]]; F.mse_loss(a, b)  # 2.125 (sum 8.5)
//   z = [[.5, -2., 100.], [-100., 3., 0.]]; y = [[1., 0., 0.], [1., .5, 1.]]
//   F.binary_cross_entropy_with_logits(z, y, reduction='none')
//   F.binary_cross_entropy_with_logits(z, y, weight=[1., 2., .5], pos_weight=[3., 1., .25])
//   q = (torch.arange(12.).reshape(1, 3, 4) * 0.3).cos(); k = (torch.arange(8.).reshape(1, 2, 4) * 0.7).sin()
//   v = torch.arange(6.).reshape(1, 2, 3) * 0.5
//   sdpa(q, k, v, mask) = (q @ k^T / 2 (masked_fill(~mask, -inf) or + mask)).softmax(-1) @ v
#include "op_case.h"
#include "check_values.h"

#include <cmath>

using namespace lucid;
using namespace lucid::nn::functional;

namespace {

Tensor doubles(std::vector<double> v) { return tensor(v, kFloat64); }
Tensor longs(std::vector<int64_t> v) { return tensor(v); }

using lucid::testing::check_values;

Tensor ce_x() { return doubles({1, 2, .5, -1, .3, -.2, 2, 1, 0, 0, 0, 0}).reshape({3, 4}); }
Tensor ce_t() { return longs({1, 3, 0}); }
Tensor ce_w() { return doubles({1, 2, .5, 1.5}); }

}  // namespace

TEST_CASE("cross_entropy matches PyTorch: mean, weight, ignore_index, label smoothing, none, sum") {
  check_values(cross_entropy(ce_x(), ce_t()), {1.1297054964});
  check_values(cross_entropy(ce_x(), ce_t(), ce_w()), {1.0306930005});
  check_values(cross_entropy(ce_x(), ce_t(), ce_w(), 3), {0.7922193858});
  check_values(cross_entropy(ce_x(), ce_t(), ce_w(), 3, Reduction::Mean, 0.1), {0.8434756247});
  check_values(cross_entropy(ce_x(), ce_t(), Tensor(), 3, Reduction::None, 0.2),
               {0.7701818981, 0.0, 1.3862943611});
  check_values(cross_entropy(ce_x(), ce_t(), ce_w(), -100, Reduction::Sum, 0.3), {5.181351635});
  // float32 runs the same kernel
  check_values(cross_entropy(ce_x().to(kFloat32), ce_t()), {1.1297054964}, 1e-6);
}

TEST_CASE("cross_entropy gradient is softmax minus the smoothed, weighted target, as PyTorch") {
  Tensor x = ce_x().requires_grad_();
  cross_entropy(x, ce_t(), ce_w(), 3, Reduction::Mean, 0.1).backward();
  check_values(x.grad(), {0.1355333499, -0.2255964759, 0.0830928876, 0.0069702383, 0, 0, 0, 0,
                          -0.2229166667, 0.06875, 0.08125, 0.0729166667});
}

TEST_CASE("cross_entropy on [N, C, d] input gives per-position losses") {
  Tensor x3 = doubles({0.0, 0.361615431964962, 0.674287911628145, 0.8956986856800476,
                       0.99588084453764, 0.9612752029752999, 0.7965654722360868,
                       0.5240443416872761, 0.18059626789423291, -0.18729466354290317,
                       -0.5298361409084934, -0.8006667821758177})
                  .reshape({2, 3, 2});
  Tensor out = cross_entropy(x3, longs({0, 2, 1, 1}).reshape({2, 2}), Tensor(), -100, Reduction::None);
  CHECK(out.sizes() == Shape{2, 2});
  check_values(out, {1.7351437448, 0.9104842158, 1.2068332541, 1.2748705897});
}

TEST_CASE("cross_entropy with every target ignored gives nan for mean (PyTorch's 0/0)") {
  CHECK(std::isnan(cross_entropy(ce_x(), longs({3, 3, 3}), Tensor(), 3).item<double>()));
}

TEST_CASE("nll_loss, mse_loss and bce_with_logits match PyTorch") {
  check_values(nll_loss(log_softmax(ce_x(), 1), ce_t(), ce_w()), {1.0306930005});
  Tensor a = doubles({.5, -1, 2, 3}).reshape({2, 2}), b = doubles({1, 1, 0, 3.5}).reshape({2, 2});
  check_values(mse_loss(a, b), {2.125});
  check_values(mse_loss(a, b, Reduction::Sum), {8.5});
  Tensor z = doubles({.5, -2, 100, -100, 3, 0}).reshape({2, 3});
  Tensor y = doubles({1, 0, 0, 1, .5, 1}).reshape({2, 3});
  // logits of +-100 stay finite: the stable form never computes exp(100)
  check_values(binary_cross_entropy_with_logits(z, y, Tensor(), Reduction::None),
               {0.4740769842, 0.126928011, 100.0, 100.0, 1.5485873516, 0.6931471806});
  check_values(binary_cross_entropy_with_logits(z, y, doubles({1, 2, .5}), Reduction::Mean,
                                                doubles({3, 1, .25})),
               {59.1433175126});
}

TEST_CASE("scaled_dot_product_attention matches PyTorch: plain, causal, bool mask, float mask") {
  Tensor q = doubles({1.0, 0.955336489125606, 0.8253356149096783, 0.6216099682706645,
                      0.3623577544766736, 0.0707372016677029, -0.2272020946930869,
                      -0.5048461045998576, -0.7373937155412454, -0.904072142017061,
                      -0.9899924966004454, -0.9874797699088649})
                 .reshape({1, 3, 4});
  Tensor k = doubles({0.0, 0.644217687237691, 0.9854497299884601, 0.8632093666488739,
                      0.3349881501559051, -0.35078322768961984, -0.8715757724135877,
                      -0.9824526126243326})
                 .reshape({1, 2, 4});
  Tensor v = arange(6.0, kFloat64).reshape({1, 2, 3}) * 0.5;
  check_values(scaled_dot_product_attention(q, k, v),
               {0.2421175072, 0.7421175072, 1.2421175072, 1.0030624414, 1.5030624414,
                2.0030624414, 1.3444488502, 1.8444488502, 2.3444488502});
  check_values(scaled_dot_product_attention(q, k, v, Tensor(), 0.0, true),
               {0.0, 0.5, 1.0, 1.0030624414, 1.5030624414, 2.0030624414, 1.3444488502,
                1.8444488502, 2.3444488502});
  Tensor bool_mask = tensor({{1, 0}, {1, 1}, {0, 1}}).to(kBool);
  check_values(scaled_dot_product_attention(q, k, v, bool_mask),
               {0.0, 0.5, 1.0, 1.0030624414, 1.5030624414, 2.0030624414, 1.5, 2.0, 2.5});
  check_values(scaled_dot_product_attention(q, k, v, doubles({.5, -1}).reshape({1, 2})),
               {0.0617693373, 0.5617693373, 1.0617693373, 0.4657922158, 0.9657922158,
                1.4657922158, 0.9877999128, 1.4877999128, 1.9877999128});
}

TEST_CASE("cat, stack, split and chunk: values, shapes and PyTorch's chunk sizes") {
  Tensor a = arange(6.0).reshape({2, 3});
  Tensor b = arange(6.0, 10.0).reshape({2, 2}).t();  // non-contiguous [2, 2]
  Tensor c = cat({a, b}, 1);
  CHECK(c.sizes() == Shape{2, 5});
  check_values(c, {0, 1, 2, 6, 8, 3, 4, 5, 7, 9});
  check_values(cat({a, a}, 0), {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5});
  CHECK(cat({empty({0}), a}, 0).sizes() == Shape{2, 3});  // legacy empty [0] is skipped
  Tensor s = stack({a, a * 2.0}, 2);
  CHECK(s.sizes() == Shape{2, 3, 2});
  check_values(s.select(2, 1), {0, 2, 4, 6, 8, 10});

  auto sizes_of = [](const std::vector<Tensor>& parts) {
    Shape out;
    for (const Tensor& p : parts) out.push_back(p.size(0));
    return out;
  };
  CHECK(sizes_of(chunk(arange(5.0), 3)) == Shape{2, 2, 1});
  CHECK(sizes_of(chunk(arange(6.0), 4)) == Shape{2, 2, 2});  // fewer than asked, as PyTorch
  CHECK(sizes_of(chunk(empty({0}), 3)) == Shape{0, 0, 0});
  CHECK(sizes_of(split(arange(7.0), 3)) == Shape{3, 3, 1});
  auto parts = split(arange(6.0), std::vector<int64_t>{1, 0, 5});
  CHECK(sizes_of(parts) == Shape{1, 0, 5});
  CHECK(parts[2].storage() == parts[0].storage());  // views, not copies
  check_values(parts[2], {1, 2, 3, 4, 5});
}

TEST_CASE("index_select, gather and embedding pick the right elements") {
  Tensor x = arange(12.0).reshape({3, 4});
  check_values(index_select(x, 0, longs({2, 0, 2})), {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  check_values(index_select(x.t(), 1, longs({1})), {4, 5, 6, 7});
  CHECK(index_select(x, 0, longs({})).sizes() == Shape{0, 4});
  CHECK(index_select(ones({3, 0}), 0, longs({1, 2})).sizes() == Shape{2, 0});
  // torch.gather(x, 1, [[3, 0], [1, 1], [0, 2]])
  check_values(gather(x, 1, longs({3, 0, 1, 1, 0, 2}).reshape({3, 2})), {3, 0, 5, 5, 8, 10});
  Tensor e = embedding(longs({2, 0, 2}).reshape({1, 3}), x);
  CHECK(e.sizes() == Shape{1, 3, 4});
  check_values(e, {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
}

TEST_CASE("embedding backward adds repeated rows and leaves padding_idx at zero") {
  Tensor w = ones({4, 2}, kFloat64).requires_grad_();
  Tensor ids = longs({1, 3, 1, 1, 0, 3}).reshape({2, 3});
  embedding(ids, w, 3).sum().backward();
  check_values(w.grad(), {1, 1, 3, 3, 0, 0, 0, 0});
}

TEST_CASE("dropout: kept fraction near 1 - p, scaled by 1/(1-p), same seed gives the same mask") {
  const double p = 0.3;
  Tensor x = ones({200, 100});
  manual_seed(123);
  Tensor y1 = dropout(x, p);
  manual_seed(123);
  Tensor y2 = dropout(x, p);
  CHECK(eq(y1, y2).to(kFloat64).sum().item<double>() == 20000.0);
  const double kept = gt(y1, zeros({})).to(kFloat64).mean().item<double>();
  CHECK(kept == doctest::Approx(1.0 - p).epsilon(0.02));  // 20000 draws: sd ~0.003
  CHECK(y1.max().item<double>() == doctest::Approx(1.0 / (1.0 - p)));
  Tensor y3 = dropout(x, p);  // the generator moved on: a different mask
  CHECK(eq(y1, y3).to(kFloat64).sum().item<double>() < 20000.0);
}

TEST_CASE("dropout: the mask is word i of the Philox stream kept iff u >= p") {
  manual_seed(5);
  const GeneratorState at = default_generator().get_state();
  Tensor y = dropout(ones({3, 7}, kFloat64), 0.5);
  std::vector<float> u(21);
  cpu::philox_uniform(u.data(), 21, at, 0.f, 1.f);
  const double* py = y.data_ptr<double>();
  for (int i = 0; i < 21; ++i) CHECK(py[i] == (u[i] >= 0.5f ? 2.0 : 0.0));
  CHECK(default_generator().offset() == at.offset + 6);  // ceil(21 / 4) blocks
}

TEST_CASE("dropout: eval mode and p = 0 return the input; p = 1 gives zeros") {
  Tensor x = randn({4, 5});
  CHECK(dropout(x, 0.5, false).is_same(x));
  CHECK(dropout(x, 0.0).is_same(x));
  CHECK(dropout(x, 1.0).abs().sum().item<double>() == 0.0);
}

TEST_CASE("errors name the op and the bad value or shapes") {
  CHECK_THROWS_WITH_AS(cross_entropy(ce_x(), longs({1, 4, 0})),
                       doctest::Contains("cross_entropy: target 4 is out of bounds for 4 classes"),
                       Error);
  CHECK_THROWS_WITH_AS(cross_entropy(ce_x(), longs({1, -1, 0})), doctest::Contains("target -1"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(ce_x(), ce_t().to(kFloat64)),
                       doctest::Contains("cross_entropy: target must be int64"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(ce_x(), longs({1, 2})),
                       doctest::Contains("expects target of shape [3], got [2]"), Error);
  CHECK_THROWS_WITH_AS(nll_loss(ce_x(), ce_t(), doubles({1, 2})),
                       doctest::Contains("nll_loss: weight must be [C] = [4], got [2]"), Error);
  CHECK_THROWS_WITH_AS(index_select(ones({3, 4}), 1, longs({0, 7})),
                       doctest::Contains("index_select: index 7 is out of range"), Error);
  CHECK_THROWS_WITH_AS(gather(ones({3, 4}), 0, longs({0, 3}).reshape({1, 2})),
                       doctest::Contains("gather: index 3 is out of range"), Error);
  CHECK_THROWS_WITH_AS(embedding(longs({5}), ones({5, 2})),
                       doctest::Contains("embedding: index 5 is out of range for num_embeddings"), Error);
  CHECK_THROWS_WITH_AS(cat({ones({2, 3}), ones({2, 4})}, 0),
                       doctest::Contains("cat: shapes [2, 3] and [2, 4]"), Error);
  CHECK_THROWS_WITH_AS(cat({ones({2, 3}), ones({2, 3}, kFloat64)}), doctest::Contains("dtype"), Error);
  CHECK_THROWS_WITH_AS(stack({ones({2, 3}), ones({3, 2})}), doctest::Contains("[2, 3] at entry 0 and [3, 2]"),
                       Error);
  CHECK_THROWS_WITH_AS(split(ones({5}), std::vector<int64_t>{2, 2}), doctest::Contains("sum to 4"), Error);
  CHECK_THROWS_WITH_AS(dropout(ones({2}), 1.5), doctest::Contains("dropout: probability"), Error);
  CHECK_THROWS_WITH_AS(scaled_dot_product_attention(ones({2, 3}), ones({4, 5}), ones({4, 5})),
                       doctest::Contains("same embedding size"), Error);
}
