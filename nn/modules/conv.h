// Conv2d: a 2-D convolution over NCHW images, with LibTorch's options and
// PyTorch's default initialization. The math and its gradient live in
// nn::functional::conv2d (autograd/ops/conv.h).
//
//   nn::Conv2d conv(1, 32, 3);                                     3x3, stride 1, no padding
//   nn::Conv2d conv2(nn::Conv2dOptions(32, 64, 3).padding(1).bias(false));
//   nn::Conv2d dw(nn::Conv2dOptions(16, 16, 3).groups(16));        depthwise
#pragma once
#include <cstdint>
#include <string>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>
#include <lucid/nn/modules/expanding_pair.h>

namespace lucid::nn {

struct Conv2dOptions {
  Conv2dOptions(int64_t in_channels, int64_t out_channels, ExpandingPair kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  Conv2dOptions& stride(ExpandingPair v) { stride_ = v; return *this; }
  Conv2dOptions& padding(ExpandingPair v) { padding_ = v; return *this; }
  Conv2dOptions& dilation(ExpandingPair v) { dilation_ = v; return *this; }
  Conv2dOptions& groups(int64_t v) { groups_ = v; return *this; }
  Conv2dOptions& bias(bool v) { bias_ = v; return *this; }
  int64_t in_channels() const { return in_channels_; }
  int64_t out_channels() const { return out_channels_; }
  const ExpandingPair& kernel_size() const { return kernel_size_; }
  const ExpandingPair& stride() const { return stride_; }
  const ExpandingPair& padding() const { return padding_; }
  const ExpandingPair& dilation() const { return dilation_; }
  int64_t groups() const { return groups_; }
  bool bias() const { return bias_; }

 private:
  int64_t in_channels_, out_channels_;
  ExpandingPair kernel_size_;
  ExpandingPair stride_ = 1;
  ExpandingPair padding_ = 0;
  ExpandingPair dilation_ = 1;
  int64_t groups_ = 1;
  bool bias_ = true;
};

// weight [out, in / groups, kH, kW], bias [out]. Initialization as PyTorch:
// weight ~ kaiming_uniform_(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// with fan_in = in / groups * kH * kW, and bias ~ the same U.
class Conv2dImpl : public Module {
 public:
  Conv2dImpl(int64_t in_channels, int64_t out_channels, ExpandingPair kernel_size)
      : Conv2dImpl(Conv2dOptions(in_channels, out_channels, kernel_size)) {}
  explicit Conv2dImpl(const Conv2dOptions& options);

  void reset_parameters();
  // input [N, in, H, W] or [in, H, W] -> [N, out, H', W'] (or [out, H', W'])
  Tensor forward(const Tensor& input);
  // 1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)  (padding, dilation,
  // groups and bias only when not their defaults, as PyTorch)
  std::string extra_repr() const override;

  Conv2dOptions options;
  Tensor weight;
  Tensor bias;
};

class Conv2d : public ModuleHolder<Conv2dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
