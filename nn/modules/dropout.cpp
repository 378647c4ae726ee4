#include <lucid/nn/modules/dropout.h>

#include <lucid/autograd/ops/index.h>

namespace lucid::nn {

DropoutImpl::DropoutImpl(const DropoutOptions& options) : options(options) {
  LUCID_CHECK(options.p() >= 0.0 && options.p() <= 1.0,
              "Dropout: probability has to be between 0 and 1, but got ", options.p());
}

Tensor DropoutImpl::forward(const Tensor& input) {
  return nn::functional::dropout(input, options.p(), is_training());
}

std::string DropoutImpl::extra_repr() const {
  return "p=" + repr_float(options.p()) + ", inplace=False";
}

}  // namespace lucid::nn
