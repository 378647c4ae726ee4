// Every row of every op-case table (tests/cases/*.h, the rows the gradient
// checks run) on CPU and on CUDA, in float64 and float32: forward outputs and
// input gradients agree within the per-family tolerances at the top of
// tests/gpu/cuda_compare.h. Sizes, layouts and dtypes the small tables lack:
// test_cuda_ops_sizes.cpp, test_cuda_ops_dtypes.cpp.
#include <doctest/doctest.h>

#include "cases/elementwise_cases.h"
#include "cases/loss_index_cases.h"
#include "cases/nn_cases.h"
#include "gpu/cuda_compare.h"

using namespace lucid;
using gputest::Family;
using gputest::run_table;
namespace cases = lucid::testing::cases;

TEST_CASE("cuda matches cpu: every elementwise op, forward and gradients") {
  run_table(cases::elementwise_cases(), Family::Elementwise);
}

TEST_CASE("cuda matches cpu: every reduction and softmax, forward and gradients") {
  run_table(cases::reduction_cases(), Family::Reduction);
}

TEST_CASE("cuda matches cpu: every view op, forward and gradients") {
  run_table(cases::view_cases(), Family::Elementwise);
}

TEST_CASE("cuda matches cpu: cat, stack, split, index_select, gather, embedding, dropout (same seed, same mask)") {
  run_table(cases::index_cases(), Family::Elementwise);
}

TEST_CASE("cuda matches cpu: every loss variant, forward and gradients") {
  run_table(cases::loss_cases(), Family::Reduction);
}

TEST_CASE("cuda matches cpu: scaled_dot_product_attention, masks, causal, dropout") {
  run_table(cases::attention_cases(), Family::Conv);
}

TEST_CASE("cuda matches cpu: matmul in every rank combination, mm, bmm, linear") {
  run_table(cases::matmul_cases(), Family::Matmul);
}

TEST_CASE("cuda matches cpu: conv2d and every pooling op with their options") {
  run_table(cases::conv_cases(), Family::Conv);
}

TEST_CASE("cuda matches cpu: batch_norm (training and eval) and layer_norm") {
  run_table(cases::norm_cases(), Family::Conv);
}
