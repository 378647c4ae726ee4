#include <lucid/nn/models/resnet.h>

#include <lucid/autograd/ops/elementwise.h>
#include <lucid/nn/init.h>

namespace lucid::nn {

namespace {

Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return Conv2d(Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride) {
  conv1 = register_module("conv1", conv3x3(in_channels, out_channels, stride));
  bn1 = register_module("bn1", BatchNorm2d(out_channels));
  conv2 = register_module("conv2", conv3x3(out_channels, out_channels, 1));
  bn2 = register_module("bn2", BatchNorm2d(out_channels));
  if (stride != 1 || in_channels != out_channels)
    downsample = register_module(
        "downsample",
        Sequential(Conv2d(Conv2dOptions(in_channels, out_channels, 1).stride(stride).bias(false)),
                   BatchNorm2d(out_channels)));
}

Tensor BasicBlockImpl::forward(const Tensor& input) {
  Tensor out = relu(bn1(conv1(input)));
  out = bn2(conv2(out));
  return relu(out + (downsample ? downsample(input) : input));
}

ResNetImpl::ResNetImpl(const ResNetOptions& options) : options(options) {
  LUCID_CHECK(options.depth() >= 8 && (options.depth() - 2) % 6 == 0,
              "ResNet: depth must be 6n + 2 with n >= 1 (8, 14, 20, ...), got ", options.depth());
  LUCID_CHECK(options.width() > 0, "ResNet: width must be > 0, got ", options.width());
  const int64_t n = (options.depth() - 2) / 6, w = options.width();
  conv1 = register_module("conv1", conv3x3(options.in_channels(), w, 1));
  bn1 = register_module("bn1", BatchNorm2d(w));
  auto stage = [n](int64_t in, int64_t out, int64_t stride) {
    Sequential blocks;
    for (int64_t i = 0; i < n; ++i) blocks->push_back(BasicBlock(i == 0 ? in : out, out, i == 0 ? stride : 1));
    return blocks;
  };
  layer1 = register_module("layer1", stage(w, w, 1));
  layer2 = register_module("layer2", stage(w, 2 * w, 2));
  layer3 = register_module("layer3", stage(2 * w, 4 * w, 2));
  avgpool = register_module("avgpool", AdaptiveAvgPool2d(1));
  fc = register_module("fc", Linear(4 * w, options.num_classes()));

  for (const auto& m : modules(/*include_self=*/false))
    if (auto* conv = dynamic_cast<Conv2dImpl*>(m.get()))
      init::kaiming_normal_(conv->weight, 0.0, init::kFanOut, init::kReLU);
}

Tensor ResNetImpl::forward(const Tensor& input) {
  Tensor x = relu(bn1(conv1(input)));
  x = layer3(layer2(layer1(x)));
  return fc(avgpool(x).flatten(1));
}

}  // namespace lucid::nn
