// Linear, Identity and Flatten, with LibTorch's names and options and
// PyTorch's default initialization.
//
//   nn::Linear fc(784, 10);                               y = x W^T + b
//   nn::Linear fc2(nn::LinearOptions(784, 10).bias(false));
//   nn::Flatten flat;                                     dims 1..-1 into one
//   nn::Flatten flat2(nn::FlattenOptions().start_dim(0).end_dim(1));
//   nn::Identity id;                                      returns its input
#pragma once
#include <cstdint>
#include <string>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>

namespace lucid::nn {

// ---- Linear -------------------------------------------------------------------
struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  LinearOptions& in_features(int64_t v) { in_features_ = v; return *this; }
  LinearOptions& out_features(int64_t v) { out_features_ = v; return *this; }
  LinearOptions& bias(bool v) { bias_ = v; return *this; }
  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  bool bias() const { return bias_; }

 private:
  int64_t in_features_, out_features_;
  bool bias_ = true;
};

// weight [out, in], bias [out] (undefined without bias). Initialization as
// PyTorch: weight ~ kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)),
// and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
class LinearImpl : public Module {
 public:
  LinearImpl(int64_t in_features, int64_t out_features)
      : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(const LinearOptions& options);

  void reset_parameters();  // draws the initial values again
  // input [*, in] -> [*, out]
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // in_features=4, out_features=8, bias=True

  LinearOptions options;
  Tensor weight;
  Tensor bias;
};

class Linear : public ModuleHolder<LinearImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

// ---- Identity ---------------------------------------------------------------------
class IdentityImpl : public Module {
 public:
  Tensor forward(const Tensor& input) { return input; }
};

class Identity : public ModuleHolder<IdentityImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

// ---- Flatten ---------------------------------------------------------------------------
struct FlattenOptions {
  FlattenOptions& start_dim(int64_t v) { start_dim_ = v; return *this; }
  FlattenOptions& end_dim(int64_t v) { end_dim_ = v; return *this; }
  int64_t start_dim() const { return start_dim_; }
  int64_t end_dim() const { return end_dim_; }

 private:
  int64_t start_dim_ = 1;  // keeps the batch dim, unlike Tensor::flatten
  int64_t end_dim_ = -1;
};

class FlattenImpl : public Module {
 public:
  explicit FlattenImpl(const FlattenOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input) { return input.flatten(options.start_dim(), options.end_dim()); }
  std::string extra_repr() const override;  // start_dim=1, end_dim=-1

  FlattenOptions options;
};

class Flatten : public ModuleHolder<FlattenImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
