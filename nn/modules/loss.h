// Loss modules: CrossEntropyLoss, NLLLoss, MSELoss, BCEWithLogitsLoss, with
// LibTorch's options. Each forward(input, target) calls the functional loss of
// the same name (autograd/ops/loss.h), where the math, shapes and gradients are.
//
//   nn::CrossEntropyLoss ce;                                             mean over the batch
//   nn::CrossEntropyLoss ce2(nn::CrossEntropyLossOptions().label_smoothing(0.1).ignore_index(0));
//   nn::BCEWithLogitsLoss bce(nn::BCEWithLogitsLossOptions().pos_weight(w));
//
// `weight` (and `pos_weight`) are registered as buffers, as PyTorch does, so
// they appear in state_dict and follow to(dtype) and to(device).
#pragma once
#include <cstdint>
#include <string>

#include <lucid/autograd/ops/loss.h>
#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>

namespace lucid::nn {

using nn::functional::Reduction;

// ---- CrossEntropyLoss ----------------------------------------------------------
struct CrossEntropyLossOptions {
  CrossEntropyLossOptions& weight(const Tensor& v) { weight_ = v; return *this; }
  CrossEntropyLossOptions& ignore_index(int64_t v) { ignore_index_ = v; return *this; }
  CrossEntropyLossOptions& reduction(Reduction v) { reduction_ = v; return *this; }
  CrossEntropyLossOptions& label_smoothing(double v) { label_smoothing_ = v; return *this; }
  const Tensor& weight() const { return weight_; }
  int64_t ignore_index() const { return ignore_index_; }
  Reduction reduction() const { return reduction_; }
  double label_smoothing() const { return label_smoothing_; }

 private:
  Tensor weight_;
  int64_t ignore_index_ = -100;
  Reduction reduction_ = Reduction::Mean;
  double label_smoothing_ = 0.0;
};

// input [N, C] logits (or [N, C, d...]), target [N] int64 classes (or [N, d...])
class CrossEntropyLossImpl : public Module {
 public:
  explicit CrossEntropyLossImpl(const CrossEntropyLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);

  CrossEntropyLossOptions options;
  Tensor weight;  // buffer [C], or undefined
};
class CrossEntropyLoss : public ModuleHolder<CrossEntropyLossImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

// ---- NLLLoss -------------------------------------------------------------------------
struct NLLLossOptions {
  NLLLossOptions& weight(const Tensor& v) { weight_ = v; return *this; }
  NLLLossOptions& ignore_index(int64_t v) { ignore_index_ = v; return *this; }
  NLLLossOptions& reduction(Reduction v) { reduction_ = v; return *this; }
  const Tensor& weight() const { return weight_; }
  int64_t ignore_index() const { return ignore_index_; }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor weight_;
  int64_t ignore_index_ = -100;
  Reduction reduction_ = Reduction::Mean;
};

// input [N, C] log-probabilities, target [N] int64 classes
class NLLLossImpl : public Module {
 public:
  explicit NLLLossImpl(const NLLLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);

  NLLLossOptions options;
  Tensor weight;  // buffer [C], or undefined
};
class NLLLoss : public ModuleHolder<NLLLossImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

// ---- MSELoss ---------------------------------------------------------------------------
struct MSELossOptions {
  MSELossOptions(Reduction reduction = Reduction::Mean) : reduction_(reduction) {}  // NOLINT
  MSELossOptions& reduction(Reduction v) { reduction_ = v; return *this; }
  Reduction reduction() const { return reduction_; }

 private:
  Reduction reduction_;
};

// mean((input - target)^2); input and target of the same shape
class MSELossImpl : public Module {
 public:
  explicit MSELossImpl(const MSELossOptions& options = {}) : options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);

  MSELossOptions options;
};
class MSELoss : public ModuleHolder<MSELossImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

// ---- BCEWithLogitsLoss -------------------------------------------------------------------
struct BCEWithLogitsLossOptions {
  BCEWithLogitsLossOptions& weight(const Tensor& v) { weight_ = v; return *this; }
  BCEWithLogitsLossOptions& pos_weight(const Tensor& v) { pos_weight_ = v; return *this; }
  BCEWithLogitsLossOptions& reduction(Reduction v) { reduction_ = v; return *this; }
  const Tensor& weight() const { return weight_; }
  const Tensor& pos_weight() const { return pos_weight_; }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor weight_, pos_weight_;
  Reduction reduction_ = Reduction::Mean;
};

// input logits and target probabilities of the same shape;
// loss = -w [pos_weight y log s(x) + (1 - y) log(1 - s(x))]
class BCEWithLogitsLossImpl : public Module {
 public:
  explicit BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);

  BCEWithLogitsLossOptions options;
  Tensor weight, pos_weight;  // buffers, or undefined
};
class BCEWithLogitsLoss : public ModuleHolder<BCEWithLogitsLossImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
