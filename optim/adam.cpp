#include <lucid/optim/adam.h>

#include <cmath>

#include <lucid/autograd/ops/elementwise.h>
#include <lucid/kernels/factory.h>
#include <lucid/optim/adam_step.h>

namespace lucid::optim {

Adam::Adam(std::vector<OptimizerParamGroup> groups, AdamOptions defaults)
    : Optimizer("Adam", defaults.clone()) {
  check_options(defaults);
  for (const OptimizerParamGroup& g : groups) add_param_group(g);
}

Adam::Adam(std::vector<Tensor> params, AdamOptions defaults)
    : Adam(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, std::move(defaults)) {}

void Adam::check_options(const OptimizerOptions& options) const {
  const auto* o = dynamic_cast<const AdamOptions*>(&options);
  LUCID_CHECK(o != nullptr, "Adam: a parameter group has options of another optimizer");
  o->check("Adam");
}

// g = grad + weight_decay * p (L2 penalty folded into the gradient), then adam_step.
void Adam::update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
                  OptimizerParamState& state) {
  const auto& o = static_cast<const AdamOptions&>(options);
  Tensor g = o.maximize() ? -grad : grad;
  if (o.weight_decay() != 0) g = add(g, param, o.weight_decay());
  const auto [beta1, beta2] = o.betas();
  detail::adam_step(param, g, {"Adam", o.lr(), beta1, beta2, o.eps(), o.amsgrad()}, state);
}

std::vector<StateBuffer> Adam::state_buffers(const OptimizerOptions& options) const {
  return detail::adam_buffers(static_cast<const AdamOptions&>(options).amsgrad());
}

namespace detail {

// t = state.step
// m = beta1 * m + (1 - beta1) * g                  (exp_avg)
// v = beta2 * v + (1 - beta2) * g^2                (exp_avg_sq; amsgrad: vmax = max(vmax, v), used for v)
// p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
void adam_step(Tensor& param, const Tensor& grad, const AdamHyper& h, OptimizerParamState& state) {
  StateDict& b = state.buffers;
  // Every buffer is created before any is read: inserting into the OrderedDict may move its
  // storage, so handles are taken only after the last insert (and are copies, never references).
  if (!b.contains("exp_avg")) {
    b.insert("exp_avg", zeros_like(param));
    b.insert("exp_avg_sq", zeros_like(param));
    if (h.amsgrad) b.insert("max_exp_avg_sq", zeros_like(param));
  }
  // As PyTorch 1.13 (a KeyError there): amsgrad switched on after a parameter's first step
  // has no running maximum to continue, so it is refused before the moments change.
  LUCID_CHECK(!h.amsgrad || b.contains("max_exp_avg_sq"), h.who, ": amsgrad is on but the state of a "
              "parameter of shape ", param.sizes(), " has no max_exp_avg_sq (amsgrad was switched on "
              "after its first step); switch amsgrad on before the first step");
  Tensor exp_avg = b["exp_avg"];
  Tensor exp_avg_sq = b["exp_avg_sq"];
  exp_avg.mul_(h.beta1).add_(grad, 1 - h.beta1);
  exp_avg_sq.mul_(h.beta2).add_(grad * grad, 1 - h.beta2);

  const double t = static_cast<double>(state.step);
  const double bias_correction1 = 1 - std::pow(h.beta1, t);
  const double bias_correction2_sqrt = std::sqrt(1 - std::pow(h.beta2, t));
  Tensor second = exp_avg_sq;
  if (h.amsgrad) {
    Tensor max_sq = b["max_exp_avg_sq"];
    max_sq.copy_(maximum(max_sq, exp_avg_sq));
    second = max_sq;
  }
  Tensor denom = (second.sqrt() / bias_correction2_sqrt).add_(h.eps);
  param.add_(exp_avg / denom, -h.lr / bias_correction1);
}

std::vector<StateBuffer> adam_buffers(bool amsgrad) {
  return {{"exp_avg", BufferNeed::Required, ""},
          {"exp_avg_sq", BufferNeed::Required, ""},
          {"max_exp_avg_sq", amsgrad ? BufferNeed::Required : BufferNeed::Optional, "amsgrad"}};
}

}  // namespace detail
}  // namespace lucid::optim
