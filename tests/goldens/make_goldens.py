#!/usr/bin/python3
"""Forward (and gradient) golden values from PyTorch for lucid's ops.

Run:  /usr/bin/python3 tests/goldens/make_goldens.py      (writes tests/goldens/ops.txt)

Every case seeds torch with crc32(case name), so adding a case leaves the others
unchanged. Shapes are small and odd; values are float32 unless the name ends in
_f64; index tensors are int64, masks bool.

Gradients: for a case with a differentiable output `out`, an upstream gradient
`grad_out` (seeded randn, same shape as `out`) is written as an input, and for each
differentiable float input x, `grad_x` = d(sum(out * grad_out))/dx is written as an
output. Inputs listed under "no grad" are treated as constants.

CASE TABLE (name | inputs (shape) | exact torch call | no grad)
  add_bcast            a[3,1,5] b[4,5]                torch.add(a, b)
  sub_bcast            a[3,1,5] b[4,5]                torch.sub(a, b)
  mul_bcast            a[3,1,5] b[4,5]                torch.mul(a, b)
  div_bcast            a[3,1,5] b[4,5] (|b|>=0.5)     torch.div(a, b)
  add_bcast_f64        a[3,1,5] b[4,5] float64        torch.add(a, b)
  pow_tensor           a[3,4] (>0) b[3,4]             torch.pow(a, b)
  pow_scalar_2.5       x[3,4] (>0)                    torch.pow(x, 2.5)
  neg                  x[3,4]                         torch.neg(x)
  exp                  x[3,4]                         torch.exp(x)
  exp_f64              x[3,4] float64                 torch.exp(x)
  log                  x[3,4] (>0)                    torch.log(x)
  sqrt                 x[3,4] (>0)                    torch.sqrt(x)
  rsqrt                x[3,4] (>0)                    torch.rsqrt(x)
  abs                  x[3,4]                         torch.abs(x)
  clamp_-0.5_0.5       x[3,4]                         torch.clamp(x, -0.5, 0.5)
  maximum              a[3,4] b[3,4]                  torch.maximum(a, b)
  minimum              a[3,4] b[3,4]                  torch.minimum(a, b)
  relu                 x[3,5]                         F.relu(x)
  leaky_relu_0.2       x[3,5]                         F.leaky_relu(x, 0.2)
  gelu                 x[3,5]                         F.gelu(x)                       (erf form)
  gelu_tanh            x[3,5]                         F.gelu(x, approximate='tanh')
  silu                 x[3,5]                         F.silu(x)
  sigmoid              x[3,5]                         torch.sigmoid(x)
  tanh                 x[3,5]                         torch.tanh(x)
  softplus             x[3,5] (x3, some > 20)         F.softplus(x, beta=1, threshold=20)
  where                cond[3,4,5] bool x[3,4,5] y[4,5]  torch.where(cond, x, y)
  add_alpha_-1.5       a[3,4] b[4]                    torch.add(a, b, alpha=-1.5)
  sub_alpha_2          a[3,4] b[3,4]                  torch.sub(a, b, alpha=2)
  square               x[3,4]                         torch.square(x)
  sign                 x[3,4] (with zeros)            torch.sign(x)                          (no grad)
  eq                   a[3,4] b[4] (rounded to 0.5: ties)  torch.eq(a, b)               -> bool (no grad)
  ne                   a[3,4] b[4] (rounded)          torch.ne(a, b)
  lt                   a[3,4] b[4] (rounded)          torch.lt(a, b)
  le                   a[3,4] b[4] (rounded)          torch.le(a, b)
  gt                   a[3,4] b[4] (rounded)          torch.gt(a, b)
  ge                   a[3,4] b[4] (rounded)          torch.ge(a, b)
  sum_dim1_keepdim     x[3,4,5]                       x.sum(dim=1, keepdim=True)
  sum_dims02           x[3,4,5]                       x.sum(dim=(0, 2))
  mean_dim1_keepdim    x[3,4,5]                       x.mean(dim=1, keepdim=True)
  mean_dims02          x[3,4,5]                       x.mean(dim=(0, 2))
  var_dim1             x[3,7,5]                       torch.var(x, dim=1, unbiased=True)      (correction 1)
  std_dim1             x[3,7,5]                       torch.std(x, dim=1, unbiased=True)      (correction 1)
  sum_all              x[3,4,5]                       x.sum()
  mean_all             x[3,4,5]                       x.mean()
  var_dims02_c0        x[3,7,5]                       torch.var(x, dim=(0, 2), unbiased=False) (correction 0)
  std_dim1_keepdim_c0  x[3,7,5]                       torch.std(x, dim=1, unbiased=False, keepdim=True)
  max_dim1             x[3,5,4]                       values, indices = torch.max(x, dim=1)
  min_dim1             x[3,5,4]                       values, indices = torch.min(x, dim=1)
  argmax_dim1          x[3,5,4]                       torch.argmax(x, dim=1)                 (no grad)
  argmin_dim1          x[3,5,4]                       torch.argmin(x, dim=1)                 (no grad)
  argmax_dim1_ties     x[3,5,4] (rounded to 1: ties)  torch.argmax(x, dim=1)  (first index of the max)
  argmin_dim1_ties     x[3,5,4] (rounded to 1: ties)  torch.argmin(x, dim=1)  (first index of the min)
  max_all              x[3,5,4]                       torch.max(x)                           (0-dim)
  min_all              x[3,5,4]                       torch.min(x)
  max_all_ties         x[3,4] (max appears 3 times)   torch.max(x)  (gradient split evenly over the ties)
  amax_dims02          x[3,5,4]                       torch.amax(x, dim=(0, 2))
  amax_dim1_keepdim_ties x[3,5,4] (rounded to 1: ties)  torch.amax(x, dim=1, keepdim=True)  (gradient split evenly)
  logsumexp_dim1       x[3,5,4]                       torch.logsumexp(x, dim=1)
  matmul_2d            a[3,4] b[4,5]                  torch.matmul(a, b)
  matmul_2d_f64        a[3,4] b[4,5] float64          torch.matmul(a, b)
  matmul_1d_2d         a[4] b[4,5]                    torch.matmul(a, b)
  matmul_batched_bcast a[2,1,3,4] b[5,4,2]            torch.matmul(a, b)  -> [2,5,3,2]
  mm                   a[3,4] b[4,5]                  torch.mm(a, b)
  bmm                  a[2,3,4] b[2,4,5]              torch.bmm(a, b)
  linear               x[2,3,4] weight[5,4] bias[5]   F.linear(x, weight, bias)
  softmax_dim-1        x[3,4,5]                       F.softmax(x, dim=-1)
  log_softmax_dim-1    x[3,4,5]                       F.log_softmax(x, dim=-1)
  log_softmax_dim-1_f64 x[3,4,5] float64              F.log_softmax(x, dim=-1)
  cross_entropy_mean   logits[6,5] target[6] i64      F.cross_entropy(logits, target)
  cross_entropy_weight logits[6,5] target[6] weight[5]  F.cross_entropy(logits, target, weight=weight)   | weight
  cross_entropy_ignore_index_2  logits[7,5] target[7] (some == 2)  F.cross_entropy(logits, target, ignore_index=2)
  cross_entropy_label_smoothing_0.1  logits[6,5] target[6]  F.cross_entropy(logits, target, label_smoothing=0.1)
  cross_entropy_none   logits[6,5] target[6]          F.cross_entropy(logits, target, reduction='none')
  cross_entropy_sum    logits[6,5] target[6]          F.cross_entropy(logits, target, reduction='sum')
  nll_loss_mean        input[6,5] target[6]           F.nll_loss(input, target)
  mse_loss_mean        input[4,3] target[4,3]         F.mse_loss(input, target)
  bce_with_logits_mean input[4,3] target[4,3] in [0,1]  F.binary_cross_entropy_with_logits(input, target)   | target
  bce_with_logits_pos_weight input[4,3] target[4,3] pos_weight[3]
                                                      F.binary_cross_entropy_with_logits(input, target, pos_weight=pos_weight)  | target, pos_weight
  embedding            weight[7,4] indices[2,3] i64 (repeats)  F.embedding(indices, weight)
  embedding_padding_idx_5  weight[7,4] indices[2,3] (has 5)  F.embedding(indices, weight, padding_idx=5)
  conv2d_s2_p1_d2_g2   x[2,4,9,8] weight[6,2,3,3] bias[6]
                                                      F.conv2d(x, weight, bias, stride=2, padding=1, dilation=2, groups=2)
  max_pool2d_k3_s2_p1  x[2,3,7,6]                     F.max_pool2d(x, 3, stride=2, padding=1)
  max_pool2d_with_indices_k2_s2  x[2,3,7,6]           out, indices = F.max_pool2d(x, 2, stride=2, return_indices=True)
  avg_pool2d_k3_s2_p1_incpad  x[2,3,7,6]              F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=True)
  avg_pool2d_k3_s2_p1_excpad  x[2,3,7,6]              F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
  avg_pool2d_k3_s2_p1_ceil    x[2,3,8,6]              F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=True)
  avg_pool2d_k3_s2_p1_ceil_excpad x[2,3,8,6]          F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
  adaptive_avg_pool2d_3x2  x[2,3,7,5]                 F.adaptive_avg_pool2d(x, (3, 2))
  batch_norm_train     x[4,3,5,2] weight[3] bias[3] running_mean[3] running_var[3]
                       F.batch_norm(x, rm, rv, weight, bias, training=True, momentum=0.1, eps=1e-5) on copies
                       rm, rv of running_mean, running_var; outputs out, running_mean_new (= rm after),
                       running_var_new (= rv after, updated with the unbiased batch variance)  | running_mean, running_var
  batch_norm_eval      same inputs                    F.batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=1e-5)
                                                                                        | running_mean, running_var
  layer_norm_last2     x[3,4,5] weight[4,5] bias[4,5]  F.layer_norm(x, (4, 5), weight, bias, eps=1e-5)
  cat_dim1             a[2,3,4] b[2,1,4] c[2,2,4]     torch.cat([a, b, c], dim=1)
  stack_dim0           a[3,4] b[3,4] c[3,4]           torch.stack([a, b, c], dim=0)
  index_select_dim1    x[3,5,2] index[4] i64 (repeats)  torch.index_select(x, 1, index)
  gather_dim1          x[3,5] index[3,4] i64          torch.gather(x, 1, index)
  split_size2_dim1     x[3,5,2]                       torch.split(x, 2, dim=1)  -> out0 [3,2,2], out1 [3,2,2], out2 [3,1,2]
  split_sizes_dim0     x[6,4]                         torch.split(x, [1, 3, 2], dim=0)  -> out0, out1, out2
  chunk_3_dim1         x[2,7,3]                       torch.chunk(x, 3, dim=1)  -> out0 [2,3,3], out1 [2,3,3], out2 [2,1,3]
  chunk_4_dim0_fewer   x[6,2]                         torch.chunk(x, 4, dim=0)  -> pieces of 2: out0, out1, out2 (only 3)
  view_3_20            x[3,4,5]                       x.view(3, 20)
  reshape_transposed   x[3,4,5]                       x.transpose(0, 2).reshape(-1, 6)   (reshape of a non-contiguous view: a copy)
  permute_201          x[3,4,5]                       x.permute(2, 0, 1)
  transpose_02         x[3,4,5]                       x.transpose(0, 2)
  t_2d                 x[3,5]                         x.t()
  narrow_dim1_1_2      x[3,4,5]                       x.narrow(1, 1, 2)
  slice_dim2_1_5_2     x[3,4,6]                       x[:, :, 1:5:2]
  select_dim1_2        x[3,4,5]                       x.select(1, 2)
  expand_2_3_4_5       x[3,1,5]                       x.expand(2, 3, 4, 5)
  squeeze_all          x[3,1,5,1]                     x.squeeze()
  squeeze_dim1         x[3,1,5,1]                     x.squeeze(1)
  unsqueeze_dim2       x[3,4]                         x.unsqueeze(2)
  flatten_1_2          x[2,3,4,5]                     x.flatten(1, 2)
  clone                x[3,4]                         x.clone()
  dropout_eval_0.5     x[3,5]                         F.dropout(x, 0.5, training=False)   (identity; training masks are not comparable)
  sdpa                 q[2,3,5,4] k[2,3,6,4] v[2,3,6,3]
                       softmax(q @ k^T / sqrt(4), dim=-1) @ v   (torch 1.13 has no F.scaled_dot_product_attention)
  sdpa_causal          q[2,3,5,4] k[2,3,5,4] v[2,3,5,3]
                       softmax(q @ k^T / sqrt(4) + mask, dim=-1) @ v, mask[i, j] = -inf where j > i

FILE FORMAT (ops.txt), one record per line, tokens separated by single spaces:
  case <case_name>
  in  <tensor_name> <dtype: f32|f64|i64|bool> <ndim> <d0> ... <values, row-major>
  out <tensor_name> <dtype> <ndim> <dims...> <values...>
  end
f32 values are printed with %.9g, f64 with %.17g (both round-trip exactly), i64 as
integers, bool as 0/1. A 0-dim tensor has ndim 0, no dims and one value. Within a
case the order is: inputs, grad_out (if any), outputs, gradients.

Multi-output cases (split, chunk) name their pieces out0, out1, ...; each piece gets
its own upstream gradient input grad_out0, grad_out1, ..., and grad_x is
d(sum_i sum(out_i * grad_out_i))/dx.
"""
import os
import re
import zlib

