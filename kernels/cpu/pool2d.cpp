// CPU max / average / adaptive-average pooling. The idea, loop structure and
// per-element costs are in pool2d.h; the window rules follow PyTorch's
// aten/src/ATen/native/cpu/{MaxPoolKernel,AvgPoolKernel,AdaptiveAvgPoolKernel}.cpp.
#include <lucid/kernels/cpu/pool2d.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <lucid/kernels/error.h>
#include <lucid/kernels/thread_pool.h>

namespace lucid::cpu {

namespace {

// Division rounding toward minus infinity (C++ '/' rounds toward zero).
int64_t div_floor(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Planes per parallel_for chunk: about 16K window reads, at least one plane.
int64_t planes_per_chunk(int64_t work_per_plane) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, work_per_plane));
}

}  // namespace

int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                         int64_t dilation, PoolRounding rounding) {
  const bool ceil = rounding == PoolRounding::Ceil;
  int64_t out =
      div_floor(in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil ? stride - 1 : 0), stride) +
      1;
  // The last window must start inside the input or the left padding.
  if (ceil && (out - 1) * stride >= in + pad) --out;
  return out;
}

void check_pool2d_params(const Pool2dParams& p) {
  LUCID_CHECK(p.N >= 0 && p.C > 0 && p.H > 0 && p.W > 0, "pool2d: input shape [", p.N, ", ",
              p.C, ", ", p.H, ", ", p.W, "] must have positive C, H, W");
  LUCID_CHECK(p.kH > 0 && p.kW > 0, "pool2d: kernel size (", p.kH, ", ", p.kW,
              ") must be positive");
  LUCID_CHECK(p.stride_h > 0 && p.stride_w > 0, "pool2d: stride (", p.stride_h, ", ",
              p.stride_w, ") must be positive");
  LUCID_CHECK(p.dilation_h > 0 && p.dilation_w > 0, "pool2d: dilation (", p.dilation_h, ", ",
              p.dilation_w, ") must be positive");
  LUCID_CHECK(p.pad_h >= 0 && p.pad_w >= 0 && p.pad_h <= p.kH / 2 && p.pad_w <= p.kW / 2,
              "pool2d: padding (", p.pad_h, ", ", p.pad_w,
              ") must be non-negative and at most half the kernel size (", p.kH, ", ", p.kW,
              ")");
  LUCID_CHECK(p.H_out() > 0 && p.W_out() > 0, "pool2d: input ", p.H, "x", p.W,
              " gives an empty output ", p.H_out(), "x", p.W_out());
}

void check_adaptive_pool2d_params(const AdaptivePool2dParams& p) {
  LUCID_CHECK(p.N >= 0 && p.C > 0 && p.H > 0 && p.W > 0, "adaptive_avg_pool2d: input shape [",
              p.N, ", ", p.C, ", ", p.H, ", ", p.W, "] must have positive C, H, W");
  LUCID_CHECK(p.H_out > 0 && p.W_out > 0, "adaptive_avg_pool2d: output size (", p.H_out, ", ",
              p.W_out, ") must be positive");
}

namespace {

// ---- max pooling -----------------------------------------------------------

template <class T>
void max_forward_impl(const Pool2dParams& p, const T* input, T* output, int64_t* indices) {
  const int64_t H_out = p.H_out(), W_out = p.W_out();
  const int64_t HW = p.H * p.W, P = H_out * W_out;
  parallel_for(0, p.N * p.C, planes_per_chunk(P * p.kH * p.kW), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      const T* in = input + plane * HW;
      for (int64_t oh = 0; oh < H_out; ++oh) {
        // First in-bounds row of the window, and one past the last.
        int64_t h0 = oh * p.stride_h - p.pad_h;
        const int64_t h1 = std::min(h0 + (p.kH - 1) * p.dilation_h + 1, p.H);
        while (h0 < 0) h0 += p.dilation_h;
        for (int64_t ow = 0; ow < W_out; ++ow) {
          int64_t w0 = ow * p.stride_w - p.pad_w;
          const int64_t w1 = std::min(w0 + (p.kW - 1) * p.dilation_w + 1, p.W);
          while (w0 < 0) w0 += p.dilation_w;
          T best = -std::numeric_limits<T>::infinity();
          int64_t best_index = h0 * p.W + w0;
          for (int64_t ih = h0; ih < h1; ih += p.dilation_h) {
            for (int64_t iw = w0; iw < w1; iw += p.dilation_w) {
              const T v = in[ih * p.W + iw];
              if (v > best || std::isnan(v)) {
                best = v;
                best_index = ih * p.W + iw;
              }
            }
          }
          output[plane * P + oh * W_out + ow] = best;
          indices[plane * P + oh * W_out + ow] = best_index;
        }
      }
    }
  });
}

