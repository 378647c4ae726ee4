// Small helpers shared by the test files: read a tensor's values, compare them.
#pragma once
#include <doctest/doctest.h>

#include <vector>

#include <lucid/lucid.h>

namespace lucid::testing {

// Every element of `t` in row-major order, as doubles.
inline std::vector<double> values(const Tensor& t) {
  NoGradGuard ng;
  Tensor c = t.detach().to(kFloat64).contiguous();
  const double* p = c.data_ptr<double>();
  return std::vector<double>(p, p + c.numel());
}

// Each element of `t` (row-major) equals `expected` within a relative `tol`.
inline void check_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-8) {
  const std::vector<double> got = values(t);
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(tol).scale(1.0));
  }
}

}  // namespace lucid::testing
