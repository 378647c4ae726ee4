// Results are bit-identical for any thread count: the same computations run with
// 1, 2 and 3 threads and every output (and every gradient) is compared byte for
// byte. Also: large float32 sums are accurate (they accumulate in double).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <lucid/lucid.h>

using namespace lucid;
namespace F = lucid::nn::functional;

namespace {

// Restores the thread count when the test ends, however it ends.
struct ThreadCountGuard {
  int saved = get_num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

// The raw bytes of a tensor's values (packed), for exact comparison.
std::string bytes(const Tensor& t) {
  const Tensor c = t.detach().contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), c.numel() * c.element_size());
}

// Runs `compute` (which returns named outputs) with 1, 2 and 3 threads and
// requires every output to have the same bytes as with 1 thread.
using Outputs = std::vector<std::pair<std::string, Tensor>>;
void check_same_for_any_thread_count(const std::function<Outputs()>& compute) {
  ThreadCountGuard guard;
  set_num_threads(1);
  const Outputs ref = compute();
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    const Outputs got = compute();
    REQUIRE(got.size() == ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      CAPTURE(threads);
      CAPTURE(ref[i].first);
      REQUIRE(got[i].second.defined());
      CHECK(got[i].second.sizes() == ref[i].second.sizes());
      CHECK(bytes(got[i].second) == bytes(ref[i].second));
    }
  }
}

// randn with a spread of magnitudes (1e-3 .. 1e3), so summation order matters.
Tensor mixed_magnitudes(const Shape& shape, ScalarType dtype) {
  return (randn(shape, kFloat64) * pow(full(shape, 10.0, kFloat64), rand(shape, kFloat64) * 6.0 - 3.0))
      .to(dtype);
}

}  // namespace

TEST_CASE("reductions are bit-identical for 1, 2 and 3 threads") {
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    CAPTURE(dtype);
    const Tensor big = mixed_magnitudes({2, 150001, 3}, dtype);  // few rows over dim 1, many over dim 2
    const Tensor wide = mixed_magnitudes({2, 300007}, dtype);     // few long rows
    const Tensor ties = randint(-5, 6, {5, 40000, 2}).to(dtype);  // many equal maxima
    check_same_for_any_thread_count([&] {
      auto [wide_max, wide_arg] = max(wide, 1);
      auto [mid_max, mid_arg] = max(ties, 1);
      auto [mid_min, mid_argmin] = min(ties, 1);
      return Outputs{
          {"sum all", sum(big)},
          {"sum dim 1", sum(big, {1})},
          {"sum dims 0,1", sum(big, {0, 1})},
          {"sum wide rows", sum(wide, {1})},
          {"mean all", mean(big)},
          {"mean dim 1", mean(big, {1})},
          {"var all", var(big, {})},
          {"var dim 1", var(big, {1})},
          {"logsumexp all", logsumexp(big, {})},
          {"logsumexp dim 1", logsumexp(big, {1})},
          {"max all", max(big)},
          {"min all", min(big)},
          {"max wide", wide_max},
          {"argmax wide", wide_arg},
          {"max dim 1 with ties", mid_max},
          {"argmax dim 1 with ties", mid_arg},
          {"min dim 1 with ties", mid_min},
          {"argmin dim 1 with ties", mid_argmin},
          {"argmax all", argmax(ties.reshape({-1}), 0)},
      };
    });
  }
}

TEST_CASE("softmax and log_softmax with large K are bit-identical for 1, 2 and 3 threads") {
  const Tensor few_rows = randn({3, 20001}) * 4.0;   // blocks shared between threads
  const Tensor many_rows = randn({40, 5000}) * 4.0;  // rows shared between threads
  const Tensor middle = randn({2, 9000, 3}) * 4.0;   // softmax over a middle dim
  check_same_for_any_thread_count([&] {
    return Outputs{
        {"softmax few rows", softmax(few_rows, 1)},
        {"log_softmax few rows", log_softmax(few_rows, 1)},
        {"softmax many rows", softmax(many_rows, 1)},
        {"log_softmax many rows", log_softmax(many_rows, -1)},
        {"softmax middle", softmax(middle, 1)},
        {"log_softmax middle", log_softmax(middle, 1)},
    };
  });
}

