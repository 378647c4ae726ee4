// End to end: a 2-layer MLP trained with hand-written SGD on a synthetic
// problem. The loss must fall, and the tape must be empty after every backward.
#include <doctest/doctest.h>

#include <cmath>

#include <lucid/lucid.h>

using namespace lucid;
namespace F = lucid::nn::functional;

TEST_CASE("a 2-layer MLP trained with hand-written SGD lowers its loss and leaves an empty tape") {
  manual_seed(42);
  // Two Gaussian blobs per class in 4-D, 3 classes: learnable but not linearly trivial.
  const int64_t n = 240, d = 4, classes = 3, hidden = 32;
  Tensor y = arange(static_cast<double>(n), kInt64).to(kFloat64).div_(static_cast<double>(n) / classes).to(kInt64);
  Tensor centers = randn({classes, d}) * 2.0;
  Tensor x = index_select(centers, 0, y) + randn({n, d}) * 0.7;

  Tensor w1 = (randn({hidden, d}) * 0.3).requires_grad_(true), b1 = zeros({hidden}, requires_grad());
  Tensor w2 = (randn({classes, hidden}) * 0.3).requires_grad_(true), b2 = zeros({classes}, requires_grad());
  std::vector<Tensor> params = {w1, b1, w2, b2};

  double first = 0, last = 0;
  int64_t bytes_after_first_step = 0;
  for (int step = 0; step < 60; ++step) {
    for (Tensor& p : params) p.set_grad(Tensor());
    Tensor loss = F::cross_entropy(F::linear(F::relu(F::linear(x, w1, b1)), w2, b2), y);
    loss.backward();
    REQUIRE(autograd::tape_size() == 0);
    for (const Tensor& p : params) REQUIRE(p.grad().defined());
    {
      NoGradGuard no_grad;
      for (Tensor& p : params) p.sub_(p.grad(), 0.5);
    }
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    if (step == 1) bytes_after_first_step = memory_allocated();
  }
  MESSAGE("loss " << first << " -> " << last);
  CHECK(last < 0.5 * first);
  // no leak: steady-state memory does not grow with the number of steps
  CHECK(memory_allocated() <= bytes_after_first_step);
}
