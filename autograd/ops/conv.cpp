// conv2d and 2-D pooling: validate, reach the NCHW kernels (CPU: kernels/cpu/
// conv2d.cpp, kernels/cpu/pool2d.cpp; CUDA: cuDNN through kernels/cuda/conv2d.cpp,
// our own kernels in kernels/cuda/pool2d.cu), record the backward.
//
// Unbatched input [C, H, W] runs as [1, C, H, W]; its gradient is reshaped back.
// Every op checks its shapes here with messages naming the op and the shapes,
// once, before any kernel runs (the kernels assume valid parameters).
#include <lucid/autograd/ops/conv.h>

#include <lucid/autograd/ops/device_check.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/cpu/conv2d.h>
#include <lucid/kernels/cpu/float_dispatch.h>
#include <lucid/kernels/cpu/pool2d.h>
#include <lucid/kernels/cuda/conv2d.h>
#include <lucid/kernels/cuda/pool2d.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/factory.h>

namespace lucid::nn::functional {

using autograd::Context;
using cpu::visit_float;
using Grads = std::vector<Tensor>;

namespace {

// x as a packed [N, C, H, W] tensor (a leading 1 for unbatched [C, H, W]).
Tensor as_batched(const char* op, const Tensor& x) {
  LUCID_CHECK(x.defined(), op, ": undefined input");
  LUCID_CHECK(x.dim() == 3 || x.dim() == 4, op,
              ": expected a 3-D (unbatched) or 4-D (batched) input, got shape ", x.sizes());
  check_float_math(op, x.dtype());
  NoGradGuard ng;
  return (x.dim() == 3 ? x.unsqueeze(0) : x).contiguous();
}

// Drops the leading 1 again for an unbatched input.
Tensor like_input(const Tensor& out, const Tensor& input) {
  NoGradGuard ng;
  return input.dim() == 3 ? out.squeeze(0) : out;
}

void check_pair(const char* op, const char* what, Pair v, int64_t min) {
  LUCID_CHECK(v[0] >= min && v[1] >= min, op, ": ", what, " (", v[0], ", ", v[1], ") must be ",
              min == 0 ? "non-negative" : "positive");
}

}  // namespace

// ---- conv2d ---------------------------------------------------------------------------

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Pair stride,
              Pair padding, Pair dilation, int64_t groups) {
  LUCID_CHECK(input.defined(), "conv2d: undefined input");
  check_same_device("conv2d", "weight", weight, input);
  check_same_device("conv2d", "bias", bias, input);
  const Tensor x = as_batched("conv2d", input);
  LUCID_CHECK(weight.defined() && weight.dim() == 4,
              "conv2d: expected a 4-D weight [C_out, C_in/groups, kH, kW], got ",
              weight.defined() ? shape_str(weight.sizes()) : "an undefined tensor");
  LUCID_CHECK(weight.dtype() == input.dtype() && (!bias.defined() || bias.dtype() == input.dtype()),
              "conv2d: input, weight and bias must share a dtype, got ", input.dtype(), ", ",
              weight.dtype(), (bias.defined() ? std::string(", ") + dtype_name(bias.dtype()) : ""));
  check_pair("conv2d", "stride", stride, 1);
  check_pair("conv2d", "padding", padding, 0);
  check_pair("conv2d", "dilation", dilation, 1);
  LUCID_CHECK(groups > 0, "conv2d: groups must be positive, got ", groups);
  cpu::Conv2dParams p;
  p.N = x.size(0), p.C_in = x.size(1), p.H = x.size(2), p.W = x.size(3);
  p.C_out = weight.size(0), p.kH = weight.size(2), p.kW = weight.size(3);
  p.stride_h = stride[0], p.stride_w = stride[1];
  p.pad_h = padding[0], p.pad_w = padding[1];
  p.dilation_h = dilation[0], p.dilation_w = dilation[1];
  p.groups = groups;
  LUCID_CHECK(p.C_in == weight.size(1) * groups, "conv2d: input ", input.sizes(), " has ", p.C_in,
              " channels, but weight ", weight.sizes(), " with groups = ", groups, " expects ",
              weight.size(1) * groups, " (weight.size(1) * groups)");
  LUCID_CHECK(p.C_out % groups == 0, "conv2d: weight ", weight.sizes(), " has ", p.C_out,
              " output channels, not divisible by groups = ", groups);
  LUCID_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == p.C_out), "conv2d: bias ",
              bias.defined() ? bias.sizes() : Shape{}, " does not match weight ", weight.sizes(),
              " (expected [", p.C_out, "])");
  const int64_t kh_eff = dilation[0] * (p.kH - 1) + 1, kw_eff = dilation[1] * (p.kW - 1) + 1;
  LUCID_CHECK(p.H + 2 * p.pad_h >= kh_eff && p.W + 2 * p.pad_w >= kw_eff, "conv2d: padded input ",
              p.H + 2 * p.pad_h, "x", p.W + 2 * p.pad_w, " (input ", input.sizes(), ", padding (",
              p.pad_h, ", ", p.pad_w, ")) is smaller than the dilated kernel ", kh_eff, "x", kw_eff,
              " (weight ", weight.sizes(), ")");
  cpu::check_conv2d_params(p);

  Tensor w, b;
  {
    NoGradGuard ng;
    w = weight.contiguous();
    if (bias.defined()) b = bias.contiguous();
  }
  Tensor out = empty({p.N, p.C_out, p.H_out(), p.W_out()}, x.options());
  dispatch(
      "conv2d", x.device(),
      [&] {
        visit_float(x.dtype(), [&](auto tag) {
          using T = decltype(tag);
          cpu::conv2d_forward(p, x.data_ptr<T>(), w.data_ptr<T>(), b.defined() ? b.data_ptr<T>() : nullptr,
                              out.data_ptr<T>());
        });
      },
      [&] { cuda::conv2d_forward(p, x, w, b, out); });
  out = like_input(out, input);

  if (autograd::needs_grad({&input, &weight, &bias}))
    // d conv = (conv_transpose(g, W), correlate(x, g), sum of g over N, H_out, W_out)
    autograd::record("conv2d", {input, weight, bias}, {&out}, {x, w}, [p](const Context& c, const Grads& g) {
      const Tensor& x = c.saved(0);
      const Tensor& w = c.saved(1);
      const Tensor go = g[0].contiguous();
      Tensor gx, gw, gb;
      if (c.needs_input_grad(0)) gx = empty(x.sizes(), x.options());
      if (c.needs_input_grad(1)) gw = empty(w.sizes(), w.options());
      if (c.needs_input_grad(2)) gb = empty({p.C_out}, w.options());
      dispatch(
          "conv2d_backward", go.device(),
          [&] {
            visit_float(go.dtype(), [&](auto tag) {
              using T = decltype(tag);
              if (gx.defined()) cpu::conv2d_backward_input(p, go.data_ptr<T>(), w.data_ptr<T>(), gx.data_ptr<T>());
              if (gw.defined()) cpu::conv2d_backward_weight(p, go.data_ptr<T>(), x.data_ptr<T>(), gw.data_ptr<T>());
              if (gb.defined()) cpu::conv2d_backward_bias(p, go.data_ptr<T>(), gb.data_ptr<T>());
            });
          },
          [&] {
            if (gx.defined()) cuda::conv2d_backward_input(p, go, w, gx);
            if (gw.defined()) cuda::conv2d_backward_weight(p, go, x, gw);
            if (gb.defined()) cuda::conv2d_backward_bias(p, go, gb);
          });
      if (gx.defined()) gx = gx.reshape(c.input_sizes(0));
      return Grads{gx, gw, gb};
    });
  return out;
}

