#include <lucid/nn/modules/embedding.h>

#include <lucid/autograd/grad_mode.h>
#include <lucid/autograd/ops/index.h>
#include <lucid/kernels/factory.h>
#include <lucid/nn/init.h>

namespace lucid::nn {

EmbeddingImpl::EmbeddingImpl(const EmbeddingOptions& options) : options(options) {
  const int64_t n = options.num_embeddings(), dim = options.embedding_dim();
  LUCID_CHECK(n > 0 && dim >= 0, "Embedding: num_embeddings must be > 0 and embedding_dim >= 0, "
              "got ", n, " and ", dim);
  if (auto pad = options.padding_idx()) {
    LUCID_CHECK(*pad >= -n && *pad < n, "Embedding: padding_idx ", *pad,
                " must be within num_embeddings (", n, ")");
    if (*pad < 0) this->options.padding_idx(*pad + n);
  }
  weight = register_parameter("weight", empty({n, dim}));
  reset_parameters();
}

void EmbeddingImpl::reset_parameters() {
  init::normal_(weight);
  if (auto pad = options.padding_idx()) {
    NoGradGuard no_grad;
    weight.select(0, *pad).zero_();
  }
}

Tensor EmbeddingImpl::forward(const Tensor& indices) {
  return nn::functional::embedding(indices, weight, options.padding_idx().value_or(-1));
}

std::string EmbeddingImpl::extra_repr() const {
  std::string s = std::to_string(options.num_embeddings()) + ", " +
                  std::to_string(options.embedding_dim());
  if (auto pad = options.padding_idx()) s += ", padding_idx=" + std::to_string(*pad);
  return s;
}

}  // namespace lucid::nn
