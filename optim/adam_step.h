// The moment update and step shared by Adam and AdamW (internal: each applies its own weight
// decay first). Written once here, with the math, in adam.cpp.
#pragma once
#include <lucid/optim/optimizer.h>

namespace lucid::optim::detail {

struct AdamHyper {
  const char* who;  // "Adam" or "AdamW", for errors
  double lr, beta1, beta2, eps;
  bool amsgrad;
};

// Updates exp_avg, exp_avg_sq (and max_exp_avg_sq) in `state` and moves `param`; `grad` is
// the gradient after weight decay and maximize. state.step must already count this step.
void adam_step(Tensor& param, const Tensor& grad, const AdamHyper& h, OptimizerParamState& state);

// exp_avg, exp_avg_sq and (required with amsgrad) max_exp_avg_sq: Adam's and AdamW's state_buffers.
std::vector<StateBuffer> adam_buffers(bool amsgrad);

}  // namespace lucid::optim::detail
