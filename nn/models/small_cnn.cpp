#include <lucid/nn/models/small_cnn.h>

#include <lucid/nn/modules/activation.h>
#include <lucid/nn/modules/batchnorm.h>
#include <lucid/nn/modules/conv.h>
#include <lucid/nn/modules/dropout.h>
#include <lucid/nn/modules/linear.h>
#include <lucid/nn/modules/pooling.h>

namespace lucid::nn {

SmallCNNImpl::SmallCNNImpl(const SmallCNNOptions& options) : options(options) {
  const int64_t c1 = options.c1(), c2 = options.c2();
  features = register_module(
      "features",
      Sequential(Conv2d(Conv2dOptions(options.in_channels(), c1, 3).padding(1)), BatchNorm2d(c1),
                 ReLU(), MaxPool2d(2),  // 28 -> 14
                 Conv2d(Conv2dOptions(c1, c2, 3).padding(1)), BatchNorm2d(c2), ReLU(),
                 MaxPool2d(2)));  // 14 -> 7
  classifier = register_module(
      "classifier", Sequential(Flatten(), Linear(c2 * 7 * 7, options.hidden()), ReLU(),
                               Dropout(options.dropout()),
                               Linear(options.hidden(), options.num_classes())));
}

Tensor SmallCNNImpl::forward(const Tensor& input) {
  LUCID_CHECK(input.dim() == 4 && input.size(2) == 28 && input.size(3) == 28, "SmallCNN: expected "
              "input [N, ", options.in_channels(), ", 28, 28], got ", input.sizes());
  return classifier->forward(features->forward(input));
}

}  // namespace lucid::nn
