// The device check an op with several tensor arguments makes first, before it
// reads any data: every (defined) argument lives on the input's device.
#pragma once
#include <lucid/kernels/error.h>
#include <lucid/kernels/tensor.h>

namespace lucid {

// Throws "<op>: <what> is on cuda:0 but input is on cpu"; an undefined (optional) t passes.
inline void check_same_device(const char* op, const char* what, const Tensor& t,
                              const Tensor& input) {
  if (!t.defined()) return;
  LUCID_CHECK(t.device() == input.device(), op, ": ", what, " is on ", t.device().str(),
              " but input is on ", input.device().str());
}

}  // namespace lucid
