// Op-case tables: elementwise ops, reductions and softmax, views. Run by the
// gradient check (tests/test_grad_elementwise.cpp) and the CPU-vs-CUDA
// comparison (tests/gpu/test_cuda_ops.cpp).
#pragma once
#include "cases/case_helpers.h"

namespace lucid::testing::cases {

inline std::vector<OpCase> elementwise_cases() {
  return {
      {"add_broadcast", {{{3, 1, 5}}, {{4, 5}, T}}, [](const V& x) { return x[0] + x[1]; }},
      {"add_alpha", {{{4, 5}}, {{5}}}, [](const V& x) { return add(x[0], x[1], 2.5); }},
      {"sub_broadcast", {{{2, 3}, T}, {{3}}}, [](const V& x) { return x[0] - x[1]; }},
      {"mul_broadcast", {{{3, 1, 5}}, {{4, 5}, T}}, [](const V& x) { return x[0] * x[1]; }},
      {"div_broadcast", {{{3, 4}}, {{4}, Layout::Contiguous, 0.5, 2.0}}, [](const V& x) { return x[0] / x[1]; }},
      {"pow_tensor", {{{3, 4}, T, 0.5, 2.0}, {{4}, Layout::Contiguous, -1.5, 1.5}},
       [](const V& x) { return pow(x[0], x[1]); }},
      {"pow_scalar", {{{5, 3}, T, 0.5, 2.0}}, [](const V& x) { return pow(x[0], 2.5); }},
      {"neg", {{{3, 4}, T}}, [](const V& x) { return -x[0]; }},
      {"exp", {{{3, 4}, T}}, [](const V& x) { return exp(x[0]); }},
      {"log", {{{3, 4}, T, 0.5, 3.0}}, [](const V& x) { return log(x[0]); }},
      {"sqrt", {{{3, 4}, T, 0.5, 3.0}}, [](const V& x) { return sqrt(x[0]); }},
      {"rsqrt", {{{3, 4}, T, 0.5, 3.0}}, [](const V& x) { return rsqrt(x[0]); }},
      {"abs", {{{3, 7}, T}}, [](const V& x) { return abs(x[0]); }},
      {"square", {{{3, 7}}}, [](const V& x) { return square(x[0]); }},
      {"clamp", {{{4, 7}, T}}, [](const V& x) { return clamp(x[0], -0.5, 0.5); }},
      {"clamp_min_only", {{{4, 7}}}, [](const V& x) { return clamp(x[0], -0.3, std::nullopt); }},
      {"maximum", {{{3, 5}, T}, {{5}}}, [](const V& x) { return maximum(x[0], x[1]); }},
      {"minimum", {{{3, 5}}, {{3, 1}}}, [](const V& x) { return minimum(x[0], x[1]); }},
      {"relu", {{{4, 6}, T}}, [](const V& x) { return relu(x[0]); }},
      {"leaky_relu", {{{4, 6}, T}}, [](const V& x) { return leaky_relu(x[0], 0.2); }},
      {"gelu_erf", {{{4, 6}, T, -3, 3}}, [](const V& x) { return gelu(x[0]); }},
      {"gelu_tanh", {{{4, 6}, T, -3, 3}}, [](const V& x) { return gelu(x[0], GeluApproximation::Tanh); }},
      {"silu", {{{4, 6}, T, -3, 3}}, [](const V& x) { return silu(x[0]); }},
      {"sigmoid", {{{4, 6}, T, -3, 3}}, [](const V& x) { return sigmoid(x[0]); }},
      {"tanh", {{{4, 6}, T, -3, 3}}, [](const V& x) { return tanh(x[0]); }},
      {"softplus", {{{4, 6}, T, -3, 3}}, [](const V& x) { return softplus(x[0]); }},
      {"softplus_beta2_threshold1", {{{4, 6}, T, -2, 2}}, [](const V& x) { return softplus(x[0], 2.0, 1.0); }},
      {"where", {{{3, 4}}, {{4}, T}},
       [](const V& x) { return where(gt(x[0], zeros({}, x[0].options())), x[0] * 2.0, x[1]); }},
  };
}

inline std::vector<OpCase> reduction_cases() {
  return {
      {"sum_all", {{{3, 4}, T}}, [](const V& x) { return x[0].sum(); }},
      {"sum_dim1_keepdim", {{{3, 4, 5}}}, [](const V& x) { return x[0].sum(1, true); }},
      {"sum_dims02", {{{3, 4, 5}, T}}, [](const V& x) { return x[0].sum({0, 2}); }},
      {"mean_dims_neg", {{{3, 4, 5}, T}}, [](const V& x) { return x[0].mean({-1, 0}, true); }},
      {"var_dim1", {{{3, 5}, T}}, [](const V& x) { return x[0].var({1}); }},
      {"var_biased_all", {{{3, 5}}}, [](const V& x) { return x[0].var({0, 1}, 0); }},
      {"std_dim0_keepdim", {{{4, 3}, T}}, [](const V& x) { return x[0].std({0}, 1, true); }},
      {"max_dim", {{{3, 5}, T}}, [](const V& x) { return std::get<0>(x[0].max(1)); }},
      {"min_dim_keepdim", {{{3, 5}}}, [](const V& x) { return std::get<0>(x[0].min(0, true)); }},
      {"max_all", {{{3, 5}, T}}, [](const V& x) { return x[0].max(); }},
      {"amax_dims", {{{3, 4, 2}}}, [](const V& x) { return amax(x[0], {0, 2}); }},
      {"logsumexp", {{{3, 5}, T, -3, 3}}, [](const V& x) { return x[0].logsumexp({1}); }},
      {"logsumexp_keepdim_dims", {{{2, 3, 4}}}, [](const V& x) { return x[0].logsumexp({0, 2}, true); }},
      {"softmax_last", {{{3, 5}, T, -3, 3}}, [](const V& x) { return softmax(x[0], -1); }},
      {"softmax_dim0", {{{3, 5}, T, -3, 3}}, [](const V& x) { return softmax(x[0], 0); }},
      {"log_softmax", {{{2, 3, 5}, Layout::Contiguous, -3, 3}}, [](const V& x) { return log_softmax(x[0], 1); }},
  };
}

inline std::vector<OpCase> view_cases() {
  return {
      {"view", {{{3, 4}}}, [](const V& x) { return x[0].view({2, 6}) * 1.5; }},
      {"reshape_noncontiguous", {{{3, 4}, T}}, [](const V& x) { return x[0].reshape({-1}); }},
      {"permute", {{{2, 3, 4}}}, [](const V& x) { return x[0].permute({2, 0, 1}).exp(); }},
      {"transpose_t", {{{3, 5}, T}}, [](const V& x) { return x[0].t().sigmoid(); }},
      {"narrow", {{{5, 4}, T}}, [](const V& x) { return x[0].narrow(0, 1, 3); }},
      {"slice_step", {{{7, 3}}}, [](const V& x) { return x[0].slice(0, 1, 7, 2).tanh(); }},
      {"select", {{{4, 3}, T}}, [](const V& x) { return x[0].select(1, -1).exp(); }},
      {"expand", {{{3, 1}}}, [](const V& x) { return x[0].expand({2, 3, 4}).sigmoid(); }},
      {"squeeze_unsqueeze", {{{3, 1, 4}}}, [](const V& x) { return x[0].squeeze(1).unsqueeze(0).exp(); }},
      {"flatten", {{{2, 3, 4}}}, [](const V& x) { return x[0].flatten(1).log_softmax(1); }},
      {"contiguous_clone", {{{3, 4}, T}}, [](const V& x) { return x[0].contiguous().clone() * x[0]; }},
  };
}

}  // namespace lucid::testing::cases
