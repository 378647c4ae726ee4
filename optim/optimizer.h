// lucid::optim::Optimizer: the base of SGD, Adam, AdamW and RMSprop (LibTorch's names).
//
//   optim::SGD opt(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
//   for (...) { opt.zero_grad(); loss.backward(); opt.step(); }
//
// Table of contents
//   OptimizerOptions      hyper-parameters of one parameter group (lr here; the rest per optimizer)
//   OptimizerParamGroup   params + their options (per-group lr, weight decay, betas, momentum)
//   OptimizerParamState   per-parameter state: step count and named buffers
//   StateBuffer           a buffer an optimizer keeps per parameter, required or optional
//   Optimizer             param_groups, add_param_group, zero_grad, step, state_dict
//
// state_dict key scheme (a StateDict, as every state_dict in lucid; PyTorch's layout, flattened):
//   param_groups.<g>.params        int64 [n]: the group's parameters, as indices into the
//                                  flattened list of all parameters (group 0 first)
//   param_groups.<g>.lr            float64 0-dim; likewise every hyper-parameter of the group
//                                  (momentum, betas.0, betas.1, eps, ...; booleans as int64 0/1)
//   param_groups.<g>.initial_lr    float64 0-dim, only once an LR scheduler has set it
//   state.<i>.step                 int64 0-dim: steps taken for parameter i
//   state.<i>.<buffer>             a tensor shaped like parameter i (momentum_buffer, exp_avg,
//                                  exp_avg_sq, max_exp_avg_sq, square_avg, grad_avg)
// A parameter that never had a gradient has no state.<i> entries, as in PyTorch.
// state_dict() returns copies (a snapshot); load_state_dict() copies the buffers onto each
// parameter's device and dtype, and validates everything before it changes anything: the
// hyper-parameters as the constructor does, each state against state_buffers (the buffers
// the loaded options need, no unknown ones, shaped like the parameter) and its step count.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <lucid/kernels/ordered_dict.h>
#include <lucid/kernels/tensor.h>

namespace lucid::optim {

// ---- OptimizerOptions ----------------------------------------------------------
class OptimizerOptions {
 public:
  explicit OptimizerOptions(double lr) : lr_(lr) {}
  virtual ~OptimizerOptions() = default;
  virtual std::unique_ptr<OptimizerOptions> clone() const = 0;

  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  // The lr the first LR scheduler found (PyTorch's group['initial_lr']): kept here so that
  // several schedulers on one optimizer (SequentialLR) share it, and saved with the optimizer.
  std::optional<double> initial_lr() const { return initial_lr_; }
  void set_initial_lr(std::optional<double> lr) { initial_lr_ = lr; }

  // The momentum OneCycleLR cycles: SGD and RMSprop momentum, Adam and AdamW beta1;
  // nullopt for an optimizer without one.
  virtual std::optional<double> cycled_momentum() const { return std::nullopt; }
  virtual void set_cycled_momentum(double momentum) {}

  // The hyper-parameters as state_dict entries under `prefix` ("param_groups.0."); derived
  // options add theirs after calling the base. (Optimizer::load_state_dict loads into a copy,
  // so a failing load changes nothing.)
  virtual void save(StateDict& dict, const std::string& prefix) const;
  virtual void load(const StateDict& dict, const std::string& prefix, const std::string& who);

 protected:
  OptimizerOptions(const OptimizerOptions&) = default;
  OptimizerOptions& operator=(const OptimizerOptions&) = default;
  // Booleans (nesterov, amsgrad, ...) are stored as int64 0/1.
  static Tensor flag(bool value);
  static bool read_flag(const StateDict& dict, const std::string& key, const std::string& who);

