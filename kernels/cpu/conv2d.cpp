// CPU conv2d: im2col/col2im and the GEMM-based forward and backward passes.
// The idea, loop structure and per-element costs are in conv2d.h; the direct
// seven-loop reference these are tested against is in tests/test_conv_kernels.cpp.
#include <lucid/kernels/cpu/conv2d.h>

#include <algorithm>
#include <vector>

#include <lucid/kernels/cpu/gemm.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/thread_pool.h>

namespace lucid::cpu {

int64_t conv2d_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                           int64_t dilation) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  // span < 0 means the kernel does not fit even once; report 0 (checked by the caller).
  return span < 0 ? 0 : span / stride + 1;
}

void check_conv2d_params(const Conv2dParams& p) {
  LUCID_CHECK(p.N >= 0 && p.C_in > 0 && p.H > 0 && p.W > 0, "conv2d: input shape [", p.N,
              ", ", p.C_in, ", ", p.H, ", ", p.W, "] must have positive C, H, W");
  LUCID_CHECK(p.C_out > 0 && p.kH > 0 && p.kW > 0, "conv2d: weight needs positive C_out (",
              p.C_out, ") and kernel size (", p.kH, "x", p.kW, ")");
  LUCID_CHECK(p.stride_h > 0 && p.stride_w > 0, "conv2d: stride (", p.stride_h, ", ",
              p.stride_w, ") must be positive");
  LUCID_CHECK(p.pad_h >= 0 && p.pad_w >= 0, "conv2d: padding (", p.pad_h, ", ", p.pad_w,
              ") must be non-negative");
  LUCID_CHECK(p.dilation_h > 0 && p.dilation_w > 0, "conv2d: dilation (", p.dilation_h,
              ", ", p.dilation_w, ") must be positive");
  LUCID_CHECK(p.groups > 0 && p.C_in % p.groups == 0 && p.C_out % p.groups == 0,
              "conv2d: groups = ", p.groups, " must divide C_in = ", p.C_in,
              " and C_out = ", p.C_out);
  LUCID_CHECK(p.H_out() > 0 && p.W_out() > 0, "conv2d: input ", p.H, "x", p.W,
              " (padding ", p.pad_h, ", ", p.pad_w, ") is smaller than the dilated kernel ",
              p.dilation_h * (p.kH - 1) + 1, "x", p.dilation_w * (p.kW - 1) + 1);
}

