// The options Adam and AdamW share (internal base of AdamOptions and AdamWOptions): the same
// fields, chained setters, state_dict keys and checks. Only the default weight_decay differs,
// so each public class is a constructor naming its own.
#pragma once
#include <memory>
#include <tuple>

#include <lucid/kernels/error.h>
#include <lucid/optim/optimizer.h>

namespace lucid::optim::detail {

// Self is the public options class, so that every chained setter returns it (as LibTorch's do).
template <class Self>
class AdamFamilyOptions : public OptimizerOptions {
 public:
  std::unique_ptr<OptimizerOptions> clone() const override { return std::make_unique<Self>(self()); }

  using OptimizerOptions::lr;
  Self& lr(double v) { set_lr(v); return self(); }
  const std::tuple<double, double>& betas() const { return betas_; }
  Self& betas(std::tuple<double, double> v) { betas_ = v; return self(); }
  double eps() const { return eps_; }
  Self& eps(double v) { eps_ = v; return self(); }
  double weight_decay() const { return weight_decay_; }
  Self& weight_decay(double v) { weight_decay_ = v; return self(); }
  bool amsgrad() const { return amsgrad_; }
  Self& amsgrad(bool v) { amsgrad_ = v; return self(); }
  bool maximize() const { return maximize_; }
  Self& maximize(bool v) { maximize_ = v; return self(); }

  // beta1 is the momentum OneCycleLR cycles.
  std::optional<double> cycled_momentum() const override { return std::get<0>(betas_); }
  void set_cycled_momentum(double m) override { std::get<0>(betas_) = m; }

  void save(StateDict& dict, const std::string& prefix) const override {
    OptimizerOptions::save(dict, prefix);
    dict.insert(prefix + "betas.0", state_double(std::get<0>(betas_)));
    dict.insert(prefix + "betas.1", state_double(std::get<1>(betas_)));
    dict.insert(prefix + "eps", state_double(eps_));
    dict.insert(prefix + "weight_decay", state_double(weight_decay_));
    dict.insert(prefix + "amsgrad", flag(amsgrad_));
    dict.insert(prefix + "maximize", flag(maximize_));
  }

  void load(const StateDict& dict, const std::string& prefix, const std::string& who) override {
    OptimizerOptions::load(dict, prefix, who);
    betas_ = {read_double(dict, prefix + "betas.0", who), read_double(dict, prefix + "betas.1", who)};
    eps_ = read_double(dict, prefix + "eps", who);
    weight_decay_ = read_double(dict, prefix + "weight_decay", who);
    amsgrad_ = read_flag(dict, prefix + "amsgrad", who);
    maximize_ = read_flag(dict, prefix + "maximize", who);
  }

  // Raises unless betas are in [0, 1) and lr, eps, weight_decay are >= 0; `who` is "Adam" or "AdamW".
  void check(const char* who) const {
    const auto [beta1, beta2] = betas_;
    LUCID_CHECK(lr() >= 0, who, ": invalid learning rate ", lr());
    LUCID_CHECK(eps_ >= 0, who, ": invalid epsilon ", eps_);
    LUCID_CHECK(beta1 >= 0 && beta1 < 1, who, ": invalid beta1 ", beta1, " (should be in [0, 1))");
    LUCID_CHECK(beta2 >= 0 && beta2 < 1, who, ": invalid beta2 ", beta2, " (should be in [0, 1))");
    LUCID_CHECK(weight_decay_ >= 0, who, ": invalid weight_decay ", weight_decay_);
  }

 protected:
  AdamFamilyOptions(double lr, double weight_decay) : OptimizerOptions(lr), weight_decay_(weight_decay) {}

 private:
  Self& self() { return static_cast<Self&>(*this); }
  const Self& self() const { return static_cast<const Self&>(*this); }

  std::tuple<double, double> betas_{0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_;
  bool amsgrad_ = false;
  bool maximize_ = false;
};

}  // namespace lucid::optim::detail
