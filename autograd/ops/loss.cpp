// Losses. cross_entropy and nll_loss run fused kernels (kernels/cpu/loss.cpp)
// with one recorded backward each; mse_loss and binary_cross_entropy_with_logits
// are a few lucid ops, whose recorded backwards give their gradients.
//
// PyTorch 1.13 semantics, including label smoothing:
//   loss_i = (1 - eps) w_t (-log p_t) + (eps / C) sum_j w_j (-log p_j)   (0 if ignored)
//   Mean   = sum_i loss_i / sum_i w_{t_i} over non-ignored i  (nan if all are ignored)
// `weight` is a constant: no gradient flows into it (PyTorch has none either).
#include <lucid/autograd/ops/loss.h>

#include <lucid/autograd/ops/device_check.h>
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/reduce.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/cpu/float_dispatch.h>
#include <lucid/kernels/cpu/loss.h>
#include <lucid/kernels/cuda/loss.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/factory.h>

namespace lucid::nn::functional {

using autograd::Context;
using cpu::ptr_or_null;
using cpu::visit_float;
using Grads = std::vector<Tensor>;

namespace {

// input [N, C, d1, ...] (or [C]) as packed rows [M, C] with the class dim last,
// and how to put a [M, C] gradient back.
struct RowLayout {
  Shape target_shape;   // the per-element loss shape ([N, d1, ...], or [] unbatched)
  Shape moved_shape;    // [N, d1, ..., C]
  Shape perm_back;      // permutation from moved_shape back to the input's dims
  int64_t M = 0, C = 0;
};
struct ClassRows : RowLayout {
  Tensor rows;          // [M, C], packed
  Tensor target;        // [M], packed int64
};

ClassRows class_rows(const char* op, const Tensor& input, const Tensor& target,
                     const Tensor& weight, int64_t ignore_index) {
  LUCID_CHECK(input.defined() && target.defined(), op, ": undefined tensor argument");
  check_same_device(op, "target", target, input);
  check_same_device(op, "weight", weight, input);
  check_float_math(op, input.dtype());
  LUCID_CHECK(target.dtype() == kInt64, op, ": target must be int64 class indices, got ",
              target.dtype());
  LUCID_CHECK(input.dim() >= 1, op, ": input must be [N, C, ...] or [C], got shape ", input.sizes());
  ClassRows r;
  Tensor x = input.dim() == 1 ? input.unsqueeze(0) : input;  // unbatched: N = 1
  r.C = x.size(1);
  Shape expect = x.sizes();
  expect.erase(expect.begin() + 1);
  r.target_shape = input.dim() == 1 ? Shape{} : expect;
  LUCID_CHECK(target.sizes() == r.target_shape, op, ": input ", input.sizes(),
              " expects target of shape ", r.target_shape, ", got ", target.sizes());
  if (weight.defined()) {
    LUCID_CHECK(weight.dim() == 1 && weight.size(0) == r.C, op, ": weight must be [C] = [", r.C,
                "], got ", weight.sizes());
    LUCID_CHECK(weight.dtype() == input.dtype(), op, ": weight dtype ", weight.dtype(),
                " must match input dtype ", input.dtype());
  }
  Shape perm{0};  // [N, d1, ..., C]
  for (int64_t d = 2; d < x.dim(); ++d) perm.push_back(d);
  perm.push_back(1);
  r.perm_back.assign(x.dim(), 0);
  for (int64_t i = 0; i < x.dim(); ++i) r.perm_back[perm[i]] = i;
  NoGradGuard ng;
  Tensor moved = x.permute(perm).contiguous();
  r.moved_shape = moved.sizes();
  r.M = r.C ? moved.numel() / r.C : numel_of(r.target_shape);
  r.rows = moved.reshape({r.M, r.C});
  r.target = target.contiguous().reshape({r.M});
  // The bounds check: on the CPU a loop over the targets; on a GPU a kernel finds
  // the first bad target, and only its value comes back to the host.
  auto check_target = [&](bool ok, int64_t t) {
    LUCID_CHECK(ok, op, ": target ", t, " is out of bounds for ", r.C, " classes (ignore_index is ",
                ignore_index, ")");
  };
  dispatch(
      op, r.target.device(),
      [&] {
        const int64_t* t = r.target.data_ptr<int64_t>();
        for (int64_t i = 0; i < r.M; ++i) check_target(t[i] == ignore_index || (t[i] >= 0 && t[i] < r.C), t[i]);
      },
      [&] {
        const std::optional<int64_t> bad = cuda::first_bad_target(r.target, r.C, ignore_index);
        check_target(!bad, bad.value_or(0));
      });
  return r;
}

// [M, C] gradient rows back to the input's shape.
Tensor rows_back(const Tensor& dx, const RowLayout& r, const Shape& input_shape) {
  return dx.reshape(r.moved_shape).permute(r.perm_back).reshape(input_shape);
}

// Per-element losses and target weights [M] -> the reduced result (no grad).
Tensor reduce_rows(const Tensor& loss, const Tensor& wrow, const RowLayout& r, Reduction red) {
  NoGradGuard ng;
  switch (red) {
    case Reduction::None: return loss.reshape(r.target_shape);
    case Reduction::Sum: return loss.sum();
    case Reduction::Mean: return loss.sum() / wrow.sum();
  }
  return loss;
}

// The upstream gradient per row: g itself (None), g (Sum) or g / sum(w_t) (Mean).
Tensor row_scale(const Tensor& g, const Tensor& wrow, int64_t M, Reduction red) {
  switch (red) {
    case Reduction::None: return g.contiguous().reshape({M});
    case Reduction::Sum: return g.reshape({1}).expand({M}).contiguous();
    case Reduction::Mean: return (g / wrow.sum()).reshape({1}).expand({M}).contiguous();
  }
  return g;
}

// The loss of element-wise reductions (mse, bce).
Tensor apply_reduction(const Tensor& loss, Reduction red) {
  switch (red) {
    case Reduction::None: return loss;
    case Reduction::Sum: return loss.sum();
    case Reduction::Mean: return loss.mean();
  }
  return loss;
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     int64_t ignore_index, Reduction reduction, double label_smoothing) {
  LUCID_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
              "cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing);
  ClassRows r = class_rows("cross_entropy", input, target, weight, ignore_index);
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor loss = empty({r.M}, input.options()), wrow = empty({r.M}, input.options());
  Tensor lse = empty({r.M}, input.options());
  dispatch(
      "cross_entropy", input.device(),
      [&] {
        visit_float(input.dtype(), [&](auto tag) {
          using T = decltype(tag);
          cpu::cross_entropy_forward<T>(r.rows.data_ptr<T>(), r.target.data_ptr<int64_t>(),
                                        ptr_or_null<T>(w), r.M, r.C, ignore_index, label_smoothing,
                                        loss.data_ptr<T>(), wrow.data_ptr<T>(), lse.data_ptr<T>());
        });
      },
      [&] { cuda::cross_entropy_forward(r.rows, r.target, w, ignore_index, label_smoothing, loss, wrow, lse); });
  Tensor out = reduce_rows(loss, wrow, r, reduction);
  if (autograd::needs_grad({&input})) {
    // d cross_entropy / dx = s (softmax(x) sum(q) - q), q the target distribution
    autograd::record(
        "cross_entropy", {input}, {&out}, {r.rows, r.target, lse, wrow},
        [r = RowLayout(r), w, ignore_index, reduction, label_smoothing](const Context& c, const Grads& g) {
          const Tensor &x = c.saved(0), &t = c.saved(1), &lse = c.saved(2), &wrow = c.saved(3);
          Tensor s = row_scale(g[0], wrow, r.M, reduction);
          Tensor dx = empty({r.M, r.C}, x.options());
          dispatch(
              "cross_entropy_backward", x.device(),
              [&] {
                visit_float(x.dtype(), [&](auto tag) {
                  using T = decltype(tag);
                  cpu::cross_entropy_backward<T>(x.data_ptr<T>(), t.data_ptr<int64_t>(),
                                                 ptr_or_null<T>(w), lse.data_ptr<T>(),
                                                 s.data_ptr<T>(), r.M, r.C, ignore_index,
                                                 label_smoothing, dx.data_ptr<T>());
                });
              },
              [&] { cuda::cross_entropy_backward(x, t, w, lse, s, ignore_index, label_smoothing, dx); });
          return Grads{rows_back(dx, r, c.input_sizes(0))};
        });
  }
  return out;
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                int64_t ignore_index, Reduction reduction) {
  ClassRows r = class_rows("nll_loss", log_probs, target, weight, ignore_index);
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor loss = empty({r.M}, log_probs.options()), wrow = empty({r.M}, log_probs.options());
  dispatch(
      "nll_loss", log_probs.device(),
      [&] {
        visit_float(log_probs.dtype(), [&](auto tag) {
          using T = decltype(tag);
          cpu::nll_forward<T>(r.rows.data_ptr<T>(), r.target.data_ptr<int64_t>(), ptr_or_null<T>(w),
                              r.M, r.C, ignore_index, loss.data_ptr<T>(), wrow.data_ptr<T>());
        });
      },
      [&] { cuda::nll_forward(r.rows, r.target, w, ignore_index, loss, wrow); });
  Tensor out = reduce_rows(loss, wrow, r, reduction);
  if (autograd::needs_grad({&log_probs})) {
    // d nll / dlp_j = -s w_t [j == t]
    autograd::record("nll_loss", {log_probs}, {&out}, {r.target, wrow},
                     [r = RowLayout(r), w, ignore_index, reduction](const Context& c, const Grads& g) {
                       const Tensor &t = c.saved(0), &wrow = c.saved(1);
                       Tensor s = row_scale(g[0], wrow, r.M, reduction);
                       Tensor dlp = zeros({r.M, r.C}, g[0].options());
                       dispatch(
                           "nll_loss_backward", dlp.device(),
                           [&] {
                             visit_float(dlp.dtype(), [&](auto tag) {
                               using T = decltype(tag);
                               cpu::nll_backward<T>(t.data_ptr<int64_t>(), ptr_or_null<T>(w),
                                                    s.data_ptr<T>(), r.M, r.C, ignore_index,
                                                    dlp.data_ptr<T>());
                             });
                           },
                           [&] { cuda::nll_backward(t, w, s, ignore_index, dlp); });
                       return Grads{rows_back(dlp, r, c.input_sizes(0))};
                     });
  }
  return out;
}

// (x - y)^2, reduced. Gradients flow to both input and target.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  LUCID_CHECK(input.defined() && target.defined(), "mse_loss: undefined tensor argument");
  check_same_device("mse_loss", "target", target, input);
  LUCID_CHECK(input.sizes() == target.sizes(), "mse_loss: input ", input.sizes(), " and target ",
              target.sizes(), " must have the same shape");
  check_float_math("mse_loss", input.dtype());
  return apply_reduction(square(input - target), reduction);
}

// The stable form (PyTorch's): with l = 1 + (pos_weight - 1) y,
//   loss = (1 - y) x + l softplus(-x),   softplus(-x) = log(1 + e^-x) without overflow,
// times weight. d/dx = (sigmoid(x) (1 + (pw - 1) y) - pw y) weight, through the ops.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight, Reduction reduction,
                                        const Tensor& pos_weight) {
  const char* op = "binary_cross_entropy_with_logits";
  LUCID_CHECK(input.defined() && target.defined(), op, ": undefined tensor argument");
  check_same_device(op, "target", target, input);
  check_same_device(op, "weight", weight, input);
  check_same_device(op, "pos_weight", pos_weight, input);
  LUCID_CHECK(input.sizes() == target.sizes(), op, ": target size ", target.sizes(),
              " must be the same as input size ", input.sizes());
  check_float_math(op, input.dtype());
  for (const Tensor* w : {&weight, &pos_weight})
    if (w->defined())
      LUCID_CHECK(broadcast_shapes(w->sizes(), input.sizes(), op) == input.sizes(), op, ": weight ",
                  w->sizes(), " must broadcast to input ", input.sizes());
  Tensor sp = softplus(-input);
  Tensor loss = pos_weight.defined()
                    ? (1.0 - target) * input + (1.0 + (pos_weight - 1.0) * target) * sp
                    : (1.0 - target) * input + sp;
  if (weight.defined()) loss = loss * weight;
  return apply_reduction(loss, reduction);
}

}  // namespace lucid::nn::functional
