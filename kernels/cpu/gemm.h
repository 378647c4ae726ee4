// CPU matrix multiply: the packed, cache-blocked GEMM behind matmul, linear and conv2d.
#pragma once
#include <cstdint>

namespace lucid::cpu {

enum class Transpose { No, Yes };

// C = alpha * op(A) * op(B) + beta * C, row-major, with leading dimensions.
// op(A) is [M, K], op(B) is [K, N], C is [M, N]. When beta == 0, C is not read
// (so it may hold NaN garbage). Multi-threaded and deterministic.
void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc);
void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, double alpha,
          const double* A, int64_t lda, const double* B, int64_t ldb, double beta,
          double* C, int64_t ldc);

}  // namespace lucid::cpu
