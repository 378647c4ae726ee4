// Adam (torch::optim::Adam) with L2 weight decay and the AMSGrad variant. Formula in adam.cpp.
//
//   optim::Adam opt(params, optim::AdamOptions(1e-3).betas({0.9, 0.999}).weight_decay(1e-4));
#pragma once
#include <lucid/optim/adam_options.h>
#include <lucid/optim/optimizer.h>

namespace lucid::optim {

// lr, betas, eps, weight_decay (default 0), amsgrad, maximize: adam_options.h.
class AdamOptions : public detail::AdamFamilyOptions<AdamOptions> {
 public:
  explicit AdamOptions(double lr = 1e-3) : AdamFamilyOptions(lr, /*weight_decay=*/0.0) {}
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<OptimizerParamGroup> groups, AdamOptions defaults);
  Adam(std::vector<Tensor> params, AdamOptions defaults);

 protected:
  void check_options(const OptimizerOptions& options) const override;
  void update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
              OptimizerParamState& state) override;
  std::vector<StateBuffer> state_buffers(const OptimizerOptions& options) const override;
};

}  // namespace lucid::optim
