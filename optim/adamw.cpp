#include <lucid/optim/adamw.h>

#include <lucid/optim/adam_step.h>

namespace lucid::optim {

AdamW::AdamW(std::vector<OptimizerParamGroup> groups, AdamWOptions defaults)
    : Optimizer("AdamW", defaults.clone()) {
  check_options(defaults);
  for (const OptimizerParamGroup& g : groups) add_param_group(g);
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions defaults)
    : AdamW(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, std::move(defaults)) {}

void AdamW::check_options(const OptimizerOptions& options) const {
  const auto* o = dynamic_cast<const AdamWOptions*>(&options);
  LUCID_CHECK(o != nullptr, "AdamW: a parameter group has options of another optimizer");
  o->check("AdamW");
}

// p = p * (1 - lr * weight_decay)   (decoupled: the decay never enters the moments)
// then the Adam step with the raw gradient (detail::adam_step, adam.cpp).
void AdamW::update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
                   OptimizerParamState& state) {
  const auto& o = static_cast<const AdamWOptions&>(options);
  const Tensor g = o.maximize() ? -grad : grad;
  param.mul_(1 - o.lr() * o.weight_decay());
  const auto [beta1, beta2] = o.betas();
  detail::adam_step(param, g, {"AdamW", o.lr(), beta1, beta2, o.eps(), o.amsgrad()}, state);
}

std::vector<StateBuffer> AdamW::state_buffers(const OptimizerOptions& options) const {
  return detail::adam_buffers(static_cast<const AdamWOptions&>(options).amsgrad());
}

}  // namespace lucid::optim
