// Embedding: a lookup table of num_embeddings vectors of size embedding_dim,
// with LibTorch's options and PyTorch's initialization: weight ~ N(0, 1),
// then the padding_idx row zeroed. The lookup and its gradient live in
// nn::functional::embedding (autograd/ops/index.h); the padding row gets no
// gradient, so it stays as it is while training.
//
//   nn::Embedding emb(1000, 64);                                     ids [*] -> [*, 64]
//   nn::Embedding emb2(nn::EmbeddingOptions(1000, 64).padding_idx(0));
//
// max_norm, scale_grad_by_freq and sparse are not supported.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>

namespace lucid::nn {

struct EmbeddingOptions {
  EmbeddingOptions(int64_t num_embeddings, int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
  EmbeddingOptions& num_embeddings(int64_t v) { num_embeddings_ = v; return *this; }
  EmbeddingOptions& embedding_dim(int64_t v) { embedding_dim_ = v; return *this; }
  // May be negative: counts from the end, as PyTorch (-1 is the last row).
  EmbeddingOptions& padding_idx(std::optional<int64_t> v) { padding_idx_ = v; return *this; }
  int64_t num_embeddings() const { return num_embeddings_; }
  int64_t embedding_dim() const { return embedding_dim_; }
  std::optional<int64_t> padding_idx() const { return padding_idx_; }

 private:
  int64_t num_embeddings_, embedding_dim_;
  std::optional<int64_t> padding_idx_;
};

class EmbeddingImpl : public Module {
 public:
  EmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim)
      : EmbeddingImpl(EmbeddingOptions(num_embeddings, embedding_dim)) {}
  // A negative padding_idx is stored as num_embeddings + padding_idx.
  explicit EmbeddingImpl(const EmbeddingOptions& options);

  void reset_parameters();  // N(0, 1), padding row zeroed
  // int64 indices of any shape [*] -> [*, embedding_dim]
  Tensor forward(const Tensor& indices);
  std::string extra_repr() const override;  // 10, 3, padding_idx=0

  EmbeddingOptions options;
  Tensor weight;  // [num_embeddings, embedding_dim]
};

class Embedding : public ModuleHolder<EmbeddingImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
