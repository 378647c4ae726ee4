// CPU kernels for joining, indexing and dropout (autograd/ops/index.cpp calls them).
//
// The entry points have already checked shapes, dtypes and index ranges; these
// kernels trust them. Index kernels see their data as [outer, n, inner] blocks
// (n = the indexed dim) of packed tensors, so one row copy moves `inner` elements.
// Every accumulating kernel (index_add, scatter_add) runs in index order on one
// thread: the result is bit-for-bit the same on every run.
#pragma once
#include <vector>

#include <lucid/kernels/philox.h>
#include <lucid/kernels/tensor.h>

namespace lucid::cpu {

// out = the inputs laid end to end along dim (any strides; out packed).
void cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out);

// out[o, j, i] = x[o, index[j], i]; x, out packed, any dtype. out [outer, k, inner].
void index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);

// dst[o, index[j], i] += src[o, j, i] for j in order, skipping index == skip.
// dst, src packed float32/float64 (the backward of index_select and embedding).
void index_add(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src,
               int64_t skip = -1);

// out[p] = x[p with coordinate dim replaced by index[p]]; index, out packed.
void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out);

// dst[p with coordinate dim replaced by index[p]] += src[p], p in row-major order.
// dst packed; src and index packed with index's shape.
void scatter_add(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src);

// Dropout. Element i of x (row-major) reads word i of the Philox stream at
// `at`:  u = (word >> 8) * 2^-24 in [0, 1)  (the fill_uniform float mapping),
//        keep = (double(u) >= p),  mask[i] = keep,  out[i] = keep ? x[i] * scale : 0.
// x packed float32/float64; mask and out packed, mask with x's dtype (1 or 0).
void dropout(const Tensor& x, double p, double scale, GeneratorState at, const Tensor& mask,
             const Tensor& out);

}  // namespace lucid::cpu
