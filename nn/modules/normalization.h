// LayerNorm: normalizes over the trailing dims given by normalized_shape, with
// LibTorch's options and PyTorch's initialization (weight 1, bias 0). The
// math and its gradient live in nn::functional::layer_norm (autograd/ops/norm.h).
//
//   nn::LayerNorm ln(nn::LayerNormOptions({64}));            over the last dim
//   nn::LayerNorm ln2(nn::LayerNormOptions({4, 8}).eps(1e-6).elementwise_affine(false));
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <lucid/kernels/shape.h>
#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>

namespace lucid::nn {

struct LayerNormOptions {
  LayerNormOptions(Shape normalized_shape) : normalized_shape_(std::move(normalized_shape)) {}  // NOLINT
  LayerNormOptions& normalized_shape(Shape v) { normalized_shape_ = std::move(v); return *this; }
  LayerNormOptions& eps(double v) { eps_ = v; return *this; }
  LayerNormOptions& elementwise_affine(bool v) { elementwise_affine_ = v; return *this; }
  const Shape& normalized_shape() const { return normalized_shape_; }
  double eps() const { return eps_; }
  bool elementwise_affine() const { return elementwise_affine_; }

 private:
  Shape normalized_shape_;
  double eps_ = 1e-5;
  bool elementwise_affine_ = true;
};

// weight and bias have shape normalized_shape (when elementwise_affine).
class LayerNormImpl : public Module {
 public:
  explicit LayerNormImpl(const LayerNormOptions& options);

  void reset_parameters();  // weight 1, bias 0
  // input [*, normalized_shape...] -> same shape
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // (8,), eps=1e-05, elementwise_affine=True

  LayerNormOptions options;
  Tensor weight;
  Tensor bias;
};

class LayerNorm : public ModuleHolder<LayerNormImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
