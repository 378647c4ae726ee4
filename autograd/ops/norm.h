// Normalization layers' functional forms.
#pragma once
#include <lucid/kernels/tensor.h>

namespace lucid::nn::functional {

// input [N, C, *]. training: normalize with batch statistics (biased variance)
// and update running_mean/var in place with `momentum` (unbiased variance, as
// PyTorch); eval: use the running statistics. weight/bias/running_* optional.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  bool training = false, double momentum = 0.1, double eps = 1e-5);

// normalize over the trailing dims given by normalized_shape
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  double eps = 1e-5);

}  // namespace lucid::nn::functional
