// Scaled dot-product attention, composed from lucid ops (matmul, softmax,
// where, dropout): each records its own backward, so the gradient
//   dV = A^T g,  dA = g V^T,  dS = A (dA - sum(dA A)),  dQ = dS K scale,  dK = dS^T Q scale
// comes out of the tape without a hand-written formula here. That composed path is
// the CPU kernel and the reference; on a GPU the common case runs the fused kernels
// of kernels/cuda/attention.cu instead (see use_fused below), with one backward.
#include <lucid/autograd/ops/attention.h>

#include <lucid/autograd/ops/device_check.h>
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/index.h>
#include <lucid/autograd/ops/matmul.h>
#include <lucid/autograd/ops/reduce.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/cuda/attention.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/factory.h>

#include <cmath>
#include <limits>

namespace lucid::nn::functional {

namespace {

// Whether `from` broadcasts to `to` (NumPy rules, `to` unchanged): each trailing dim of
// `from` is 1 or equal, and `from` has no extra leading dims.
bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  for (size_t i = 1; i <= from.size(); ++i) {
    const int64_t f = from[from.size() - i], t = to[to.size() - i];
    if (f != 1 && f != t) return false;
  }
  return true;
}

Shape batch_dims(const Tensor& t) { return Shape(t.sizes().begin(), t.sizes().end() - 2); }

// Whether the fused CUDA kernels take this call; everything else (and the CPU) runs
// the composed ops: dropout (the fused kernels have no dropout), q/k/v batch dims that
// differ (broadcasting), dtypes other than float32/float64 or not all one dtype, a
// float mask that needs its own gradient, an empty output or S = 0, E or Ev past
// attention_fits (shared memory).
bool use_fused(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
               double dropout_p) {
  const ScalarType t = q.dtype();
  return q.is_cuda() && dropout_p == 0.0 && (t == kFloat32 || t == kFloat64) &&
         k.dtype() == t && v.dtype() == t && batch_dims(k) == batch_dims(q) &&
         batch_dims(v) == batch_dims(q) && q.dim() - 2 <= cuda::kAttentionMaxBatchDims &&
         !(mask.defined() && mask.requires_grad()) && q.size(-2) > 0 && v.numel() > 0 &&
         cuda::attention_fits(q.size(-1), v.size(-1), element_size(t));
}

// The fused path: one forward kernel, one recorded backward. mask: undefined, or
// already checked to broadcast to [*, L, S].
Tensor fused_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                       const Tensor& attn_mask, bool is_causal, double scale) {
  const char* op = "scaled_dot_product_attention";
  Tensor q, k, v, mask;
  {
    NoGradGuard ng;
    q = query.contiguous();
    k = key.contiguous();
    v = value.contiguous();
  }
  Shape out_shape = q.sizes(), lse_shape = batch_dims(q);
  out_shape.back() = v.size(-1);
  lse_shape.push_back(q.size(-2));
  // The mask as a [*, L, S] view (stride 0 where it broadcasts): read in place.
  Shape scores_shape = lse_shape;
  scores_shape.push_back(k.size(-2));
  if (attn_mask.defined()) mask = attn_mask.detach().expand(scores_shape);
  Tensor out = empty(out_shape, q.options()), lse = empty(lse_shape, q.options());
  dispatch(op, q.device(),
           [&] { throw Error(std::string(op) + ": the fused path is CUDA only"); },
           [&] { cuda::attention_forward(q, k, v, mask, is_causal, scale, out, lse); });

  if (autograd::needs_grad({&query, &key, &value}))
    // P = exp(scale q k^T + mask - lse), D = rowsum(dO * O), dS = P (dO v^T - D):
    // dq = scale dS k, dk = scale dS^T q, dv = P^T dO  (recomputed tile by tile, never stored)
    autograd::record(op, {query, key, value}, {&out}, {q, k, v, out, lse, mask},
                     [is_causal, scale](const autograd::Context& c, const std::vector<Tensor>& g) {
                       const Tensor go = g[0].contiguous();
                       const Tensor &q = c.saved(0), &k = c.saved(1), &v = c.saved(2);
                       Tensor gq = empty(q.sizes(), q.options()), gk = empty(k.sizes(), k.options()),
                              gv = empty(v.sizes(), v.options());
                       const char* name = "scaled_dot_product_attention_backward";
                       dispatch(name, go.device(),
                                [&] { throw Error(std::string(name) + ": the fused path is CUDA only"); },
                                [&] {
                                  cuda::attention_backward(q, k, v, c.saved(5), is_causal, scale,
                                                           c.saved(3), c.saved(4), go, gq, gk, gv);
                                });
                       return std::vector<Tensor>{c.needs_input_grad(0) ? gq : Tensor(),
                                                  c.needs_input_grad(1) ? gk : Tensor(),
                                                  c.needs_input_grad(2) ? gv : Tensor()};
                     });
  return out;
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale) {
  const char* op = "scaled_dot_product_attention";
  LUCID_CHECK(query.defined() && key.defined() && value.defined(), op, ": undefined tensor argument");
  check_same_device(op, "key", key, query);
  check_same_device(op, "value", value, query);
  check_same_device(op, "attn_mask", attn_mask, query);
  LUCID_CHECK(query.dim() >= 2 && key.dim() >= 2 && value.dim() >= 2, op,
              ": query, key and value need at least 2 dims, got ", query.sizes(), ", ", key.sizes(),
              ", ", value.sizes());
  LUCID_CHECK(query.size(-1) == key.size(-1), op, ": query ", query.sizes(), " and key ",
              key.sizes(), " must have the same embedding size E");
  LUCID_CHECK(key.size(-2) == value.size(-2), op, ": key ", key.sizes(), " and value ",
              value.sizes(), " must have the same sequence length S");
  LUCID_CHECK(!(is_causal && attn_mask.defined()), op,
              ": give either attn_mask or is_causal, not both (as PyTorch)");
  LUCID_CHECK(dropout_p >= 0.0 && dropout_p <= 1.0, op, ": dropout_p must be in [0, 1], got ",
              dropout_p);
  const int64_t L = query.size(-2), S = key.size(-2);
  const double s = scale.value_or(1.0 / std::sqrt(static_cast<double>(query.size(-1))));
  // The scores' shape [*, L, S], with * the broadcast batch dims of query and key.
  Shape scores_shape = broadcast_shapes(Shape(query.sizes().begin(), query.sizes().end() - 2),
                                        Shape(key.sizes().begin(), key.sizes().end() - 2), op);
  scores_shape.insert(scores_shape.end(), {L, S});
  if (attn_mask.defined()) {
    LUCID_CHECK(attn_mask.dtype() == kBool || attn_mask.dtype() == query.dtype(), op,
                ": attn_mask must be bool or ", query.dtype(), ", got ", attn_mask.dtype());
    // The mask may not add batch dims: the output keeps the shape of the scores.
    LUCID_CHECK(broadcasts_to(attn_mask.sizes(), scores_shape), op, ": attn_mask ",
                attn_mask.sizes(), " must broadcast to the attention scores' shape ", scores_shape,
                " ([*, L, S] from query ", query.sizes(), " and key ", key.sizes(), ")");
  }

  if (use_fused(query, key, value, attn_mask, dropout_p))
    return fused_attention(query, key, value, attn_mask, is_causal, s);

  // The composed reference (every CPU call; CUDA calls the fused kernels do not take).
  Tensor scores = matmul(query, key.transpose(-2, -1)) * s;  // [*, L, S]
  const Tensor neg_inf = full({}, -std::numeric_limits<double>::infinity(), scores.options());
  if (is_causal) {  // keep (i, j) with j <= i (top-left aligned when L != S, as PyTorch)
    const TensorOptions idx = TensorOptions(kInt64).device(query.device());  // where() wants one device
    Tensor keep = ge(arange(static_cast<double>(L), idx).reshape({L, 1}),
                     arange(static_cast<double>(S), idx).reshape({1, S}));
    scores = where(keep, scores, neg_inf);
  } else if (attn_mask.defined()) {
    scores = attn_mask.dtype() == kBool ? where(attn_mask, scores, neg_inf) : scores + attn_mask;
  }
  Tensor attn = softmax(scores, -1);
  if (dropout_p > 0.0) attn = dropout(attn, dropout_p, /*training=*/true);
  return matmul(attn, value);
}

}  // namespace lucid::nn::functional
