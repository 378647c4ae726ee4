#include <lucid/nn/modules/attention.h>

#include <cmath>

#include <lucid/autograd/ops/attention.h>
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/index.h>
#include <lucid/autograd/ops/matmul.h>
#include <lucid/autograd/ops/reduce.h>
#include <lucid/kernels/factory.h>
#include <lucid/nn/init.h>

namespace lucid::nn {

namespace F = nn::functional;

MultiheadAttentionImpl::MultiheadAttentionImpl(const MultiheadAttentionOptions& options)
    : options(options) {
  const int64_t e = options.embed_dim(), h = options.num_heads();
  LUCID_CHECK(e > 0 && h > 0 && e % h == 0, "MultiheadAttention: embed_dim (", e,
              ") must be divisible by num_heads (", h, ")");
  LUCID_CHECK(options.dropout() >= 0.0 && options.dropout() < 1.0,
              "MultiheadAttention: dropout must be in [0, 1), got ", options.dropout());
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * e, e}));
  in_proj_bias = register_parameter("in_proj_bias", options.bias() ? empty({3 * e}) : Tensor(),
                                    options.bias());
  out_proj = register_module("out_proj", std::make_shared<NonDynamicallyQuantizableLinearImpl>(
                                             LinearOptions(e, e).bias(options.bias())));
  reset_parameters();
}

void MultiheadAttentionImpl::reset_parameters() {
  // As PyTorch's _reset_parameters; out_proj.weight keeps Linear's init.
  init::xavier_uniform_(in_proj_weight);
  if (in_proj_bias.defined()) {
    init::zeros_(in_proj_bias);
    init::zeros_(out_proj->bias);
  }
}

namespace {

// x [N, T, E] -> [N, H, T, E / H]
Tensor split_heads(const Tensor& x, int64_t heads) {
  const int64_t n = x.size(0), t = x.size(1), e = x.size(2);
  return x.reshape({n, t, heads, e / heads}).transpose(1, 2);
}

}  // namespace

std::tuple<Tensor, Tensor> MultiheadAttentionImpl::forward(const Tensor& query, const Tensor& key,
                                                           const Tensor& value,
                                                           const Tensor& attn_mask,
                                                           AttentionWeights weights,
                                                           bool is_causal) {
  const char* op = "MultiheadAttention";
  const int64_t e = options.embed_dim(), h = options.num_heads();
  const bool batched = query.dim() == 3;
  LUCID_CHECK((query.dim() == 2 || query.dim() == 3) && key.dim() == query.dim() &&
                  value.dim() == query.dim(),
              op, ": query, key and value must all be 3-D (batched) or 2-D (unbatched), got ",
              query.sizes(), ", ", key.sizes(), " and ", value.sizes());
  LUCID_CHECK(query.size(-1) == e && key.size(-1) == e && value.size(-1) == e, op,
              ": query, key and value must have embed_dim=", e, " features, got ", query.sizes(),
              ", ", key.sizes(), " and ", value.sizes());
  LUCID_CHECK(key.sizes() == value.sizes(), op, ": key ", key.sizes(), " and value ",
              value.sizes(), " must have the same shape");
  LUCID_CHECK(!(is_causal && attn_mask.defined()), op,
              ": give either attn_mask or is_causal, not both");

  // Work in [N, T, E].
  auto to_batch_first = [&](const Tensor& x) {
    if (!batched) return x.unsqueeze(0);
    return options.batch_first() ? x : x.transpose(0, 1);
  };
  const Tensor q_in = to_batch_first(query), k_in = to_batch_first(key),
               v_in = to_batch_first(value);
  LUCID_CHECK(q_in.size(0) == k_in.size(0), op, ": query ", query.sizes(), " and key ",
              key.sizes(), " have different batch sizes");
  const int64_t n = q_in.size(0), l = q_in.size(1), s = k_in.size(1);

  // The three projections read row blocks of in_proj_weight (views, so the
  // gradients land in in_proj_weight / in_proj_bias).
  auto project = [&](const Tensor& x, int64_t block) {
    const Tensor w = in_proj_weight.narrow(0, block * e, e);
    const Tensor b = in_proj_bias.defined() ? in_proj_bias.narrow(0, block * e, e) : Tensor();
    return split_heads(F::linear(x, w, b), h);
  };
  const Tensor q = project(q_in, 0), k = project(k_in, 1), v = project(v_in, 2);

  // PyTorch's mask [L, S] or [N * H, L, S] -> one that broadcasts to [N, H, L, S];
  // bool flipped to scaled_dot_product_attention's "true = take part".
  Tensor mask;
  if (attn_mask.defined()) {
    const bool shape_ok = (attn_mask.dim() == 2 && attn_mask.size(0) == l && attn_mask.size(1) == s) ||
                          (attn_mask.dim() == 3 && attn_mask.size(0) == n * h &&
                           attn_mask.size(1) == l && attn_mask.size(2) == s);
    LUCID_CHECK(shape_ok, op, ": attn_mask must be [", l, ", ", s, "] or [", n * h, ", ", l,
                ", ", s, "] (L, S or N * num_heads, L, S), got ", attn_mask.sizes());
    mask = attn_mask.dim() == 3 ? attn_mask.reshape({n, h, l, s}) : attn_mask;
    if (mask.dtype() == kBool) mask = eq(mask, zeros({}, kBool));
  } else if (is_causal) {
    // keep (i, j) with j <= i
    mask = ge(arange(static_cast<double>(l), kInt64).unsqueeze(1),
              arange(static_cast<double>(s), kInt64).unsqueeze(0));
  }
  const double p = is_training() ? options.dropout() : 0.0;

  Tensor heads, attn;
  if (weights == AttentionWeights::None) {
    heads = F::scaled_dot_product_attention(q, k, v, mask, p);
  } else {
    // The same math spelled out, to keep the weights.
    Tensor scores = matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(e / h)));
    if (mask.defined())
      scores = mask.dtype() == kBool
                   ? where(mask, scores, full({}, -INFINITY, scores.dtype()))
                   : scores + mask;
    attn = F::dropout(softmax(scores, -1), p, p > 0.0);
    heads = matmul(attn, v);
    if (weights == AttentionWeights::Averaged) attn = attn.mean(1);
    if (!batched) attn = attn.squeeze(0);
  }
  // [N, H, L, D] -> [N, L, E] -> out_proj
  Tensor out = out_proj->forward(heads.transpose(1, 2).reshape({n, l, e}));
  if (!batched) out = out.squeeze(0);
  else if (!options.batch_first()) out = out.transpose(0, 1);
  return {out, attn};
}

}  // namespace lucid::nn
