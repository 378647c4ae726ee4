// Max / average / adaptive-average pooling kernels (declared in pool2d.h). The
// window rules and the order of every sum repeat kernels/cpu/pool2d.cpp, so the
// results match the CPU bit for bit.
//
// Forward kernels: one thread per OUTPUT element in a grid-stride loop; the
// thread reads its window and writes one value (and one index).
// Backward kernels: one thread per INPUT element, which gathers the gradient of
// every output window that contains it, in ascending output order (the order in
// which the CPU scatter adds them). Each thread owns its grad_input cell: no
// atomics, deterministic, and nothing to zero first.
//   geometry: blocks_for(n) x 256 threads, n = elements of the result
//
// Cost per output element (forward), window kH x kW:
//   max:      kH*kW compares; reads kH*kW*sizeof(T) (overlapping windows mostly
//             hit in L1/L2), writes sizeof(T) + 8 (the int64 index)
//   avg:      kH*kW adds + 1 divide; same reads, writes sizeof(T)
//   adaptive: (H/H_out)*(W/W_out) adds + 1 divide, on average
// Cost per input element (backward), about (kH/stride_h)*(kW/stride_w) windows:
//   max:      that many 8-byte index reads and compares, and a grad read per match
//   avg, adaptive: that many grad reads, divides and adds; writes sizeof(T)
#include <lucid/kernels/cuda/launch.cuh>
#include <lucid/kernels/cuda/pool2d.h>

namespace lucid::cuda {

namespace {

// The window geometry, as plain data for the kernels (Pool2dParams computes
// H_out/W_out in host functions).
struct PoolGeom {
  int64_t H, W, H_out, W_out;
  int64_t kH, kW, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
  bool include_pad;  // avg: PadCounting::Include
};

PoolGeom geom_of(const cpu::Pool2dParams& p) {
  return {p.H,        p.W,        p.H_out(),    p.W_out(),    p.kH,         p.kW,
          p.stride_h, p.stride_w, p.pad_h,      p.pad_w,      p.dilation_h, p.dilation_w,
          p.pad_counting == cpu::PadCounting::Include};
}

// Smallest q >= 0 with q*b >= a (b > 0): the first window start at or past a.
__device__ inline int64_t ceil_div_nonneg(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

// ---- max pooling -------------------------------------------------------------------

template <class T>
__global__ void max_pool_forward_kernel(const T* input, T* output, int64_t* indices, int64_t n, PoolGeom g) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ow = i % g.W_out, oh = (i / g.W_out) % g.H_out, plane = i / (g.W_out * g.H_out);
    const T* in = input + plane * g.H * g.W;
    // First in-bounds row/column of the window (stepping by the dilation), and one past the last.
    int64_t h0 = oh * g.stride_h - g.pad_h, w0 = ow * g.stride_w - g.pad_w;
    const int64_t h1 = min(h0 + (g.kH - 1) * g.dilation_h + 1, g.H);
    const int64_t w1 = min(w0 + (g.kW - 1) * g.dilation_w + 1, g.W);
    while (h0 < 0) h0 += g.dilation_h;
    while (w0 < 0) w0 += g.dilation_w;
    T best = -std::numeric_limits<T>::infinity();
    int64_t best_index = h0 * g.W + w0;
    for (int64_t ih = h0; ih < h1; ih += g.dilation_h) {
      for (int64_t iw = w0; iw < w1; iw += g.dilation_w) {
        const T v = in[ih * g.W + iw];
        if (v > best || v != v) {  // NaN wins (the last one), as in the CPU kernel
          best = v;
          best_index = ih * g.W + iw;
        }
      }
    }
    output[i] = best;
    indices[i] = best_index;
  }
}

template <class T>
__global__ void max_pool_backward_kernel(const T* grad_output, const int64_t* indices, T* grad_input, int64_t n,
                                         PoolGeom g) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t iw = i % g.W, ih = (i / g.W) % g.H, plane = i / (g.W * g.H);
    const int64_t P = g.H_out * g.W_out;
    const T* go = grad_output + plane * P;
    const int64_t* idx = indices + plane * P;
    // Windows whose rows can hold ih: oh*stride_h - pad_h + kh*dilation_h == ih for some kh.
    const int64_t oh0 = ceil_div_nonneg(ih + g.pad_h - (g.kH - 1) * g.dilation_h, g.stride_h);
    const int64_t oh1 = min((ih + g.pad_h) / g.stride_h + 1, g.H_out);
    const int64_t ow0 = ceil_div_nonneg(iw + g.pad_w - (g.kW - 1) * g.dilation_w, g.stride_w);
    const int64_t ow1 = min((iw + g.pad_w) / g.stride_w + 1, g.W_out);
    const int64_t self = ih * g.W + iw;
    T sum = 0;
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = ow0; ow < ow1; ++ow)
        if (idx[oh * g.W_out + ow] == self) sum += go[oh * g.W_out + ow];
    grad_input[i] = sum;
  }
}

