// 2-D convolution on a GPU with cuDNN: forward, backward data, backward filter,
// bias add and bias gradient, on contiguous NCHW tensors in float32 or float64.
// The CUDA path of autograd/ops/conv.cpp; the reference is kernels/cpu/conv2d.h
// (same parameters: stride, zero padding, dilation, groups; cross-correlation).
//
// Algorithms: chosen once per (pass, shapes, parameters, dtype, device, switches)
// and cached: by cuDNN's heuristics (cudnnGet*Algorithm_v7), or by timing them
// all (cudnnFind*AlgorithmEx) when backends::cudnn::benchmark is set. With
// backends::cudnn::deterministic only CUDNN_DETERMINISTIC algorithms are used.
// Float32 may use TF32 tensor cores only when backends::cudnn::allow_tf32.
// Workspaces are lucid uint8 tensors (the caching allocator).
//
// Parameters are checked once, at the op entry (cpu::check_conv2d_params).
#pragma once
#include <lucid/kernels/cpu/conv2d.h>
#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

// output [N, C_out, H_out, W_out] = conv(input, weight) + bias; bias may be undefined.
void conv2d_forward(const cpu::Conv2dParams& p, const Tensor& input, const Tensor& weight,
                    const Tensor& bias, const Tensor& output);
// grad_input [N, C_in, H, W] (overwritten).
void conv2d_backward_input(const cpu::Conv2dParams& p, const Tensor& grad_output, const Tensor& weight,
                           const Tensor& grad_input);
// grad_weight [C_out, C_in/groups, kH, kW] (overwritten).
void conv2d_backward_weight(const cpu::Conv2dParams& p, const Tensor& grad_output, const Tensor& input,
                            const Tensor& grad_weight);
// grad_bias [C_out] (overwritten): grad_output summed over N, H_out, W_out, in a
// fixed order (kernels/cuda/conv2d_bias.cu), so deterministic.
void conv2d_backward_bias(const cpu::Conv2dParams& p, const Tensor& grad_output, const Tensor& grad_bias);

}  // namespace lucid::cuda
