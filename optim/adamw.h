// AdamW (torch::optim::AdamW): Adam with decoupled weight decay, p *= 1 - lr * weight_decay
// before the Adam step (Loshchilov & Hutter). Formula in adamw.cpp.
#pragma once
#include <lucid/optim/adam_options.h>
#include <lucid/optim/optimizer.h>

namespace lucid::optim {

// lr, betas, eps, weight_decay, amsgrad, maximize: adam_options.h. weight_decay defaults to
// 1e-2 (PyTorch's default), unlike Adam's 0.
class AdamWOptions : public detail::AdamFamilyOptions<AdamWOptions> {
 public:
  explicit AdamWOptions(double lr = 1e-3) : AdamFamilyOptions(lr, /*weight_decay=*/1e-2) {}
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<OptimizerParamGroup> groups, AdamWOptions defaults);
  AdamW(std::vector<Tensor> params, AdamWOptions defaults);

 protected:
  void check_options(const OptimizerOptions& options) const override;
  void update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
              OptimizerParamState& state) override;
  std::vector<StateBuffer> state_buffers(const OptimizerOptions& options) const override;
};

}  // namespace lucid::optim
