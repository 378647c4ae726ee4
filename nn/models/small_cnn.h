// SmallCNN: a classifier for 28x28 single-channel images (MNIST,
// Fashion-MNIST); the default widths reach about 0.93 test accuracy on
// Fashion-MNIST in a few epochs.
//
//   features:   [Conv3x3(pad 1) - BatchNorm - ReLU - MaxPool2] x 2   28 -> 14 -> 7
//   classifier: Flatten - Linear(c2 * 7 * 7, hidden) - ReLU - Dropout - Linear(hidden, classes)
//
//   nn::SmallCNN net;                                             32, 64 channels, hidden 128
//   nn::SmallCNN tiny(nn::SmallCNNOptions().channels(4, 8).hidden(16));
//
// The same module in PyTorch (same names, same repr):
//   class SmallCNN(nn.Module):
//     self.features = nn.Sequential(Conv2d(1, 32, 3, padding=1), BatchNorm2d(32), ReLU(),
//                                   MaxPool2d(2), Conv2d(32, 64, 3, padding=1),
//                                   BatchNorm2d(64), ReLU(), MaxPool2d(2))
//     self.classifier = nn.Sequential(Flatten(), Linear(64 * 7 * 7, 128), ReLU(),
//                                     Dropout(0.5), Linear(128, 10))
#pragma once
#include <cstdint>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>
#include <lucid/nn/modules/container.h>

namespace lucid::nn {

struct SmallCNNOptions {
  SmallCNNOptions& in_channels(int64_t v) { in_channels_ = v; return *this; }
  SmallCNNOptions& channels(int64_t c1, int64_t c2) { c1_ = c1; c2_ = c2; return *this; }
  SmallCNNOptions& hidden(int64_t v) { hidden_ = v; return *this; }
  SmallCNNOptions& num_classes(int64_t v) { num_classes_ = v; return *this; }
  SmallCNNOptions& dropout(double v) { dropout_ = v; return *this; }
  int64_t in_channels() const { return in_channels_; }
  int64_t c1() const { return c1_; }
  int64_t c2() const { return c2_; }
  int64_t hidden() const { return hidden_; }
  int64_t num_classes() const { return num_classes_; }
  double dropout() const { return dropout_; }

 private:
  int64_t in_channels_ = 1, c1_ = 32, c2_ = 64, hidden_ = 128, num_classes_ = 10;
  double dropout_ = 0.5;
};

class SmallCNNImpl : public Module {
 public:
  explicit SmallCNNImpl(const SmallCNNOptions& options = {});
  Tensor forward(const Tensor& input);  // [N, in_channels, 28, 28] -> [N, num_classes] logits

  SmallCNNOptions options;
  Sequential features = nullptr;
  Sequential classifier = nullptr;
};

class SmallCNN : public ModuleHolder<SmallCNNImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
