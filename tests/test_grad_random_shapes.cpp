// Gradient checks on random shapes: for each trial, draw a shape, a broadcast
// partner (some dims 1, some leading dims dropped) and a layout (packed or
// transposed), then gradcheck the elementwise, reduction, softmax and matmul
// ops on them. The shape generator is seeded, so a failure reproduces; the
// failing trial's shapes are printed.
#include <doctest/doctest.h>

#include <random>
#include <sstream>

#include <lucid/lucid.h>

using namespace lucid;
using V = std::vector<Tensor>;

namespace {

std::mt19937 g_rng(20261128);

int64_t uniform_int(int64_t lo, int64_t hi) {  // [lo, hi]
  return std::uniform_int_distribution<int64_t>(lo, hi)(g_rng);
}

Shape random_shape(int64_t max_dims) {
  Shape s(uniform_int(1, max_dims));
  for (int64_t& d : s) d = uniform_int(1, 4);
  return s;
}

// A shape that broadcasts with `s`: drop some leading dims, set some to 1.
Shape broadcast_partner(const Shape& s) {
  Shape p(s.begin() + uniform_int(0, static_cast<int64_t>(s.size()) - 1), s.end());
  for (int64_t& d : p)
    if (uniform_int(0, 2) == 0) d = 1;
  return p;
}

// Random values in [lo, hi); with probability 1/2 (and >= 2 dims) a transposed view.
Tensor make(const Shape& s, double lo, double hi) {
  const bool transposed = s.size() >= 2 && uniform_int(0, 1) == 1;
  Shape st = s;
  if (transposed) std::swap(st[st.size() - 1], st[st.size() - 2]);
  Tensor t = rand(st, kFloat64).mul_(hi - lo).add_(lo);
  if (transposed) t = t.transpose(-1, -2);
  return t.requires_grad_(true);
}

void check(const std::string& what, const std::function<Tensor(const V&)>& fn, const V& inputs) {
  std::ostringstream shapes;
  for (const Tensor& t : inputs) shapes << t.sizes() << (t.is_contiguous() ? "" : "(T)") << ' ';
  CAPTURE(what);
  CAPTURE(shapes.str());
  try {
    CHECK(autograd::gradcheck(fn, inputs));
  } catch (const Error& e) {
    FAIL_CHECK(what << " on " << shapes.str() << ": " << std::string(e.what()));
  }
  CHECK(autograd::tape_size() == 0);
}

constexpr int kTrials = 12;

}  // namespace

TEST_CASE("gradcheck on random shapes: binary ops with random broadcasting and layouts") {
  for (int trial = 0; trial < kTrials; ++trial) {
    Shape sa = random_shape(3), sb = broadcast_partner(sa);
    if (uniform_int(0, 1)) std::swap(sa, sb);  // either side may be the smaller one
    check("add", [](const V& x) { return x[0] + x[1]; }, {make(sa, -1, 1), make(sb, -1, 1)});
    check("sub", [](const V& x) { return sub(x[0], x[1], 0.5); }, {make(sa, -1, 1), make(sb, -1, 1)});
    check("mul", [](const V& x) { return x[0] * x[1]; }, {make(sa, -1, 1), make(sb, -1, 1)});
    check("div", [](const V& x) { return x[0] / x[1]; }, {make(sa, -1, 1), make(sb, 0.5, 2)});
    check("pow", [](const V& x) { return pow(x[0], x[1]); }, {make(sa, 0.5, 2), make(sb, -1, 1)});
    check("maximum", [](const V& x) { return maximum(x[0], x[1]); }, {make(sa, -1, 1), make(sb, -1, 1)});
    check("minimum", [](const V& x) { return minimum(x[0], x[1]); }, {make(sa, -1, 1), make(sb, -1, 1)});
    check("where", [](const V& x) { return where(gt(x[0], x[1]), x[0], x[1] * 2.0); },
          {make(sa, -1, 1), make(sb, -1, 1)});
  }
}

