#include <lucid/nn/modules/pooling.h>

#include <lucid/autograd/ops/conv.h>

namespace lucid::nn {

Tensor MaxPool2dImpl::forward(const Tensor& input) {
  return nn::functional::max_pool2d(input, options.kernel_size().values(),
                                    options.stride().values(), options.padding().values(),
                                    options.dilation().values(), options.ceil_mode());
}

std::string MaxPool2dImpl::extra_repr() const {
  return "kernel_size=" + options.kernel_size().repr() + ", stride=" + options.stride().repr() +
         ", padding=" + options.padding().repr() + ", dilation=" + options.dilation().repr() +
         ", ceil_mode=" + repr_bool(options.ceil_mode());
}

Tensor AvgPool2dImpl::forward(const Tensor& input) {
  return nn::functional::avg_pool2d(input, options.kernel_size().values(),
                                    options.stride().values(), options.padding().values(),
                                    options.ceil_mode(), options.count_include_pad());
}

std::string AvgPool2dImpl::extra_repr() const {
  return "kernel_size=" + options.kernel_size().repr() + ", stride=" + options.stride().repr() +
         ", padding=" + options.padding().repr();
}

Tensor AdaptiveAvgPool2dImpl::forward(const Tensor& input) {
  return nn::functional::adaptive_avg_pool2d(input, options.output_size().values());
}

std::string AdaptiveAvgPool2dImpl::extra_repr() const {
  return "output_size=" + options.output_size().repr();
}

}  // namespace lucid::nn
