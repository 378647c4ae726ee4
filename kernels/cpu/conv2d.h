// CPU 2-D convolution (cross-correlation, like torch.nn.functional.conv2d) on
// raw, contiguous NCHW pointers, for float and double.
//
// Idea: im2col + GEMM. For one image and one group, im2col copies every
// receptive field into a column, giving a matrix
//     columns [K, P]   with K = (C_in/groups)*kH*kW, P = H_out*W_out,
// whose row r = (c*kH + kh)*kW + kw holds input[c, oh*s_h - p_h + kh*d_h,
// ow*s_w - p_w + kw*d_w] for every output pixel (oh, ow) (zero in the padding).
// The weight slice of the group is a row-major matrix [C_out/groups, K], so
//     forward          out_g     [Co_g, P] = W_g   [Co_g, K] * columns [K, P]
//     backward_input   columns   [K, P]    = W_g^T [K, Co_g] * g_out_g [Co_g, P]
//                      then col2im scatter-adds the columns back into dx
//     backward_weight  dW_g      [Co_g, K] += g_out_g [Co_g, P] * columns^T [P, K]
//     backward_bias    db[co] = sum over n, oh, ow of g_out[n, co, oh, ow]
//
// Loop structure: forward and backward_input run parallel_for over the batch
// (one image per chunk; each chunk owns its output slice and its own columns
// buffer, and the GEMM inside runs inline). backward_weight sums over the batch,
// so it loops over images serially in order 0..N-1 and lets the GEMM (and the
// im2col, split over channels) use the threads: the result is bit-identical
// for any thread count. A 1x1, stride-1, unpadded convolution skips im2col
// (columns == input).
//
// Cost per output element, with K = (C_in/groups)*kH*kW:
//   FLOPs: 2*K (+1 with bias). Same for each backward per element of its result
//          (dx: 2*(C_out/groups)*kH*kW per input element, on average; dW: 2*N*P).
//   Bytes: the direct loop would read 2*K*sizeof(T); im2col instead writes and
//          re-reads K*sizeof(T) per output pixel, shared by the C_out/groups
//          output channels of the group, and the GEMM streams the weights
//          once per cache block, so traffic per output element is
//          ~ K*sizeof(T) * (2/(C_out/groups) + 1/P) plus the output write.
//   Scratch: K*P elements of T per image in flight (per thread).
//
// Weight layout is PyTorch's [C_out, C_in/groups, kH, kW]; bias is [C_out].
#pragma once
#include <cstdint>

namespace lucid::cpu {

// Output length of one spatial dimension (PyTorch's formula):
//   floor((in + 2*pad - dilation*(kernel-1) - 1) / stride) + 1
int64_t conv2d_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                           int64_t dilation);

struct Conv2dParams {
  int64_t N = 1, C_in = 1, H = 1, W = 1;  // input  [N, C_in, H, W]
  int64_t C_out = 1, kH = 1, kW = 1;      // weight [C_out, C_in/groups, kH, kW]
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;           // zero padding on both sides
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;

  int64_t H_out() const { return conv2d_output_size(H, kH, stride_h, pad_h, dilation_h); }
  int64_t W_out() const { return conv2d_output_size(W, kW, stride_w, pad_w, dilation_w); }
  int64_t C_in_per_group() const { return C_in / groups; }
  int64_t C_out_per_group() const { return C_out / groups; }
  // Element counts of the tensors the kernels read and write.
  int64_t input_numel() const { return N * C_in * H * W; }
  int64_t weight_numel() const { return C_out * C_in_per_group() * kH * kW; }
  int64_t output_numel() const { return N * C_out * H_out() * W_out(); }
};

// Throws lucid::Error naming the bad field unless the sizes are positive,
// groups divides C_in and C_out, and the output is at least 1x1. The kernels
// below assume it holds: the op entry (autograd/ops/conv.cpp) checks it once.
void check_conv2d_params(const Conv2dParams& p);

// im2col: image [channels, H, W] -> columns [channels*kH*kW, H_out*W_out],
// using p's H, W, kernel, stride, padding and dilation (not p's channel counts).
// col2im is its adjoint: it overwrites image with the scatter-add of columns.
void im2col(const Conv2dParams& p, int64_t channels, const float* image, float* columns);
void im2col(const Conv2dParams& p, int64_t channels, const double* image, double* columns);
void col2im(const Conv2dParams& p, int64_t channels, const float* columns, float* image);
void col2im(const Conv2dParams& p, int64_t channels, const double* columns, double* image);

// output [N, C_out, H_out, W_out] = conv(input, weight) + bias. bias may be null.
void conv2d_forward(const Conv2dParams& p, const float* input, const float* weight,
                    const float* bias, float* output);
void conv2d_forward(const Conv2dParams& p, const double* input, const double* weight,
                    const double* bias, double* output);

// grad_input [N, C_in, H, W] (overwritten) from grad_output [N, C_out, H_out, W_out].
void conv2d_backward_input(const Conv2dParams& p, const float* grad_output,
                           const float* weight, float* grad_input);
void conv2d_backward_input(const Conv2dParams& p, const double* grad_output,
                           const double* weight, double* grad_input);

// grad_weight [C_out, C_in/groups, kH, kW] (overwritten). Deterministic.
void conv2d_backward_weight(const Conv2dParams& p, const float* grad_output,
                            const float* input, float* grad_weight);
void conv2d_backward_weight(const Conv2dParams& p, const double* grad_output,
                            const double* input, double* grad_weight);

// grad_bias [C_out] (overwritten): the sum of grad_output over N, H_out, W_out.
void conv2d_backward_bias(const Conv2dParams& p, const float* grad_output, float* grad_bias);
void conv2d_backward_bias(const Conv2dParams& p, const double* grad_output,
                          double* grad_bias);

}  // namespace lucid::cpu
