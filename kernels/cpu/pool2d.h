// CPU 2-D pooling (max, average, adaptive average) on raw, contiguous NCHW
// pointers, for float and double, with PyTorch's exact window and size rules.
//
// Idea: each of the N*C planes is pooled on its own. Output pixel (oh, ow) looks
// at the window of input rows  oh*stride_h - pad_h + kh*dilation_h, kh < kH
// (columns likewise); positions in the padding are skipped, never read.
//   max:      value = max over the window (NaN wins), index = ih*W + iw of that
//             maximum, a flat index into its input plane (return_indices=True).
//   avg:      value = sum over the in-bounds window / divisor, where the divisor
//             counts the padding cells (PadCounting::Include, PyTorch's default
//             count_include_pad=True) or only the in-bounds cells (Exclude). As in
//             PyTorch, a ceil_mode window that hangs past the right padding never
//             counts the cells beyond it.
//   adaptive: output row i covers input rows [floor(i*H/H_out), ceil((i+1)*H/H_out)).
// The backward passes are the adjoints: max scatter-adds grad into the argmax
// cell; avg and adaptive spread grad/divisor over the window. They overwrite
// grad_input.
//
// Loop structure: parallel_for over the N*C planes; each chunk owns whole
// planes of the output and of grad_input, so every kernel is deterministic.
//
// Cost per output element (window of kH*kW cells):
//   FLOPs: kH*kW compares (max) or adds + 1 divide (avg); backward the same.
//   Bytes: reads kH*kW*sizeof(T) (windows overlap, so from cache, about
//          (stride_h*stride_w)*sizeof(T) per output from memory), writes
//          sizeof(T) (+ 8 for the int64 index of max pooling).
#pragma once
#include <cstdint>

namespace lucid::cpu {

// PyTorch's ceil_mode: how the output length is rounded.
enum class PoolRounding { Floor, Ceil };
// PyTorch's count_include_pad for average pooling.
enum class PadCounting { Include, Exclude };

// Output length of one spatial dimension, exactly as PyTorch computes it:
//   out = (in + 2*pad - dilation*(kernel-1) - 1 [+ stride-1 if Ceil]) / stride + 1
// and, with Ceil, one less if the last window would start at or past in + pad
// (it must start inside the input or the left padding).
int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                         int64_t dilation, PoolRounding rounding);

struct Pool2dParams {
  int64_t N = 1, C = 1, H = 1, W = 1;  // input [N, C, H, W]
  int64_t kH = 1, kW = 1;
  int64_t stride_h = 1, stride_w = 1;  // PyTorch's default stride is the kernel size
  int64_t pad_h = 0, pad_w = 0;        // at most half the kernel, as PyTorch requires
  int64_t dilation_h = 1, dilation_w = 1;  // max pooling only; avg requires 1
  PoolRounding rounding = PoolRounding::Floor;
  PadCounting pad_counting = PadCounting::Include;  // avg pooling only

  int64_t H_out() const {
    return pool_output_size(H, kH, stride_h, pad_h, dilation_h, rounding);
  }
  int64_t W_out() const {
    return pool_output_size(W, kW, stride_w, pad_w, dilation_w, rounding);
  }
  int64_t input_numel() const { return N * C * H * W; }
  int64_t output_numel() const { return N * C * H_out() * W_out(); }
};

// Throws lucid::Error unless kernel, stride, dilation are positive, padding is in
// [0, kernel/2], and the output is at least 1x1 (PyTorch's pool2d_shape_check).
// The kernels below assume it holds: the op entry (autograd/ops/conv.cpp) checks it once.
void check_pool2d_params(const Pool2dParams& p);

// output, indices: [N, C, H_out, W_out].
void max_pool2d_forward(const Pool2dParams& p, const float* input, float* output,
                        int64_t* indices);
void max_pool2d_forward(const Pool2dParams& p, const double* input, double* output,
                        int64_t* indices);
// grad_input [N, C, H, W] (overwritten): grad_input[plane][indices] += grad_output.
void max_pool2d_backward(const Pool2dParams& p, const float* grad_output,
                         const int64_t* indices, float* grad_input);
void max_pool2d_backward(const Pool2dParams& p, const double* grad_output,
                         const int64_t* indices, double* grad_input);

// Requires dilation 1.
void avg_pool2d_forward(const Pool2dParams& p, const float* input, float* output);
void avg_pool2d_forward(const Pool2dParams& p, const double* input, double* output);
void avg_pool2d_backward(const Pool2dParams& p, const float* grad_output, float* grad_input);
void avg_pool2d_backward(const Pool2dParams& p, const double* grad_output,
                         double* grad_input);

struct AdaptivePool2dParams {
  int64_t N = 1, C = 1, H = 1, W = 1;  // input  [N, C, H, W]
  int64_t H_out = 1, W_out = 1;        // output [N, C, H_out, W_out]
};
void check_adaptive_pool2d_params(const AdaptivePool2dParams& p);  // checked once, at the entry

void adaptive_avg_pool2d_forward(const AdaptivePool2dParams& p, const float* input,
                                 float* output);
void adaptive_avg_pool2d_forward(const AdaptivePool2dParams& p, const double* input,
                                 double* output);
void adaptive_avg_pool2d_backward(const AdaptivePool2dParams& p, const float* grad_output,
                                  float* grad_input);
void adaptive_avg_pool2d_backward(const AdaptivePool2dParams& p, const double* grad_output,
                                  double* grad_input);

}  // namespace lucid::cpu
