#include <lucid/optim/rmsprop.h>

#include <lucid/autograd/ops/elementwise.h>
#include <lucid/kernels/factory.h>

namespace lucid::optim {

void RMSpropOptions::save(StateDict& dict, const std::string& prefix) const {
  OptimizerOptions::save(dict, prefix);
  dict.insert(prefix + "alpha", state_double(alpha_));
  dict.insert(prefix + "eps", state_double(eps_));
  dict.insert(prefix + "weight_decay", state_double(weight_decay_));
  dict.insert(prefix + "momentum", state_double(momentum_));
  dict.insert(prefix + "centered", flag(centered_));
  dict.insert(prefix + "maximize", flag(maximize_));
}

void RMSpropOptions::load(const StateDict& dict, const std::string& prefix, const std::string& who) {
  OptimizerOptions::load(dict, prefix, who);
  alpha_ = read_double(dict, prefix + "alpha", who);
  eps_ = read_double(dict, prefix + "eps", who);
  weight_decay_ = read_double(dict, prefix + "weight_decay", who);
  momentum_ = read_double(dict, prefix + "momentum", who);
  centered_ = read_flag(dict, prefix + "centered", who);
  maximize_ = read_flag(dict, prefix + "maximize", who);
}

RMSprop::RMSprop(std::vector<OptimizerParamGroup> groups, RMSpropOptions defaults)
    : Optimizer("RMSprop", defaults.clone()) {
  check_options(defaults);
  for (const OptimizerParamGroup& g : groups) add_param_group(g);
}

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions defaults)
    : RMSprop(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, std::move(defaults)) {}

void RMSprop::check_options(const OptimizerOptions& options) const {
  const auto* o = dynamic_cast<const RMSpropOptions*>(&options);
  LUCID_CHECK(o != nullptr, "RMSprop: a parameter group has options of another optimizer");
  LUCID_CHECK(o->lr() >= 0, "RMSprop: invalid learning rate ", o->lr());
  LUCID_CHECK(o->eps() >= 0, "RMSprop: invalid epsilon ", o->eps());
  LUCID_CHECK(o->momentum() >= 0, "RMSprop: invalid momentum ", o->momentum());
  LUCID_CHECK(o->weight_decay() >= 0, "RMSprop: invalid weight_decay ", o->weight_decay());
  LUCID_CHECK(o->alpha() >= 0, "RMSprop: invalid alpha ", o->alpha());
}

// g   = grad + weight_decay * p                    (-grad when maximizing)
// v   = alpha * v + (1 - alpha) * g^2              (square_avg)
// centered: m = alpha * m + (1 - alpha) * g        (grad_avg), avg = sqrt(v - m^2) + eps
// else:     avg = sqrt(v) + eps
// momentum: buf = momentum * buf + g / avg, p = p - lr * buf
// else:     p = p - lr * g / avg
void RMSprop::update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
                     OptimizerParamState& state) {
  const auto& o = static_cast<const RMSpropOptions&>(options);
  StateDict& b = state.buffers;
  if (!b.contains("square_avg")) b.insert("square_avg", zeros_like(param));
  if (o.momentum() > 0 && !b.contains("momentum_buffer")) b.insert("momentum_buffer", zeros_like(param));
  if (o.centered() && !b.contains("grad_avg")) b.insert("grad_avg", zeros_like(param));

  Tensor g = o.maximize() ? -grad : grad;
  if (o.weight_decay() != 0) g = add(g, param, o.weight_decay());
  Tensor& square_avg = b["square_avg"];
  square_avg.mul_(o.alpha()).add_(g * g, 1 - o.alpha());
  Tensor avg;
  if (o.centered()) {
    Tensor& grad_avg = b["grad_avg"];
    grad_avg.mul_(o.alpha()).add_(g, 1 - o.alpha());
    avg = (square_avg - grad_avg * grad_avg).sqrt();
  } else {
    avg = square_avg.sqrt();
  }
  avg.add_(o.eps());
  if (o.momentum() > 0) {
    Tensor& buf = b["momentum_buffer"];
    buf.mul_(o.momentum()).add_(g / avg);
    param.add_(buf, -o.lr());
  } else {
    param.add_(g / avg, -o.lr());
  }
}

std::vector<StateBuffer> RMSprop::state_buffers(const OptimizerOptions& options) const {
  const auto& o = static_cast<const RMSpropOptions&>(options);
  const auto need = [](bool on) { return on ? BufferNeed::Required : BufferNeed::Optional; };
  return {{"square_avg", BufferNeed::Required, ""},
          {"momentum_buffer", need(o.momentum() > 0), "momentum"},
          {"grad_avg", need(o.centered()), "centered"}};
}

}  // namespace lucid::optim
