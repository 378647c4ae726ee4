// Edge cases a reviewer found: each test pins down the defined behaviour.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <thread>

#include <lucid/lucid.h>

using namespace lucid;
using doctest::Contains;

TEST_CASE("in-place write from a tensor that requires grad is refused under grad mode") {
  Tensor buf = zeros({3});
  Tensor w = ones({3}, requires_grad());
  CHECK_THROWS_WITH_AS(buf.add_(w), Contains("source tensor (shape [3]) requires grad"), Error);
  CHECK_THROWS_WITH_AS(buf.copy_(w), Contains("copy_"), Error);
  CHECK(buf.sum().item<double>() == 0.0);  // nothing written
  NoGradGuard ng;
  buf.add_(w);  // fine outside grad mode (an optimizer step)
  CHECK(buf.sum().item<double>() == 3.0);
}

TEST_CASE("in-place write into an expanded view is refused (one address, many elements)") {
  Tensor base = zeros({3});
  Tensor e = base.expand({4, 3});
  CHECK_THROWS_WITH_AS(e.add_(ones({4, 3})), Contains("refers to a single memory location"), Error);
  CHECK_THROWS_WITH_AS(e.fill_(1.0), Contains("fill_"), Error);
  CHECK(base.sum().item<double>() == 0.0);
}

TEST_CASE("clamp with min > max gives max everywhere, as PyTorch") {
  Tensor x = tensor({-2.0, 0.0, 2.0});
  Tensor y = clamp(x, 1.0, -1.0);
  for (int i = 0; i < 3; ++i) CHECK(y[i].item<double>() == -1.0);
}

TEST_CASE("float to int conversion is defined: truncation, saturation, NaN to 0") {
  Tensor x = tensor({1.9, -1.9, NAN, 1e30, -1e30}, kFloat64);
  Tensor i = x.to(kInt32);
  CHECK(i[0].item<int64_t>() == 1);
  CHECK(i[1].item<int64_t>() == -1);
  CHECK(i[2].item<int64_t>() == 0);
  CHECK(i[3].item<int64_t>() == std::numeric_limits<int32_t>::max());
  CHECK(i[4].item<int64_t>() == std::numeric_limits<int32_t>::min());
}

TEST_CASE("integer add and mul wrap around instead of overflowing (no UB)") {
  Tensor big = full({2}, static_cast<double>(std::numeric_limits<int32_t>::max()), kInt32);
  Tensor one = ones({2}, kInt32);
  CHECK((big + one)[0].item<int64_t>() == std::numeric_limits<int32_t>::min());
  CHECK((big * full({2}, 2.0, kInt32))[1].item<int64_t>() == -2);
}

TEST_CASE("integer neg, abs and square wrap around too (no UB); float neg keeps the sign of zero") {
  const double lo = static_cast<double>(std::numeric_limits<int32_t>::min());
  Tensor m = full({1}, lo, kInt32);
  CHECK((-m).item<int64_t>() == std::numeric_limits<int32_t>::min());
  CHECK(abs(m).item<int64_t>() == std::numeric_limits<int32_t>::min());
  CHECK(square(full({1}, 65536.0, kInt32)).item<int64_t>() == 0);  // 2^32 wraps to 0
  CHECK(std::signbit((-zeros({1})).item<double>()));
}

TEST_CASE("in place, an integer tensor refuses a float result instead of truncating it (as PyTorch)") {
  Tensor x = full({3}, 4.0, kInt64);
  CHECK_THROWS_WITH_AS(x.mul_(0.5), doctest::Contains("mul_: result type"), Error);
  CHECK_THROWS_WITH_AS(x.add_(ones({3}, kInt64), 0.5), doctest::Contains("add_: alpha 0.5 is not an integer"), Error);
  CHECK_THROWS_WITH_AS(x.div_(full({3}, 2.0, kInt64)), doctest::Contains("div_: the quotient of"), Error);
  CHECK(x[0].item<int64_t>() == 4);  // nothing was written
  x.add_(2).mul_(3);                 // integral scalars are fine
  CHECK(x[2].item<int64_t>() == 18);
}

TEST_CASE("bool tensors have no arithmetic, and the error names the op") {
  Tensor b = ones({2}, kBool);
  CHECK_THROWS_WITH_AS(b + b, Contains("add: bool tensors have no arithmetic"), Error);
  CHECK_THROWS_WITH_AS(-b, Contains("neg: bool"), Error);
  CHECK((b == b).dtype() == kBool);
}

TEST_CASE("backward with a gradient of another dtype is refused, naming both") {
  Tensor x = ones({2}, requires_grad());
  Tensor y = x * 2.0;
  CHECK_THROWS_WITH_AS(y.backward(ones({2}, kFloat64)), Contains("gradient is float64"), Error);
  y.backward(ones({2}));
  CHECK(x.grad()[0].item<double>() == 2.0);
}

TEST_CASE("a graph that uses a non-leaf recorded on another thread raises instead of dropping grads") {
  Tensor w = ones({3}, requires_grad());
  Tensor h;
  std::thread([&] { h = w * 2.0; }).join();  // recorded on the other thread's tape
  Tensor loss = (h * 3.0).sum();
  CHECK_THROWS_WITH_AS(loss.backward(), Contains("not on this thread's tape"), Error);
  Tensor loss2 = (h.detach() * w).sum();  // detach(): the intended way
  loss2.backward();
  CHECK(w.grad()[0].item<double>() == 2.0);
  autograd::clear_tape();
}

TEST_CASE("gradcheck refuses non-leaf inputs with a clear message") {
  Tensor a = randn({3}, dtype(kFloat64).requires_grad(true));
  Tensor b = a * 2.0;
  CHECK_THROWS_WITH_AS(
      autograd::gradcheck([](const std::vector<Tensor>& x) { return x[0].exp(); }, {b}),
      Contains("is not a leaf"), Error);
  autograd::clear_tape();
}
