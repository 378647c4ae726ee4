// MLP: Linear layers with an activation between them (none after the last).
//
//   nn::MLP mlp(784, {256, 128}, 10);                       784-256-128-10, ReLU
//   nn::MLP mlp2(nn::MLPOptions(2, {16}, 1).activation(nn::MLPActivation::Tanh));
//
// Layers are held in a Sequential named "layers": "layers.0.weight" is the first
// Linear's weight, as the PyTorch module
//   class MLP(nn.Module): self.layers = nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)
// names it.
#pragma once
#include <cstdint>
#include <vector>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>
#include <lucid/nn/modules/container.h>

namespace lucid::nn {

enum class MLPActivation { ReLU, GELU, SiLU, Tanh, Sigmoid };

struct MLPOptions {
  MLPOptions(int64_t in_features, std::vector<int64_t> hidden, int64_t out_features)
      : in_features_(in_features), hidden_(std::move(hidden)), out_features_(out_features) {}
  MLPOptions& activation(MLPActivation v) { activation_ = v; return *this; }
  MLPOptions& dropout(double v) { dropout_ = v; return *this; }  // after each activation; 0 = none
  int64_t in_features() const { return in_features_; }
  const std::vector<int64_t>& hidden() const { return hidden_; }
  int64_t out_features() const { return out_features_; }
  MLPActivation activation() const { return activation_; }
  double dropout() const { return dropout_; }

 private:
  int64_t in_features_;
  std::vector<int64_t> hidden_;
  int64_t out_features_;
  MLPActivation activation_ = MLPActivation::ReLU;
  double dropout_ = 0.0;
};

class MLPImpl : public Module {
 public:
  MLPImpl(int64_t in_features, std::vector<int64_t> hidden, int64_t out_features)
      : MLPImpl(MLPOptions(in_features, std::move(hidden), out_features)) {}
  explicit MLPImpl(const MLPOptions& options);
  Tensor forward(const Tensor& input);  // [*, in] -> [*, out]

  MLPOptions options;
  Sequential layers = nullptr;
};

class MLP : public ModuleHolder<MLPImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
