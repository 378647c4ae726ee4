// GPT: a decoder-only transformer language model (GPT-2's layout, at any size).
//
//   x = wte(idx) + wpe(0..T-1)                      token + learned position embeddings
//   x = drop(x)
//   for each block:                                 pre-LayerNorm residual blocks
//     x = x + attn(ln_1(x))                         causal self-attention
//     x = x + mlp(ln_2(x))                          Linear(C, 4C) - GELU - Linear(4C, C)
//   logits = ln_f(x) wte.weight^T                   lm head tied to the token embedding
//
//   nn::GPT gpt(nn::GPTConfig{.vocab_size = 65, .block_size = 64, .n_layer = 4,
//                             .n_head = 4, .n_embd = 128, .dropout = 0.1});
//   Tensor logits = gpt(idx);                       idx [B, T] int64 -> [B, T, vocab_size]
//   Tensor more = gpt->generate(idx, 100, 0.8, 40); call gpt->eval() first to turn dropout off
//
// Attention: one fused Linear c_attn makes q, k and v ([B, T, 3C] split in
// three), heads are [B, n_head, T, C / n_head], and
// F::scaled_dot_product_attention(q, k, v, is_causal) does the masked softmax;
// c_proj mixes the heads back. (nn::MultiheadAttention computes the same thing
// with PyTorch's parameter layout; the fused form is shorter to read.)
//
// Weight tying: the lm head has no weight of its own; forward multiplies by
// wte->weight. So the tied matrix is ONE parameter, registered once as
// "wte.weight": named_parameters() and parameters() list it once (as PyTorch
// lists a tied parameter once), an optimizer updates it once, and backward
// accumulates the gradients of both uses (lookup and lm head) into its grad.
// (PyTorch's state_dict also carries the duplicate key "lm_head.weight"; lucid's
// does not, since there is no second registration.)
//
// Init as GPT-2: Linear and Embedding weights ~ N(0, 0.02), biases 0, LayerNorm
// weight 1 and bias 0, and the residual projections (attn.c_proj and
// mlp.c_proj) ~ N(0, 0.02 / sqrt(2 n_layer)).
//
// Parameter names (PyTorch's nanoGPT without its "transformer." prefix):
//   wte.weight, wpe.weight, h.0.ln_1.weight, h.0.attn.c_attn.weight,
//   h.0.attn.c_proj.weight, h.0.ln_2.weight, h.0.mlp.c_fc.weight,
//   h.0.mlp.c_proj.weight, ..., ln_f.weight, ln_f.bias
#pragma once
#include <cstdint>
#include <optional>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>
#include <lucid/nn/modules/container.h>
#include <lucid/nn/modules/dropout.h>
#include <lucid/nn/modules/embedding.h>
#include <lucid/nn/modules/linear.h>
#include <lucid/nn/modules/normalization.h>

namespace lucid::nn {

struct GPTConfig {
  int64_t vocab_size = 65;
  int64_t block_size = 64;  // the longest context
  int64_t n_layer = 4;
  int64_t n_head = 4;
  int64_t n_embd = 128;     // divisible by n_head
  double dropout = 0.0;     // embeddings, attention weights, residual branches
};

// Causal self-attention with a fused qkv projection.
class CausalSelfAttentionImpl : public Module {
 public:
  explicit CausalSelfAttentionImpl(const GPTConfig& config);
  Tensor forward(const Tensor& x);  // [B, T, C] -> [B, T, C]

  int64_t n_head;
  double dropout;
  Linear c_attn = nullptr;  // C -> 3C: q, k, v
  Linear c_proj = nullptr;  // C -> C
  Dropout resid_dropout = nullptr;
};
class CausalSelfAttention : public ModuleHolder<CausalSelfAttentionImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

// Linear(C, 4C) - GELU - Linear(4C, C) - Dropout
class GPTMLPImpl : public Module {
 public:
  explicit GPTMLPImpl(const GPTConfig& config);
  Tensor forward(const Tensor& x);

  Linear c_fc = nullptr, c_proj = nullptr;
  Dropout dropout = nullptr;
};
class GPTMLP : public ModuleHolder<GPTMLPImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

// x + attn(ln_1(x)), then x + mlp(ln_2(x))
class GPTBlockImpl : public Module {
 public:
  explicit GPTBlockImpl(const GPTConfig& config);
  Tensor forward(const Tensor& x);

  LayerNorm ln_1 = nullptr, ln_2 = nullptr;
  CausalSelfAttention attn = nullptr;
  GPTMLP mlp = nullptr;
};
class GPTBlock : public ModuleHolder<GPTBlockImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

class GPTImpl : public Module {
 public:
  explicit GPTImpl(const GPTConfig& config);

  // idx [B, T] int64 token ids, T <= block_size -> logits [B, T, vocab_size]
  Tensor forward(const Tensor& idx);
  // Appends max_new_tokens sampled tokens to idx [B, T] and returns [B, T + max_new_tokens].
  // Each step feeds the last block_size tokens, divides the last position's
  // logits by temperature, keeps the top_k largest (when given), and samples
  // from their softmax with the default generator. Runs under no-grad; the
  // mode is left as it is (call eval() to turn dropout off).
  Tensor generate(const Tensor& idx, int64_t max_new_tokens, double temperature = 1.0,
                  std::optional<int64_t> top_k = std::nullopt);

  GPTConfig config;
  Embedding wte = nullptr;  // [vocab_size, n_embd], also the lm head
  Embedding wpe = nullptr;  // [block_size, n_embd]
  Dropout drop = nullptr;
  ModuleList h = nullptr;   // n_layer GPTBlocks
  LayerNorm ln_f = nullptr;
};

class GPT : public ModuleHolder<GPTImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
