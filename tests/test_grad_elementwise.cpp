// Gradient checks for the elementwise, reduction, softmax and view ops:
// one op-case row each, on odd shapes with broadcasting and transposed inputs.
#include "cases/elementwise_cases.h"

using namespace lucid;
using lucid::testing::OpCase;
namespace cases = lucid::testing::cases;  // the op-case tables, in tests/cases/elementwise_cases.h

TEST_CASE("gradcheck: every elementwise op matches finite differences") {
  for (const OpCase& c : cases::elementwise_cases()) testing::check_gradients(c);
}

TEST_CASE("gradcheck: every reduction and softmax matches finite differences") {
  for (const OpCase& c : cases::reduction_cases()) testing::check_gradients(c);
}

TEST_CASE("gradcheck: every view op passes gradients through unchanged") {
  for (const OpCase& c : cases::view_cases()) testing::check_gradients(c);
}
