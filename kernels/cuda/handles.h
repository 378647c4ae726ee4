// cuBLAS and cuDNN handles: one per (thread, device), created on first use and
// destroyed at thread exit. Each getter binds the handle to the current stream,
// so library calls are ordered with lucid's own kernels.
#pragma once
#include <cublas_v2.h>
#include <cudnn.h>

namespace lucid::cuda {

cublasHandle_t cublas_handle();  // for the current device and stream
cudnnHandle_t cudnn_handle();    // for the current device and stream

}  // namespace lucid::cuda
