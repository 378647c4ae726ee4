// Activation modules: each calls the functional op of the same name
// (autograd/ops/elementwise.h), so its math and gradient live there.
//
//   nn::ReLU  nn::GELU  nn::SiLU  nn::Tanh  nn::Sigmoid
//   nn::GELU gelu(nn::GELUOptions().approximate("tanh"));
#pragma once
#include <string>

#include <lucid/autograd/ops/elementwise.h>
#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>

namespace lucid::nn {

class ReLUImpl : public Module {
 public:
  Tensor forward(const Tensor& input) { return lucid::relu(input); }
};
class ReLU : public ModuleHolder<ReLUImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

// approximate: "none" (the erf form) or "tanh", as LibTorch's string option;
// the enum lucid::GeluApproximation works too.
struct GELUOptions {
  GELUOptions& approximate(GeluApproximation v) { approximate_ = v; return *this; }
  GELUOptions& approximate(const std::string& v);  // "none" | "tanh"
  GeluApproximation approximate() const { return approximate_; }

 private:
  GeluApproximation approximate_ = GeluApproximation::None;
};

class GELUImpl : public Module {
 public:
  explicit GELUImpl(const GELUOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input) { return lucid::gelu(input, options.approximate()); }
  std::string extra_repr() const override;  // approximate='none'

  GELUOptions options;
};
class GELU : public ModuleHolder<GELUImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

class SiLUImpl : public Module {
 public:
  Tensor forward(const Tensor& input) { return lucid::silu(input); }
};
class SiLU : public ModuleHolder<SiLUImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

class TanhImpl : public Module {
 public:
  Tensor forward(const Tensor& input) { return lucid::tanh(input); }
};
class Tanh : public ModuleHolder<TanhImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

class SigmoidImpl : public Module {
 public:
  Tensor forward(const Tensor& input) { return lucid::sigmoid(input); }
};
class Sigmoid : public ModuleHolder<SigmoidImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