// ---- pooling ----------------------------------------------------------------------------

namespace {

// Validates a pooling window on x [N, C, H, W] and fills the kernel's parameters.
cpu::Pool2dParams pool_params(const char* op, const Tensor& input, const Tensor& x, Pair kernel,
                              Pair stride, Pair padding, Pair dilation, bool ceil_mode) {
  check_pair(op, "kernel_size", kernel, 1);
  if (stride[0] == 0 && stride[1] == 0) stride = kernel;  // PyTorch's stride=None
  check_pair(op, "stride", stride, 1);
  check_pair(op, "padding", padding, 0);
  check_pair(op, "dilation", dilation, 1);
  LUCID_CHECK(padding[0] <= kernel[0] / 2 && padding[1] <= kernel[1] / 2, op, ": padding (",
              padding[0], ", ", padding[1], ") must be at most half the kernel size (", kernel[0],
              ", ", kernel[1], ")");
  cpu::Pool2dParams p;
  p.N = x.size(0), p.C = x.size(1), p.H = x.size(2), p.W = x.size(3);
  p.kH = kernel[0], p.kW = kernel[1];
  p.stride_h = stride[0], p.stride_w = stride[1];
  p.pad_h = padding[0], p.pad_w = padding[1];
  p.dilation_h = dilation[0], p.dilation_w = dilation[1];
  p.rounding = ceil_mode ? cpu::PoolRounding::Ceil : cpu::PoolRounding::Floor;
  LUCID_CHECK(p.H > 0 && p.W > 0 && p.C > 0, op, ": input ", input.sizes(),
              " must have non-empty C, H and W");
  LUCID_CHECK(p.H_out() > 0 && p.W_out() > 0, op, ": input ", input.sizes(), " is too small for kernel (",
              kernel[0], ", ", kernel[1], ") with padding (", padding[0], ", ", padding[1],
              ") and dilation (", dilation[0], ", ", dilation[1], "): output would be ", p.H_out(),
              "x", p.W_out());
  // With dilation a window can fall entirely into the padding (input 1x1, kernel
  // 2, padding 1, dilation 2): it would have no element to take. Refused.
  auto first_empty_window = [](int64_t n_out, int64_t size, int64_t k, int64_t stride, int64_t pad,
                               int64_t d) -> int64_t {
    for (int64_t o = 0; o < n_out; ++o) {
      const int64_t start = o * stride - pad;
      bool touches = false;
      for (int64_t t = 0; t < k && !touches; ++t) touches = start + t * d >= 0 && start + t * d < size;
      if (!touches) return o;
    }
    return -1;
  };
  const int64_t empty_h = first_empty_window(p.H_out(), p.H, p.kH, p.stride_h, p.pad_h, p.dilation_h);
  const int64_t empty_w = first_empty_window(p.W_out(), p.W, p.kW, p.stride_w, p.pad_w, p.dilation_w);
  LUCID_CHECK(empty_h < 0 && empty_w < 0, op, ": with input ", input.sizes(), ", kernel (", kernel[0], ", ",
              kernel[1], "), padding (", padding[0], ", ", padding[1], ") and dilation (", dilation[0], ", ",
              dilation[1], "), output ", empty_h >= 0 ? "row " : "column ", empty_h >= 0 ? empty_h : empty_w,
              "'s window lies entirely in the padding");
  cpu::check_pool2d_params(p);
  return p;
}

Shape pool_out_shape(const cpu::Pool2dParams& p) { return {p.N, p.C, p.H_out(), p.W_out()}; }

}  // namespace

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Pair kernel_size, Pair stride,
                                                   Pair padding, Pair dilation, bool ceil_mode) {
  const Tensor x = as_batched("max_pool2d", input);
  const cpu::Pool2dParams p =
      pool_params("max_pool2d", input, x, kernel_size, stride, padding, dilation, ceil_mode);
  Tensor out = empty(pool_out_shape(p), x.options());
  Tensor idx = empty(pool_out_shape(p), TensorOptions(kInt64).device(x.device()));
  dispatch(
      "max_pool2d", x.device(),
      [&] {
        visit_float(x.dtype(), [&](auto tag) {
          using T = decltype(tag);
          cpu::max_pool2d_forward(p, x.data_ptr<T>(), out.data_ptr<T>(), idx.data_ptr<int64_t>());
        });
      },
      [&] { cuda::max_pool2d_forward(p, x, out, idx); });
  out = like_input(out, input);
  idx = like_input(idx, input);
  if (autograd::needs_grad({&input}))
    // d max_pool = g scattered (added) into the argmax cell of each window
    autograd::record("max_pool2d", {input}, {&out}, {idx}, [p](const Context& c, const Grads& g) {
      const Tensor go = g[0].contiguous();
      const Tensor idx = c.saved(0).contiguous();
      Tensor gx = empty({p.N, p.C, p.H, p.W}, go.options());
      dispatch(
          "max_pool2d_backward", go.device(),
          [&] {
            visit_float(go.dtype(), [&](auto tag) {
              using T = decltype(tag);
              cpu::max_pool2d_backward(p, go.data_ptr<T>(), idx.data_ptr<int64_t>(), gx.data_ptr<T>());
            });
          },
          [&] { cuda::max_pool2d_backward(p, go, idx, gx); });
      return Grads{gx.reshape(c.input_sizes(0))};
    });
  return {out, idx};
}

