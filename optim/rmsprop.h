// RMSprop (torch::optim::RMSprop) with weight decay, momentum and the centered variant.
// Formula in rmsprop.cpp.
//
//   optim::RMSprop opt(params, optim::RMSpropOptions(1e-2).alpha(0.9).centered(true));
#pragma once
#include <lucid/optim/optimizer.h>

namespace lucid::optim {

class RMSpropOptions : public OptimizerOptions {
 public:
  explicit RMSpropOptions(double lr = 1e-2) : OptimizerOptions(lr) {}
  std::unique_ptr<OptimizerOptions> clone() const override { return std::make_unique<RMSpropOptions>(*this); }

  using OptimizerOptions::lr;
  RMSpropOptions& lr(double v) { set_lr(v); return *this; }
  double alpha() const { return alpha_; }  // smoothing constant of the squared-gradient average
  RMSpropOptions& alpha(double v) { alpha_ = v; return *this; }
  double eps() const { return eps_; }
  RMSpropOptions& eps(double v) { eps_ = v; return *this; }
  double weight_decay() const { return weight_decay_; }
  RMSpropOptions& weight_decay(double v) { weight_decay_ = v; return *this; }
  double momentum() const { return momentum_; }
  RMSpropOptions& momentum(double v) { momentum_ = v; return *this; }
  bool centered() const { return centered_; }  // normalize by the estimated variance instead
  RMSpropOptions& centered(bool v) { centered_ = v; return *this; }
  bool maximize() const { return maximize_; }
  RMSpropOptions& maximize(bool v) { maximize_ = v; return *this; }

  std::optional<double> cycled_momentum() const override { return momentum_; }
  void set_cycled_momentum(double m) override { momentum_ = m; }
  void save(StateDict& dict, const std::string& prefix) const override;
  void load(const StateDict& dict, const std::string& prefix, const std::string& who) override;

 private:
  double alpha_ = 0.99;
  double eps_ = 1e-8;
  double weight_decay_ = 0.0;
  double momentum_ = 0.0;
  bool centered_ = false;
  bool maximize_ = false;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<OptimizerParamGroup> groups, RMSpropOptions defaults);
  RMSprop(std::vector<Tensor> params, RMSpropOptions defaults);

 protected:
  void check_options(const OptimizerOptions& options) const override;
  void update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
              OptimizerParamState& state) override;
  std::vector<StateBuffer> state_buffers(const OptimizerOptions& options) const override;
};

}  // namespace lucid::optim
