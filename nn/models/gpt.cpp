#include <lucid/nn/models/gpt.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <lucid/autograd/grad_mode.h>
#include <lucid/autograd/ops/attention.h>
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/index.h>
#include <lucid/autograd/ops/matmul.h>
#include <lucid/autograd/ops/reduce.h>
#include <lucid/kernels/factory.h>
#include <lucid/kernels/philox.h>
#include <lucid/nn/init.h>

namespace lucid::nn {

namespace F = nn::functional;

CausalSelfAttentionImpl::CausalSelfAttentionImpl(const GPTConfig& config)
    : n_head(config.n_head), dropout(config.dropout) {
  c_attn = register_module("c_attn", Linear(config.n_embd, 3 * config.n_embd));
  c_proj = register_module("c_proj", Linear(config.n_embd, config.n_embd));
  resid_dropout = register_module("resid_dropout", Dropout(config.dropout));
}

Tensor CausalSelfAttentionImpl::forward(const Tensor& x) {
  const int64_t b = x.size(0), t = x.size(1), c = x.size(2);
  // [B, T, 3C] -> q, k, v each [B, n_head, T, C / n_head]
  std::vector<Tensor> qkv = split(c_attn(x), c, 2);
  for (Tensor& y : qkv) y = y.reshape({b, t, n_head, c / n_head}).transpose(1, 2);
  Tensor y = F::scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], Tensor(),
                                             is_training() ? dropout : 0.0, /*is_causal=*/true);
  return resid_dropout(c_proj(y.transpose(1, 2).reshape({b, t, c})));
}

GPTMLPImpl::GPTMLPImpl(const GPTConfig& config) {
  c_fc = register_module("c_fc", Linear(config.n_embd, 4 * config.n_embd));
  c_proj = register_module("c_proj", Linear(4 * config.n_embd, config.n_embd));
  dropout = register_module("dropout", Dropout(config.dropout));
}

Tensor GPTMLPImpl::forward(const Tensor& x) { return dropout(c_proj(gelu(c_fc(x)))); }

GPTBlockImpl::GPTBlockImpl(const GPTConfig& config) {
  ln_1 = register_module("ln_1", LayerNorm(LayerNormOptions({config.n_embd})));
  attn = register_module("attn", CausalSelfAttention(config));
  ln_2 = register_module("ln_2", LayerNorm(LayerNormOptions({config.n_embd})));
  mlp = register_module("mlp", GPTMLP(config));
}

Tensor GPTBlockImpl::forward(const Tensor& x) {
  Tensor y = x + attn(ln_1(x));
  return y + mlp(ln_2(y));
}

GPTImpl::GPTImpl(const GPTConfig& config) : config(config) {
  LUCID_CHECK(config.vocab_size > 0 && config.block_size > 0 && config.n_layer > 0 &&
                  config.n_head > 0 && config.n_embd % config.n_head == 0,
              "GPT: need positive sizes and n_embd (", config.n_embd,
              ") divisible by n_head (", config.n_head, ")");
  wte = register_module("wte", Embedding(config.vocab_size, config.n_embd));
  wpe = register_module("wpe", Embedding(config.block_size, config.n_embd));
  drop = register_module("drop", Dropout(config.dropout));
  h = register_module("h", ModuleList());
  for (int64_t i = 0; i < config.n_layer; ++i) h->push_back(GPTBlock(config));
  ln_f = register_module("ln_f", LayerNorm(LayerNormOptions({config.n_embd})));

  // GPT-2 init. LayerNorms keep weight 1, bias 0.
  for (const auto& item : named_modules(/*include_self=*/false)) {
    if (auto* linear = dynamic_cast<LinearImpl*>(item.value().get())) {
      init::normal_(linear->weight, 0.0, 0.02);
      if (linear->bias.defined()) init::zeros_(linear->bias);
    } else if (auto* emb = dynamic_cast<EmbeddingImpl*>(item.value().get())) {
      init::normal_(emb->weight, 0.0, 0.02);
    }
  }
  // Each block adds two residual branches, so their output projections start
  // smaller to keep the residual stream's variance from growing with depth.
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(config.n_layer));
  for (const auto& block : *h) {
    auto& b = dynamic_cast<GPTBlockImpl&>(*block);
    init::normal_(b.attn->c_proj->weight, 0.0, residual_std);
    init::normal_(b.mlp->c_proj->weight, 0.0, residual_std);
  }
}