Tensor max_pool2d(const Tensor& input, Pair kernel_size, Pair stride, Pair padding, Pair dilation,
                  bool ceil_mode) {
  return std::get<0>(max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode));
}

Tensor avg_pool2d(const Tensor& input, Pair kernel_size, Pair stride, Pair padding, bool ceil_mode,
                  bool count_include_pad) {
  const Tensor x = as_batched("avg_pool2d", input);
  cpu::Pool2dParams p =
      pool_params("avg_pool2d", input, x, kernel_size, stride, padding, {1, 1}, ceil_mode);
  p.pad_counting = count_include_pad ? cpu::PadCounting::Include : cpu::PadCounting::Exclude;
  Tensor out = empty(pool_out_shape(p), x.options());
  dispatch(
      "avg_pool2d", x.device(),
      [&] {
        visit_float(x.dtype(), [&](auto tag) {
          using T = decltype(tag);
          cpu::avg_pool2d_forward(p, x.data_ptr<T>(), out.data_ptr<T>());
        });
      },
      [&] { cuda::avg_pool2d_forward(p, x, out); });
  out = like_input(out, input);
  if (autograd::needs_grad({&input}))
    // d avg_pool = g / divisor spread over each window
    autograd::record("avg_pool2d", {input}, {&out}, {}, [p](const Context& c, const Grads& g) {
      const Tensor go = g[0].contiguous();
      Tensor gx = empty({p.N, p.C, p.H, p.W}, go.options());
      dispatch(
          "avg_pool2d_backward", go.device(),
          [&] {
            visit_float(go.dtype(), [&](auto tag) {
              using T = decltype(tag);
              cpu::avg_pool2d_backward(p, go.data_ptr<T>(), gx.data_ptr<T>());
            });
          },
          [&] { cuda::avg_pool2d_backward(p, go, gx); });
      return Grads{gx.reshape(c.input_sizes(0))};
    });
  return out;
}