template <class T>
void max_backward_impl(const Pool2dParams& p, const T* grad_output, const int64_t* indices,
                       T* grad_input) {
  const int64_t HW = p.H * p.W, P = p.H_out() * p.W_out();
  // Validate the indices here, on the calling thread, so no worker ever throws.
  for (int64_t i = 0; i < p.N * p.C * P; ++i) {
    LUCID_CHECK(indices[i] >= 0 && indices[i] < HW, "max_pool2d_backward: index ", indices[i],
                " at position ", i, " is outside the input plane of ", HW, " elements");
  }
  parallel_for(0, p.N * p.C, planes_per_chunk(P + HW), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      T* g_in = grad_input + plane * HW;
      std::fill(g_in, g_in + HW, T(0));
      for (int64_t i = 0; i < P; ++i) g_in[indices[plane * P + i]] += grad_output[plane * P + i];
    }
  });
}

// ---- average pooling -------------------------------------------------------

// The in-bounds window [h0, h1) x [w0, w1) of one output pixel and its divisor.
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};

AvgWindow avg_window(const Pool2dParams& p, int64_t oh, int64_t ow) {
  int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
  // Clip to the padded input first: this is the count_include_pad size.
  int64_t h1 = std::min(h0 + p.kH, p.H + p.pad_h), w1 = std::min(w0 + p.kW, p.W + p.pad_w);
  const int64_t padded_size = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0), w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, p.H), w1 = std::min(w1, p.W);
  const int64_t divisor =
      p.pad_counting == PadCounting::Include ? padded_size : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, divisor};
}

void check_avg_pool2d_params(const Pool2dParams& p) {
  LUCID_CHECK(p.dilation_h == 1 && p.dilation_w == 1, "avg_pool2d: dilation (", p.dilation_h,
              ", ", p.dilation_w, ") is not supported; it must be 1");
}

template <class T>
void avg_forward_impl(const Pool2dParams& p, const T* input, T* output) {
  check_avg_pool2d_params(p);
  const int64_t H_out = p.H_out(), W_out = p.W_out();
  const int64_t HW = p.H * p.W, P = H_out * W_out;
  parallel_for(0, p.N * p.C, planes_per_chunk(P * p.kH * p.kW), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      const T* in = input + plane * HW;
      for (int64_t oh = 0; oh < H_out; ++oh) {
        for (int64_t ow = 0; ow < W_out; ++ow) {
          const AvgWindow win = avg_window(p, oh, ow);
          T sum = 0;
          for (int64_t ih = win.h0; ih < win.h1; ++ih)
            for (int64_t iw = win.w0; iw < win.w1; ++iw) sum += in[ih * p.W + iw];
          // The shape check keeps every window partly inside the input; this guard
          // (PyTorch has it too) would write 0 rather than divide by a 0 count.
          const bool empty = win.h0 >= win.h1 || win.w0 >= win.w1;
          output[plane * P + oh * W_out + ow] = empty ? T(0) : sum / T(win.divisor);
        }
      }
    }
  });
}

template <class T>
void avg_backward_impl(const Pool2dParams& p, const T* grad_output, T* grad_input) {
  check_avg_pool2d_params(p);
  const int64_t H_out = p.H_out(), W_out = p.W_out();
  const int64_t HW = p.H * p.W, P = H_out * W_out;
  parallel_for(0, p.N * p.C, planes_per_chunk(P * p.kH * p.kW), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      T* g_in = grad_input + plane * HW;
      std::fill(g_in, g_in + HW, T(0));
      for (int64_t oh = 0; oh < H_out; ++oh) {
        for (int64_t ow = 0; ow < W_out; ++ow) {
          const AvgWindow win = avg_window(p, oh, ow);
          if (win.h0 >= win.h1 || win.w0 >= win.w1) continue;
          const T g = grad_output[plane * P + oh * W_out + ow] / T(win.divisor);
          for (int64_t ih = win.h0; ih < win.h1; ++ih)
            for (int64_t iw = win.w0; iw < win.w1; ++iw) g_in[ih * p.W + iw] += g;
        }
      }
    }
  });
}

