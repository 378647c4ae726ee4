// AdamW (torch::optim::AdamW): Adam with decoupled weight decay, p *= 1 - lr * weight_decay
// before the Adam step (Loshchilov & Hutter). Formula in adamw.cpp.
#pragma once
#include <tuple>

#include <lucid/optim/optimizer.h>

namespace lucid::optim {

class AdamWOptions : public OptimizerOptions {
 public:
  explicit AdamWOptions(double lr = 1e-3) : OptimizerOptions(lr) {}
  std::unique_ptr<OptimizerOptions> clone() const override { return std::make_unique<AdamWOptions>(*this); }

  using OptimizerOptions::lr;
  AdamWOptions& lr(double v) { set_lr(v); return *this; }
  const std::tuple<double, double>& betas() const { return betas_; }
  AdamWOptions& betas(std::tuple<double, double> v) { betas_ = v; return *this; }
  double eps() const { return eps_; }
  AdamWOptions& eps(double v) { eps_ = v; return *this; }
  double weight_decay() const { return weight_decay_; }
  AdamWOptions& weight_decay(double v) { weight_decay_ = v; return *this; }
  bool amsgrad() const { return amsgrad_; }
  AdamWOptions& amsgrad(bool v) { amsgrad_ = v; return *this; }
  bool maximize() const { return maximize_; }
  AdamWOptions& maximize(bool v) { maximize_ = v; return *this; }

  std::optional<double> cycled_momentum() const override { return std::get<0>(betas_); }
  void set_cycled_momentum(double m) override { std::get<0>(betas_) = m; }
  void save(StateDict& dict, const std::string& prefix) const override;
  void load(const StateDict& dict, const std::string& prefix, const std::string& who) override;

 private:
  std::tuple<double, double> betas_{0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_ = 1e-2;  // PyTorch's default, unlike Adam's 0
  bool amsgrad_ = false;
  bool maximize_ = false;
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<OptimizerParamGroup> groups, AdamWOptions defaults);
  AdamW(std::vector<Tensor> params, AdamWOptions defaults);

 protected:
  void check_options(const OptimizerOptions& options) const override;
  void update(Tensor& param, const Tensor& grad, const OptimizerOptions& options,
              OptimizerParamState& state) override;
  std::vector<StateBuffer> state_buffers(const OptimizerOptions& options) const override;
};

}  // namespace lucid::optim
