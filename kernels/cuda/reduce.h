// Row reductions and softmax on a GPU: the twins of kernels/cpu/reduce.h (same
// ReduceOp and SoftmaxKind, same NaN and tie rules), for float32 and float64.
// `in` is a contiguous [rows, K] buffer on the GPU (the op entry moves the
// reduced dims last); outputs are contiguous tensors on the same GPU.
#pragma once
#include <cstdint>

#include <lucid/kernels/cpu/reduce.h>
#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

using cpu::ReduceOp;
using cpu::SoftmaxKind;

// out[r] = op(in[r, 0..K)); for Max/Min, idx (int64, if defined) gets the first arg.
// Sums accumulate in double. K = 0: Sum gives 0, LogSumExp -inf.
void reduce_rows(ReduceOp op, const Tensor& in, int64_t rows, int64_t K, const Tensor& out,
                 const Tensor& idx);

// out[r, k] = softmax or log_softmax of row r, with the row max subtracted first.
void softmax_rows(SoftmaxKind kind, const Tensor& in, int64_t rows, int64_t K, const Tensor& out);

}  // namespace lucid::cuda
