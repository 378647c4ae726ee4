// Op-case tables: matmul, linear, conv2d, pooling, normalization, on small odd
// shapes with broadcast batch dims, transposed inputs and each op's options.
// Run by the gradient check (tests/test_grad_nn.cpp) and the CPU-vs-CUDA
// comparison (tests/gpu/test_cuda_ops.cpp).
#pragma once
#include "cases/case_helpers.h"

namespace lucid::testing::cases {

using namespace lucid::nn::functional;  // cross_entropy, conv2d, ... as in a model's code

inline std::vector<OpCase> matmul_cases() {
  return {
      {"matmul_1d_1d", {{{4}}, {{4}}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_1d_2d", {{{3}}, {{3, 4}, T}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_2d_1d", {{{3, 4}, T}, {{4}}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_2d_2d", {{{3, 4}}, {{4, 5}}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_2d_2d_both_transposed", {{{3, 4}, T}, {{4, 5}, T}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_batched_broadcast", {{{2, 1, 3, 4}}, {{3, 4, 2}, T}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_batched_vs_2d", {{{2, 3, 4}, T}, {{4, 2}}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_2d_vs_batched", {{{3, 4}}, {{2, 4, 2}}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_1d_batched", {{{4}}, {{2, 4, 3}}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_batched_1d", {{{2, 3, 4}, T}, {{4}}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_expanded_batch", {{{3, 4}}, {{4, 2}}},
       [](const V& x) { return matmul(x[0].expand({2, 3, 4}), x[1]); }},
      {"mm", {{{3, 4}, T}, {{4, 2}}}, [](const V& x) { return mm(x[0], x[1]); }},
      {"bmm", {{{2, 3, 4}}, {{2, 4, 3}, T}}, [](const V& x) { return bmm(x[0], x[1]); }},
      {"linear_bias_3d", {{{2, 3, 4}}, {{5, 4}}, {{5}}}, [](const V& x) { return linear(x[0], x[1], x[2]); }},
      {"linear_no_bias_transposed", {{{3, 4}, T}, {{5, 4}, T}}, [](const V& x) { return linear(x[0], x[1]); }},
      {"linear_1d_input", {{{4}}, {{3, 4}}, {{3}}}, [](const V& x) { return linear(x[0], x[1], x[2]); }},
  };
}

inline std::vector<OpCase> conv_cases() {
  return {
      {"conv2d_bias_batch2", {{{2, 3, 5, 6}}, {{4, 3, 3, 3}}, {{4}}},
       [](const V& x) { return conv2d(x[0], x[1], x[2]); }},
      {"conv2d_stride2_pad1", {{{2, 2, 5, 5}}, {{3, 2, 3, 3}}, {{3}}},
       [](const V& x) { return conv2d(x[0], x[1], x[2], {2, 2}, {1, 1}); }},
      {"conv2d_dilation2_transposed_input", {{{1, 2, 7, 6}, T}, {{2, 2, 3, 2}}},
       [](const V& x) { return conv2d(x[0], x[1], Tensor(), {1, 1}, {1, 0}, {2, 2}); }},
      {"conv2d_groups2_odd", {{{2, 4, 5, 4}}, {{6, 2, 3, 2}}, {{6}}},
       [](const V& x) { return conv2d(x[0], x[1], x[2], {2, 1}, {1, 1}, {1, 1}, 2); }},
      {"conv2d_1x1_transposed_input", {{{2, 3, 3, 2}, T}, {{2, 3, 1, 1}}},
       [](const V& x) { return conv2d(x[0], x[1]); }},
      {"conv2d_unbatched", {{{2, 5, 4}}, {{3, 2, 2, 3}}, {{3}}},
       [](const V& x) { return conv2d(x[0], x[1], x[2], {1, 2}, {1, 1}); }},
      {"max_pool2d", {{{2, 3, 4, 5}}}, [](const V& x) { return max_pool2d(x[0], {2, 2}); }},
      {"max_pool2d_stride2_pad1", {{{1, 2, 5, 5}, T}}, [](const V& x) { return max_pool2d(x[0], {3, 3}, {2, 2}, {1, 1}); }},
      {"max_pool2d_ceil_mode", {{{1, 2, 5, 5}}},
       [](const V& x) { return max_pool2d(x[0], {2, 2}, {2, 2}, {0, 0}, {1, 1}, true); }},
      {"max_pool2d_dilation2_unbatched", {{{2, 6, 5}}},
       [](const V& x) { return max_pool2d(x[0], {2, 2}, {1, 1}, {1, 0}, {2, 2}); }},
      {"avg_pool2d", {{{2, 2, 4, 5}}}, [](const V& x) { return avg_pool2d(x[0], {2, 2}); }},
      {"avg_pool2d_pad_include", {{{1, 2, 5, 5}, T}},
       [](const V& x) { return avg_pool2d(x[0], {3, 3}, {2, 2}, {1, 1}, false, true); }},
      {"avg_pool2d_pad_exclude", {{{1, 2, 5, 5}}},
       [](const V& x) { return avg_pool2d(x[0], {3, 3}, {2, 2}, {1, 1}, false, false); }},
      {"avg_pool2d_ceil_include", {{{1, 2, 6, 5}}},
       [](const V& x) { return avg_pool2d(x[0], {3, 2}, {2, 2}, {1, 1}, true, true); }},
      {"avg_pool2d_ceil_exclude_unbatched", {{{2, 6, 5}}},
       [](const V& x) { return avg_pool2d(x[0], {3, 2}, {2, 2}, {1, 1}, true, false); }},
      {"adaptive_avg_pool2d_non_divisible", {{{2, 2, 7, 5}}},
       [](const V& x) { return adaptive_avg_pool2d(x[0], {3, 2}); }},
      {"adaptive_avg_pool2d_upsampling_unbatched", {{{2, 3, 4}, T}},
       [](const V& x) { return adaptive_avg_pool2d(x[0], {4, 5}); }},
  };
}

inline std::vector<OpCase> norm_cases() {
  return {
      // Running statistics are made inside the function: training updates them on every call.
      {"batch_norm_train_weight_bias", {{{4, 3, 2, 2}}, {{3}}, {{3}}},
       [](const V& x) {
         Tensor rm = zeros({3}, x[0].options()), rv = ones({3}, x[0].options());
         return batch_norm(x[0], rm, rv, x[1], x[2], /*training=*/true);
       }},
      {"batch_norm_train_2d_no_affine", {{{5, 3}, T}},
       [](const V& x) { return batch_norm(x[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }},
      {"batch_norm_train_weight_only", {{{3, 2, 4}}, {{2}}},
       [](const V& x) { return batch_norm(x[0], Tensor(), Tensor(), x[1], Tensor(), true, 0.3); }},
      {"batch_norm_eval_weight_bias", {{{3, 4, 2}}, constant({4}, -1, 1), constant({4}, 0.5, 2), {{4}}, {{4}}},
       [](const V& x) { return batch_norm(x[0], x[1], x[2], x[3], x[4], /*training=*/false); }},
      {"layer_norm_last_dim", {{{3, 4, 5}}, {{5}}, {{5}}},
       [](const V& x) { return layer_norm(x[0], {5}, x[1], x[2]); }},
      {"layer_norm_two_dims_no_affine", {{{3, 4, 5}, T}},
       [](const V& x) { return layer_norm(x[0], {4, 5}); }},
      {"layer_norm_weight_only_transposed", {{{4, 3}, T}, {{3}}},
       [](const V& x) { return layer_norm(x[0], {3}, x[1]); }},
  };
}

}  // namespace lucid::testing::cases
