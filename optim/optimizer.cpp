#include <lucid/optim/optimizer.h>

#include <lucid/autograd/grad_mode.h>
#include <lucid/kernels/factory.h>

#include <map>
#include <set>

namespace lucid::optim {

// ---- OptimizerOptions ----------------------------------------------------------

void OptimizerOptions::save(StateDict& dict, const std::string& prefix) const {
  dict.insert(prefix + "lr", state_double(lr_));
  if (initial_lr_) dict.insert(prefix + "initial_lr", state_double(*initial_lr_));
}

void OptimizerOptions::load(const StateDict& dict, const std::string& prefix, const std::string& who) {
  lr_ = read_double(dict, prefix + "lr", who);
  // As PyTorch, the saved group replaces this one: no saved initial_lr, none here.
  initial_lr_.reset();
  if (dict.contains(prefix + "initial_lr")) initial_lr_ = read_double(dict, prefix + "initial_lr", who);
}

Tensor OptimizerOptions::flag(bool value) { return state_int(value ? 1 : 0); }

bool OptimizerOptions::read_flag(const StateDict& dict, const std::string& key, const std::string& who) {
  return read_int(dict, key, who) != 0;
}

// ---- OptimizerParamGroup --------------------------------------------------------

OptimizerParamGroup::OptimizerParamGroup(const OptimizerParamGroup& other)
    : params_(other.params_), options_(other.options_ ? other.options_->clone() : nullptr) {}

OptimizerParamGroup& OptimizerParamGroup::operator=(const OptimizerParamGroup& other) {
  if (this != &other) {
    params_ = other.params_;
    options_ = other.options_ ? other.options_->clone() : nullptr;
  }
  return *this;
}

OptimizerOptions& OptimizerParamGroup::options() {
  LUCID_CHECK(options_ != nullptr, "OptimizerParamGroup: the group has no options yet "
              "(it takes the optimizer's defaults when added to an optimizer)");
  return *options_;
}

const OptimizerOptions& OptimizerParamGroup::options() const {
  return const_cast<OptimizerParamGroup*>(this)->options();
}

// ---- Optimizer: groups, zero_grad, step -------------------------------------------

void Optimizer::add_param_group(const OptimizerParamGroup& group) {
  OptimizerParamGroup added(group.params(),
                            group.has_options() ? group.options().clone() : defaults_->clone());
  check_options(added.options());
  std::set<const TensorImpl*> seen;
  for (const OptimizerParamGroup& g : groups_)
    for (const Tensor& p : g.params()) seen.insert(p.unsafe_impl());
  for (const Tensor& p : added.params()) {
    LUCID_CHECK(p.defined(), name_, ": a parameter of group ", groups_.size(), " is undefined");
    LUCID_CHECK(p.is_leaf(), name_, ": can't optimize a non-leaf tensor (shape ", p.sizes(),
                ", made by ", p.grad_fn_name() ? p.grad_fn_name() : "?", ")");
    LUCID_CHECK(p.is_floating_point(), name_, ": can only optimize floating-point tensors, got ",
                p.dtype(), " of shape ", p.sizes());
    LUCID_CHECK(seen.insert(p.unsafe_impl()).second, name_, ": a parameter of shape ", p.sizes(),
                " appears in more than one parameter group (or twice in group ", groups_.size(), ")");
  }
  groups_.push_back(std::move(added));
}

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> out;
  for (const OptimizerParamGroup& g : groups_) out.insert(out.end(), g.params().begin(), g.params().end());
  return out;
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (const Tensor& p : parameters()) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (set_to_none)
      p.set_grad(Tensor());
    else
      g.zero_();
  }
}

