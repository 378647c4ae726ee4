// batch_norm and layer_norm: validate, reach the fused kernels (kernels/cpu/norm.cpp),
// record one backward each. The formulas are written out in kernels/cpu/norm.h.
#include <lucid/autograd/ops/norm.h>

#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/cpu/float_dispatch.h>
#include <lucid/kernels/cpu/norm.h>
#include <lucid/kernels/cuda/batch_norm.h>
#include <lucid/kernels/cuda/norm.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/factory.h>

namespace lucid::nn::functional {

using autograd::Context;
using cpu::NormStatistics;
using cpu::ptr_or_null;
using cpu::ptr_or_null_mut;
using cpu::visit_float;
using Grads = std::vector<Tensor>;

namespace {

// A per-channel / per-element parameter: undefined, or shape `expected` on input's device.
void check_param(const char* op, const char* what, const Tensor& t, const Tensor& input,
                 const Shape& expected, bool same_dtype) {
  if (!t.defined()) return;
  LUCID_CHECK(t.sizes() == expected, op, ": ", what, " has shape ", t.sizes(), ", expected ",
              expected, " for input ", input.sizes());
  LUCID_CHECK(t.device() == input.device(), op, ": ", what, " is on ", t.device().str(),
              " but input is on ", input.device().str());
  if (same_dtype)
    LUCID_CHECK(t.dtype() == input.dtype(), op, ": ", what, " has dtype ", t.dtype(),
                " but input has dtype ", input.dtype());
  else
    check_float_math(op, t.dtype());
}

Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.contiguous() : t; }

}  // namespace

// ---- batch_norm -------------------------------------------------------------------------

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  LUCID_CHECK(input.defined(), "batch_norm: undefined input");
  LUCID_CHECK(input.dim() >= 2, "batch_norm: expected input [N, C] or [N, C, *], got shape ",
              input.sizes());
  check_float_math("batch_norm", input.dtype());
  const int64_t N = input.size(0), C = input.size(1);
  const int64_t S = C == 0 || N == 0 ? 0 : input.numel() / (N * C);
  check_param("batch_norm", "weight", weight, input, {C}, true);
  check_param("batch_norm", "bias", bias, input, {C}, true);
  check_param("batch_norm", "running_mean", running_mean, input, {C}, false);
  check_param("batch_norm", "running_var", running_var, input, {C}, false);
  LUCID_CHECK(training || (running_mean.defined() && running_var.defined()),
              "batch_norm: running_mean and running_var are needed in eval mode (training = false)");
  LUCID_CHECK(!training || N * S > 1, "batch_norm: expected more than 1 value per channel when "
              "training, got input ", input.sizes());

  Tensor x, w, b, mean, invstd, out;
  {
    NoGradGuard ng;
    x = input.contiguous();
    w = contiguous_or_undefined(weight);
    b = contiguous_or_undefined(bias);
    out = empty(input.sizes(), x.options());
    if (training) {
      // Normalize with the batch's statistics. CPU: the statistics, then the
      // normalization; CUDA: one cuDNN call does both.
      mean = empty({C}, x.options());
      invstd = empty({C}, x.options());
      Tensor unbiased_var;  // the batch variance with Bessel's correction, for running_var
      const double M = static_cast<double>(N * S);
      dispatch(
          "batch_norm", x.device(),
          [&] {
            Tensor var = empty({C}, x.options());
            visit_float(x.dtype(), [&](auto tag) {
              using T = decltype(tag);
              cpu::batch_norm_stats(x.data_ptr<T>(), N, C, S, eps, mean.data_ptr<T>(), var.data_ptr<T>(),
                                    invstd.data_ptr<T>());
              cpu::batch_norm_forward(x.data_ptr<T>(), N, C, S, mean.data_ptr<T>(), invstd.data_ptr<T>(),
                                      ptr_or_null<T>(w), ptr_or_null<T>(b), out.data_ptr<T>());
            });
            unbiased_var = var * (M / (M - 1.0));
          },
          [&] {
            unbiased_var = empty({C}, x.options());
            cuda::batch_norm_forward_training(x, N, C, S, eps, w, b, out, mean, invstd, unbiased_var);
          });
      // running = (1 - momentum) running + momentum * batch statistic (unbiased variance)
      Tensor rm = running_mean, rv = running_var;  // handles onto the caller's buffers
      if (rm.defined()) rm.mul_(1.0 - momentum).add_(mean.to(rm.dtype()), momentum);
      if (rv.defined()) rv.mul_(1.0 - momentum).add_(unbiased_var.to(rv.dtype()), momentum);
    } else {
      // Normalize with the running statistics: copies, so that later updates of
      // them do not change this op's backward.
      mean = running_mean.to(x.dtype()).clone();
      const Tensor var = running_var.to(x.dtype()).contiguous();
      invstd = rsqrt(var + eps).contiguous();
      dispatch(
          "batch_norm", x.device(),
          [&] {
            visit_float(x.dtype(), [&](auto tag) {
              using T = decltype(tag);
              cpu::batch_norm_forward(x.data_ptr<T>(), N, C, S, mean.data_ptr<T>(), invstd.data_ptr<T>(),
                                      ptr_or_null<T>(w), ptr_or_null<T>(b), out.data_ptr<T>());
            });
          },
          [&] { cuda::batch_norm_forward_inference(x, N, C, S, eps, w, b, mean, var, out); });
    }
  }

  if (autograd::needs_grad({&input, &weight, &bias})) {
    const NormStatistics stats = training ? NormStatistics::Batch : NormStatistics::Fixed;
    // training: dx = (1/M) invstd (M g_hat - sum(g_hat) - x_hat sum(g_hat x_hat)), g_hat = g weight;
    // eval: dx = g_hat invstd;  dweight = sum(g x_hat), dbias = sum(g)  (sums over N and *)
    autograd::record("batch_norm", {input, weight, bias}, {&out}, {x, mean, invstd, w},
                     [N, C, S, eps, stats](const Context& c, const Grads& g) {
                       const Tensor go = g[0].contiguous();
                       const Tensor &x = c.saved(0), &mean = c.saved(1), &invstd = c.saved(2), &w = c.saved(3);
                       Tensor gx, gw, gb;
                       if (c.needs_input_grad(0)) gx = empty(x.sizes(), x.options());
                       if (c.needs_input_grad(1)) gw = empty({C}, x.options());
                       if (c.needs_input_grad(2)) gb = empty({C}, x.options());
                       dispatch(
                           "batch_norm_backward", go.device(),
                           [&] {
                             visit_float(go.dtype(), [&](auto tag) {
                               using T = decltype(tag);
                               cpu::batch_norm_backward(go.data_ptr<T>(), x.data_ptr<T>(), N, C, S,
                                                        mean.data_ptr<T>(), invstd.data_ptr<T>(),
                                                        ptr_or_null<T>(w), stats, ptr_or_null_mut<T>(gx),
                                                        ptr_or_null_mut<T>(gw), ptr_or_null_mut<T>(gb));
                             });
                           },
                           [&] { cuda::batch_norm_backward(go, x, N, C, S, eps, mean, invstd, w, stats, gx, gw, gb); });
                       return Grads{gx, gw, gb};
                     });
  }
  return out;
}

