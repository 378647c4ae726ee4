// Gradient checks for joining/indexing ops, embedding, dropout, the losses and
// scaled dot-product attention: one op-case row each. Integer inputs (indices,
// targets) are InputSpecs with dtype int64 and requires_grad false, or constants
// built inside the row's fn when a case needs particular values.
#include "cases/loss_index_cases.h"

using namespace lucid;
using lucid::testing::OpCase;
namespace cases = lucid::testing::cases;  // the op-case tables, in tests/cases/loss_index_cases.h

TEST_CASE("gradcheck: cat, stack, split, chunk, index_select, gather, embedding, dropout") {
  for (const OpCase& c : cases::index_cases()) testing::check_gradients(c);
}

TEST_CASE("gradcheck: cross_entropy (all variants), nll_loss, mse_loss, bce_with_logits") {
  for (const OpCase& c : cases::loss_cases()) testing::check_gradients(c);
}

TEST_CASE("gradcheck: scaled_dot_product_attention plain, causal, bool and float masks, dropout") {
  for (const OpCase& c : cases::attention_cases()) testing::check_gradients(c);
}