void Optimizer::step() {
  NoGradGuard no_grad;
  const std::string who = name_ + ".step";
  size_t index = 0;
  for (const OptimizerParamGroup& group : groups_) {
    for (const Tensor& p : group.params()) {
      const OptimizerParamState* s = state(p);
      if (s != nullptr && p.grad().defined()) check_state(*s, group.options(), index, who);
      ++index;
    }
  }
  for (OptimizerParamGroup& group : groups_) {
    for (Tensor& p : group.params()) {
      const Tensor g = p.grad();
      if (!g.defined()) continue;  // no gradient, no update and no state (as PyTorch)
      // The update works on a copy of the state (its buffers are handles to the same tensors):
      // the step count and any new buffer are kept only if the update succeeds.
      const OptimizerParamState* current = state(p);
      OptimizerParamState next = current ? *current : OptimizerParamState{};
      ++next.step;
      update(p, g, group.options(), next);
      state_[p.unsafe_impl()] = std::move(next);
    }
  }
}

const OptimizerParamState* Optimizer::state(const Tensor& param) const {
  auto it = state_.find(param.unsafe_impl());
  return it == state_.end() ? nullptr : &it->second;
}

// ---- Optimizer: state_dict ----------------------------------------------------------

StateDict Optimizer::state_dict() const {
  NoGradGuard no_grad;
  StateDict dict("optimizer state");
  const std::vector<Tensor> params = parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    const OptimizerParamState* s = state(params[i]);
    if (!s) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    dict.insert(prefix + "step", state_int(s->step));
    for (const auto& item : s->buffers) dict.insert(prefix + item.key(), item.value().clone());
  }
  int64_t first = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    std::vector<int64_t> indices;
    for (size_t k = 0; k < groups_[g].params().size(); ++k) indices.push_back(first++);
    dict.insert(prefix + "params", tensor(indices));
    groups_[g].options().save(dict, prefix);
  }
  return dict;
}

void Optimizer::check_state(const OptimizerParamState& s, const OptimizerOptions& options, size_t index,
                            const std::string& who) const {
  const std::vector<StateBuffer> spec = state_buffers(options);
  const std::string prefix = "state." + std::to_string(index) + ".";
  std::string names;
  for (const StateBuffer& b : spec) names += (names.empty() ? "" : ", ") + b.name;
  for (const auto& item : s.buffers) {
    bool known = false;
    for (const StateBuffer& b : spec) known = known || b.name == item.key();
    LUCID_CHECK(known, who, ": unexpected state_dict key '", prefix, item.key(), "' (", name_,
                " keeps ", names.empty() ? std::string("no buffers") : names, ")");
  }
  for (const StateBuffer& b : spec) {
    if (b.need == BufferNeed::Optional || s.buffers.contains(b.name)) continue;
    if (b.option.empty())
      throw Error(detail::str_cat(who, ": '", prefix, b.name, "' is missing: ", name_,
                                  " keeps it from a parameter's first step"));
    throw Error(detail::str_cat(who, ": '", prefix, b.name, "' is missing: ", name_, " keeps it from a "
                                "parameter's first step when ", b.option, " is on (was ", b.option,
                                " switched on after that step? PyTorch refuses that too)"));
  }
}

namespace {
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// "state.<i>.<name>" -> (i, name); raises on anything else.
std::pair<int64_t, std::string> parse_state_key(const std::string& key, const std::string& who) {
  const size_t dot = key.find('.', 6);
  const std::string digits = key.substr(6, dot == std::string::npos ? std::string::npos : dot - 6);
  const bool ok = dot != std::string::npos && dot + 1 < key.size() && !digits.empty() &&
                  digits.find_first_not_of("0123456789") == std::string::npos && digits.size() < 18;
  LUCID_CHECK(ok, who, ": state_dict key '", key, "' is not of the form state.<index>.<name>");
  return {std::stoll(digits), key.substr(dot + 1)};
}
}  // namespace

