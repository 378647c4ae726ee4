// CUDA kernels for joining, indexing and dropout: the twins of kernels/cpu/index.h
// (the reference; same arguments, same results bit for bit). autograd/ops/index.cpp
// calls them after checking shapes, dtypes and index ranges.
//
// Index kernels see packed tensors as [outer, n, inner] blocks around the indexed
// dim. The accumulating kernels (index_add, scatter_add) use no float atomics:
// each thread owns a set of output elements and adds into them in index order,
// the CPU kernel's order, so the sums are the same bits on every run and device.
#pragma once
#include <vector>

#include <lucid/kernels/philox.h>
#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

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

// The first entry of a packed int64 `index` (in memory order) outside [0, n):
// returns true and its value in *bad_value, or false when all are in range.
// One small kernel and one 8-byte read-back (the host waits for it).
bool find_index_out_of_range(const Tensor& index, int64_t n, int64_t* bad_value);

// Dropout with cpu::dropout's mask: element i reads word i of the Philox stream
// at `at` (kernels/philox.h), u = (word >> 8) * 2^-24, keep = double(u) >= p.
// x packed float32/float64; mask and out packed with x's dtype.
void dropout(const Tensor& x, double p, double scale, GeneratorState at, const Tensor& mask,
             const Tensor& out);

}  // namespace lucid::cuda
