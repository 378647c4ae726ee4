#include <lucid/optim/sgd.h>

#include <lucid/autograd/ops/elementwise.h>

namespace lucid::optim {

void SGDOptions::save(StateDict& dict, const std::string& prefix) const {
  OptimizerOptions::save(dict, prefix);
  dict.insert(prefix + "momentum", state_double(momentum_));
  dict.insert(prefix + "dampening", state_double(dampening_));
  dict.insert(prefix + "weight_decay", state_double(weight_decay_));
  dict.insert(prefix + "nesterov", flag(nesterov_));
  dict.insert(prefix + "maximize", flag(maximize_));
}

void SGDOptions::load(const StateDict& dict, const std::string& prefix, const std::string& who) {
  OptimizerOptions::load(dict, prefix, who);
  momentum_ = read_double(dict, prefix + "momentum", who);
  dampening_ = read_double(dict, prefix + "dampening", who);
  weight_decay_ = read_double(dict, prefix + "weight_decay", who);
  nesterov_ = read_flag(dict, prefix + "nesterov", who);
  maximize_ = read_flag(dict, prefix + "maximize", who);
}

SGD::SGD(std::vector<OptimizerParamGroup> groups, SGDOptions defaults)
    : Optimizer("SGD", defaults.clone()) {
  check_options(defaults);
  for (const OptimizerParamGroup& g : groups) add_param_group(g);
}

SGD::SGD(std::vector<Tensor> params, SGDOptions defaults)
    : SGD(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, std::move(defaults)) {}

void SGD::check_options(const OptimizerOptions& options) const {
  const auto* o = dynamic_cast<const SGDOptions*>(&options);
  LUCID_CHECK(o != nullptr, "SGD: a parameter group has options of another optimizer");
  LUCID_CHECK(o->lr() >= 0, "SGD: invalid learning rate ", o->lr());
  LUCID_CHECK(o->momentum() >= 0, "SGD: invalid momentum ", o->momentum());
  LUCID_CHECK(o->weight_decay() >= 0, "SGD: invalid weight_decay ", o->weight_decay());
  LUCID_CHECK(!o->nesterov() || (o->momentum() > 0 && o->dampening() == 0),
              "SGD: nesterov momentum requires a momentum and zero dampening (got momentum ",
              o->momentum(), ", dampening ", o->dampening(), ")");
}

// d   = g + weight_decay * p                        (g = -grad when maximizing)
// buf = momentum * buf + (1 - dampening) * d        (buf = d at the first step)
// d   = nesterov ? d + momentum * buf : buf         (when momentum != 0)
// p   = p - lr * d
void SGD::update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
                 OptimizerParamState& state) {
  const auto& o = static_cast<const SGDOptions&>(options);
  Tensor d = o.maximize() ? -grad : grad;
  if (o.weight_decay() != 0) d = add(d, param, o.weight_decay());
  if (o.momentum() != 0) {
    Tensor* buf = state.buffers.find("momentum_buffer");
    if (buf == nullptr)
      buf = &state.buffers.insert("momentum_buffer", d.clone());
    else
      buf->mul_(o.momentum()).add_(d, 1 - o.dampening());
    d = o.nesterov() ? add(d, *buf, o.momentum()) : *buf;
  }
  param.add_(d, -o.lr());
}

// As PyTorch: a missing momentum buffer is made by the next step (buf = d), so it is never required.
std::vector<StateBuffer> SGD::state_buffers(const OptimizerOptions&) const {
  return {{"momentum_buffer", BufferNeed::Optional, ""}};
}

}  // namespace lucid::optim
