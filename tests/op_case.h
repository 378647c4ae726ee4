// The op-case table: one row per op case, run by the gradient check
// (tests/test_grad_*.cpp) and by the CPU-vs-CUDA comparison
// (tests/gpu/test_cuda_ops*.cpp). The tables themselves: tests/cases/*.h.
//
// A row gives the op, its input shapes, layouts and value ranges, and a
// tolerance. Layout::Transposed builds the input as the transpose of a packed
// tensor (last two dims swapped), so kernels see non-contiguous strides.
#pragma once
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include <lucid/lucid.h>

namespace lucid::testing {

enum class Layout { Contiguous, Transposed };

struct InputSpec {
  Shape shape;
  Layout layout = Layout::Contiguous;
  double lo = -1.0, hi = 1.0;      // uniform range (for ints: randint [lo, hi))
  ScalarType dtype = kFloat64;     // int64 for indices and targets
  bool requires_grad = true;
};

struct OpCase {
  std::string name;
  std::vector<InputSpec> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  autograd::GradcheckOptions tolerance = {};
};

// Fresh random inputs for a case (seeded from the case name, so reruns agree).
inline std::vector<Tensor> make_inputs(const OpCase& c) {
  uint64_t seed = 1469598103934665603ull;
  for (char ch : c.name) seed = (seed ^ static_cast<uint8_t>(ch)) * 1099511628211ull;
  manual_seed(seed);
  std::vector<Tensor> xs;
  for (const InputSpec& s : c.inputs) {
    Tensor t;
    if (!is_floating_point(s.dtype)) {
      t = randint(static_cast<int64_t>(s.lo), static_cast<int64_t>(s.hi), s.shape).to(s.dtype);
    } else if (s.layout == Layout::Transposed && s.shape.size() >= 2) {
      Shape st = s.shape;
      std::swap(st[st.size() - 1], st[st.size() - 2]);
      t = rand(st, s.dtype).mul_(s.hi - s.lo).add_(s.lo).transpose(-1, -2);
      REQUIRE(!t.is_contiguous());
    } else {
      t = rand(s.shape, s.dtype).mul_(s.hi - s.lo).add_(s.lo);
    }
    if (is_floating_point(s.dtype) && s.requires_grad) t.requires_grad_(true);
    xs.push_back(t);
  }
  return xs;
}

// Runs gradcheck on one row; a failure names the case.
inline void check_gradients(const OpCase& c) {
  CAPTURE(c.name);
  std::vector<Tensor> xs = make_inputs(c);
  try {
    CHECK(autograd::gradcheck(c.fn, xs, c.tolerance));
  } catch (const Error& e) {
    FAIL_CHECK(c.name << ": " << std::string(e.what()));
  }
  CHECK(autograd::tape_size() == 0);  // backward released everything it used
  autograd::clear_tape();
}

}  // namespace lucid::testing
