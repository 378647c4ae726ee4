// Scaled dot-product attention, composed from lucid ops (matmul, softmax,
// where, dropout): each records its own backward, so the gradient
//   dV = A^T g,  dA = g V^T,  dS = A (dA - sum(dA A)),  dQ = dS K scale,  dK = dS^T Q scale
// comes out of the tape without a hand-written formula here.
#include <lucid/autograd/ops/attention.h>

#include <lucid/autograd/ops/device_check.h>
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/index.h>
#include <lucid/autograd/ops/matmul.h>
#include <lucid/autograd/ops/reduce.h>
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
