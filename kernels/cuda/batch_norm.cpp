// Batch norm through cuDNN's legacy batch-norm calls (cudnn_ops.h of cuDNN 9).
//
// x [N, C, S] is an N x C x S x 1 NCHW tensor; mode CUDNN_BATCHNORM_SPATIAL
// normalizes each channel over N*S values; the per-channel tensors (weight,
// bias, means, variances) share one 1 x C x 1 x 1 descriptor. Blend factors
// alpha = 1, beta = 0 (overwrite), as floats for float32 data and doubles for
// float64 (cuDNN's rule). Cost (cuDNN's kernels): forward training 2 reads + 1
// write per element, inference 1 + 1, backward 3 reads + 1 write.
#include <lucid/kernels/cuda/batch_norm.h>

#include <limits>

#include <lucid/kernels/cuda/check.h>
#include <lucid/kernels/cuda/copy.h>
#include <lucid/kernels/cuda/cudnn_descriptors.h>
#include <lucid/kernels/cuda/handles.h>
#include <lucid/kernels/cuda/norm.h>
#include <lucid/kernels/factory.h>

namespace lucid::cuda {

namespace {

// The two descriptors of a batch-norm call: data N x C x S x 1, parameters 1 x C x 1 x 1.
struct BatchNormDescriptors {
  TensorDescriptor data, param;
  BatchNormDescriptors(const char* op, ScalarType dtype, int64_t N, int64_t C, int64_t S) {
    constexpr int64_t kMax = std::numeric_limits<int>::max();
    LUCID_CHECK(N <= kMax && C <= kMax && S <= kMax, op, ": cuDNN takes sizes below 2^31, got [N, C, S] = [", N,
                ", ", C, ", ", S, "]");
    LUCID_CHECK(dtype == kFloat32 || dtype == kFloat64, op, ": CUDA kernel supports float32 and float64, got ",
                dtype_name(dtype));
    const cudnnDataType_t t = cudnn_data_type(dtype);
    set_nchw(data, t, N, C, S, 1);
    set_nchw(param, t, 1, C, 1, 1);
  }
};

void check_eps(const char* op, double eps) {
  LUCID_CHECK(eps >= CUDNN_BN_MIN_EPSILON, op, ": eps ", eps, " is below cuDNN's minimum ", CUDNN_BN_MIN_EPSILON);
}

// weight/bias, or the identity (ones/zeros) when the layer has none (affine = false).
Tensor or_ones(const Tensor& t, const Tensor& x, int64_t C) { return t.defined() ? t : ones({C}, x.options()); }
Tensor or_zeros(const Tensor& t, const Tensor& x, int64_t C) { return t.defined() ? t : zeros({C}, x.options()); }

}  // namespace

void batch_norm_forward_training(const Tensor& x, int64_t N, int64_t C, int64_t S, double eps, const Tensor& weight,
                                 const Tensor& bias, const Tensor& y, const Tensor& mean, const Tensor& invstd,
                                 const Tensor& unbiased_var) {
  check_eps("batch_norm", eps);
  if (x.numel() == 0) return;  // C == 0 (training needs N * S > 1)
  BatchNormDescriptors d("batch_norm", x.dtype(), N, C, S);
  const ScalarType t = x.dtype();
  const Tensor w = or_ones(weight, x, C), b = or_zeros(bias, x, C);
  // cuDNN updates running = (1 - factor) running + factor * batch statistic, the
  // variance with Bessel's correction. With factor 1 on zeroed buffers they end
  // up holding the batch mean and unbiased variance; the caller applies lucid's
  // momentum to its own running statistics (any dtype, possibly absent).
  Tensor batch_mean = zeros({C}, x.options());
  cuda::fill(unbiased_var, 0.0);
  LUCID_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, one(t), zero(t), d.data.get(), x.raw_data(), d.data.get(),
      y.raw_data(), d.param.get(), w.raw_data(), b.raw_data(), /*exponentialAverageFactor=*/1.0,
      batch_mean.raw_data(), unbiased_var.raw_data(), eps, mean.raw_data(), invstd.raw_data()));
}

void batch_norm_forward_inference(const Tensor& x, int64_t N, int64_t C, int64_t S, double eps,
                                  const Tensor& weight, const Tensor& bias, const Tensor& mean, const Tensor& var,
                                  const Tensor& y) {
  check_eps("batch_norm", eps);
  if (x.numel() == 0) return;
  BatchNormDescriptors d("batch_norm", x.dtype(), N, C, S);
  const ScalarType t = x.dtype();
  const Tensor w = or_ones(weight, x, C), b = or_zeros(bias, x, C);
  LUCID_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
      cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, one(t), zero(t), d.data.get(), x.raw_data(), d.data.get(),
      y.raw_data(), d.param.get(), w.raw_data(), b.raw_data(), mean.raw_data(), var.raw_data(), eps));
}

void batch_norm_backward(const Tensor& g, const Tensor& x, int64_t N, int64_t C, int64_t S, double eps,
                         const Tensor& mean, const Tensor& invstd, const Tensor& weight, NormStatistics stats,
                         const Tensor& dx, const Tensor& dweight, const Tensor& dbias) {
  check_eps("batch_norm_backward", eps);
  if (stats == NormStatistics::Fixed) {  // eval mode: cuDNN's backward assumes batch statistics
    batch_norm_backward_fixed_stats(g, x, N, C, S, mean, invstd, weight, dx, dweight, dbias);
    return;
  }
  if (x.numel() == 0) return;
  BatchNormDescriptors d("batch_norm_backward", x.dtype(), N, C, S);
  const ScalarType t = x.dtype();
  const Tensor w = or_ones(weight, x, C);
  // cuDNN writes all three gradients: scratch for the ones not wanted
  const Tensor gx = dx.defined() ? dx : empty(x.sizes(), x.options());
  const Tensor gw = dweight.defined() ? dweight : empty({C}, x.options());
  const Tensor gb = dbias.defined() ? dbias : empty({C}, x.options());
  LUCID_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, one(t), zero(t), one(t), zero(t), d.data.get(),
      x.raw_data(), d.data.get(), g.raw_data(), d.data.get(), gx.raw_data(), d.param.get(), w.raw_data(),
      gw.raw_data(), gb.raw_data(), eps, mean.raw_data(), invstd.raw_data()));
}

}  // namespace lucid::cuda