// ---- average pooling ---------------------------------------------------------------

// The in-bounds window [h0, h1) x [w0, w1) of output (oh, ow) and its divisor:
// cpu::avg_window, line for line.
struct AvgWindow {
  int64_t h0, h1, w0, w1, divisor;
};

__device__ inline AvgWindow avg_window(const PoolGeom& g, int64_t oh, int64_t ow) {
  int64_t h0 = oh * g.stride_h - g.pad_h, w0 = ow * g.stride_w - g.pad_w;
  // Clip to the padded input first: this is the count_include_pad size.
  int64_t h1 = min(h0 + g.kH, g.H + g.pad_h), w1 = min(w0 + g.kW, g.W + g.pad_w);
  const int64_t padded_size = (h1 - h0) * (w1 - w0);
  h0 = max(h0, int64_t(0)), w0 = max(w0, int64_t(0));
  h1 = min(h1, g.H), w1 = min(w1, g.W);
  return {h0, h1, w0, w1, g.include_pad ? padded_size : (h1 - h0) * (w1 - w0)};
}

template <class T>
__global__ void avg_pool_forward_kernel(const T* input, T* output, int64_t n, PoolGeom g) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ow = i % g.W_out, oh = (i / g.W_out) % g.H_out, plane = i / (g.W_out * g.H_out);
    const T* in = input + plane * g.H * g.W;
    const AvgWindow win = avg_window(g, oh, ow);
    T sum = 0;
    for (int64_t ih = win.h0; ih < win.h1; ++ih)
      for (int64_t iw = win.w0; iw < win.w1; ++iw) sum += in[ih * g.W + iw];
    const bool empty = win.h0 >= win.h1 || win.w0 >= win.w1;  // never, after the shape check
    output[i] = empty ? T(0) : sum / T(win.divisor);
  }
}

template <class T>
__global__ void avg_pool_backward_kernel(const T* grad_output, T* grad_input, int64_t n, PoolGeom g) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t iw = i % g.W, ih = (i / g.W) % g.H, plane = i / (g.W * g.H);
    const T* go = grad_output + plane * g.H_out * g.W_out;
    // Windows [oh*stride_h - pad_h, + kH) that contain ih (clipping never drops an in-bounds cell).
    const int64_t oh0 = ceil_div_nonneg(ih + g.pad_h - g.kH + 1, g.stride_h);
    const int64_t oh1 = min((ih + g.pad_h) / g.stride_h + 1, g.H_out);
    const int64_t ow0 = ceil_div_nonneg(iw + g.pad_w - g.kW + 1, g.stride_w);
    const int64_t ow1 = min((iw + g.pad_w) / g.stride_w + 1, g.W_out);
    T sum = 0;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const AvgWindow win = avg_window(g, oh, ow);
        sum += go[oh * g.W_out + ow] / T(win.divisor);  // the CPU divides first, then adds
      }
    }
    grad_input[i] = sum;
  }
}

// ---- adaptive average pooling ------------------------------------------------------

// Output o of `out` covers input [start, end) of `in`: floor(o*in/out), ceil((o+1)*in/out).
__device__ inline int64_t adaptive_start(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
__device__ inline int64_t adaptive_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }

template <class T>
__global__ void adaptive_avg_forward_kernel(const T* input, T* output, int64_t n, int64_t H, int64_t W,
                                            int64_t H_out, int64_t W_out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ow = i % W_out, oh = (i / W_out) % H_out, plane = i / (W_out * H_out);
    const T* in = input + plane * H * W;
    const int64_t h0 = adaptive_start(oh, H, H_out), h1 = adaptive_end(oh, H, H_out);
    const int64_t w0 = adaptive_start(ow, W, W_out), w1 = adaptive_end(ow, W, W_out);
    T sum = 0;
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) sum += in[ih * W + iw];
    output[i] = sum / T((h1 - h0) * (w1 - w0));
  }
}

