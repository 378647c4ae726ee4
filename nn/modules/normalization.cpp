#include <lucid/nn/modules/normalization.h>

#include <lucid/autograd/ops/norm.h>
#include <lucid/kernels/factory.h>
#include <lucid/nn/init.h>

namespace lucid::nn {

LayerNormImpl::LayerNormImpl(const LayerNormOptions& options) : options(options) {
  const Shape& shape = options.normalized_shape();
  LUCID_CHECK(!shape.empty(), "LayerNorm: normalized_shape must have at least one dim");
  for (int64_t d : shape)
    LUCID_CHECK(d > 0, "LayerNorm: normalized_shape ", shape, " must have positive sizes");
  if (options.elementwise_affine()) {
    weight = register_parameter("weight", empty(shape));
    bias = register_parameter("bias", empty(shape));
  }
  reset_parameters();
}

void LayerNormImpl::reset_parameters() {
  if (!options.elementwise_affine()) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor LayerNormImpl::forward(const Tensor& input) {
  return nn::functional::layer_norm(input, options.normalized_shape(), weight, bias,
                                    options.eps());
}

std::string LayerNormImpl::extra_repr() const {
  // Python's tuple: "(8,)" for one element, "(4, 8)" for more.
  const Shape& shape = options.normalized_shape();
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  s += shape.size() == 1 ? ",)" : ")";
  return s + ", eps=" + repr_float(options.eps()) +
         ", elementwise_affine=" + repr_bool(options.elementwise_affine());
}

}  // namespace lucid::nn
