// 2-D pooling on a GPU: max (with int64 indices), average, adaptive average, and
// their backward passes, on contiguous NCHW tensors in float32 or float64. The
// CUDA path of autograd/ops/conv.cpp; the reference is kernels/cpu/pool2d.h,
// whose window rules, index rule (last NaN wins, else the first maximum) and
// summation order these kernels repeat, so they give the CPU's bits.
//
// Custom kernels, not cuDNN: lucid's max pooling returns the argmax indices and
// both poolings take ceil_mode, which cudnnPoolingForward cannot do. (PyTorch
// also runs its own CUDA kernels for these ops, not cuDNN's.)
//
// Parameters are checked once, at the op entry (cpu::check_pool2d_params).
#pragma once
#include <lucid/kernels/cpu/pool2d.h>
#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

// output, indices [N, C, H_out, W_out]; indices are flat ih*W + iw within a plane.
void max_pool2d_forward(const cpu::Pool2dParams& p, const Tensor& input, const Tensor& output,
                        const Tensor& indices);
// grad_input [N, C, H, W] (overwritten). indices as max_pool2d_forward made them.
void max_pool2d_backward(const cpu::Pool2dParams& p, const Tensor& grad_output, const Tensor& indices,
                         const Tensor& grad_input);

// Dilation 1; p.pad_counting and p.rounding as in the CPU kernels.
void avg_pool2d_forward(const cpu::Pool2dParams& p, const Tensor& input, const Tensor& output);
void avg_pool2d_backward(const cpu::Pool2dParams& p, const Tensor& grad_output, const Tensor& grad_input);

void adaptive_avg_pool2d_forward(const cpu::AdaptivePool2dParams& p, const Tensor& input,
                                 const Tensor& output);
void adaptive_avg_pool2d_backward(const cpu::AdaptivePool2dParams& p, const Tensor& grad_output,
                                  const Tensor& grad_input);

}  // namespace lucid::cuda
