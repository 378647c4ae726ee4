// A fake cuBLAS for lucid's CUDA emulator (tests/cuda_emu/README.md): plain CPU
// loops behind exactly the cuBLAS C API that lucid calls (kernels/cuda/gemm.cpp,
// handles.cpp, runtime.cpp), compiled against the real <cublas_v2.h>.
//
//   cublasCreate / cublasDestroy / cublasSetStream      handles
//   cublasGemmStridedBatchedEx                          batched GEMM
//   cublasGetStatusName / cublasGetStatusString         error text
//
// The semantics come from NVIDIA's cuBLAS API reference (docs.nvidia.com/cuda/
// cublas, sections "cublasCreate", "cublasSetStream", "cublas<t>gemm",
// "cublasGemmEx", "cublasGemmStridedBatchedEx", "Scalar Parameters",
// "cublasComputeType_t"), not from lucid's code: the point is to catch lucid
// calling cuBLAS wrongly. Rules enforced:
//
//   handles
//   - cublasCreate(NULL)                                -> CUBLAS_STATUS_INVALID_VALUE
//   - any call on a handle that is null, never created
//     or already destroyed                              -> CUBLAS_STATUS_NOT_INITIALIZED
//   - a handle belongs to the device current at cublasCreate; its GEMM operands
//     must lie inside live allocations of that device (else the emulator aborts,
//     as a GPU would fault), and its stream must be a live stream of that device
//     (the default stream: that device must be current), else the kernel
//     launch fails                                     -> CUBLAS_STATUS_EXECUTION_FAILED
//   GEMM  C_i = alpha op(A_i) op(B_i) + beta C_i,  i < batchCount,  column-major,
//         A_i = A + i*strideA (likewise B_i, C_i), op(X) = X, X^T or X^H (= X^T here)
//   - m, n, k, batchCount < 0                           -> CUBLAS_STATUS_INVALID_VALUE
//   - transa / transb not N, T or C                     -> CUBLAS_STATUS_INVALID_VALUE
//   - lda < max(1, m) if transa == N, else < max(1, k)  -> CUBLAS_STATUS_INVALID_VALUE
//   - ldb < max(1, k) if transb == N, else < max(1, n)  -> CUBLAS_STATUS_INVALID_VALUE
//   - ldc < max(1, m)                                   -> CUBLAS_STATUS_INVALID_VALUE
//   - alpha or beta NULL                                -> CUBLAS_STATUS_INVALID_VALUE
//   - type combinations: only these rows of cublasGemmEx's table are emulated
//       computeType 32F, 32F_PEDANTIC, 32F_FAST_TF32   A, B, C CUDA_R_32F, scalars float
//       computeType 64F, 64F_PEDANTIC                   A, B, C CUDA_R_64F, scalars double
//     any other combination                             -> CUBLAS_STATUS_NOT_SUPPORTED
//   - algo: CUBLAS_GEMM_DEFAULT or CUBLAS_GEMM_ALGO0..23; the deprecated
//     *_TENSOR_OP algos (which may change precision) -> CUBLAS_STATUS_NOT_SUPPORTED
//   - the C_i must not overlap (documented: "otherwise, undefined behavior"); the
//     emulator is stricter than the library here     -> CUBLAS_STATUS_INVALID_VALUE
//   - alpha and beta are read from host memory: the pointer mode is never set by
//     lucid, so it is the default CUBLAS_POINTER_MODE_HOST (a device pointer
//     there aborts the emulator; on a real GPU the host read would crash)
//   - beta == 0: C is not read ("C does not have to be a valid input"), so a NaN
//     in C does not leak into the result; alpha == 0 or k == 0: A and B are not
//     read and C = beta C; m == 0, n == 0 or batchCount == 0: nothing happens
//   - CUBLAS_COMPUTE_32F_FAST_TF32 "allows down-converting inputs to TF32": the
//     emulator always does, rounding every A and B element to 10 mantissa bits
//     (to nearest, ties away from zero, as the cvt.rna.tf32 instruction does);
//     32F and 32F_PEDANTIC use the float inputs exactly.
//   - sums accumulate in double (for float data too) and round to C's type once.
//
// Everything is synchronous: the stream set by cublasSetStream is only stored.
// What is not emulated returns an error status or fails to link, never runs
// silently: add a function here when lucid starts calling it.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "emu_runtime.h"