void Optimizer::load_state_dict(const StateDict& dict) {
  NoGradGuard no_grad;
  const std::string who = name_ + ".load_state_dict";
  // Everything is read and checked into these first; only then is the optimizer changed.
  std::vector<std::unique_ptr<OptimizerOptions>> options;
  StateDict expected("optimizer state");  // the param_groups.* keys the loaded options account for

  size_t n_groups = 0;
  while (dict.contains("param_groups." + std::to_string(n_groups) + ".params")) ++n_groups;
  LUCID_CHECK(n_groups == groups_.size(), who, ": the state_dict has ", n_groups,
              " parameter groups, this optimizer has ", groups_.size());

  const std::vector<Tensor> params = parameters();
  std::unordered_map<int64_t, size_t> saved_to_current;  // saved parameter index -> ours
  std::vector<size_t> group_of;                           // our parameter index -> its group
  size_t current = 0;
  for (size_t g = 0; g < n_groups; ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    const Tensor& saved = dict[prefix + "params"];
    LUCID_CHECK(saved.dim() == 1 && saved.dtype() == kInt64, who, ": '", prefix,
                "params' should be a 1-D int64 tensor, got ", saved.dtype(), " of shape ", saved.sizes());
    const size_t n = groups_[g].params().size();
    LUCID_CHECK(static_cast<size_t>(saved.numel()) == n, who, ": parameter group ", g, " has ",
                saved.numel(), " parameters in the state_dict but ", n, " in this optimizer");
    const Tensor ids = saved.cpu().contiguous();
    for (size_t k = 0; k < n; ++k, ++current) {
      const int64_t id = ids.data_ptr<int64_t>()[k];
      LUCID_CHECK(saved_to_current.emplace(id, current).second, who, ": parameter index ", id,
                  " appears twice in the state_dict's param_groups");
    }
    options.push_back(groups_[g].options().clone());
    options.back()->load(dict, prefix, who);
    try {
      check_options(*options.back());  // the constructor's checks: lr >= 0, nesterov needs momentum...
    } catch (const Error& e) {
      throw Error(detail::str_cat(who, ": param_groups.", g, " is invalid: ", e.what()));
    }
    group_of.insert(group_of.end(), n, g);
    expected.insert(prefix + "params", saved);
    options.back()->save(expected, prefix);
  }

  std::map<size_t, OptimizerParamState> state;   // by our flattened index (checked in order)
  std::unordered_map<size_t, int64_t> saved_id;   // our index -> the state_dict's
  std::set<size_t> has_step;                      // our indices with a state.<i>.step
  for (const auto& item : dict) {
    const std::string& key = item.key();
    if (starts_with(key, "param_groups.")) {
      LUCID_CHECK(expected.contains(key), who, ": unexpected state_dict key '", key, "' (",
                  name_, " has no such hyper-parameter)");
      continue;
    }
    LUCID_CHECK(starts_with(key, "state."), who, ": unexpected state_dict key '", key, "'");
    const auto [id, buffer] = parse_state_key(key, who);
    auto found = saved_to_current.find(id);
    LUCID_CHECK(found != saved_to_current.end(), who, ": '", key, "' is the state of parameter ", id,
                ", which no parameter group of the state_dict lists");
    const Tensor& p = params[found->second];
    OptimizerParamState& s = state[found->second];
    saved_id[found->second] = id;
    if (buffer == "step") {
      has_step.insert(found->second);
      s.step = read_int(dict, key, who);
      LUCID_CHECK(s.step >= 0, who, ": '", key, "' is ", s.step, "; a step count can't be negative");
      continue;
    }
    const Tensor& t = item.value();
    LUCID_CHECK(t.defined() && t.sizes() == p.sizes(), who, ": '", key, "' has shape ",
                t.defined() ? t.sizes() : Shape{}, " but parameter ", found->second, " has shape ", p.sizes());
    LUCID_CHECK(t.is_floating_point(), who, ": '", key, "' has dtype ", t.dtype(),
                "; optimizer buffers are floating point");
    s.buffers.insert(buffer, t.detach().to(p.dtype()).to(p.device()).clone());
  }

  for (const auto& [index, s] : state) {
    const int64_t id = saved_id.at(index);
    LUCID_CHECK(has_step.count(index) != 0, who, ": 'state.", id, ".step' is missing (parameter ", id,
                " has buffers, so it has taken a step)");
    check_state(s, *options[group_of[index]], static_cast<size_t>(id), who);
  }
  for (size_t g = 0; g < n_groups; ++g) groups_[g].set_options(std::move(options[g]));
  state_.clear();
  for (auto& [index, s] : state) state_[params[index].unsafe_impl()] = std::move(s);
}

}  // namespace lucid::optim
