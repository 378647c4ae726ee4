// MultiheadAttention, with LibTorch's options, PyTorch's parameter names
// (in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias) and PyTorch's
// initialization (in_proj_weight ~ xavier_uniform_, both biases 0, out_proj's
// weight as a Linear's), so a PyTorch state_dict loads as is.
//
//   nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(64, 8).batch_first(true));
//   auto [out, weights] = mha->forward(x, x, x);                     self-attention
//   auto [y, none] = mha->forward(x, x, x, {}, nn::AttentionWeights::None, /*is_causal=*/true);
//
// Math: per head h, with q = query W_q^T + b_q (k, v alike; W_q, W_k, W_v are
// the three row blocks of in_proj_weight),
//   head_h = softmax(q_h k_h^T / sqrt(head_dim) + mask) v_h
//   out    = concat(head_1..head_H) W_o^T + b_o
// dropout (training only) applies to the attention weights.
//
// Supported: query/key/value of embed_dim features, [L, N, E] (or [N, L, E]
// with batch_first) or unbatched [L, E]; key/value of their own length S.
// attn_mask as PyTorch's MultiheadAttention: [L, S] or [N * num_heads, L, S],
// bool where TRUE MEANS "MAY NOT ATTEND" (the opposite of
// F::scaled_dot_product_attention's bool mask), or float added to the scores.
// is_causal: query i attends to keys j <= i (give it instead of a mask).
// Not supported: kdim/vdim != embed_dim, add_bias_kv, add_zero_attn,
// key_padding_mask (fold it into attn_mask).
#pragma once
#include <cstdint>
#include <string>
#include <tuple>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>
#include <lucid/nn/modules/linear.h>

namespace lucid::nn {

struct MultiheadAttentionOptions {
  MultiheadAttentionOptions(int64_t embed_dim, int64_t num_heads)
      : embed_dim_(embed_dim), num_heads_(num_heads) {}
  MultiheadAttentionOptions& embed_dim(int64_t v) { embed_dim_ = v; return *this; }
  MultiheadAttentionOptions& num_heads(int64_t v) { num_heads_ = v; return *this; }
  MultiheadAttentionOptions& dropout(double v) { dropout_ = v; return *this; }
  MultiheadAttentionOptions& bias(bool v) { bias_ = v; return *this; }
  MultiheadAttentionOptions& batch_first(bool v) { batch_first_ = v; return *this; }
  int64_t embed_dim() const { return embed_dim_; }
  int64_t num_heads() const { return num_heads_; }
  double dropout() const { return dropout_; }
  bool bias() const { return bias_; }
  bool batch_first() const { return batch_first_; }

 private:
  int64_t embed_dim_, num_heads_;
  double dropout_ = 0.0;
  bool bias_ = true;
  bool batch_first_ = false;
};

// Which attention weights forward returns (PyTorch's need_weights and
// average_attn_weights in one): None (an undefined tensor, and the fused
// scaled_dot_product_attention path), Averaged over heads [N, L, S], or
// PerHead [N, num_heads, L, S] (without the batch dim for unbatched input).
enum class AttentionWeights { None, Averaged, PerHead };

// out_proj's type: a Linear that prints under PyTorch's name for it.
class NonDynamicallyQuantizableLinearImpl : public LinearImpl {
 public:
  using LinearImpl::LinearImpl;
};

class MultiheadAttentionImpl : public Module {
 public:
  MultiheadAttentionImpl(int64_t embed_dim, int64_t num_heads)
      : MultiheadAttentionImpl(MultiheadAttentionOptions(embed_dim, num_heads)) {}
  explicit MultiheadAttentionImpl(const MultiheadAttentionOptions& options);

  void reset_parameters();
  // Returns (output shaped like query, weights or an undefined tensor).
  std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                     const Tensor& attn_mask = Tensor(),
                                     AttentionWeights weights = AttentionWeights::Averaged,
                                     bool is_causal = false);

  MultiheadAttentionOptions options;
  Tensor in_proj_weight;  // [3 E, E]: W_q, W_k, W_v stacked
  Tensor in_proj_bias;    // [3 E] (undefined without bias)
  std::shared_ptr<NonDynamicallyQuantizableLinearImpl> out_proj;
};

class MultiheadAttention : public ModuleHolder<MultiheadAttentionImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
