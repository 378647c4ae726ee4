// The index backward kernels (index_add, scatter_add: kernels/cuda/index.cu)
// add each destination's terms in the CPU's order, whichever path they take
// (owner walk or sorted runs), so CPU and CUDA gradients agree bit for bit.
// The sizes below reach the sorted paths in each way they can be reached.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "gpu/cuda_compare.h"

using namespace lucid;
using gputest::same_bits;

namespace {

// grad of sum(f(x) * w) on both devices, bit for bit.
void expect_same_grad(const std::string& what, const Tensor& x_cpu, const std::function<Tensor(const Tensor&)>& f) {
  CAPTURE(what);
  Tensor xc = x_cpu.detach().clone().requires_grad_(true);
  Tensor xg = x_cpu.detach().cuda().requires_grad_(true);
  const Tensor oc = f(xc), og = f(xg);
  REQUIRE(og.is_cuda());
  CHECK(same_bits(og, oc));  // a gather/select copies: exact
  manual_seed(17);
  const Tensor w = randn(oc.sizes(), oc.dtype());
  (oc * w).sum().backward();
  (og * w.cuda()).sum().backward();
  REQUIRE(xg.grad().defined());
  CHECK(same_bits(xg.grad(), xc.grad()));
}

}  // namespace

TEST_CASE("embedding backward: owner walk (k <= 32) and sorted runs (k > 32), with padding_idx") {
  manual_seed(1);
  for (ScalarType t : {kFloat32, kFloat64}) {
    const Tensor weight = randn({50, 19}, t);
    for (int64_t tokens : {int64_t{20}, int64_t{1000}, int64_t{100003}}) {
      const Tensor idx = randint(0, 50, {tokens});
      expect_same_grad("embedding " + std::to_string(tokens), weight,
                       [&](const Tensor& w) { return nn::functional::embedding(idx.to(w.device()), w); });
      expect_same_grad("embedding padding_idx " + std::to_string(tokens), weight,
                       [&](const Tensor& w) { return nn::functional::embedding(idx.to(w.device()), w, 3); });
    }
  }
}

TEST_CASE("index_select backward on a middle dim: a column tile spans two outer rows") {
  manual_seed(2);
  const Tensor x = randn({7, 50, 5}, kFloat32);
  const Tensor idx = randint(0, 50, {100});
  expect_same_grad("index_select dim 1", x,
                   [&](const Tensor& v) { return index_select(v, 1, idx.to(v.device())); });
}

TEST_CASE("gather backward: owner walk and sorted runs (k >= 128, few columns)") {
  manual_seed(3);
  const Tensor x = randn({3000, 5}, kFloat64);
  const Tensor idx = randint(0, 3000, {2049, 5});
  expect_same_grad("gather dim 0, sorted", x, [&](const Tensor& v) { return gather(v, 0, idx.to(v.device())); });
  const Tensor wide = randn({40, 700}, kFloat32);
  const Tensor idx_wide = randint(0, 700, {40, 300});
  expect_same_grad("gather dim 1, owner walk", wide,
                   [&](const Tensor& v) { return gather(v, 1, idx_wide.to(v.device())); });
}