Tensor GPTImpl::forward(const Tensor& idx) {
  LUCID_CHECK(idx.dim() == 2 && idx.dtype() == kInt64, "GPT: idx must be [B, T] int64 token ids, got ",
              idx.sizes(), " ", idx.dtype());
  const int64_t t = idx.size(1);
  LUCID_CHECK(t >= 1 && t <= config.block_size, "GPT: sequence length ", t,
              " must be in [1, block_size = ", config.block_size, "] (idx ", idx.sizes(), ")");
  Tensor pos = arange(static_cast<double>(t), kInt64);
  Tensor x = drop(wte(idx) + wpe(pos));  // [B, T, C] + [T, C]
  for (const auto& block : *h) x = dynamic_cast<GPTBlockImpl&>(*block).forward(x);
  // Tied lm head: logits = x wte^T.
  return F::linear(ln_f(x), wte->weight);
}

namespace {

// One token per row of probs [B, V] (float, rows sum to 1), by inverting the
// CDF at a uniform draw from the default generator.
// Sampling reads the probabilities on the host: a GPU tensor is copied first.
Tensor sample_rows(const Tensor& probs) {
  const Tensor p = probs.cpu().to(kFloat64).contiguous();
  const int64_t b = p.size(0), v = p.size(1);
  std::vector<double> u(static_cast<size_t>(b));
  default_generator().fill_uniform(u.data(), b);
  std::vector<int64_t> out(static_cast<size_t>(b));
  const double* row = p.data_ptr<double>();
  for (int64_t i = 0; i < b; ++i, row += v) {
    double cdf = 0.0;
    int64_t pick = v - 1;  // rounding can leave the total a hair below u
    for (int64_t j = 0; j < v; ++j) {
      cdf += row[j];
      if (u[i] < cdf && row[j] > 0.0) { pick = j; break; }
    }
    while (pick > 0 && row[pick] == 0.0) --pick;  // never a token outside the top_k
    out[i] = pick;
  }
  return tensor(out, TensorOptions(kInt64).device(probs.device())).reshape({b, 1});
}

// Sets every logit below the k-th largest of its row to -inf.
Tensor keep_top_k(const Tensor& logits, int64_t k) {
  const Tensor l = logits.contiguous();
  const int64_t b = l.size(0), v = l.size(1);
  Tensor kth = empty({b, 1}, l.dtype());  // on the CPU, filled there, then moved to l's device
  const Tensor l64 = l.cpu().to(kFloat64);
  const double* row = l64.data_ptr<double>();
  for (int64_t i = 0; i < b; ++i, row += v) {
    std::vector<double> sorted(row, row + v);
    std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<>());
    kth.select(0, i).fill_(sorted[static_cast<size_t>(k - 1)]);
  }
  return where(lt(l, kth.to(l.device())), full({}, -INFINITY, l.options()), l);
}

}  // namespace

Tensor GPTImpl::generate(const Tensor& idx, int64_t max_new_tokens, double temperature,
                         std::optional<int64_t> top_k) {
  LUCID_CHECK(temperature > 0.0, "GPT::generate: temperature must be > 0, got ", temperature);
  LUCID_CHECK(!top_k || *top_k >= 1, "GPT::generate: top_k must be >= 1, got ", top_k.value_or(0));
  NoGradGuard no_grad;
  Tensor out = idx;
  for (int64_t step = 0; step < max_new_tokens; ++step) {
    const int64_t t = out.size(1);
    const Tensor context = t <= config.block_size ? out : out.narrow(1, t - config.block_size,
                                                                     config.block_size);
    Tensor logits = forward(context).select(1, context.size(1) - 1) / temperature;  // [B, V]
    if (top_k) logits = keep_top_k(logits, std::min(*top_k, config.vocab_size));
    out = cat({out, sample_rows(softmax(logits, -1))}, 1);
  }
  return out;
}

}  // namespace lucid::nn