namespace {

// True when columns == image, so im2col can be skipped.
bool is_pointwise(const Conv2dParams& p) {
  return p.kH == 1 && p.kW == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 0 &&
         p.pad_w == 0;
}

template <class T>
void im2col_impl(const Conv2dParams& p, int64_t channels, const T* image, T* columns) {
  const int64_t H_out = p.H_out(), W_out = p.W_out(), P = H_out * W_out;
  for (int64_t c = 0; c < channels; ++c) {
    const T* plane = image + c * p.H * p.W;
    for (int64_t kh = 0; kh < p.kH; ++kh) {
      for (int64_t kw = 0; kw < p.kW; ++kw) {
        T* row = columns + ((c * p.kH + kh) * p.kW + kw) * P;
        for (int64_t oh = 0; oh < H_out; ++oh) {
          T* out = row + oh * W_out;
          const int64_t ih = oh * p.stride_h - p.pad_h + kh * p.dilation_h;
          if (ih < 0 || ih >= p.H) {
            std::fill(out, out + W_out, T(0));
            continue;
          }
          const T* in = plane + ih * p.W;
          for (int64_t ow = 0; ow < W_out; ++ow) {
            const int64_t iw = ow * p.stride_w - p.pad_w + kw * p.dilation_w;
            out[ow] = (iw >= 0 && iw < p.W) ? in[iw] : T(0);
          }
        }
      }
    }
  }
}

// The adjoint of im2col: every column entry is added back where it was read.
template <class T>
void col2im_impl(const Conv2dParams& p, int64_t channels, const T* columns, T* image) {
  const int64_t H_out = p.H_out(), W_out = p.W_out(), P = H_out * W_out;
  std::fill(image, image + channels * p.H * p.W, T(0));
  for (int64_t c = 0; c < channels; ++c) {
    T* plane = image + c * p.H * p.W;
    for (int64_t kh = 0; kh < p.kH; ++kh) {
      for (int64_t kw = 0; kw < p.kW; ++kw) {
        const T* row = columns + ((c * p.kH + kh) * p.kW + kw) * P;
        for (int64_t oh = 0; oh < H_out; ++oh) {
          const int64_t ih = oh * p.stride_h - p.pad_h + kh * p.dilation_h;
          if (ih < 0 || ih >= p.H) continue;
          const T* in = row + oh * W_out;
          T* out = plane + ih * p.W;
          for (int64_t ow = 0; ow < W_out; ++ow) {
            const int64_t iw = ow * p.stride_w - p.pad_w + kw * p.dilation_w;
            if (iw >= 0 && iw < p.W) out[iw] += in[ow];
          }
        }
      }
    }
  }
}

template <class T>
void forward_impl(const Conv2dParams& p, const T* input, const T* weight, const T* bias,
                  T* output) {
  const int64_t G = p.groups, Ci = p.C_in_per_group(), Co = p.C_out_per_group();
  const int64_t P = p.H_out() * p.W_out(), K = Ci * p.kH * p.kW;
  const bool pointwise = is_pointwise(p);
  parallel_for(0, p.N, 1, [&](int64_t n0, int64_t n1) {
    std::vector<T> scratch(pointwise ? 0 : K * P);
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t g = 0; g < G; ++g) {
        const T* image = input + (n * p.C_in + g * Ci) * p.H * p.W;
        const T* columns = image;
        if (!pointwise) {
          im2col_impl(p, Ci, image, scratch.data());
          columns = scratch.data();
        }
        T* out = output + (n * p.C_out + g * Co) * P;
        gemm(Transpose::No, Transpose::No, Co, P, K, T(1), weight + g * Co * K, K, columns,
             P, T(0), out, P);
      }
      if (bias != nullptr) {
        for (int64_t co = 0; co < p.C_out; ++co) {
          T* out = output + (n * p.C_out + co) * P;
          for (int64_t i = 0; i < P; ++i) out[i] += bias[co];
        }
      }
    }
  });
}

template <class T>
void backward_input_impl(const Conv2dParams& p, const T* grad_output, const T* weight,
                         T* grad_input) {
  const int64_t G = p.groups, Ci = p.C_in_per_group(), Co = p.C_out_per_group();
  const int64_t P = p.H_out() * p.W_out(), K = Ci * p.kH * p.kW;
  const bool pointwise = is_pointwise(p);
  parallel_for(0, p.N, 1, [&](int64_t n0, int64_t n1) {
    std::vector<T> scratch(pointwise ? 0 : K * P);
    for (int64_t n = n0; n < n1; ++n) {
      for (int64_t g = 0; g < G; ++g) {
        const T* g_out = grad_output + (n * p.C_out + g * Co) * P;
        T* g_in = grad_input + (n * p.C_in + g * Ci) * p.H * p.W;
        // columns [K, P] = W_g^T [K, Co] * g_out [Co, P]; pointwise writes dx directly.
        T* columns = pointwise ? g_in : scratch.data();
        gemm(Transpose::Yes, Transpose::No, K, P, Co, T(1), weight + g * Co * K, K, g_out,
             P, T(0), columns, P);
        if (!pointwise) col2im_impl(p, Ci, columns, g_in);
      }
    }
  });
}