import torch
import torch.nn.functional as F

torch.set_num_threads(1)

CASES = []  # (name, make_inputs, fn, no_grad)


def case(name, make_inputs, fn, no_grad=()):
    CASES.append((name, make_inputs, fn, set(no_grad)))


# ---- input helpers (called after the per-case seed) -----------------------------
def rn(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


def pos(*shape, dtype=torch.float32):  # in [0.5, 2.5)
    return torch.rand(*shape, dtype=dtype) * 2 + 0.5


def away0(*shape):  # |x| in [0.5, 1.5)
    return (torch.rand(*shape) + 0.5) * torch.where(torch.rand(*shape) < 0.5, -1.0, 1.0)


def ints(high, *shape):
    return torch.randint(0, high, shape, dtype=torch.int64)


# ---- elementwise ------------------------------------------------------------------
for op in ["add", "sub", "mul"]:
    case(f"{op}_bcast", lambda: dict(a=rn(3, 1, 5), b=rn(4, 5)), getattr(torch, op))
case("div_bcast", lambda: dict(a=rn(3, 1, 5), b=away0(4, 5)), torch.div)
case("add_bcast_f64", lambda: dict(a=rn(3, 1, 5, dtype=torch.float64), b=rn(4, 5, dtype=torch.float64)), torch.add)
case("pow_tensor", lambda: dict(a=pos(3, 4), b=rn(3, 4)), torch.pow)
case("pow_scalar_2.5", lambda: dict(x=pos(3, 4)), lambda x: torch.pow(x, 2.5))
case("neg", lambda: dict(x=rn(3, 4)), torch.neg)
case("exp", lambda: dict(x=rn(3, 4)), torch.exp)
case("exp_f64", lambda: dict(x=rn(3, 4, dtype=torch.float64)), torch.exp)
case("log", lambda: dict(x=pos(3, 4)), torch.log)
case("sqrt", lambda: dict(x=pos(3, 4)), torch.sqrt)
case("rsqrt", lambda: dict(x=pos(3, 4)), torch.rsqrt)
case("abs", lambda: dict(x=rn(3, 4)), torch.abs)
case("clamp_-0.5_0.5", lambda: dict(x=rn(3, 4)), lambda x: torch.clamp(x, -0.5, 0.5))
case("maximum", lambda: dict(a=rn(3, 4), b=rn(3, 4)), torch.maximum)
case("minimum", lambda: dict(a=rn(3, 4), b=rn(3, 4)), torch.minimum)
case("relu", lambda: dict(x=rn(3, 5)), F.relu)
case("leaky_relu_0.2", lambda: dict(x=rn(3, 5)), lambda x: F.leaky_relu(x, 0.2))
case("gelu", lambda: dict(x=rn(3, 5)), F.gelu)
case("gelu_tanh", lambda: dict(x=rn(3, 5)), lambda x: F.gelu(x, approximate="tanh"))
case("silu", lambda: dict(x=rn(3, 5)), F.silu)
case("sigmoid", lambda: dict(x=rn(3, 5)), torch.sigmoid)
case("tanh", lambda: dict(x=rn(3, 5)), torch.tanh)


def softplus_inputs():
    x = rn(3, 5) * 3
    x[0, 0], x[1, 2] = 25.0, -25.0  # exercise the linear branch (x > threshold)
    return dict(x=x)


case("softplus", softplus_inputs, lambda x: F.softplus(x, beta=1, threshold=20))
case("where", lambda: dict(cond=torch.rand(3, 4, 5) < 0.5, x=rn(3, 4, 5), y=rn(4, 5)), torch.where)
case("add_alpha_-1.5", lambda: dict(a=rn(3, 4), b=rn(4)), lambda a, b: torch.add(a, b, alpha=-1.5))
case("sub_alpha_2", lambda: dict(a=rn(3, 4), b=rn(3, 4)), lambda a, b: torch.sub(a, b, alpha=2))
case("square", lambda: dict(x=rn(3, 4)), torch.square)


def with_zeros():
    x = rn(3, 4)
    x[0, 1], x[2, 3] = 0.0, 0.0
    return dict(x=x)


case("sign", with_zeros, torch.sign, no_grad=["x"])


def halves(*shape):  # multiples of 0.5 in [-1.5, 1.5], so comparisons see ties
    return torch.randint(-3, 4, shape).to(torch.float32) / 2


for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
    case(op, lambda: dict(a=halves(3, 4), b=halves(4)), getattr(torch, op), no_grad=["a", "b"])

# ---- reductions ---------------------------------------------------------------------
case("sum_dim1_keepdim", lambda: dict(x=rn(3, 4, 5)), lambda x: x.sum(dim=1, keepdim=True))
case("sum_dims02", lambda: dict(x=rn(3, 4, 5)), lambda x: x.sum(dim=(0, 2)))
case("mean_dim1_keepdim", lambda: dict(x=rn(3, 4, 5)), lambda x: x.mean(dim=1, keepdim=True))
case("mean_dims02", lambda: dict(x=rn(3, 4, 5)), lambda x: x.mean(dim=(0, 2)))
case("var_dim1", lambda: dict(x=rn(3, 7, 5)), lambda x: torch.var(x, dim=1, unbiased=True))
case("std_dim1", lambda: dict(x=rn(3, 7, 5)), lambda x: torch.std(x, dim=1, unbiased=True))
case("sum_all", lambda: dict(x=rn(3, 4, 5)), lambda x: x.sum())
case("mean_all", lambda: dict(x=rn(3, 4, 5)), lambda x: x.mean())
case("var_dims02_c0", lambda: dict(x=rn(3, 7, 5)), lambda x: torch.var(x, dim=(0, 2), unbiased=False))
case("std_dim1_keepdim_c0", lambda: dict(x=rn(3, 7, 5)), lambda x: torch.std(x, dim=1, unbiased=False, keepdim=True))


def values_indices(r):
    return {"values": r.values, "indices": r.indices}


case("max_dim1", lambda: dict(x=rn(3, 5, 4)), lambda x: values_indices(torch.max(x, dim=1)))
case("min_dim1", lambda: dict(x=rn(3, 5, 4)), lambda x: values_indices(torch.min(x, dim=1)))
case("argmax_dim1", lambda: dict(x=rn(3, 5, 4)), lambda x: torch.argmax(x, dim=1), no_grad=["x"])
case("argmin_dim1", lambda: dict(x=rn(3, 5, 4)), lambda x: torch.argmin(x, dim=1), no_grad=["x"])
case("argmax_dim1_ties", lambda: dict(x=torch.round(rn(3, 5, 4))), lambda x: torch.argmax(x, dim=1), no_grad=["x"])
case("argmin_dim1_ties", lambda: dict(x=torch.round(rn(3, 5, 4))), lambda x: torch.argmin(x, dim=1), no_grad=["x"])
case("max_all", lambda: dict(x=rn(3, 5, 4)), torch.max)
case("min_all", lambda: dict(x=rn(3, 5, 4)), torch.min)


def max_ties():
    x = rn(3, 4)
    x[0, 2], x[1, 0], x[2, 3] = 5.0, 5.0, 5.0
    return dict(x=x)


case("max_all_ties", max_ties, torch.max)
case("amax_dims02", lambda: dict(x=rn(3, 5, 4)), lambda x: torch.amax(x, dim=(0, 2)))
case("amax_dim1_keepdim_ties", lambda: dict(x=torch.round(rn(3, 5, 4))),
     lambda x: torch.amax(x, dim=1, keepdim=True))
case("logsumexp_dim1", lambda: dict(x=rn(3, 5, 4)), lambda x: torch.logsumexp(x, dim=1))

# ---- linear algebra ------------------------------------------------------------------
case("matmul_2d", lambda: dict(a=rn(3, 4), b=rn(4, 5)), torch.matmul)
case("matmul_2d_f64", lambda: dict(a=rn(3, 4, dtype=torch.float64), b=rn(4, 5, dtype=torch.float64)), torch.matmul)
case("matmul_1d_2d", lambda: dict(a=rn(4), b=rn(4, 5)), torch.matmul)
case("matmul_batched_bcast", lambda: dict(a=rn(2, 1, 3, 4), b=rn(5, 4, 2)), torch.matmul)
case("mm", lambda: dict(a=rn(3, 4), b=rn(4, 5)), torch.mm)
case("bmm", lambda: dict(a=rn(2, 3, 4), b=rn(2, 4, 5)), torch.bmm)
case("linear", lambda: dict(x=rn(2, 3, 4), weight=rn(5, 4), bias=rn(5)), F.linear)

# ---- softmax and losses -------------------------------------------------------------------
case("softmax_dim-1", lambda: dict(x=rn(3, 4, 5)), lambda x: F.softmax(x, dim=-1))
case("log_softmax_dim-1", lambda: dict(x=rn(3, 4, 5)), lambda x: F.log_softmax(x, dim=-1))
case("log_softmax_dim-1_f64", lambda: dict(x=rn(3, 4, 5, dtype=torch.float64)), lambda x: F.log_softmax(x, dim=-1))
case("cross_entropy_mean", lambda: dict(logits=rn(6, 5), target=ints(5, 6)), F.cross_entropy)
case("cross_entropy_weight", lambda: dict(logits=rn(6, 5), target=ints(5, 6), weight=pos(5)),
     lambda logits, target, weight: F.cross_entropy(logits, target, weight=weight), no_grad=["weight"])
case("cross_entropy_ignore_index_2",
     lambda: dict(logits=rn(7, 5), target=torch.tensor([2, 0, 4, 2, 1, 3, 2])),
     lambda logits, target: F.cross_entropy(logits, target, ignore_index=2))
case("cross_entropy_label_smoothing_0.1", lambda: dict(logits=rn(6, 5), target=ints(5, 6)),
     lambda logits, target: F.cross_entropy(logits, target, label_smoothing=0.1))
case("cross_entropy_none", lambda: dict(logits=rn(6, 5), target=ints(5, 6)),
     lambda logits, target: F.cross_entropy(logits, target, reduction="none"))
case("cross_entropy_sum", lambda: dict(logits=rn(6, 5), target=ints(5, 6)),
     lambda logits, target: F.cross_entropy(logits, target, reduction="sum"))
case("nll_loss_mean", lambda: dict(input=F.log_softmax(rn(6, 5), dim=1), target=ints(5, 6)), F.nll_loss)
case("mse_loss_mean", lambda: dict(input=rn(4, 3), target=rn(4, 3)), F.mse_loss)
case("bce_with_logits_mean", lambda: dict(input=rn(4, 3) * 2, target=torch.rand(4, 3)),
     F.binary_cross_entropy_with_logits, no_grad=["target"])
case("bce_with_logits_pos_weight", lambda: dict(input=rn(4, 3) * 2, target=torch.rand(4, 3), pos_weight=pos(3)),
     lambda input, target, pos_weight: F.binary_cross_entropy_with_logits(input, target, pos_weight=pos_weight),
     no_grad=["target", "pos_weight"])

# ---- embedding, convolution, pooling ------------------------------------------------------------
case("embedding", lambda: dict(weight=rn(7, 4), indices=torch.tensor([[1, 5, 1], [6, 0, 5]])),
     lambda weight, indices: F.embedding(indices, weight))
case("embedding_padding_idx_5", lambda: dict(weight=rn(7, 4), indices=torch.tensor([[1, 5, 1], [5, 0, 3]])),
     lambda weight, indices: F.embedding(indices, weight, padding_idx=5))
case("conv2d_s2_p1_d2_g2", lambda: dict(x=rn(2, 4, 9, 8), weight=rn(6, 2, 3, 3) * 0.3, bias=rn(6)),
     lambda x, weight, bias: F.conv2d(x, weight, bias, stride=2, padding=1, dilation=2, groups=2))
case("max_pool2d_k3_s2_p1", lambda: dict(x=rn(2, 3, 7, 6)), lambda x: F.max_pool2d(x, 3, stride=2, padding=1))
case("max_pool2d_with_indices_k2_s2", lambda: dict(x=rn(2, 3, 7, 6)),
     lambda x: dict(zip(["out", "indices"], F.max_pool2d(x, 2, stride=2, return_indices=True))))
case("avg_pool2d_k3_s2_p1_incpad", lambda: dict(x=rn(2, 3, 7, 6)),
     lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=True))
