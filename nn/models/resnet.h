// A small ResNet for 32x32 images (CIFAR-10 style; He et al. 2015, section 4.2).
//
//   stem:    Conv3x3(in, w) - BN - ReLU                                     32x32, w channels
//   layer1:  n BasicBlocks, w channels                                      32x32
//   layer2:  n BasicBlocks, 2w channels, the first with stride 2            16x16
//   layer3:  n BasicBlocks, 4w channels, the first with stride 2            8x8
//   head:    AdaptiveAvgPool2d(1) - Flatten - Linear(4w, classes)
// depth = 6n + 2 (8, 14, 20, 32, ...): ResNet-20 is depth 20 and width 16.
//
// BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), both convs
// 3x3 without bias; shortcut is x, or Conv1x1(stride) - BN ("downsample") when
// the channels or the resolution change.
//
//   nn::ResNet net;                                               ResNet-20, width 16
//   nn::ResNet r8(nn::ResNetOptions().depth(8).width(8));
//
// Names follow torchvision: conv1, bn1, layer1.0.conv1.weight,
// layer2.0.downsample.0.weight, fc.weight. Init as torchvision: conv weights
// kaiming_normal_(fan_out, relu), BN weight 1 and bias 0, fc as a Linear.
#pragma once
#include <cstdint>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>
#include <lucid/nn/modules/batchnorm.h>
#include <lucid/nn/modules/container.h>
#include <lucid/nn/modules/conv.h>
#include <lucid/nn/modules/linear.h>
#include <lucid/nn/modules/pooling.h>

namespace lucid::nn {

class BasicBlockImpl : public Module {
 public:
  BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride);
  Tensor forward(const Tensor& input);

  Conv2d conv1 = nullptr, conv2 = nullptr;
  BatchNorm2d bn1 = nullptr, bn2 = nullptr;
  Sequential downsample = nullptr;  // empty handle when the shortcut is the identity
};

class BasicBlock : public ModuleHolder<BasicBlockImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

struct ResNetOptions {
  ResNetOptions& depth(int64_t v) { depth_ = v; return *this; }  // 6n + 2
  ResNetOptions& width(int64_t v) { width_ = v; return *this; }  // channels of layer1
  ResNetOptions& num_classes(int64_t v) { num_classes_ = v; return *this; }
  ResNetOptions& in_channels(int64_t v) { in_channels_ = v; return *this; }
  int64_t depth() const { return depth_; }
  int64_t width() const { return width_; }
  int64_t num_classes() const { return num_classes_; }
  int64_t in_channels() const { return in_channels_; }

 private:
  int64_t depth_ = 20, width_ = 16, num_classes_ = 10, in_channels_ = 3;
};

class ResNetImpl : public Module {
 public:
  explicit ResNetImpl(const ResNetOptions& options = {});
  Tensor forward(const Tensor& input);  // [N, in, H, W] -> [N, classes] logits

  ResNetOptions options;
  Conv2d conv1 = nullptr;
  BatchNorm2d bn1 = nullptr;
  Sequential layer1 = nullptr, layer2 = nullptr, layer3 = nullptr;
  AdaptiveAvgPool2d avgpool = nullptr;
  Linear fc = nullptr;
};

class ResNet : public ModuleHolder<ResNetImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
