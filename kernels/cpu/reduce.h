// Row reductions: every reduction is run over rows of a contiguous [rows, K]
// buffer (the op entry first moves the reduced dims last). Each row is cut into
// fixed 4096-element blocks whose partials are folded in block order, so threads
// can share long rows and results never depend on the thread count.
#pragma once
#include <cstdint>

namespace lucid::cpu {

enum class ReduceOp { Sum, Max, Min, LogSumExp };

// out[r] = op(in[r, 0..K)); for Max/Min, idx (if non-null) gets the first arg.
// float rows accumulate in double.
void reduce_rows(ReduceOp op, const float* in, int64_t rows, int64_t K, float* out, int64_t* idx);
void reduce_rows(ReduceOp op, const double* in, int64_t rows, int64_t K, double* out, int64_t* idx);

// Softmax over rows: out[r, k] = exp(in[r,k] - m) / sum_j exp(in[r,j] - m), or its log.
enum class SoftmaxKind { Softmax, LogSoftmax };
void softmax_rows(SoftmaxKind kind, const float* in, int64_t rows, int64_t K, float* out);
void softmax_rows(SoftmaxKind kind, const double* in, int64_t rows, int64_t K, double* out);

}  // namespace lucid::cpu
