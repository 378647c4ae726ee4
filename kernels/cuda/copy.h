// Strided copy with dtype conversion on a GPU: the kernel behind contiguous(),
// to(dtype), clone() and copy_() when both tensors are on one GPU. Also fill.
// (Copies between devices: kernels/cuda/transfer.cpp.)
#pragma once
#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

// dst[i] = convert(src[i]); src already broadcast to dst's shape.
void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, double value);

}  // namespace lucid::cuda