case("avg_pool2d_k3_s2_p1_excpad", lambda: dict(x=rn(2, 3, 7, 6)),
     lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False))
case("avg_pool2d_k3_s2_p1_ceil", lambda: dict(x=rn(2, 3, 8, 6)),
     lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=True))
case("avg_pool2d_k3_s2_p1_ceil_excpad", lambda: dict(x=rn(2, 3, 8, 6)),
     lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False))
case("adaptive_avg_pool2d_3x2", lambda: dict(x=rn(2, 3, 7, 5)), lambda x: F.adaptive_avg_pool2d(x, (3, 2)))

# ---- normalization ------------------------------------------------------------------------------


def bn_inputs():
    return dict(x=rn(4, 3, 5, 2) * 2 + 1, weight=pos(3), bias=rn(3), running_mean=rn(3) * 0.1,
                running_var=pos(3))


def bn_train(x, weight, bias, running_mean, running_var):
    rm, rv = running_mean.detach().clone(), running_var.detach().clone()
    y = F.batch_norm(x, rm, rv, weight, bias, training=True, momentum=0.1, eps=1e-5)
    return {"out": y, "running_mean_new": rm, "running_var_new": rv}


case("batch_norm_train", bn_inputs, bn_train, no_grad=["running_mean", "running_var"])
case("batch_norm_eval", bn_inputs,
     lambda x, weight, bias, running_mean, running_var:
     F.batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=1e-5),
     no_grad=["running_mean", "running_var"])