// ---- adaptive average pooling ----------------------------------------------

// Output i of out covers input [start, end) of in: floor(i*in/out), ceil((i+1)*in/out).
int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

template <class T>
void adaptive_forward_impl(const AdaptivePool2dParams& p, const T* input, T* output) {
  const int64_t HW = p.H * p.W, P = p.H_out * p.W_out;
  parallel_for(0, p.N * p.C, planes_per_chunk(HW + P), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      const T* in = input + plane * HW;
      for (int64_t oh = 0; oh < p.H_out; ++oh) {
        const int64_t h0 = adaptive_start(oh, p.H, p.H_out), h1 = adaptive_end(oh, p.H, p.H_out);
        for (int64_t ow = 0; ow < p.W_out; ++ow) {
          const int64_t w0 = adaptive_start(ow, p.W, p.W_out);
          const int64_t w1 = adaptive_end(ow, p.W, p.W_out);
          T sum = 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) sum += in[ih * p.W + iw];
          output[plane * P + oh * p.W_out + ow] = sum / T((h1 - h0) * (w1 - w0));
        }
      }
    }
  });
}

template <class T>
void adaptive_backward_impl(const AdaptivePool2dParams& p, const T* grad_output,
                            T* grad_input) {
  const int64_t HW = p.H * p.W, P = p.H_out * p.W_out;
  parallel_for(0, p.N * p.C, planes_per_chunk(HW + P), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      T* g_in = grad_input + plane * HW;
      std::fill(g_in, g_in + HW, T(0));
      for (int64_t oh = 0; oh < p.H_out; ++oh) {
        const int64_t h0 = adaptive_start(oh, p.H, p.H_out), h1 = adaptive_end(oh, p.H, p.H_out);
        for (int64_t ow = 0; ow < p.W_out; ++ow) {
          const int64_t w0 = adaptive_start(ow, p.W, p.W_out);
          const int64_t w1 = adaptive_end(ow, p.W, p.W_out);
          const T g = grad_output[plane * P + oh * p.W_out + ow] / T((h1 - h0) * (w1 - w0));
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) g_in[ih * p.W + iw] += g;
        }
      }
    }
  });
}

}  // namespace

void max_pool2d_forward(const Pool2dParams& p, const float* input, float* output,
                        int64_t* indices) {
  max_forward_impl(p, input, output, indices);
}
void max_pool2d_forward(const Pool2dParams& p, const double* input, double* output,
                        int64_t* indices) {
  max_forward_impl(p, input, output, indices);
}
void max_pool2d_backward(const Pool2dParams& p, const float* grad_output,
                         const int64_t* indices, float* grad_input) {
  max_backward_impl(p, grad_output, indices, grad_input);
}
void max_pool2d_backward(const Pool2dParams& p, const double* grad_output,
                         const int64_t* indices, double* grad_input) {
  max_backward_impl(p, grad_output, indices, grad_input);
}

void avg_pool2d_forward(const Pool2dParams& p, const float* input, float* output) {
  avg_forward_impl(p, input, output);
}
void avg_pool2d_forward(const Pool2dParams& p, const double* input, double* output) {
  avg_forward_impl(p, input, output);
}
void avg_pool2d_backward(const Pool2dParams& p, const float* grad_output, float* grad_input) {
  avg_backward_impl(p, grad_output, grad_input);
}
void avg_pool2d_backward(const Pool2dParams& p, const double* grad_output,
                         double* grad_input) {
  avg_backward_impl(p, grad_output, grad_input);
}

void adaptive_avg_pool2d_forward(const AdaptivePool2dParams& p, const float* input,
                                 float* output) {
  adaptive_forward_impl(p, input, output);
}
void adaptive_avg_pool2d_forward(const AdaptivePool2dParams& p, const double* input,
                                 double* output) {
  adaptive_forward_impl(p, input, output);
}
void adaptive_avg_pool2d_backward(const AdaptivePool2dParams& p, const float* grad_output,
                                  float* grad_input) {
  adaptive_backward_impl(p, grad_output, grad_input);
}
void adaptive_avg_pool2d_backward(const AdaptivePool2dParams& p, const double* grad_output,
                                  double* grad_input) {
  adaptive_backward_impl(p, grad_output, grad_input);
}

}  // namespace lucid::cpu
