#include <lucid/kernels/cuda/check.h>
#include <lucid/kernels/cuda/handles.h>

#include <map>

namespace lucid::cuda {

namespace {

// RAII owners; destroying at thread exit may find the runtime gone: ignore errors.
struct CublasOwner {
  cublasHandle_t h = nullptr;
  CublasOwner() { LUCID_CUBLAS_CHECK(cublasCreate(&h)); }
  ~CublasOwner() { (void)cublasDestroy(h); }
  CublasOwner(const CublasOwner&) = delete;
  CublasOwner& operator=(const CublasOwner&) = delete;
};

struct CudnnOwner {
  cudnnHandle_t h = nullptr;
  CudnnOwner() { LUCID_CUDNN_CHECK(cudnnCreate(&h)); }
  ~CudnnOwner() { (void)cudnnDestroy(h); }
  CudnnOwner(const CudnnOwner&) = delete;
  CudnnOwner& operator=(const CudnnOwner&) = delete;
};

}  // namespace

cublasHandle_t cublas_handle() {
  thread_local std::map<int, CublasOwner> handles;
  cublasHandle_t h = handles[current_device()].h;  // created on the current device
  LUCID_CUBLAS_CHECK(cublasSetStream(h, stream()));
  return h;
}

cudnnHandle_t cudnn_handle() {
  thread_local std::map<int, CudnnOwner> handles;
  cudnnHandle_t h = handles[current_device()].h;
  LUCID_CUDNN_CHECK(cudnnSetStream(h, stream()));
  return h;
}

}  // namespace lucid::cuda
