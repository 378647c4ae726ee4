// Strided copy with dtype conversion: the kernel behind contiguous(), to(dtype),
// clone() and copy_(). Also fill.
#pragma once
#include <lucid/kernels/tensor.h>

namespace lucid::cpu {

// dst[i] = convert(src[i]); src already broadcast to dst's shape (stride 0 dims).
void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, double value);

}  // namespace lucid::cpu
