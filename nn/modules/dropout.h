// Dropout: zeroes each element with probability p while training (scaling the
// rest by 1 / (1 - p)), the identity in eval mode. The mask comes from the
// default generator (see nn::functional::dropout in autograd/ops/index.h).
//
//   nn::Dropout drop(0.2);   drop->eval();   drop(x) == x
#pragma once
#include <string>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>

namespace lucid::nn {

struct DropoutOptions {
  DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT: nn::Dropout(0.2)
  DropoutOptions& p(double v) { p_ = v; return *this; }
  double p() const { return p_; }

 private:
  double p_;
};

class DropoutImpl : public Module {
 public:
  explicit DropoutImpl(const DropoutOptions& options = {});
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // p=0.5, inplace=False (lucid has no in-place form)

  DropoutOptions options;
};

class Dropout : public ModuleHolder<DropoutImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