case("layer_norm_last2", lambda: dict(x=rn(3, 4, 5) * 2 + 1, weight=pos(4, 5), bias=rn(4, 5)),
     lambda x, weight, bias: F.layer_norm(x, (4, 5), weight, bias, eps=1e-5))

# ---- shape and indexing -------------------------------------------------------------------------
case("cat_dim1", lambda: dict(a=rn(2, 3, 4), b=rn(2, 1, 4), c=rn(2, 2, 4)), lambda a, b, c: torch.cat([a, b, c], dim=1))
case("stack_dim0", lambda: dict(a=rn(3, 4), b=rn(3, 4), c=rn(3, 4)), lambda a, b, c: torch.stack([a, b, c], dim=0))
case("index_select_dim1", lambda: dict(x=rn(3, 5, 2), index=torch.tensor([4, 0, 4, 2])),
     lambda x, index: torch.index_select(x, 1, index))
case("gather_dim1", lambda: dict(x=rn(3, 5), index=ints(5, 3, 4)), lambda x, index: torch.gather(x, 1, index))


def pieces(ts):
    return {f"out{i}": t for i, t in enumerate(ts)}


case("split_size2_dim1", lambda: dict(x=rn(3, 5, 2)), lambda x: pieces(torch.split(x, 2, dim=1)))
case("split_sizes_dim0", lambda: dict(x=rn(6, 4)), lambda x: pieces(torch.split(x, [1, 3, 2], dim=0)))
case("chunk_3_dim1", lambda: dict(x=rn(2, 7, 3)), lambda x: pieces(torch.chunk(x, 3, dim=1)))
case("chunk_4_dim0_fewer", lambda: dict(x=rn(6, 2)), lambda x: pieces(torch.chunk(x, 4, dim=0)))

