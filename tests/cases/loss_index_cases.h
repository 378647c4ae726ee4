// Op-case tables: joining/indexing, embedding, dropout, the losses, scaled
// dot-product attention. Run by the gradient check
// (tests/test_grad_loss_index.cpp) and the CPU-vs-CUDA comparison
// (tests/gpu/test_cuda_ops.cpp). Integer inputs (indices, targets) are
// InputSpecs with dtype int64 and requires_grad false, or constants built inside
// the row's fn (on its first input's device) when a case needs particular values.
#pragma once
#include "cases/case_helpers.h"

namespace lucid::testing::cases {

using namespace lucid::nn::functional;  // cross_entropy, conv2d, ... as in a model's code

inline std::vector<OpCase> index_cases() {
  return {
      {"cat_dim1_transposed", {{{3, 4}, T}, {{3, 2}, T}, {{3, 1}}},
       [](const V& x) { return cat({x[0], x[1], x[2]}, 1); }},
      {"cat_dim0_mixed_layouts", {{{2, 4}}, {{3, 4}, T}}, [](const V& x) { return cat({x[0], x[1]}, 0); }},
      {"cat_negative_dim_3d", {{{2, 3, 2}}, {{2, 3, 3}, T}}, [](const V& x) { return cat({x[0], x[1]}, -1); }},
      {"stack_dim1_transposed", {{{3, 4}, T}, {{3, 4}}}, [](const V& x) { return stack({x[0], x[1]}, 1); }},
      {"stack_last_dim", {{{2, 3}, T}, {{2, 3}, T}, {{2, 3}}}, [](const V& x) { return stack({x[0], x[1], x[2]}, -1); }},
      {"split_size_then_ops", {{{3, 7}, T}},
       [](const V& x) {
         auto p = split(x[0], 3, 1);  // 3, 3, 1
         return cat({p[0].exp(), p[1] * 2.0, p[2].tanh()}, 1);
       }},
      {"split_sizes_dim0", {{{6, 2}}},
       [](const V& x) {
         auto p = split(x[0], std::vector<int64_t>{1, 3, 2}, 0);
         return p[1].sum(0) * p[0].squeeze(0) + p[2].sum(0);
       }},
      {"chunk_then_ops", {{{5, 3}, T}},
       [](const V& x) {
         auto p = chunk(x[0], 3, 0);  // 2, 2, 1
         return p[0] * p[1] + p[2];
       }},
      {"index_select_dim0_repeats", {{{4, 3}, T}},
       [](const V& x) { return index_select(x[0], 0, longs_like(x[0], {3, 0, 3, 1, 3})); }},
      {"index_select_dim1_random", {{{3, 5}, T}, ints({7}, 0, 5)},
       [](const V& x) { return index_select(x[0], 1, x[1]); }},
      {"gather_dim1", {{{3, 4}, T}, ints({3, 5}, 0, 4)}, [](const V& x) { return gather(x[0], 1, x[1]); }},
      {"gather_dim0_smaller_index", {{{4, 3}}, ints({2, 2}, 0, 4)}, [](const V& x) { return gather(x[0], 0, x[1]); }},
      {"embedding_random_ids", {ints({2, 3}, 0, 5), {{5, 4}, T}}, [](const V& x) { return embedding(x[0], x[1]); }},
      // Row 2 (padding) gets no gradient by rule, so the fn zeroes its outputs to
      // keep finite differences consistent; the rule itself is checked in
      // test_loss_index_ops.cpp.
      {"embedding_padding_idx", {{{5, 3}}},
       [](const V& x) {
         Tensor ids = longs_like(x[0], {0, 2, 4, 2, 1, 0}).reshape({2, 3});
         Tensor not_pad = ne(ids, longs_like(x[0], {2})).to(x[0].dtype()).unsqueeze(-1);
         return embedding(ids, x[0], 2) * not_pad;
       }},
      {"dropout_fixed_seed", {{{4, 5}, T}},
       [](const V& x) {
         manual_seed(7);  // the same mask on every evaluation
         return dropout(x[0], 0.3);
       }},
  };
}

inline std::vector<OpCase> loss_cases() {
  return {
      {"cross_entropy_mean", {{{5, 4}, T, -2, 2}, ints({5}, 0, 4)},
       [](const V& x) { return cross_entropy(x[0], x[1]); }},
      {"cross_entropy_weight", {{{5, 4}, T, -2, 2}, ints({5}, 0, 4)},
       [](const V& x) { return cross_entropy(x[0], x[1], floats_like(x[0], {1.0, 2.0, 0.5, 1.5})); }},
      {"cross_entropy_ignore_index", {{{6, 4}, C, -2, 2}},
       [](const V& x) { return cross_entropy(x[0], longs_like(x[0], {0, 2, 3, 2, 1, 0}), Tensor(), 2); }},
      {"cross_entropy_weight_ignore_smoothing", {{{6, 4}, T, -2, 2}},
       [](const V& x) {
         return cross_entropy(x[0], longs_like(x[0], {0, 2, 3, 2, 1, 0}),
                              floats_like(x[0], {1.0, 2.0, 0.5, 1.5}), 2, Reduction::Mean, 0.15);
       }},
      {"cross_entropy_none_smoothing", {{{5, 4}, T, -2, 2}, ints({5}, 0, 4)},
       [](const V& x) { return cross_entropy(x[0], x[1], Tensor(), -100, Reduction::None, 0.2); }},
      {"cross_entropy_sum_weight_smoothing", {{{5, 4}, C, -2, 2}, ints({5}, 0, 4)},
       [](const V& x) {
         return cross_entropy(x[0], x[1], floats_like(x[0], {1.0, 2.0, 0.5, 1.5}), -100, Reduction::Sum, 0.3);
       }},
      {"cross_entropy_NCd", {{{2, 3, 4}, T, -2, 2}, ints({2, 4}, 0, 3)},
       [](const V& x) {
         return cross_entropy(x[0], x[1], floats_like(x[0], {0.5, 1.0, 2.0}), -100, Reduction::Mean, 0.1);
       }},
      {"cross_entropy_NCd_none", {{{2, 3, 4}, C, -2, 2}, ints({2, 4}, 0, 3)},
       [](const V& x) { return cross_entropy(x[0], x[1], Tensor(), -100, Reduction::None); }},
      {"nll_loss_weight_ignore", {{{6, 4}, T, -3, 0}},
       [](const V& x) {
         return nll_loss(x[0], longs_like(x[0], {0, 2, 3, 2, 1, 0}), floats_like(x[0], {1.0, 2.0, 0.5, 1.5}), 2);
       }},
      {"nll_loss_NCd_sum", {{{2, 3, 4}, C, -3, 0}, ints({2, 4}, 0, 3)},
       [](const V& x) { return nll_loss(x[0], x[1], Tensor(), -100, Reduction::Sum); }},
      {"nll_of_log_softmax_none", {{{4, 5}, T}, ints({4}, 0, 5)},
       [](const V& x) { return nll_loss(log_softmax(x[0], 1), x[1], Tensor(), -100, Reduction::None); }},
      {"mse_loss_mean", {{{3, 4}, T}, {{3, 4}}}, [](const V& x) { return mse_loss(x[0], x[1]); }},
      {"mse_loss_none", {{{3, 4}}, {{3, 4}, T}}, [](const V& x) { return mse_loss(x[0], x[1], Reduction::None); }},
      {"mse_loss_sum", {{{5}}, {{5}}}, [](const V& x) { return mse_loss(x[0], x[1], Reduction::Sum); }},
      {"bce_with_logits_mean", {{{3, 4}, T, -4, 4}, {{3, 4}, C, 0, 1}},
       [](const V& x) { return binary_cross_entropy_with_logits(x[0], x[1]); }},
      {"bce_with_logits_weight_pos_weight", {{{3, 4}, T, -4, 4}, {{3, 4}, C, 0, 1}, {{4}, C, 0.5, 2}, {{4}, C, 0.5, 3}},
       [](const V& x) {
         return binary_cross_entropy_with_logits(x[0], x[1], x[2], Reduction::Sum, x[3]);
       }},
      {"bce_with_logits_none_pos_weight", {{{2, 3}, C, -4, 4}, {{2, 3}, C, 0, 1}},
       [](const V& x) {
         return binary_cross_entropy_with_logits(x[0], x[1], Tensor(), Reduction::None,
                                                 floats_like(x[0], {2.0, 0.5, 1.0}));
       }},
  };
}

inline std::vector<OpCase> attention_cases() {
  return {
      {"sdpa_plain", {{{2, 3, 4}}, {{2, 5, 4}, T}, {{2, 5, 3}}},
       [](const V& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); }},
      {"sdpa_causal_scale", {{{2, 4, 3}}, {{2, 4, 3}}, {{2, 4, 2}, T}},
       [](const V& x) { return scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), 0.0, true, 0.7); }},
      {"sdpa_bool_mask", {{{2, 3, 4}}, {{2, 5, 4}}, {{2, 5, 3}}},
       [](const V& x) {
         Tensor mask = tensor({{1, 0, 1, 1, 0}, {0, 1, 1, 0, 0}, {1, 1, 1, 1, 1}}).to(kBool).to(x[0].device());
         return scaled_dot_product_attention(x[0], x[1], x[2], mask);
       }},
      {"sdpa_float_mask", {{{2, 3, 4}}, {{2, 5, 4}}, {{2, 5, 3}}, {{3, 5}, C, -2, 1}},
       [](const V& x) { return scaled_dot_product_attention(x[0], x[1], x[2], x[3]); }},
      {"sdpa_dropout_fixed_seed", {{{2, 3, 4}}, {{2, 5, 4}}, {{2, 5, 3}}},
       [](const V& x) {
         manual_seed(11);
         return scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), 0.25);
       }},
  };
}

}  // namespace lucid::testing::cases
