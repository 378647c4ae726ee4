// Convolution and pooling over NCHW images.
// Kernels: kernels/cpu/conv2d.cpp (im2col + GEMM), kernels/cpu/pool2d.cpp.
#pragma once
#include <array>

#include <lucid/kernels/tensor.h>

namespace lucid::nn::functional {

using Pair = std::array<int64_t, 2>;

// input [N, C_in, H, W] (or unbatched [C_in, H, W]), weight [C_out, C_in/groups, kH, kW]
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              Pair stride = {1, 1}, Pair padding = {0, 0}, Pair dilation = {1, 1},
              int64_t groups = 1);

// stride defaults to kernel_size when given as {0, 0}, as PyTorch's stride=None
Tensor max_pool2d(const Tensor& input, Pair kernel_size, Pair stride = {0, 0},
                  Pair padding = {0, 0}, Pair dilation = {1, 1}, bool ceil_mode = false);
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Pair kernel_size,
                                                   Pair stride = {0, 0}, Pair padding = {0, 0},
                                                   Pair dilation = {1, 1}, bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& input, Pair kernel_size, Pair stride = {0, 0},
                  Pair padding = {0, 0}, bool ceil_mode = false, bool count_include_pad = true);
Tensor adaptive_avg_pool2d(const Tensor& input, Pair output_size);

}  // namespace lucid::nn::functional
