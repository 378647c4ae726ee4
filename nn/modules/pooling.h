// Pooling layers over NCHW images: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
// with LibTorch's options. No parameters; the math and gradients live in
// autograd/ops/conv.h.
//
//   nn::MaxPool2d pool(2);                                  2x2, stride 2
//   nn::MaxPool2d pool3(nn::MaxPool2dOptions(3).stride(2).padding(1));
//   nn::AvgPool2d avg(nn::AvgPool2dOptions(2).count_include_pad(false));
//   nn::AdaptiveAvgPool2d gap(1);                           [N, C, H, W] -> [N, C, 1, 1]
//
// The stride defaults to the kernel size (Python's stride=None). Sizes print
// as they were given (2 or (2, 2)), as PyTorch's repr.
#pragma once
#include <string>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>
#include <lucid/nn/modules/expanding_pair.h>

namespace lucid::nn {

// ---- MaxPool2d -------------------------------------------------------------------
struct MaxPool2dOptions {
  MaxPool2dOptions(ExpandingPair kernel_size)  // NOLINT: nn::MaxPool2d(2)
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  MaxPool2dOptions& stride(ExpandingPair v) { stride_ = v; return *this; }
  MaxPool2dOptions& padding(ExpandingPair v) { padding_ = v; return *this; }
  MaxPool2dOptions& dilation(ExpandingPair v) { dilation_ = v; return *this; }
  MaxPool2dOptions& ceil_mode(bool v) { ceil_mode_ = v; return *this; }
  const ExpandingPair& kernel_size() const { return kernel_size_; }
  const ExpandingPair& stride() const { return stride_; }
  const ExpandingPair& padding() const { return padding_; }
  const ExpandingPair& dilation() const { return dilation_; }
  bool ceil_mode() const { return ceil_mode_; }

 private:
  ExpandingPair kernel_size_, stride_;
  ExpandingPair padding_ = 0;
  ExpandingPair dilation_ = 1;
  bool ceil_mode_ = false;
};

class MaxPool2dImpl : public Module {
 public:
  explicit MaxPool2dImpl(ExpandingPair kernel_size) : MaxPool2dImpl(MaxPool2dOptions(kernel_size)) {}
  explicit MaxPool2dImpl(const MaxPool2dOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);  // [N, C, H, W] or [C, H, W]
  // kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False
  std::string extra_repr() const override;

  MaxPool2dOptions options;
};

class MaxPool2d : public ModuleHolder<MaxPool2dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

// ---- AvgPool2d ---------------------------------------------------------------------
struct AvgPool2dOptions {
  AvgPool2dOptions(ExpandingPair kernel_size)  // NOLINT: nn::AvgPool2d(2)
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  AvgPool2dOptions& stride(ExpandingPair v) { stride_ = v; return *this; }
  AvgPool2dOptions& padding(ExpandingPair v) { padding_ = v; return *this; }
  AvgPool2dOptions& ceil_mode(bool v) { ceil_mode_ = v; return *this; }
  AvgPool2dOptions& count_include_pad(bool v) { count_include_pad_ = v; return *this; }
  const ExpandingPair& kernel_size() const { return kernel_size_; }
  const ExpandingPair& stride() const { return stride_; }
  const ExpandingPair& padding() const { return padding_; }
  bool ceil_mode() const { return ceil_mode_; }
  bool count_include_pad() const { return count_include_pad_; }

 private:
  ExpandingPair kernel_size_, stride_;
  ExpandingPair padding_ = 0;
  bool ceil_mode_ = false;
  bool count_include_pad_ = true;
};

class AvgPool2dImpl : public Module {
 public:
  explicit AvgPool2dImpl(ExpandingPair kernel_size) : AvgPool2dImpl(AvgPool2dOptions(kernel_size)) {}
  explicit AvgPool2dImpl(const AvgPool2dOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);  // [N, C, H, W] or [C, H, W]
  std::string extra_repr() const override;  // kernel_size=2, stride=2, padding=0 (PyTorch 1.13)

  AvgPool2dOptions options;
};

class AvgPool2d : public ModuleHolder<AvgPool2dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

// ---- AdaptiveAvgPool2d ----------------------------------------------------------------
struct AdaptiveAvgPool2dOptions {
  AdaptiveAvgPool2dOptions(ExpandingPair output_size) : output_size_(output_size) {}  // NOLINT
  AdaptiveAvgPool2dOptions& output_size(ExpandingPair v) { output_size_ = v; return *this; }
  const ExpandingPair& output_size() const { return output_size_; }

 private:
  ExpandingPair output_size_;
};

class AdaptiveAvgPool2dImpl : public Module {
 public:
  explicit AdaptiveAvgPool2dImpl(ExpandingPair output_size)
      : AdaptiveAvgPool2dImpl(AdaptiveAvgPool2dOptions(output_size)) {}
  explicit AdaptiveAvgPool2dImpl(const AdaptiveAvgPool2dOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);  // [N, C, H, W] -> [N, C, oH, oW]
  std::string extra_repr() const override;  // output_size=1

  AdaptiveAvgPool2dOptions options;
};

class AdaptiveAvgPool2d : public ModuleHolder<AdaptiveAvgPool2dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