// The opaque handle the header only declares: what one cuBLAS context remembers.
struct cublasContext {
  int device = 0;                 // the device current at cublasCreate
  cudaStream_t stream = nullptr;  // stored only: every call is synchronous
};

namespace {

// ---- handles -------------------------------------------------------------------------

// The handles created and not yet destroyed, so a stale handle is caught.
std::mutex live_mutex;
std::set<cublasContext*> live_handles;

// True when h came from cublasCreate and has not been destroyed.
bool is_live(cublasHandle_t h) {
  std::lock_guard<std::mutex> lock(live_mutex);
  return h != nullptr && live_handles.count(h) != 0;
}

// ---- GEMM arguments ------------------------------------------------------------------

// The element type of the matrices, and whether inputs are rounded to TF32.
enum class Precision { Float, FloatTf32, Double, Unsupported };

// The rows of cublasGemmEx's "supported combinations" table this file emulates.
Precision precision_of(cudaDataType a, cudaDataType b, cudaDataType c, cublasComputeType_t compute) {
  const bool all_f32 = a == CUDA_R_32F && b == CUDA_R_32F && c == CUDA_R_32F;
  const bool all_f64 = a == CUDA_R_64F && b == CUDA_R_64F && c == CUDA_R_64F;
  if (all_f32 && (compute == CUBLAS_COMPUTE_32F || compute == CUBLAS_COMPUTE_32F_PEDANTIC))
    return Precision::Float;
  if (all_f32 && compute == CUBLAS_COMPUTE_32F_FAST_TF32) return Precision::FloatTf32;
  if (all_f64 && (compute == CUBLAS_COMPUTE_64F || compute == CUBLAS_COMPUTE_64F_PEDANTIC))
    return Precision::Double;
  return Precision::Unsupported;
}

// True for the algorithms that all compute the exact GEMM asked for.
bool algo_supported(cublasGemmAlgo_t algo) {
  return algo == CUBLAS_GEMM_DEFAULT || (algo >= CUBLAS_GEMM_ALGO0 && algo <= CUBLAS_GEMM_ALGO23);
}

bool op_valid(cublasOperation_t op) { return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C; }

// The rows of a stored operand: op(X) is rows x cols, X is stored (op == N) as
// rows x cols, or (op == T/C) as cols x rows.
int64_t stored_rows(cublasOperation_t op, int64_t rows, int64_t cols) { return op == CUBLAS_OP_N ? rows : cols; }
int64_t stored_cols(cublasOperation_t op, int64_t rows, int64_t cols) { return op == CUBLAS_OP_N ? cols : rows; }

// A batch of column-major matrices: element (r, c) of matrix i is at
// base[i*stride + r + c*ld].
struct Batch {
  const void* base;
  int64_t rows, cols, ld, stride;
};

// The element offsets, relative to base, of the first and last element any matrix
// of the batch touches: [0 or (count-1)*stride, ...] plus the last column's end.
void batch_extent(const Batch& x, int64_t count, int64_t& lo, int64_t& hi) {
  const int64_t last_start = (count - 1) * x.stride;
  lo = std::min<int64_t>(0, last_start);
  hi = std::max<int64_t>(0, last_start) + (x.cols - 1) * x.ld + (x.rows - 1);
}

// Aborts unless every byte the batch touches lies in one live allocation of
// `device`: a GPU would fault on a host pointer, another device's memory or a
// read past the end of a buffer.
void require_on_device(const char* name, const Batch& x, int64_t count, size_t elem, int device) {
  int64_t lo = 0, hi = 0;
  batch_extent(x, count, lo, hi);
  const char* first = static_cast<const char*>(x.base) + lo * static_cast<int64_t>(elem);
  const size_t bytes = static_cast<size_t>(hi - lo + 1) * elem;
  if (x.base == nullptr || lucid_emu::device_of(first) != device || !lucid_emu::device_range_valid(first, bytes))
    lucid_emu::fail(std::string("cublasGemmStridedBatchedEx: ") + name + " (" + std::to_string(bytes) +
                    " bytes from " + std::to_string(reinterpret_cast<uintptr_t>(first)) +
                    ") is not inside one allocation of the handle's device " + std::to_string(device));
}

// True when two of the count output matrices share an element: marks every
// element of every C_i in a bitmap over the extent they span.
bool outputs_overlap(const Batch& c, int64_t count) {
  if (count <= 1) return false;
  int64_t lo = 0, hi = 0;
  batch_extent(c, count, lo, hi);
  std::vector<bool> used(static_cast<size_t>(hi - lo + 1), false);
  for (int64_t i = 0; i < count; ++i)
    for (int64_t col = 0; col < c.cols; ++col)
      for (int64_t row = 0; row < c.rows; ++row) {
        const int64_t at = i * c.stride + row + col * c.ld - lo;
        if (used[static_cast<size_t>(at)]) return true;
        used[static_cast<size_t>(at)] = true;
      }
  return false;
}

// x rounded to TF32 (float's 8-bit exponent, 10 of its 23 mantissa bits): to
// nearest, ties away from zero. Adding half of the 13 dropped bits carries into
// the kept ones exactly when the dropped part is >= half; a carry into the
// exponent is the correct rounding up (to infinity past TF32's largest value).
float round_to_tf32(float x) {
  if (!std::isfinite(x)) return x;
  uint32_t bits = 0;
  std::memcpy(&bits, &x, sizeof(bits));
  bits += 0x1000u;       // half of the lowest kept bit, 1 << 13
  bits &= ~0x1FFFu;      // drop the 13 low mantissa bits
  float rounded = 0;
  std::memcpy(&rounded, &bits, sizeof(rounded));
  return rounded;
}

// One GEMM element source: op(X)(r, c) of matrix i of the batch, as double.
template <typename T>
double op_element(const Batch& x, cublasOperation_t op, int64_t i, int64_t r, int64_t c, bool tf32) {
  const T* base = static_cast<const T*>(x.base) + i * x.stride;
  // op(X)(r, c) = X(r, c) when op == N, X(c, r) when op == T or C (real types: no conjugate).
  T v = op == CUBLAS_OP_N ? base[r + c * x.ld] : base[c + r * x.ld];
  if (tf32) v = static_cast<T>(round_to_tf32(static_cast<float>(v)));
  return static_cast<double>(v);
}

// Everything one strided batched GEMM needs, validated.
struct Gemm {
  cublasOperation_t transa, transb;
  int64_t m, n, k, count;
  Batch a, b;      // the stored A and B
  void* c;         // C: m x n, ldc, strideC
  int64_t ldc, stride_c;
  double alpha, beta;
  bool tf32;
};

// C_i(r, c) = alpha * sum_l op(A_i)(r, l) op(B_i)(l, c) + beta * C_i(r, c), for every
// i, r < m, c < n; with beta == 0 the old C is never read, with alpha == 0 neither
// are A and B. Sums in double, rounded once to T.
template <typename T>
void run_gemm(const Gemm& g) {
  for (int64_t i = 0; i < g.count; ++i) {
    T* c_i = static_cast<T*>(g.c) + i * g.stride_c;
    for (int64_t col = 0; col < g.n; ++col) {
      for (int64_t row = 0; row < g.m; ++row) {
        double sum = 0;
        if (g.alpha != 0) {
          for (int64_t l = 0; l < g.k; ++l)
            sum += op_element<T>(g.a, g.transa, i, row, l, g.tf32) * op_element<T>(g.b, g.transb, i, l, col, g.tf32);
        }
        T& out = c_i[row + col * g.ldc];
        double result = g.alpha * sum;
        if (g.beta != 0) result += g.beta * static_cast<double>(out);
        out = static_cast<T>(result);
      }
    }
  }
}

// The scalar *p, read from host memory as the compute type's scalar (float or double).
double read_scalar(const void* p, bool is_double) {
  if (lucid_emu::device_of(p) != -1)
    lucid_emu::fail("cublasGemmStridedBatchedEx: alpha/beta point to device memory, but the pointer mode is "
                    "CUBLAS_POINTER_MODE_HOST (cublasSetPointerMode was never called)");
  return is_double ? *static_cast<const double*>(p) : static_cast<double>(*static_cast<const float*>(p));
}

}  // namespace

