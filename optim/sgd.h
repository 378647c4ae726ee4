// Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay
// (torch::optim::SGD; PyTorch 1.13's update, formula in sgd.cpp).
//
//   optim::SGD opt(params, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
#pragma once
#include <lucid/optim/optimizer.h>

namespace lucid::optim {

class SGDOptions : public OptimizerOptions {
 public:
  explicit SGDOptions(double lr) : OptimizerOptions(lr) {}
  std::unique_ptr<OptimizerOptions> clone() const override { return std::make_unique<SGDOptions>(*this); }

  using OptimizerOptions::lr;
  SGDOptions& lr(double v) { set_lr(v); return *this; }
  double momentum() const { return momentum_; }
  SGDOptions& momentum(double v) { momentum_ = v; return *this; }
  double dampening() const { return dampening_; }
  SGDOptions& dampening(double v) { dampening_ = v; return *this; }
  double weight_decay() const { return weight_decay_; }
  SGDOptions& weight_decay(double v) { weight_decay_ = v; return *this; }
  bool nesterov() const { return nesterov_; }
  SGDOptions& nesterov(bool v) { nesterov_ = v; return *this; }
  bool maximize() const { return maximize_; }  // ascend the objective instead
  SGDOptions& maximize(bool v) { maximize_ = v; return *this; }

  std::optional<double> cycled_momentum() const override { return momentum_; }
  void set_cycled_momentum(double m) override { momentum_ = m; }
  void save(StateDict& dict, const std::string& prefix) const override;
  void load(const StateDict& dict, const std::string& prefix, const std::string& who) override;

 private:
  double momentum_ = 0.0;
  double dampening_ = 0.0;
  double weight_decay_ = 0.0;
  bool nesterov_ = false;
  bool maximize_ = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<OptimizerParamGroup> groups, SGDOptions defaults);
  SGD(std::vector<Tensor> params, SGDOptions defaults);

 protected:
  void check_options(const OptimizerOptions& options) const override;
  void update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
              OptimizerParamState& state) override;
  std::vector<StateBuffer> state_buffers(const OptimizerOptions& options) const override;
};

}  // namespace lucid::optim
