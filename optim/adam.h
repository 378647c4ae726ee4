// Adam (torch::optim::Adam) with L2 weight decay and the AMSGrad variant. Formula in adam.cpp.
//
//   optim::Adam opt(params, optim::AdamOptions(1e-3).betas({0.9, 0.999}).weight_decay(1e-4));
#pragma once
#include <tuple>

#include <lucid/optim/optimizer.h>

namespace lucid::optim {

class AdamOptions : public OptimizerOptions {
 public:
  explicit AdamOptions(double lr = 1e-3) : OptimizerOptions(lr) {}
  std::unique_ptr<OptimizerOptions> clone() const override { return std::make_unique<AdamOptions>(*this); }

  using OptimizerOptions::lr;
  AdamOptions& lr(double v) { set_lr(v); return *this; }
  const std::tuple<double, double>& betas() const { return betas_; }
  AdamOptions& betas(std::tuple<double, double> v) { betas_ = v; return *this; }
  double eps() const { return eps_; }
  AdamOptions& eps(double v) { eps_ = v; return *this; }
  double weight_decay() const { return weight_decay_; }
  AdamOptions& weight_decay(double v) { weight_decay_ = v; return *this; }
  bool amsgrad() const { return amsgrad_; }
  AdamOptions& amsgrad(bool v) { amsgrad_ = v; return *this; }
  bool maximize() const { return maximize_; }
  AdamOptions& maximize(bool v) { maximize_ = v; return *this; }

  std::optional<double> cycled_momentum() const override { return std::get<0>(betas_); }
  void set_cycled_momentum(double m) override { std::get<0>(betas_) = m; }
  void save(StateDict& dict, const std::string& prefix) const override;
  void load(const StateDict& dict, const std::string& prefix, const std::string& who) override;

 private:
  std::tuple<double, double> betas_{0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_ = 0.0;
  bool amsgrad_ = false;
  bool maximize_ = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<OptimizerParamGroup> groups, AdamOptions defaults);
  Adam(std::vector<Tensor> params, AdamOptions defaults);

 protected:
  void check_options(const OptimizerOptions& options) const override;
  void update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
              OptimizerParamState& state) override;
  std::vector<StateBuffer> state_buffers(const OptimizerOptions& options) const override;
};

}  // namespace lucid::optim
