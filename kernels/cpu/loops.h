// Strided loops: how CPU kernels walk N-d views with arbitrary strides.
//
// A kernel over K operands that all have `shape` (broadcast operands carry
// stride 0) is split into rows along the last dim. for_each_row calls
//   fn(ptrs, n, inner_strides)
// once per row, where ptrs[k] points at the row's first element of operand k
// (as char*), n is the row length and inner_strides[k] the element stride
// along it. When every inner stride is 1 the row loop is a plain, vectorizable
// loop. Rows are spread over threads; each element is written by one thread.
#pragma once
#include <array>
#include <cstdint>

#include <lucid/kernels/shape.h>
#include <lucid/kernels/thread_pool.h>

namespace lucid::cpu {

template <size_t K>
struct Operands {
  std::array<char*, K> data;             // element 0 of each operand
  std::array<const Strides*, K> strides; // per operand, same rank as the shape
  std::array<int64_t, K> elem_size;      // bytes per element
};

template <size_t K, class Fn>
void for_each_row(const Shape& shape, const Operands<K>& ops, Fn&& fn) {
  const int64_t ndim = static_cast<int64_t>(shape.size());
  const int64_t n = ndim == 0 ? 1 : shape[ndim - 1];
  const int64_t rows = ndim == 0 ? 1 : numel_of(shape) / (n == 0 ? 1 : n);
  if (n == 0 || numel_of(shape) == 0) return;
  std::array<int64_t, K> inner{};
  for (size_t k = 0; k < K; ++k) inner[k] = ndim == 0 ? 0 : (*ops.strides[k])[ndim - 1];

  // Grain: about 32K elements per chunk, so small tensors stay on one thread.
  const int64_t grain = std::max<int64_t>(1, 32768 / n);
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    // multi-index of row r0 over the outer dims
    std::vector<int64_t> idx(ndim > 0 ? ndim - 1 : 0, 0);
    int64_t rem = r0;
    for (int64_t d = ndim - 2; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    for (int64_t r = r0; r < r1; ++r) {
      std::array<char*, K> p;
      for (size_t k = 0; k < K; ++k) {
        int64_t off = 0;
        for (int64_t d = 0; d < ndim - 1; ++d) off += idx[d] * (*ops.strides[k])[d];
        p[k] = ops.data[k] + off * ops.elem_size[k];
      }
      fn(p, n, inner);
      for (int64_t d = ndim - 2; d >= 0; --d) {  // next row: odometer increment
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
  });
}

}  // namespace lucid::cpu
