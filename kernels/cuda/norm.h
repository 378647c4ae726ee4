// Layer norm, and batch norm's backward with fixed statistics, on a GPU: the
// twins of kernels/cpu/norm.h (the math is written out there), for float32 and
// float64. Tensors are contiguous and on one GPU; an undefined optional output
// (dx, dweight, dbias) is not computed, an undefined weight/bias means none.
// (Batch norm's other paths go through cuDNN: kernels/cuda/batch_norm.h.)
#pragma once
#include <cstdint>

#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

// x, y [R, M]; weight, bias [M]; mean, invstd [R] written for the backward.
void layer_norm_forward(const Tensor& x, int64_t R, int64_t M, double eps, const Tensor& weight,
                        const Tensor& bias, const Tensor& y, const Tensor& mean, const Tensor& invstd);

// dx [R, M], dweight [M], dbias [M]; the column sums are two deterministic passes.
void layer_norm_backward(const Tensor& g, const Tensor& x, int64_t R, int64_t M, const Tensor& mean,
                         const Tensor& invstd, const Tensor& weight, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias);

// Batch norm over x [N, C, S] normalized with fixed statistics (eval mode):
// dx = g weight invstd, dweight = sum(g x_hat), dbias = sum(g) per channel.
void batch_norm_backward_fixed_stats(const Tensor& g, const Tensor& x, int64_t N, int64_t C, int64_t S,
                                     const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                                     const Tensor& dx, const Tensor& dweight, const Tensor& dbias);

}  // namespace lucid::cuda