# ---- views (as ops: forward values and the gradient scattered back) ---------------------------
case("view_3_20", lambda: dict(x=rn(3, 4, 5)), lambda x: x.view(3, 20))
case("reshape_transposed", lambda: dict(x=rn(3, 4, 5)), lambda x: x.transpose(0, 2).reshape(-1, 6))
case("permute_201", lambda: dict(x=rn(3, 4, 5)), lambda x: x.permute(2, 0, 1))
case("transpose_02", lambda: dict(x=rn(3, 4, 5)), lambda x: x.transpose(0, 2))
case("t_2d", lambda: dict(x=rn(3, 5)), lambda x: x.t())
case("narrow_dim1_1_2", lambda: dict(x=rn(3, 4, 5)), lambda x: x.narrow(1, 1, 2))
case("slice_dim2_1_5_2", lambda: dict(x=rn(3, 4, 6)), lambda x: x[:, :, 1:5:2])
case("select_dim1_2", lambda: dict(x=rn(3, 4, 5)), lambda x: x.select(1, 2))
case("expand_2_3_4_5", lambda: dict(x=rn(3, 1, 5)), lambda x: x.expand(2, 3, 4, 5))
case("squeeze_all", lambda: dict(x=rn(3, 1, 5, 1)), lambda x: x.squeeze())
case("squeeze_dim1", lambda: dict(x=rn(3, 1, 5, 1)), lambda x: x.squeeze(1))
case("unsqueeze_dim2", lambda: dict(x=rn(3, 4)), lambda x: x.unsqueeze(2))
case("flatten_1_2", lambda: dict(x=rn(2, 3, 4, 5)), lambda x: x.flatten(1, 2))
case("clone", lambda: dict(x=rn(3, 4)), lambda x: x.clone())
# Dropout in training draws its mask from lucid's own Philox stream, which cannot match
# torch's generator, so only the eval (identity) form is a golden.
case("dropout_eval_0.5", lambda: dict(x=rn(3, 5)), lambda x: F.dropout(x, 0.5, training=False))

