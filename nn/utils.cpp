#include <lucid/nn/utils.h>

#include <cmath>
#include <sstream>

#include <lucid/autograd/grad_mode.h>
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/reduce.h>

namespace lucid::nn::utils {

namespace {

std::vector<Tensor> grads_of(const std::vector<Tensor>& parameters) {
  std::vector<Tensor> grads;
  for (const Tensor& p : parameters) {
    LUCID_CHECK(p.defined(), "clip_grad: undefined parameter tensor");
    if (Tensor g = p.grad(); g.defined()) grads.push_back(g);
  }
  return grads;
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type) {
  LUCID_CHECK(norm_type > 0, "clip_grad_norm_: norm_type must be > 0 (or kInfNorm), got ",
              norm_type);
  NoGradGuard no_grad;
  const std::vector<Tensor> grads = grads_of(parameters);
  if (grads.empty()) return 0.0;
  double total = 0.0;
  for (const Tensor& g : grads) {
    Tensor a = abs(g.to(kFloat64));
    if (std::isinf(norm_type)) {
      if (a.numel() > 0) total = std::max(total, max(a).item<double>());
    } else {
      total += sum(pow(a, norm_type)).item<double>();
    }
  }
  if (!std::isinf(norm_type)) total = std::pow(total, 1.0 / norm_type);
  const double coef = max_norm / (total + 1e-6);
  if (!(coef >= 1.0))  // also true for a NaN coef: the NaN spreads, as PyTorch
    for (const Tensor& g : grads) Tensor(g).mul_(coef);
  return total;
}

double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type) {
  return clip_grad_norm_(std::vector<Tensor>{parameter}, max_norm, norm_type);
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  LUCID_CHECK(clip_value >= 0, "clip_grad_value_: clip_value must be >= 0, got ", clip_value);
  NoGradGuard no_grad;
  for (const Tensor& g : grads_of(parameters)) Tensor(g).clamp_(-clip_value, clip_value);
}

void clip_grad_value_(const Tensor& parameter, double clip_value) {
  clip_grad_value_(std::vector<Tensor>{parameter}, clip_value);
}

GradFlowReport check_grad_flow(const Module& module) {
  NoGradGuard no_grad;
  GradFlowReport report;
  for (const auto& item : module.named_parameters()) {
    const Tensor& p = item.value();
    if (!p.requires_grad()) continue;
    const Tensor g = p.grad();
    if (!g.defined()) {
      report.missing.push_back(item.key());
      continue;
    }
    Tensor a = abs(g.to(kFloat64));
    const double total = a.numel() > 0 ? sum(a).item<double>() : 0.0;
    if (!std::isfinite(total))
      report.non_finite.push_back(item.key());
    else if (total == 0.0)
      report.all_zero.push_back(item.key());
    else
      report.healthy.push_back(item.key());
  }
  return report;
}

std::string GradFlowReport::str() const {
  std::ostringstream os;
  auto list = [&](const char* what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    os << what << " (" << names.size() << "):";
    for (const std::string& n : names) os << " " << n;
    os << "\n";
  };
  os << (ok() ? "gradient flow ok" : "gradient flow problems") << ": " << healthy.size()
     << " parameters with a usable gradient\n";
  list("no gradient", missing);
  list("non-finite gradient", non_finite);
  list("all-zero gradient", all_zero);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const GradFlowReport& report) {
  return os << report.str();
}

}  // namespace lucid::nn::utils
