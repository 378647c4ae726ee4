// Gradient checks for matmul, linear, conv2d, pooling and normalization: one
// op-case row each, on small odd shapes (gradcheck runs two forwards per input
// element), with broadcast batch dims, transposed inputs, and each op's options.
#include "cases/nn_cases.h"

using namespace lucid;
using lucid::testing::OpCase;
namespace cases = lucid::testing::cases;  // the op-case tables, in tests/cases/nn_cases.h

TEST_CASE("gradcheck: matmul in every rank combination, mm, bmm and linear") {
  for (const OpCase& c : cases::matmul_cases()) testing::check_gradients(c);
}

TEST_CASE("gradcheck: conv2d and every pooling op with their options") {
  for (const OpCase& c : cases::conv_cases()) testing::check_gradients(c);
}

TEST_CASE("gradcheck: batch_norm (training and eval) and layer_norm") {
  for (const OpCase& c : cases::norm_cases()) testing::check_gradients(c);
}