// ---- layer_norm -------------------------------------------------------------------------

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  LUCID_CHECK(input.defined(), "layer_norm: undefined input");
  check_float_math("layer_norm", input.dtype());
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  LUCID_CHECK(k >= 1 && k <= input.dim() &&
                  Shape(input.sizes().end() - k, input.sizes().end()) == normalized_shape,
              "layer_norm: input ", input.sizes(), " does not end with normalized_shape ",
              normalized_shape);
  check_param("layer_norm", "weight", weight, input, normalized_shape, true);
  check_param("layer_norm", "bias", bias, input, normalized_shape, true);
  const int64_t M = numel_of(normalized_shape);
  const int64_t R = M == 0 ? 0 : input.numel() / M;

  Tensor x, w, b;
  {
    NoGradGuard ng;
    x = input.contiguous();
    w = contiguous_or_undefined(weight);
    b = contiguous_or_undefined(bias);
  }
  Tensor out = empty(input.sizes(), x.options());
  Tensor mean = empty({R}, x.options()), invstd = empty({R}, x.options());
  dispatch(
      "layer_norm", x.device(),
      [&] {
        visit_float(x.dtype(), [&](auto tag) {
          using T = decltype(tag);
          cpu::layer_norm_forward(x.data_ptr<T>(), R, M, eps, ptr_or_null<T>(w), ptr_or_null<T>(b),
                                  out.data_ptr<T>(), mean.data_ptr<T>(), invstd.data_ptr<T>());
        });
      },
      [&] { cuda::layer_norm_forward(x, R, M, eps, w, b, out, mean, invstd); });

  if (autograd::needs_grad({&input, &weight, &bias}))
    // per row: dx = (1/M) invstd (M g_hat - sum(g_hat) - x_hat sum(g_hat x_hat)), g_hat = g weight;
    // dweight = sum over rows of g x_hat, dbias = sum over rows of g
    autograd::record("layer_norm", {input, weight, bias}, {&out}, {x, mean, invstd, w},
                     [R, M](const Context& c, const Grads& g) {
                       const Tensor go = g[0].contiguous();
                       const Tensor &x = c.saved(0), &mean = c.saved(1), &invstd = c.saved(2), &w = c.saved(3);
                       Tensor gx, gw, gb;
                       if (c.needs_input_grad(0)) gx = empty(x.sizes(), x.options());
                       if (c.needs_input_grad(1)) gw = empty(w.sizes(), x.options());
                       if (c.needs_input_grad(2)) gb = empty(c.input_sizes(2), x.options());
                       dispatch(
                           "layer_norm_backward", go.device(),
                           [&] {
                             visit_float(go.dtype(), [&](auto tag) {
                               using T = decltype(tag);
                               cpu::layer_norm_backward(go.data_ptr<T>(), x.data_ptr<T>(), R, M,
                                                        mean.data_ptr<T>(), invstd.data_ptr<T>(),
                                                        ptr_or_null<T>(w), ptr_or_null_mut<T>(gx),
                                                        ptr_or_null_mut<T>(gw), ptr_or_null_mut<T>(gb));
                             });
                           },
                           [&] { cuda::layer_norm_backward(go, x, R, M, mean, invstd, w, gx, gw, gb); });
                       return Grads{gx, gw, gb};
                     });
  return out;
}

}  // namespace lucid::nn::functional
