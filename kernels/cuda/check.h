// Checked CUDA, cuBLAS and cuDNN calls, for lucid's backend code (.cu and the
// host code in kernels/cuda/). Every call into those libraries goes through one
// of these macros; a failure throws lucid::Error naming the call, file:line and
// the library's own error string, e.g.
//   "CUDA error: cudaMalloc(&p, n) failed at kernels/cuda/allocator.cpp:41:
//    out of memory (cudaErrorMemoryAllocation)"
//
//   LUCID_CUDA_CHECK(call)          a CUDA runtime call
//   LUCID_CUBLAS_CHECK(call)        a cuBLAS call
//   LUCID_CUDNN_CHECK(call)         a cuDNN call
//   LUCID_CUDA_CHECK_LAUNCH(name)   right after a kernel launch (<<<...>>>):
//                                   bad launch geometry, too many resources
//
// Also here: stream(), the current stream to launch on.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <lucid/kernels/cuda/runtime.h>

namespace lucid::cuda::detail {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t st, const char* call, const char* file, int line);
[[noreturn]] void throw_cudnn_error(cudnnStatus_t st, const char* call, const char* file, int line);

inline void check_cuda(cudaError_t err, const char* call, const char* file, int line) {
  if (err != cudaSuccess) throw_cuda_error(err, call, file, line);
}
inline void check_cublas(cublasStatus_t st, const char* call, const char* file, int line) {
  if (st != CUBLAS_STATUS_SUCCESS) throw_cublas_error(st, call, file, line);
}
inline void check_cudnn(cudnnStatus_t st, const char* call, const char* file, int line) {
  if (st != CUDNN_STATUS_SUCCESS) throw_cudnn_error(st, call, file, line);
}

}  // namespace lucid::cuda::detail

namespace lucid::cuda {

// The current stream of the current device: where every kernel is launched.
inline cudaStream_t stream() {
  return static_cast<cudaStream_t>(detail::current_stream_handle(-1));
}

}  // namespace lucid::cuda

#define LUCID_CUDA_CHECK(call) ::lucid::cuda::detail::check_cuda((call), #call, __FILE__, __LINE__)
#define LUCID_CUBLAS_CHECK(call) ::lucid::cuda::detail::check_cublas((call), #call, __FILE__, __LINE__)
#define LUCID_CUDNN_CHECK(call) ::lucid::cuda::detail::check_cudnn((call), #call, __FILE__, __LINE__)
#define LUCID_CUDA_CHECK_LAUNCH(name) \
  ::lucid::cuda::detail::check_cuda(cudaGetLastError(), "launch of " name, __FILE__, __LINE__)
