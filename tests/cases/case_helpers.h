// Small helpers the op-case tables (tests/cases/*.h) share.
//
// A row's fn runs on whatever device and float dtype its inputs have: the
// gradient check runs it on float64 CPU tensors, the CPU-vs-CUDA comparison
// (tests/gpu/test_cuda_ops*.cpp) on float32 and float64, on CPU and on CUDA.
// So a constant made inside fn (indices, class weights, a mask) follows its
// first input's device and dtype, through the *_like helpers below.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "op_case.h"

namespace lucid::testing::cases {

using V = std::vector<Tensor>;
inline constexpr Layout C = Layout::Contiguous;
inline constexpr Layout T = Layout::Transposed;

// An int64 input (indices, targets): randint [lo, hi), no gradient.
inline InputSpec ints(Shape shape, int64_t lo, int64_t hi) {
  return InputSpec{std::move(shape), C, double(lo), double(hi), kInt64, false};
}
// A float constant input (running statistics): no gradient, values in [lo, hi).
inline InputSpec constant(Shape shape, double lo, double hi) {
  return InputSpec{std::move(shape), C, lo, hi, kFloat64, false};
}
// int64 indices on like's device.
inline Tensor longs_like(const Tensor& like, std::vector<int64_t> v) {
  return tensor(v).to(like.device());
}
// Float values in like's dtype, on like's device.
inline Tensor floats_like(const Tensor& like, std::vector<double> v) {
  return tensor(v, kFloat64).to(like.dtype()).to(like.device());
}

}  // namespace lucid::testing::cases
