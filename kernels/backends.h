// Switches for the GPU math libraries, named as PyTorch's torch.backends:
//
//   lucid::backends::cuda::matmul::allow_tf32 = true;  // torch.backends.cuda.matmul.allow_tf32
//   lucid::backends::cudnn::deterministic = true;      // torch.backends.cudnn.deterministic
//
//   cuda::matmul::allow_tf32   float32 matmul may round its inputs to TF32 (10-bit
//                              mantissa) on tensor cores. Default false, as PyTorch.
//   cudnn::allow_tf32          the same for float32 convolutions. Default false in
//                              lucid: fp32 means fp32. (PyTorch defaults this one to
//                              true.)
//   cudnn::deterministic       convolutions use only algorithms that give the same
//                              bits run to run. Default false, as PyTorch.
//   cudnn::benchmark           time every convolution algorithm on the first call for
//                              each shape (cudnnFind*) instead of asking cuDNN's
//                              heuristics (cudnnGet*_v7). Default false, as PyTorch.
//
// Read at every call, so a change applies to the next op. The cuDNN algorithm
// cache keys on these switches too. This header needs no CUDA headers: it
// compiles in every build (in one without CUDA the switches do nothing).
#pragma once
#include <atomic>

namespace lucid::backends {

namespace cuda::matmul {
inline std::atomic<bool> allow_tf32{false};
}  // namespace cuda::matmul

namespace cudnn {
inline std::atomic<bool> allow_tf32{false};  // PyTorch's default is true
inline std::atomic<bool> deterministic{false};
inline std::atomic<bool> benchmark{false};
}  // namespace cudnn

}  // namespace lucid::backends