# ---- attention ----------------------------------------------------------------------------------


def sdpa(q, k, v, causal=False):
    scores = q @ k.transpose(-2, -1) / (q.shape[-1] ** 0.5)
    if causal:
        L, S = scores.shape[-2:]
        mask = torch.ones(L, S, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
    return F.softmax(scores, dim=-1) @ v


case("sdpa", lambda: dict(q=rn(2, 3, 5, 4), k=rn(2, 3, 6, 4), v=rn(2, 3, 6, 3)), sdpa)
case("sdpa_causal", lambda: dict(q=rn(2, 3, 5, 4), k=rn(2, 3, 5, 4), v=rn(2, 3, 5, 3)),
     lambda q, k, v: sdpa(q, k, v, causal=True))

# ---- writing ----------------------------------------------------------------------------------------
DTYPE = {torch.float32: "f32", torch.float64: "f64", torch.int64: "i64", torch.bool: "bool"}


def record(kind, name, t):
    t = t.detach().contiguous()
    dt = DTYPE[t.dtype]
    flat = t.reshape(-1).tolist()
    if dt == "f32":
        vals = ["%.9g" % v for v in flat]
    elif dt == "f64":
        vals = ["%.17g" % v for v in flat]
    else:
        vals = [str(int(v)) for v in flat]
    return " ".join([kind, name, dt, str(t.dim())] + [str(d) for d in t.shape] + vals)


def run_case(name, make_inputs, fn, no_grad):
    torch.manual_seed(zlib.crc32(name.encode()))
    inputs = make_inputs()
    lines = ["case " + name] + [record("in", k, v) for k, v in inputs.items()]
    diff = [k for k, v in inputs.items() if v.is_floating_point() and k not in no_grad]
    args = {k: (v.clone().requires_grad_(True) if k in diff else v) for k, v in inputs.items()}
    outs = fn(*args.values())  # positional, in input order
    if not isinstance(outs, dict):
        outs = {"out": outs}
    first = next(iter(outs.values()))  # the one differentiable output, if any
    grads = []
    if diff and first.requires_grad:
        # Pieces out0, out1, ... each get an upstream gradient; otherwise only the first output.
        ups = list(outs) if "out0" in outs else ["out"]
        loss = 0
        for k in ups:
            t = outs[k] if k in outs else first
            g = torch.randn(t.shape, dtype=t.dtype)
            lines.append(record("in", "grad_" + k, g))
            loss = loss + (t * g).sum()
        gs = torch.autograd.grad(loss, [args[k] for k in diff])
        grads = [record("out", "grad_" + k, gk) for k, gk in zip(diff, gs)]
    lines += [record("out", k, v) for k, v in outs.items()] + grads + ["end"]
    return lines


def main():
    # The case table in the docstring must list exactly the cases defined here.
    table = set(re.findall(r"^  (\S+)\s", __doc__.split("CASE TABLE")[1].split("FILE FORMAT")[0], re.M))
    names = [c[0] for c in CASES]
    assert len(set(names)) == len(names), "duplicate case name"
    assert table == set(names), (table ^ set(names))
    lines = [f"# lucid op goldens, made by tests/goldens/make_goldens.py with torch {torch.__version__}"]
    for c in CASES:
        lines += run_case(*c)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(CASES)} cases, {os.path.getsize(path)} bytes to {path}")


if __name__ == "__main__":
    main()