TEST_CASE("gradcheck on random shapes: every unary op") {
  using Fn = std::function<Tensor(const V&)>;
  const std::vector<std::tuple<const char*, Fn, double, double>> ops = {
      {"exp", [](const V& x) { return exp(x[0]); }, -1, 1},
      {"log", [](const V& x) { return log(x[0]); }, 0.5, 2},
      {"sqrt", [](const V& x) { return sqrt(x[0]); }, 0.5, 2},
      {"rsqrt", [](const V& x) { return rsqrt(x[0]); }, 0.5, 2},
      {"abs", [](const V& x) { return abs(x[0]); }, -1, 1},
      {"neg", [](const V& x) { return -x[0]; }, -1, 1},
      {"clamp", [](const V& x) { return clamp(x[0], -0.4, 0.4); }, -1, 1},
      {"relu", [](const V& x) { return relu(x[0]); }, -1, 1},
      {"leaky_relu", [](const V& x) { return leaky_relu(x[0], 0.1); }, -1, 1},
      {"gelu", [](const V& x) { return gelu(x[0]); }, -3, 3},
      {"gelu_tanh", [](const V& x) { return gelu(x[0], GeluApproximation::Tanh); }, -3, 3},
      {"silu", [](const V& x) { return silu(x[0]); }, -3, 3},
      {"sigmoid", [](const V& x) { return sigmoid(x[0]); }, -3, 3},
      {"tanh", [](const V& x) { return tanh(x[0]); }, -3, 3},
      {"softplus", [](const V& x) { return softplus(x[0]); }, -3, 3},
      {"pow_scalar", [](const V& x) { return pow(x[0], 1.7); }, 0.5, 2},
  };
  for (int trial = 0; trial < kTrials / 2; ++trial)
    for (const auto& [name, fn, lo, hi] : ops) check(name, fn, {make(random_shape(3), lo, hi)});
}

TEST_CASE("gradcheck on random shapes: reductions over random dims, softmax over a random dim") {
  for (int trial = 0; trial < kTrials; ++trial) {
    Shape s = random_shape(3);
    Shape dims;
    for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
      if (uniform_int(0, 1)) dims.push_back(uniform_int(0, 1) ? d : d - static_cast<int64_t>(s.size()));
    if (dims.empty()) dims.push_back(0);
    const bool keep = uniform_int(0, 1) == 1;
    const int64_t sd = uniform_int(0, static_cast<int64_t>(s.size()) - 1);
    check("sum", [&](const V& x) { return x[0].sum(dims, keep); }, {make(s, -1, 1)});
    check("mean", [&](const V& x) { return x[0].mean(dims, keep); }, {make(s, -1, 1)});
    int64_t n = 1;
    for (int64_t d : dims) n *= s[d < 0 ? d + static_cast<int64_t>(s.size()) : d];
    if (n > 1) check("var", [&](const V& x) { return x[0].var(dims, 1, keep); }, {make(s, -1, 1)});
    check("logsumexp", [&](const V& x) { return x[0].logsumexp(dims, keep); }, {make(s, -2, 2)});
    check("amax", [&](const V& x) { return amax(x[0], dims, keep); }, {make(s, -1, 1)});
    check("max_dim", [&](const V& x) { return std::get<0>(x[0].max(sd, keep)); }, {make(s, -1, 1)});
    check("softmax", [&](const V& x) { return softmax(x[0], sd); }, {make(s, -2, 2)});
    check("log_softmax", [&](const V& x) { return log_softmax(x[0], sd); }, {make(s, -2, 2)});
  }
}

TEST_CASE("gradcheck on random shapes: matmul with random broadcast batch dims") {
  for (int trial = 0; trial < kTrials; ++trial) {
    const int64_t M = uniform_int(1, 4), K = uniform_int(1, 4), N = uniform_int(1, 4);
    Shape batch = random_shape(2), pb = broadcast_partner(batch);
    Shape sa = batch, sb = pb;
    sa.insert(sa.end(), {M, K});
    sb.insert(sb.end(), {K, N});
    if (uniform_int(0, 1)) sa = {M, K};  // sometimes an unbatched side
    if (uniform_int(0, 3) == 0) sb = {K};  // sometimes a vector
    check("matmul", [](const V& x) { return matmul(x[0], x[1]); }, {make(sa, -1, 1), make(sb, -1, 1)});
  }
}