Tensor adaptive_avg_pool2d(const Tensor& input, Pair output_size) {
  const Tensor x = as_batched("adaptive_avg_pool2d", input);
  check_pair("adaptive_avg_pool2d", "output_size", output_size, 1);
  cpu::AdaptivePool2dParams p;
  p.N = x.size(0), p.C = x.size(1), p.H = x.size(2), p.W = x.size(3);
  p.H_out = output_size[0], p.W_out = output_size[1];
  LUCID_CHECK(p.C > 0 && p.H > 0 && p.W > 0, "adaptive_avg_pool2d: input ", input.sizes(),
              " must have non-empty C, H and W");
  cpu::check_adaptive_pool2d_params(p);
  Tensor out = empty({p.N, p.C, p.H_out, p.W_out}, x.options());
  dispatch(
      "adaptive_avg_pool2d", x.device(),
      [&] {
        visit_float(x.dtype(), [&](auto tag) {
          using T = decltype(tag);
          cpu::adaptive_avg_pool2d_forward(p, x.data_ptr<T>(), out.data_ptr<T>());
        });
      },
      [&] { cuda::adaptive_avg_pool2d_forward(p, x, out); });
  out = like_input(out, input);
  if (autograd::needs_grad({&input}))
    // d adaptive_avg_pool = g / window size spread over each (possibly overlapping) window
    autograd::record("adaptive_avg_pool2d", {input}, {&out}, {}, [p](const Context& c, const Grads& g) {
      const Tensor go = g[0].contiguous();
      Tensor gx = empty({p.N, p.C, p.H, p.W}, go.options());
      dispatch(
          "adaptive_avg_pool2d_backward", go.device(),
          [&] {
            visit_float(go.dtype(), [&](auto tag) {
              using T = decltype(tag);
              cpu::adaptive_avg_pool2d_backward(p, go.data_ptr<T>(), gx.data_ptr<T>());
            });
          },
          [&] { cuda::adaptive_avg_pool2d_backward(p, go, gx); });
      return Grads{gx.reshape(c.input_sizes(0))};
    });
  return out;
}

}  // namespace lucid::nn::functional