template <class T>
void backward_weight_impl(const Conv2dParams& p, const T* grad_output, const T* input,
                          T* grad_weight) {
  const int64_t G = p.groups, Ci = p.C_in_per_group(), Co = p.C_out_per_group();
  const int64_t P = p.H_out() * p.W_out(), K = Ci * p.kH * p.kW;
  const int64_t kk = p.kH * p.kW, HW = p.H * p.W;
  const bool pointwise = is_pointwise(p);
  if (p.N == 0) std::fill(grad_weight, grad_weight + p.weight_numel(), T(0));
  std::vector<T> scratch(pointwise ? 0 : K * P);
  // Images in order 0..N-1: dW_g = sum_n g_out_g(n) * columns(n)^T, accumulated by
  // the GEMM's beta (0 for the first image, 1 after), so the sum order is fixed.
  for (int64_t n = 0; n < p.N; ++n) {
    for (int64_t g = 0; g < G; ++g) {
      const T* image = input + (n * p.C_in + g * Ci) * HW;
      const T* columns = image;
      if (!pointwise) {
        T* cols = scratch.data();
        parallel_for(0, Ci, 1, [&](int64_t c0, int64_t c1) {
          im2col_impl(p, c1 - c0, image + c0 * HW, cols + c0 * kk * P);
        });
        columns = cols;
      }
      const T* g_out = grad_output + (n * p.C_out + g * Co) * P;
      gemm(Transpose::No, Transpose::Yes, Co, K, P, T(1), g_out, P, columns, P,
           n == 0 ? T(0) : T(1), grad_weight + g * Co * K, K);
    }
  }
}

template <class T>
void backward_bias_impl(const Conv2dParams& p, const T* grad_output, T* grad_bias) {
  const int64_t P = p.H_out() * p.W_out();
  // One channel per chunk, summed in (n, pixel) order: deterministic.
  parallel_for(0, p.C_out, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t co = c0; co < c1; ++co) {
      T sum = 0;
      for (int64_t n = 0; n < p.N; ++n) {
        const T* g = grad_output + (n * p.C_out + co) * P;
        for (int64_t i = 0; i < P; ++i) sum += g[i];
      }
      grad_bias[co] = sum;
    }
  });
}

}  // namespace

void im2col(const Conv2dParams& p, int64_t channels, const float* image, float* columns) {
  im2col_impl(p, channels, image, columns);
}
void im2col(const Conv2dParams& p, int64_t channels, const double* image, double* columns) {
  im2col_impl(p, channels, image, columns);
}
void col2im(const Conv2dParams& p, int64_t channels, const float* columns, float* image) {
  col2im_impl(p, channels, columns, image);
}
void col2im(const Conv2dParams& p, int64_t channels, const double* columns, double* image) {
  col2im_impl(p, channels, columns, image);
}

void conv2d_forward(const Conv2dParams& p, const float* input, const float* weight,
                    const float* bias, float* output) {
  forward_impl(p, input, weight, bias, output);
}
void conv2d_forward(const Conv2dParams& p, const double* input, const double* weight,
                    const double* bias, double* output) {
  forward_impl(p, input, weight, bias, output);
}

void conv2d_backward_input(const Conv2dParams& p, const float* grad_output,
                           const float* weight, float* grad_input) {
  backward_input_impl(p, grad_output, weight, grad_input);
}
void conv2d_backward_input(const Conv2dParams& p, const double* grad_output,
                           const double* weight, double* grad_input) {
  backward_input_impl(p, grad_output, weight, grad_input);
}

void conv2d_backward_weight(const Conv2dParams& p, const float* grad_output,
                            const float* input, float* grad_weight) {
  backward_weight_impl(p, grad_output, input, grad_weight);
}
void conv2d_backward_weight(const Conv2dParams& p, const double* grad_output,
                            const double* input, double* grad_weight) {
  backward_weight_impl(p, grad_output, input, grad_weight);
}

void conv2d_backward_bias(const Conv2dParams& p, const float* grad_output, float* grad_bias) {
  backward_bias_impl(p, grad_output, grad_bias);
}
void conv2d_backward_bias(const Conv2dParams& p, const double* grad_output,
                          double* grad_bias) {
  backward_bias_impl(p, grad_output, grad_bias);
}

}  // namespace lucid::cpu