 private:
  double lr_;
  std::optional<double> initial_lr_;
};

// ---- OptimizerParamGroup --------------------------------------------------------
// Without options the group takes the optimizer's defaults when it is added.
class OptimizerParamGroup {
 public:
  OptimizerParamGroup(std::vector<Tensor> params) : params_(std::move(params)) {}  // NOLINT
  OptimizerParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options)
      : params_(std::move(params)), options_(std::move(options)) {}
  OptimizerParamGroup(const OptimizerParamGroup& other);
  OptimizerParamGroup& operator=(const OptimizerParamGroup& other);
  OptimizerParamGroup(OptimizerParamGroup&&) = default;
  OptimizerParamGroup& operator=(OptimizerParamGroup&&) = default;

  std::vector<Tensor>& params() { return params_; }
  const std::vector<Tensor>& params() const { return params_; }
  bool has_options() const { return options_ != nullptr; }
  OptimizerOptions& options();
  const OptimizerOptions& options() const;
  void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }

 private:
  std::vector<Tensor> params_;
  std::unique_ptr<OptimizerOptions> options_;
};

// ---- OptimizerParamState --------------------------------------------------------
struct OptimizerParamState {
  int64_t step = 0;     // updates applied to this parameter
  StateDict buffers;    // name -> tensor shaped like the parameter
};

// One buffer an optimizer keeps per parameter (see Optimizer::state_buffers).
enum class BufferNeed {
  Required,  // the update reads it: a state without it is refused
  Optional,  // may be there (made under other options) or not (made by the next step)
};
struct StateBuffer {
  std::string name;    // "exp_avg", ...
  BufferNeed need;
  std::string option;  // for a Required buffer that only some options need: "amsgrad", ...
};

// ---- Optimizer -----------------------------------------------------------------
class Optimizer {
 public:
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  virtual ~Optimizer() = default;

  // Parameters must be floating-point leaf tensors, each in one group only.
  void add_param_group(const OptimizerParamGroup& group);
  std::vector<OptimizerParamGroup>& param_groups() { return groups_; }
  const std::vector<OptimizerParamGroup>& param_groups() const { return groups_; }
  const OptimizerOptions& defaults() const { return *defaults_; }
  std::vector<Tensor> parameters() const;  // every group's parameters, in order

  // Clears every parameter's gradient: drops it (set_to_none, the default, as in LibTorch)
  // or fills it with zeros.
  void zero_grad(bool set_to_none = true);
  // One update of every parameter that has a gradient (others are skipped), under NoGradGuard.
  // Each state is checked against the options first (state_buffers), so a refused step (amsgrad
  // switched on after the first step, as PyTorch refuses it) changes nothing; a parameter's step
  // count and new buffers are committed only once its update has succeeded.
  void step();

  // The state of `param` (nullptr before its first update).
  const OptimizerParamState* state(const Tensor& param) const;

  StateDict state_dict() const;
  void load_state_dict(const StateDict& dict);

  const std::string& name() const { return name_; }

 protected:
  // Derived constructors check `defaults`, then add_param_group each group (virtual calls
  // do not reach a derived class from the base constructor).
  Optimizer(std::string name, std::unique_ptr<OptimizerOptions> defaults)
      : name_(std::move(name)), defaults_(std::move(defaults)) {}

  // Raises unless `options` are this optimizer's kind, with valid values.
  virtual void check_options(const OptimizerOptions& options) const = 0;
  // param -= the update for `grad` (already defined); state.step is already incremented.
  virtual void update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
                      OptimizerParamState& state) = 0;
  // The buffers a parameter's state holds once it has taken a step under `options`; any other
  // name is refused. load_state_dict and step check every state against this.
  virtual std::vector<StateBuffer> state_buffers(const OptimizerOptions& options) const = 0;

 private:
  // Raises, naming 'state.<index>.<buffer>', unless `s` has every Required buffer of `options`
  // and no buffer this optimizer does not know.
  void check_state(const OptimizerParamState& s, const OptimizerOptions& options, size_t index,
                   const std::string& who) const;

  std::string name_;  // "SGD", ...: names the optimizer in errors
  std::unique_ptr<OptimizerOptions> defaults_;
  std::vector<OptimizerParamGroup> groups_;
  std::unordered_map<const TensorImpl*, OptimizerParamState> state_;
};

}  // namespace lucid::optim
