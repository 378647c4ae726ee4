// Batched matrix multiply on a GPU with cuBLAS: the CUDA path of matmul, mm,
// bmm and linear (autograd/ops/matmul.cpp; the CPU path is kernels/cpu/gemm.h).
#pragma once
#include <cstdint>

#include <lucid/kernels/cpu/gemm.h>
#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

// out [batch..., M, N] = op(a) @ op(b), batch by batch, in float32 or float64.
//   a: [batch..., M, K] expanded to out's batch dims (stride 0 where broadcast);
//      its last two dims read as in cpu::gemm: element (i, k) at i*lda + k
//      (Transpose::No) or at k*lda + i (Transpose::Yes). b likewise, [.., K, N].
//   out: contiguous. K > 0 and out non-empty (the caller handles both).
// Float32 runs on TF32 tensor cores only when backends::cuda::matmul::allow_tf32.
void batched_gemm(cpu::Transpose ta, int64_t lda, const Tensor& a, cpu::Transpose tb, int64_t ldb,
                  const Tensor& b, const Tensor& out);

}  // namespace lucid::cuda
