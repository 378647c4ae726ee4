// cuBLAS batched GEMM (declared in gemm.h). Host code only: cuBLAS launches.
//
// Layout: lucid's matrices are row-major, cuBLAS's are column-major. A row-major
// [R, C] matrix with leading dim ld is, read column-major, its transpose [C, R]
// with the same ld. So instead of C = A B, cuBLAS computes
//     C^T [N, M] = B^T [N, K] * A^T [K, M]
// and writes it column-major into exactly the bytes of the row-major C. An
// operand lucid reads as stored (Transpose::No) is already the transpose cuBLAS
// wants: CUBLAS_OP_N. A transposed view (Transpose::Yes, e.g. W.t() in linear)
// is a column-major matrix, which cuBLAS transposes itself: CUBLAS_OP_T. Neither
// is copied (matmul.cpp copies only a matrix that is neither).
//
// Batches: cublasGemmStridedBatchedEx steps through one batch dim with a fixed
// stride per operand; stride 0 reuses one broadcast matrix for the whole batch.
// Batch dims are first merged wherever all three operands step evenly across
// them (a contiguous [B, H, ..] batch is one dim of B*H). When more than one dim
// is left (a [B, 1, M, K] operand expanded against [B, H, K, N], say), the outer
// dims are looped on the host: one strided-batched call per outer step.
//
// Cost per batch element: 2*M*N*K FLOPs; (M*K + K*N + M*N)*sizeof(T) bytes at
// least (cuBLAS tiles re-read A and B from L2).
// Deterministic: cuBLAS gives the same bits run to run on one GPU model and
// library version (for a given stream; see the cuBLAS docs on workspaces).
#include <lucid/kernels/cuda/gemm.h>

#include <algorithm>
#include <climits>
#include <vector>

#include <lucid/kernels/backends.h>
#include <lucid/kernels/cuda/check.h>
#include <lucid/kernels/cuda/handles.h>

namespace lucid::cuda {

namespace {

// One batch dim after merging: its size and each operand's stride, in elements.
struct BatchDim {
  int64_t size, sa, sb, sc;
};

std::vector<BatchDim> merged_batch_dims(const Tensor& a, const Tensor& b, const Tensor& out) {
  std::vector<BatchDim> dims;
  for (int64_t d = 0; d < out.dim() - 2; ++d) {
    if (out.size(d) == 1) continue;  // never stepped over
    const BatchDim cur{out.size(d), a.stride(d), b.stride(d), out.stride(d)};
    if (!dims.empty()) {
      // prev then cur is one dim when a step of prev is cur.size steps of cur, for all three.
      BatchDim& prev = dims.back();
      if (prev.sa == cur.sa * cur.size && prev.sb == cur.sb * cur.size && prev.sc == cur.sc * cur.size) {
        prev = {prev.size * cur.size, cur.sa, cur.sb, cur.sc};
        continue;
      }
    }
    dims.push_back(cur);
  }
  return dims;
}

cublasOperation_t op_of(cpu::Transpose t) { return t == cpu::Transpose::No ? CUBLAS_OP_N : CUBLAS_OP_T; }

// cuBLAS takes sizes and leading dims as int.
int as_int(const char* what, int64_t v) {
  LUCID_CHECK(v <= INT_MAX, "matmul: ", what, " = ", v, " exceeds cuBLAS's 32-bit size limit");
  return static_cast<int>(v);
}

}  // namespace

void batched_gemm(cpu::Transpose ta, int64_t lda, const Tensor& a, cpu::Transpose tb, int64_t ldb,
                  const Tensor& b, const Tensor& out) {
  const int64_t nd = out.dim();
  const int64_t M = out.size(nd - 2), N = out.size(nd - 1), K = a.size(nd - 1);
  if (out.numel() == 0 || K == 0) return;  // the caller fills these
  // The column-major problem C^T = B^T A^T has m = N, n = M.
  const int m = as_int("N", N), n = as_int("M", M), k = as_int("K", K);
  const int ld_a = as_int("lda", lda), ld_b = as_int("ldb", ldb), ld_c = as_int("ldc", N);

  const bool f32 = out.dtype() == kFloat32;
  const cudaDataType_t type = f32 ? CUDA_R_32F : CUDA_R_64F;
  // FAST_TF32 rounds float32 inputs to TF32 on tensor cores; plain COMPUTE_32F
  // keeps full float32 (the handle's math mode is left at CUBLAS_DEFAULT_MATH).
  const cublasComputeType_t compute =
      !f32 ? CUBLAS_COMPUTE_64F
           : (backends::cuda::matmul::allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F);
  const float one_f = 1, zero_f = 0;
  const double one_d = 1, zero_d = 0;
  const void* alpha = f32 ? static_cast<const void*>(&one_f) : &one_d;
  const void* beta = f32 ? static_cast<const void*>(&zero_f) : &zero_d;

  const std::vector<BatchDim> dims = merged_batch_dims(a, b, out);
  const BatchDim inner = dims.empty() ? BatchDim{1, 0, 0, 0} : dims.back();
  int64_t outer_count = 1;
  for (size_t d = 0; d + 1 < dims.size(); ++d) outer_count *= dims[d].size;

  const size_t elem = out.element_size();
  const char* pa = static_cast<const char*>(a.raw_data());
  const char* pb = static_cast<const char*>(b.raw_data());
  char* pc = static_cast<char*>(out.raw_data());
  const cublasHandle_t handle = cublas_handle();
  for (int64_t o = 0; o < outer_count; ++o) {
    // Offsets of outer step o (row-major over the outer merged dims).
    int64_t off_a = 0, off_b = 0, off_c = 0;
    for (int64_t d = static_cast<int64_t>(dims.size()) - 2, rest = o; d >= 0; --d) {
      const int64_t idx = rest % dims[d].size;
      rest /= dims[d].size;
      off_a += idx * dims[d].sa, off_b += idx * dims[d].sb, off_c += idx * dims[d].sc;
    }
    // batchCount is an int too: split a longer batch.
    for (int64_t done = 0; done < inner.size; done += INT_MAX) {
      const int count = static_cast<int>(std::min<int64_t>(inner.size - done, INT_MAX));
      LUCID_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
          handle, op_of(tb), op_of(ta), m, n, k, alpha,
          pb + (off_b + done * inner.sb) * elem, type, ld_b, inner.sb,
          pa + (off_a + done * inner.sa) * elem, type, ld_a, inner.sa, beta,
          pc + (off_c + done * inner.sc) * elem, type, ld_c, inner.sc, count, compute, CUBLAS_GEMM_DEFAULT));
    }
  }
}

}  // namespace lucid::cuda
