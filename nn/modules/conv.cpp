#include <lucid/nn/modules/conv.h>

#include <cmath>

#include <lucid/autograd/ops/conv.h>
#include <lucid/kernels/factory.h>
#include <lucid/nn/init.h>

namespace lucid::nn {

Conv2dImpl::Conv2dImpl(const Conv2dOptions& options) : options(options) {
  const int64_t in = options.in_channels(), out = options.out_channels(), g = options.groups();
  LUCID_CHECK(in > 0 && out > 0, "Conv2d: in_channels and out_channels must be > 0, got ", in,
              " and ", out);
  LUCID_CHECK(g > 0 && in % g == 0 && out % g == 0, "Conv2d: groups=", g,
              " must be > 0 and divide in_channels=", in, " and out_channels=", out);
  const auto& k = options.kernel_size();
  LUCID_CHECK(k[0] > 0 && k[1] > 0, "Conv2d: kernel_size must be > 0, got ", k.tuple_repr());
  weight = register_parameter("weight", empty({out, in / g, k[0], k[1]}));
  bias = register_parameter("bias", options.bias() ? empty({out}) : Tensor(), options.bias());
  reset_parameters();
}

void Conv2dImpl::reset_parameters() {
  // As Linear: kaiming_uniform_ with a = sqrt(5) gives bound 1 / sqrt(fan_in).
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Conv2dImpl::forward(const Tensor& input) {
  // Checked here too so the message names the layer, not only the op.
  const bool shape_ok = (input.dim() == 3 || input.dim() == 4) &&
                        input.size(input.dim() - 3) == options.in_channels();
  LUCID_CHECK(shape_ok, "Conv2d(", extra_repr(), "): expected input [N, ", options.in_channels(),
              ", H, W] or [", options.in_channels(), ", H, W], got ", input.sizes());
  return nn::functional::conv2d(input, weight, bias, options.stride().values(),
                                options.padding().values(), options.dilation().values(),
                                options.groups());
}

std::string Conv2dImpl::extra_repr() const {
  std::string s = std::to_string(options.in_channels()) + ", " +
                  std::to_string(options.out_channels()) +
                  ", kernel_size=" + options.kernel_size().tuple_repr() +
                  ", stride=" + options.stride().tuple_repr();
  if (!options.padding().all_equal(0)) s += ", padding=" + options.padding().tuple_repr();
  if (!options.dilation().all_equal(1)) s += ", dilation=" + options.dilation().tuple_repr();
  if (options.groups() != 1) s += ", groups=" + std::to_string(options.groups());
  if (!options.bias()) s += ", bias=False";
  return s;
}

}  // namespace lucid::nn