// ---- the C API -------------------------------------------------------------------------

// Creates a context on the current device: *handle = a new live handle.
cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
  cublasContext* ctx = new cublasContext;
  ctx->device = lucid_emu::current_device();
  {
    std::lock_guard<std::mutex> lock(live_mutex);
    live_handles.insert(ctx);
  }
  *handle = ctx;
  return CUBLAS_STATUS_SUCCESS;
}

// Releases a live handle; it is stale afterwards.
cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  {
    std::lock_guard<std::mutex> lock(live_mutex);
    if (handle == nullptr || live_handles.erase(handle) == 0) return CUBLAS_STATUS_NOT_INITIALIZED;
  }
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

// Remembers the stream later calls run on (here: are ordered on; they run at once).
cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId) {
  if (!is_live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = streamId;
  return CUBLAS_STATUS_SUCCESS;
}

// C_i = alpha op(A_i) op(B_i) + beta C_i for i < batchCount (the rules: top of file).
cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                          int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype,
                                          int lda, long long int strideA, const void* B, cudaDataType Btype, int ldb,
                                          long long int strideB, const void* beta, void* C, cudaDataType Ctype,
                                          int ldc, long long int strideC, int batchCount,
                                          cublasComputeType_t computeType, cublasGemmAlgo_t algo) {
  if (!is_live(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;

  // Argument rules: op(A) is m x k, op(B) is k x n, C is m x n.
  if (!op_valid(transa) || !op_valid(transb)) return CUBLAS_STATUS_INVALID_VALUE;
  if (m < 0 || n < 0 || k < 0 || batchCount < 0) return CUBLAS_STATUS_INVALID_VALUE;
  if (lda < std::max(1, transa == CUBLAS_OP_N ? m : k)) return CUBLAS_STATUS_INVALID_VALUE;
  if (ldb < std::max(1, transb == CUBLAS_OP_N ? k : n)) return CUBLAS_STATUS_INVALID_VALUE;
  if (ldc < std::max(1, m)) return CUBLAS_STATUS_INVALID_VALUE;
  if (alpha == nullptr || beta == nullptr) return CUBLAS_STATUS_INVALID_VALUE;

  const Precision precision = precision_of(Atype, Btype, Ctype, computeType);
  if (precision == Precision::Unsupported || !algo_supported(algo)) return CUBLAS_STATUS_NOT_SUPPORTED;
  if (m == 0 || n == 0 || batchCount == 0) return CUBLAS_STATUS_SUCCESS;  // nothing to compute

  const bool is_double = precision == Precision::Double;
  const size_t elem = is_double ? sizeof(double) : sizeof(float);
  Gemm g{};
  g.transa = transa, g.transb = transb;
  g.m = m, g.n = n, g.k = k, g.count = batchCount;
  g.a = Batch{A, stored_rows(transa, m, k), stored_cols(transa, m, k), lda, strideA};
  g.b = Batch{B, stored_rows(transb, k, n), stored_cols(transb, k, n), ldb, strideB};
  g.c = C, g.ldc = ldc, g.stride_c = strideC;
  g.alpha = read_scalar(alpha, is_double);  // host memory: read before opening the device
  g.beta = read_scalar(beta, is_double);
  g.tf32 = precision == Precision::FloatTf32;

  const Batch c_batch{C, m, n, ldc, strideC};
  if (outputs_overlap(c_batch, batchCount)) return CUBLAS_STATUS_INVALID_VALUE;

  // A kernel on a destroyed stream, or on another device's (the default stream
  // is the current device's), would fail to launch.
  if (lucid_emu::stream_device(handle->stream) != handle->device) return CUBLAS_STATUS_EXECUTION_FAILED;

  lucid_emu::DeviceScope device(handle->device);  // only this device's memory opens
  const bool reads_ab = g.alpha != 0 && k > 0;
  if (reads_ab) {
    require_on_device("A", g.a, batchCount, elem, handle->device);
    require_on_device("B", g.b, batchCount, elem, handle->device);
  }
  require_on_device("C", c_batch, batchCount, elem, handle->device);
  if (is_double)
    run_gemm<double>(g);
  else
    run_gemm<float>(g);
  return CUBLAS_STATUS_SUCCESS;
}

// The enumerator's name, e.g. "CUBLAS_STATUS_INVALID_VALUE".
const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

// A one-line description of the status, as in the cuBLAS docs' cublasStatus_t table.
const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized (bad or destroyed handle)";
    case CUBLAS_STATUS_ALLOC_FAILED: return "resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an unsupported value or parameter was passed to the function";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "the function requires a feature absent from the device architecture";
    case CUBLAS_STATUS_MAPPING_ERROR: return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal cuBLAS operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR: return "the functionality requested requires some license";
  }
  return "unknown cuBLAS status";
}