template <class T>
__global__ void adaptive_avg_backward_kernel(const T* grad_output, T* grad_input, int64_t n, int64_t H,
                                             int64_t W, int64_t H_out, int64_t W_out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t iw = i % W, ih = (i / W) % H, plane = i / (W * H);
    const T* go = grad_output + plane * H_out * W_out;
    // The windows containing ih are exactly oh in [floor(ih*H_out/H), ceil((ih+1)*H_out/H)):
    // start(oh) <= ih  <=>  oh*H < (ih+1)*H_out, and end(oh) > ih  <=>  (oh+1)*H > ih*H_out.
    // Those are adaptive_start/adaptive_end with the roles of H and H_out swapped.
    const int64_t oh0 = adaptive_start(ih, H_out, H), oh1 = adaptive_end(ih, H_out, H);
    const int64_t ow0 = adaptive_start(iw, W_out, W), ow1 = adaptive_end(iw, W_out, W);
    T sum = 0;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const int64_t rows = adaptive_end(oh, H, H_out) - adaptive_start(oh, H, H_out);
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        const int64_t cols = adaptive_end(ow, W, W_out) - adaptive_start(ow, W, W_out);
        sum += go[oh * W_out + ow] / T(rows * cols);
      }
    }
    grad_input[i] = sum;
  }
}

}  // namespace

void max_pool2d_forward(const cpu::Pool2dParams& p, const Tensor& input, const Tensor& output,
                        const Tensor& indices) {
  const int64_t n = output.numel();
  if (n == 0) return;
  visit_float_dtype("max_pool2d", input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    max_pool_forward_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
        input.data_ptr<T>(), output.data_ptr<T>(), indices.data_ptr<int64_t>(), n, geom_of(p));
    LUCID_CUDA_CHECK_LAUNCH("max_pool_forward_kernel");
  });
}

void max_pool2d_backward(const cpu::Pool2dParams& p, const Tensor& grad_output, const Tensor& indices,
                         const Tensor& grad_input) {
  const int64_t n = grad_input.numel();
  if (n == 0) return;
  visit_float_dtype("max_pool2d_backward", grad_output.dtype(), [&](auto tag) {
    using T = decltype(tag);
    max_pool_backward_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
        grad_output.data_ptr<T>(), indices.data_ptr<int64_t>(), grad_input.data_ptr<T>(), n, geom_of(p));
    LUCID_CUDA_CHECK_LAUNCH("max_pool_backward_kernel");
  });
}

void avg_pool2d_forward(const cpu::Pool2dParams& p, const Tensor& input, const Tensor& output) {
  const int64_t n = output.numel();
  if (n == 0) return;
  visit_float_dtype("avg_pool2d", input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    avg_pool_forward_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(input.data_ptr<T>(),
                                                                        output.data_ptr<T>(), n, geom_of(p));
    LUCID_CUDA_CHECK_LAUNCH("avg_pool_forward_kernel");
  });
}

void avg_pool2d_backward(const cpu::Pool2dParams& p, const Tensor& grad_output, const Tensor& grad_input) {
  const int64_t n = grad_input.numel();
  if (n == 0) return;
  visit_float_dtype("avg_pool2d_backward", grad_output.dtype(), [&](auto tag) {
    using T = decltype(tag);
    avg_pool_backward_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
        grad_output.data_ptr<T>(), grad_input.data_ptr<T>(), n, geom_of(p));
    LUCID_CUDA_CHECK_LAUNCH("avg_pool_backward_kernel");
  });
}

void adaptive_avg_pool2d_forward(const cpu::AdaptivePool2dParams& p, const Tensor& input,
                                 const Tensor& output) {
  const int64_t n = output.numel();
  if (n == 0) return;
  visit_float_dtype("adaptive_avg_pool2d", input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    adaptive_avg_forward_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
        input.data_ptr<T>(), output.data_ptr<T>(), n, p.H, p.W, p.H_out, p.W_out);
    LUCID_CUDA_CHECK_LAUNCH("adaptive_avg_forward_kernel");
  });
}

void adaptive_avg_pool2d_backward(const cpu::AdaptivePool2dParams& p, const Tensor& grad_output,
                                  const Tensor& grad_input) {
  const int64_t n = grad_input.numel();
  if (n == 0) return;
  visit_float_dtype("adaptive_avg_pool2d_backward", grad_output.dtype(), [&](auto tag) {
    using T = decltype(tag);
    adaptive_avg_backward_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
        grad_output.data_ptr<T>(), grad_input.data_ptr<T>(), n, p.H, p.W, p.H_out, p.W_out);
    LUCID_CUDA_CHECK_LAUNCH("adaptive_avg_backward_kernel");
  });
}

}  // namespace lucid::cuda
