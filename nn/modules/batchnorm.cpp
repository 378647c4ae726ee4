#include <lucid/nn/modules/batchnorm.h>

#include <lucid/autograd/grad_mode.h>
#include <lucid/autograd/ops/norm.h>
#include <lucid/kernels/factory.h>
#include <lucid/nn/init.h>

namespace lucid::nn {

BatchNormImplBase::BatchNormImplBase(const BatchNormOptions& options, std::string name)
    : Module(std::move(name)), options(options) {
  const int64_t c = options.num_features();
  LUCID_CHECK(c > 0, this->name(), ": num_features must be > 0, got ", c);
  if (options.affine()) {
    weight = register_parameter("weight", empty({c}));
    bias = register_parameter("bias", empty({c}));
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", zeros({c}));
    running_var = register_buffer("running_var", ones({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
  reset_parameters();
}

void BatchNormImplBase::reset_running_stats() {
  if (!options.track_running_stats()) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1.0);
  num_batches_tracked.zero_();
}

void BatchNormImplBase::reset_parameters() {
  reset_running_stats();
  if (options.affine()) {
    init::ones_(weight);
    init::zeros_(bias);
  }
}

Tensor BatchNormImplBase::forward(const Tensor& input) {
  check_input_dim(input);
  LUCID_CHECK(input.size(1) == options.num_features(), name(), "(", extra_repr(),
              "): expected ", options.num_features(), " channels in dim 1, got input ",
              input.sizes());
  double factor = options.momentum().value_or(0.0);
  if (is_training() && options.track_running_stats()) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1.0);
    // momentum None: the cumulative moving average over the batches seen.
    if (!options.momentum()) factor = 1.0 / static_cast<double>(num_batches_tracked.item<int64_t>());
  }
  // Batch statistics while training, or always when there are no running ones.
  const bool use_batch_stats = is_training() || !options.track_running_stats();
  return nn::functional::batch_norm(input, running_mean, running_var, weight, bias,
                                    use_batch_stats, factor, options.eps());
}

std::string BatchNormImplBase::extra_repr() const {
  return std::to_string(options.num_features()) + ", eps=" + repr_float(options.eps()) +
         ", momentum=" + (options.momentum() ? repr_float(*options.momentum()) : "None") +
         ", affine=" + repr_bool(options.affine()) +
         ", track_running_stats=" + repr_bool(options.track_running_stats());
}

void BatchNorm1dImpl::check_input_dim(const Tensor& input) const {
  LUCID_CHECK(input.dim() == 2 || input.dim() == 3, "BatchNorm1d: expected 2D or 3D input (got ",
              input.dim(), "D input of shape ", input.sizes(), ")");
}

void BatchNorm2dImpl::check_input_dim(const Tensor& input) const {
  LUCID_CHECK(input.dim() == 4, "BatchNorm2d: expected 4D input (got ", input.dim(),
              "D input of shape ", input.sizes(), ")");
}

}  // namespace lucid::nn
