// CPU-vs-CUDA on what the small gradcheck tables lack: sizes that are not
// multiples of a warp (32) or a block (256), empty tensors, a few million
// elements, reductions over rows of 1 and of 100000, and non-contiguous inputs
// (transposed, sliced with a step, expanded, permuted). Same rows, same rule,
// same tolerance table (tests/gpu/cuda_compare.h) as test_cuda_ops.cpp.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cases/case_helpers.h"
#include "gpu/cuda_compare.h"

using namespace lucid;
using namespace lucid::nn::functional;
using gputest::Family;
using gputest::run_table;
using lucid::testing::OpCase;
using lucid::testing::cases::C;
using lucid::testing::cases::ints;
using lucid::testing::cases::T;
using V = std::vector<Tensor>;

namespace {

// Element counts around the launch geometry: empty, one, below / just above a
// warp, just above a block, a prime near 10^6, a few million.
const std::vector<int64_t> kSizes = {0, 1, 7, 33, 257, 1000003, 3000017};

std::vector<OpCase> odd_size_elementwise_cases() {
  std::vector<OpCase> rows;
  for (int64_t n : kSizes) {
    const std::string s = "_n" + std::to_string(n);
    rows.push_back({"exp" + s, {{{n}}}, [](const V& x) { return exp(x[0]); }});
    rows.push_back({"log" + s, {{{n}, C, 0.5, 3.0}}, [](const V& x) { return log(x[0]); }});
    rows.push_back({"tanh" + s, {{{n}, C, -3, 3}}, [](const V& x) { return tanh(x[0]); }});
    rows.push_back({"gelu" + s, {{{n}, C, -3, 3}}, [](const V& x) { return gelu(x[0]); }});
    rows.push_back({"sigmoid_relu" + s, {{{n}, C, -3, 3}}, [](const V& x) { return relu(x[0]) * sigmoid(x[0]); }});
    rows.push_back({"add_mul_div" + s, {{{n}}, {{n}}, {{n}, C, 0.5, 2.0}},
                    [](const V& x) { return (x[0] + x[1]) * x[0] / x[2]; }});
    rows.push_back({"pow_maximum" + s, {{{n}, C, 0.5, 2.0}, {{n}}},
                    [](const V& x) { return maximum(pow(x[0], 1.5), x[1]); }});
    rows.push_back({"add_broadcast_scalar" + s, {{{n}}, {{1}}}, [](const V& x) { return x[0] + x[1]; }});
  }
  return rows;
}

// Non-contiguous inputs on sizes that do not divide evenly.
std::vector<OpCase> strided_cases() {
  return {
      {"transposed_binary_257x33", {{{257, 33}, T}, {{257, 33}}}, [](const V& x) { return x[0] * x[1] + x[0]; }},
      {"transposed_unary_1000x1001", {{{1000, 1001}, T, -3, 3}}, [](const V& x) { return silu(x[0]); }},
      {"slice_step3_1000003", {{{1000003}}}, [](const V& x) { return x[0].slice(0, 1, 1000003, 3).exp(); }},
      {"slice_step2_inner_dim", {{{333, 258}}, {{333, 129}}},
       [](const V& x) { return x[0].slice(1, 0, 258, 2) * x[1]; }},
      {"expand_row_to_2049x513", {{{1, 513}}, {{2049, 513}}},
       [](const V& x) { return x[0].expand({2049, 513}) * x[1]; }},
      {"expand_column_and_row", {{{37, 1}}, {{1, 41}}}, [](const V& x) { return x[0] - x[1]; }},
      {"permute_3d_then_unary", {{{7, 33, 65}, C, -3, 3}},
       [](const V& x) { return x[0].permute({2, 0, 1}).sigmoid(); }},
      {"select_narrow_4d", {{{5, 6, 7, 9}}}, [](const V& x) { return x[0].select(1, 3).narrow(2, 2, 5).tanh(); }},
      {"where_broadcast_3d", {{{9, 1, 33}}, {{17, 33}, T}},
       [](const V& x) { return where(gt(x[0], zeros({}, x[0].options())), x[0], x[1]); }},
      {"cat_large_noncontiguous", {{{1000, 300}, T}, {{1000, 7}}}, [](const V& x) { return cat({x[0], x[1]}, 1); }},
      {"index_select_many_repeats", {{{100, 33}}, ints({100000}, 0, 100)},
       [](const V& x) { return index_select(x[0], 0, x[1]); }},
      {"gather_long_rows", {{{64, 10007}, T}, ints({64, 2049}, 0, 10007)},
       [](const V& x) { return gather(x[0], 1, x[1]); }},
      {"embedding_many_repeats", {ints({257, 33}, 0, 50), {{50, 65}}},
       [](const V& x) { return embedding(x[0], x[1]); }},
  };
}

// Reductions: rows of length 1, rows of 100000, a sum over 10^6, reductions
// over a strided (non-last) dim, and on transposed inputs. Sums read positive
// inputs, so |sum| = sum|x| and the relative error bound is plain.
std::vector<OpCase> long_reduction_cases() {
  return {
      {"sum_rows_of_1", {{{1000, 1}, C, 0.5, 1.5}}, [](const V& x) { return x[0].sum(1); }},
      {"softmax_rows_of_1", {{{1000, 1}, C, -3, 3}}, [](const V& x) { return softmax(x[0], 1); }},
      {"sum_rows_of_100000", {{{3, 100000}, C, 0.5, 1.5}}, [](const V& x) { return x[0].sum(1); }},
      {"mean_rows_of_100000_transposed", {{{3, 100000}, T, 0.5, 1.5}}, [](const V& x) { return x[0].mean({1}); }},
      {"sum_dim0_strided", {{{100000, 3}, C, 0.5, 1.5}}, [](const V& x) { return x[0].sum(0); }},
      {"sum_all_1000000", {{{1000000}, C, 0.5, 1.5}}, [](const V& x) { return x[0].sum(); }},
      {"sum_all_3000017", {{{3000017}, C, 0.5, 1.5}}, [](const V& x) { return x[0].sum(); }},
      {"var_rows_of_100000", {{{2, 100000}}}, [](const V& x) { return x[0].var({1}); }},
      {"max_rows_of_100003", {{{3, 100003}}}, [](const V& x) { return std::get<0>(x[0].max(1)); }},
      {"amax_dim0_strided", {{{100003, 5}}}, [](const V& x) { return amax(x[0], {0}); }},
      {"logsumexp_rows_of_100000", {{{2, 100000}, C, -3, 3}}, [](const V& x) { return x[0].logsumexp({1}); }},
      {"softmax_rows_of_100000", {{{2, 100000}, C, -3, 3}}, [](const V& x) { return softmax(x[0], 1); }},
      {"log_softmax_rows_of_33333", {{{3, 33333}, C, -3, 3}}, [](const V& x) { return log_softmax(x[0], -1); }},
      {"softmax_dim0_strided", {{{1025, 33}, C, -3, 3}}, [](const V& x) { return softmax(x[0], 0); }},
      {"cross_entropy_1000_rows_1000_classes", {{{1000, 1000}, C, -3, 3}, ints({1000}, 0, 1000)},
       [](const V& x) { return cross_entropy(x[0], x[1]); }},
      {"mse_loss_1000003", {{{1000003}}, {{1000003}}}, [](const V& x) { return mse_loss(x[0], x[1]); }},
      {"layer_norm_rows_of_100000", {{{2, 100000}}, {{100000}}, {{100000}}},
       [](const V& x) { return layer_norm(x[0], {100000}, x[1], x[2]); }},
      {"batch_norm_train_large", {{{16, 33, 17, 15}}, {{33}}, {{33}}},
       [](const V& x) {
         Tensor rm = zeros({33}, x[0].options()), rv = ones({33}, x[0].options());
         return batch_norm(x[0], rm, rv, x[1], x[2], /*training=*/true);
       }},
  };
}

std::vector<OpCase> large_matmul_cases() {
  return {
      {"matmul_65x301_301x129", {{{65, 301}}, {{301, 129}}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"matmul_transposed_both_257", {{{257, 63}, T}, {{63, 255}, T}}, [](const V& x) { return matmul(x[0], x[1]); }},
      {"bmm_3x33x65x17", {{{3, 33, 65}}, {{3, 65, 17}, T}}, [](const V& x) { return bmm(x[0], x[1]); }},
      {"matmul_batched_broadcast_large", {{{4, 1, 31, 64}}, {{5, 64, 33}}},
       [](const V& x) { return matmul(x[0], x[1]); }},
      {"linear_batch_1000", {{{1000, 129}}, {{65, 129}}, {{65}}},
       [](const V& x) { return linear(x[0], x[1], x[2]); }},
      {"matvec_1_by_4097", {{{4097}}, {{4097, 3}}}, [](const V& x) { return matmul(x[0], x[1]); }},
  };
}

std::vector<OpCase> large_conv_cases() {
  return {
      {"conv2d_4x3x33x31", {{{4, 3, 33, 31}}, {{8, 3, 3, 3}}, {{8}}},
       [](const V& x) { return conv2d(x[0], x[1], x[2], {1, 1}, {1, 1}); }},
      {"conv2d_stride2_5x5_groups", {{{2, 6, 35, 29}}, {{9, 2, 5, 5}}, {{9}}},
       [](const V& x) { return conv2d(x[0], x[1], x[2], {2, 2}, {2, 1}, {1, 1}, 3); }},
      {"conv2d_transposed_input_dilated", {{{2, 4, 19, 23}, T}, {{5, 4, 3, 3}}},
       [](const V& x) { return conv2d(x[0], x[1], Tensor(), {1, 1}, {2, 2}, {2, 2}); }},
      {"max_pool2d_large", {{{8, 16, 33, 35}}}, [](const V& x) { return max_pool2d(x[0], {3, 3}, {2, 2}, {1, 1}); }},
      {"avg_pool2d_large", {{{8, 16, 33, 35}}},
       [](const V& x) { return avg_pool2d(x[0], {2, 3}, {2, 2}, {1, 1}, true, false); }},
      {"adaptive_avg_pool2d_large", {{{4, 8, 37, 29}}}, [](const V& x) { return adaptive_avg_pool2d(x[0], {5, 7}); }},
  };
}

}  // namespace

TEST_CASE("cuda matches cpu: elementwise ops on 0, 1, 7, 33, 257, 1000003 and 3000017 elements") {
  run_table(odd_size_elementwise_cases(), Family::Elementwise);
}

TEST_CASE("cuda matches cpu: transposed, step-sliced, expanded and permuted inputs; large gathers") {
  run_table(strided_cases(), Family::Elementwise);
}

TEST_CASE("cuda matches cpu: reductions, softmax, losses and norms over rows of 1 to 10^6") {
  run_table(long_reduction_cases(), Family::LongReduction);
}

TEST_CASE("cuda matches cpu: matmul, bmm and linear on sizes that are not tile multiples") {
  run_table(large_matmul_cases(), Family::Matmul);
}

TEST_CASE("cuda matches cpu: conv2d and pooling on larger odd images") {
  run_table(large_conv_cases(), Family::Conv);
}
