#include <lucid/optim/adamw.h>

#include <lucid/optim/adam_step.h>

namespace lucid::optim {

void AdamWOptions::save(StateDict& dict, const std::string& prefix) const {
  OptimizerOptions::save(dict, prefix);
  dict.insert(prefix + "betas.0", state_double(std::get<0>(betas_)));
  dict.insert(prefix + "betas.1", state_double(std::get<1>(betas_)));
  dict.insert(prefix + "eps", state_double(eps_));
  dict.insert(prefix + "weight_decay", state_double(weight_decay_));
  dict.insert(prefix + "amsgrad", flag(amsgrad_));
  dict.insert(prefix + "maximize", flag(maximize_));
}

void AdamWOptions::load(const StateDict& dict, const std::string& prefix, const std::string& who) {
  OptimizerOptions::load(dict, prefix, who);
  betas_ = {read_double(dict, prefix + "betas.0", who), read_double(dict, prefix + "betas.1", who)};
  eps_ = read_double(dict, prefix + "eps", who);
  weight_decay_ = read_double(dict, prefix + "weight_decay", who);
  amsgrad_ = read_flag(dict, prefix + "amsgrad", who);
  maximize_ = read_flag(dict, prefix + "maximize", who);
}

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
  detail::check_adam_hyper("AdamW", o->lr(), std::get<0>(o->betas()), std::get<1>(o->betas()), o->eps(),
                           o->weight_decay());
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
