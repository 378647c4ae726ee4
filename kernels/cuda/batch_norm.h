// Batch norm on a GPU through cuDNN (legacy API, CUDNN_BATCHNORM_SPATIAL), with
// lucid's semantics (kernels/cpu/norm.h, autograd/ops/norm.cpp): x [N, C, S] is
// seen by cuDNN as N x C x S x 1; weight/bias undefined (affine = false) pass
// ones/zeros; mean and invstd = 1/sqrt(biased var + eps) are saved for the
// backward. Tensors are contiguous, of x's dtype (float32 or float64), on one
// GPU. Every function first checks eps >= CUDNN_BN_MIN_EPSILON (lucid::Error).
#pragma once
#include <cstdint>

#include <lucid/kernels/cpu/norm.h>
#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

using cpu::NormStatistics;

// Training: y, the batch mean and invstd [C], and the batch variance with Bessel's
// correction [C] (for the running-variance update, done by the caller). One cuDNN call.
void batch_norm_forward_training(const Tensor& x, int64_t N, int64_t C, int64_t S, double eps, const Tensor& weight,
                                 const Tensor& bias, const Tensor& y, const Tensor& mean, const Tensor& invstd,
                                 const Tensor& unbiased_var);

// Eval: y normalized with the given mean and (biased) var [C].
void batch_norm_forward_inference(const Tensor& x, int64_t N, int64_t C, int64_t S, double eps,
                                  const Tensor& weight, const Tensor& bias, const Tensor& mean, const Tensor& var,
                                  const Tensor& y);

// dx, dweight, dbias (each may be undefined: not wanted). Batch statistics: cuDNN's
// backward with the saved mean/invstd; fixed statistics (eval): a lucid kernel
// (kernels/cuda/norm.h), since cuDNN has no eval-mode backward.
void batch_norm_backward(const Tensor& g, const Tensor& x, int64_t N, int64_t C, int64_t S, double eps,
                         const Tensor& mean, const Tensor& invstd, const Tensor& weight, NormStatistics stats,
                         const Tensor& dx, const Tensor& dweight, const Tensor& dbias);

}  // namespace lucid::cuda
