#include <lucid/nn/modules/loss.h>

namespace lucid::nn {

namespace F = nn::functional;

CrossEntropyLossImpl::CrossEntropyLossImpl(const CrossEntropyLossOptions& options)
    : options(options) {
  LUCID_CHECK(options.label_smoothing() >= 0.0 && options.label_smoothing() <= 1.0,
              "CrossEntropyLoss: label_smoothing must be in [0, 1], got ",
              options.label_smoothing());
  weight = register_buffer("weight", options.weight());
}

Tensor CrossEntropyLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::cross_entropy(input, target, weight, options.ignore_index(), options.reduction(),
                          options.label_smoothing());
}

NLLLossImpl::NLLLossImpl(const NLLLossOptions& options) : options(options) {
  weight = register_buffer("weight", options.weight());
}

Tensor NLLLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::nll_loss(input, target, weight, options.ignore_index(), options.reduction());
}

Tensor MSELossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::mse_loss(input, target, options.reduction());
}

BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options)
    : options(options) {
  weight = register_buffer("weight", options.weight());
  pos_weight = register_buffer("pos_weight", options.pos_weight());
}

Tensor BCEWithLogitsLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::binary_cross_entropy_with_logits(input, target, weight, options.reduction(),
                                             pos_weight);
}

}  // namespace lucid::nn
