// gradcheck: compare the tape's gradients with central finite differences.
//
// For a random upstream vector v (one per output), the analytic gradient
// d<v, f(x)>/dx comes from backward(); the numeric one perturbs each input
// element by +-eps:  (<v, f(x + eps e_i)> - <v, f(x - eps e_i)>) / (2 eps).
// Inputs should be float64 and may be non-contiguous views (not expanded
// ones: one element must live at one address).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <lucid/kernels/tensor.h>

namespace lucid::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

using GradcheckFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// Throws lucid::Error naming the input, element and both values on mismatch;
// returns true otherwise. Inputs that do not require grad are held constant.
bool gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs,
               GradcheckOptions options = {});
// Single-output convenience.
bool gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
               const std::vector<Tensor>& inputs, GradcheckOptions options = {});

}  // namespace lucid::autograd
