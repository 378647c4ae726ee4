// Gradient utilities (torch::nn::utils): clipping, and a check that every
// parameter got a usable gradient.
//
//   double norm = nn::utils::clip_grad_norm_(model->parameters(), 1.0);
//   nn::utils::clip_grad_value_(model->parameters(), 0.5);
//   auto report = nn::utils::check_grad_flow(*model);   // after backward()
//   if (!report.ok()) std::cerr << report;
#pragma once
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include <lucid/kernels/tensor.h>
#include <lucid/nn/module.h>

namespace lucid::nn::utils {

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// Scales all gradients by min(1, max_norm / (total + 1e-6)), where total is
// the norm_type-norm of all gradients together (as if concatenated):
//   p finite: (sum_i |g_i|^p)^(1/p);  p = kInfNorm: max_i |g_i|.
// Parameters without a gradient are skipped. Returns total (computed in
// float64). A non-finite total scales the gradients by NaN, as PyTorch does by
// default; check the return value.
double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm,
                       double norm_type = 2.0);
double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type = 2.0);

// Clamps every gradient element to [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);
void clip_grad_value_(const Tensor& parameter, double clip_value);

// What check_grad_flow found, by dotted parameter name (parameters that do
// not require grad are not checked).
struct GradFlowReport {
  std::vector<std::string> missing;     // .grad() undefined: no backward reached it
  std::vector<std::string> non_finite;  // some element is NaN or +-inf
  std::vector<std::string> all_zero;    // every element is exactly 0
  std::vector<std::string> healthy;     // none of the above
  bool ok() const { return missing.empty() && non_finite.empty() && all_zero.empty(); }
  std::string str() const;
};
std::ostream& operator<<(std::ostream& os, const GradFlowReport& report);

GradFlowReport check_grad_flow(const Module& module);

}  // namespace lucid::nn::utils
