#include <lucid/nn/modules/activation.h>

namespace lucid::nn {

GELUOptions& GELUOptions::approximate(const std::string& v) {
  LUCID_CHECK(v == "none" || v == "tanh", "GELU: approximate must be 'none' or 'tanh', got '", v,
              "'");
  approximate_ = v == "tanh" ? GeluApproximation::Tanh : GeluApproximation::None;
  return *this;
}

std::string GELUImpl::extra_repr() const {
  return options.approximate() == GeluApproximation::Tanh ? "approximate='tanh'"
                                                          : "approximate='none'";
}

}  // namespace lucid::nn