TEST_CASE("a conv net's forward and every gradient are bit-identical for 1, 2 and 3 threads") {
  const Tensor x = randn({4, 3, 16, 16});
  const Tensor w0 = randn({8, 3, 3, 3}) * 0.3, b0 = randn({8}) * 0.1;
  const Tensor gamma0 = rand({8}) + 0.5, beta0 = randn({8}) * 0.1;
  const Tensor lw0 = randn({10, 8 * 8 * 8}) * 0.05, lb0 = randn({10}) * 0.1;
  const Tensor target = randint(0, 10, {4});
  check_same_for_any_thread_count([&] {
    Tensor xi = x.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
    Tensor gamma = gamma0.clone().requires_grad_(), beta = beta0.clone().requires_grad_();
    Tensor lw = lw0.clone().requires_grad_(), lb = lb0.clone().requires_grad_();
    Tensor running_mean = zeros({8}), running_var = ones({8});
    Tensor h = F::conv2d(xi, w, b, {1, 1}, {1, 1});
    h = F::batch_norm(h, running_mean, running_var, gamma, beta, /*training=*/true);
    h = F::max_pool2d(relu(h), {2, 2});
    Tensor logits = F::linear(h.reshape({4, -1}), lw, lb);
    Tensor loss = F::cross_entropy(logits, target);
    loss.backward();
    return Outputs{{"logits", logits},          {"loss", loss},
                   {"running_mean", running_mean}, {"running_var", running_var},
                   {"grad x", xi.grad()},       {"grad conv weight", w.grad()},
                   {"grad conv bias", b.grad()}, {"grad bn weight", gamma.grad()},
                   {"grad bn bias", beta.grad()}, {"grad linear weight", lw.grad()},
                   {"grad linear bias", lb.grad()}};
  });
}

TEST_CASE("layer_norm and matmul forward and backward are bit-identical for 1, 2 and 3 threads") {
  const Tensor x0 = randn({6, 7, 2051}), g0 = rand({7, 2051}) + 0.5, b0 = randn({7, 2051});
  const Tensor a0 = randn({37, 129}), m0 = randn({129, 53});
  const Tensor ba0 = randn({3, 17, 65}, kFloat64), bm0 = randn({65, 31}, kFloat64);
  check_same_for_any_thread_count([&] {
    Tensor x = x0.clone().requires_grad_(), g = g0.clone().requires_grad_(), b = b0.clone().requires_grad_();
    Tensor y = F::layer_norm(x, {7, 2051}, g, b);
    (y * y).sum().backward();
    Tensor a = a0.clone().requires_grad_(), m = m0.clone().requires_grad_();
    Tensor ba = ba0.clone().requires_grad_(), bm = bm0.clone().requires_grad_();
    Tensor p = matmul(a, m), q = matmul(ba, bm);
    (tanh(p).sum() + sigmoid(q).sum().to(kFloat32)).backward();
    return Outputs{{"layer_norm", y},       {"layer_norm grad x", x.grad()},
                   {"layer_norm grad w", g.grad()}, {"layer_norm grad b", b.grad()},
                   {"matmul", p},           {"matmul grad a", a.grad()},
                   {"matmul grad b", m.grad()}, {"batched matmul f64", q},
                   {"batched grad a", ba.grad()}, {"batched grad b", bm.grad()}};
  });
}

TEST_CASE("the full sum of a million float32 ones is exactly a million") {
  ThreadCountGuard guard;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    CHECK(sum(ones({1000000})).item<float>() == 1e6f);
    CHECK(ones({1000, 1000}).sum({0}).sum().item<float>() == 1e6f);
  }
}

TEST_CASE("a float32 sum over mixed magnitudes matches a float64 reference to 1e-6 relative") {
  const Tensor x = mixed_magnitudes({1 << 20}, kFloat32).abs();  // positive: no cancellation
  const float* p = x.data_ptr<float>();
  long double ref = 0;
  for (int64_t i = 0; i < x.numel(); ++i) ref += p[i];
  const double got = sum(x).item<float>();
  CHECK(std::abs(got - static_cast<double>(ref)) <= 1e-6 * static_cast<double>(ref));
  const double got64 = sum(x.to(kFloat64)).item<double>();
  CHECK(std::abs(got64 - static_cast<double>(ref)) <= 1e-12 * static_cast<double>(ref));
}

TEST_CASE("max across blocks keeps the first index on ties and propagates NaN") {
  std::vector<float> v(20000, 1.0f);
  v[5000] = 3.0f;
  v[15000] = 3.0f;  // the same maximum in a later block
  Tensor t = tensor(v);
  auto [m, i] = max(t, 0);
  CHECK(m.item<float>() == 3.0f);
  CHECK(i.item<int64_t>() == 5000);
  v[12000] = std::numeric_limits<float>::quiet_NaN();
  v[17000] = std::numeric_limits<float>::quiet_NaN();
  auto [mn, in] = max(tensor(v), 0);
  CHECK(std::isnan(mn.item<float>()));
  CHECK(in.item<int64_t>() == 12000);
  CHECK(std::isnan(logsumexp(tensor(v), {}).item<float>()));
  auto [mi, ii] = min(tensor(v), 0);
  CHECK(std::isnan(mi.item<float>()));
  CHECK(ii.item<int64_t>() == 12000);
}
