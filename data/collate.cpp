#include <lucid/data/collate.h>

#include <string>

#include <lucid/autograd/grad_mode.h>
#include <lucid/autograd/ops/index.h>
#include <lucid/kernels/error.h>

namespace lucid::data {

namespace {

// Stacks one field ("data" or "target") of every sample after checking that
// they agree, so the error can name dataset indices instead of list entries.
Tensor stack_field(const std::vector<Example>& samples, const std::vector<size_t>& indices,
                   const char* field, Tensor Example::*member) {
  auto name = [&](size_t k) {
    return "sample " + std::to_string(indices.empty() ? k : indices[k]);
  };
  const Tensor& first = samples[0].*member;
  std::vector<Tensor> parts;
  parts.reserve(samples.size());
  for (size_t k = 0; k < samples.size(); ++k) {
    const Tensor& t = samples[k].*member;
    LUCID_CHECK(t.defined() == first.defined(), "default_collate: ", field, " of ", name(k), " is ",
                t.defined() ? "defined" : "undefined", ", but ", field, " of ", name(0), " is ",
                first.defined() ? "defined" : "undefined");
    if (!t.defined()) continue;
    LUCID_CHECK(t.sizes() == first.sizes(), "default_collate: ", field, " of ", name(k),
                " has shape ", t.sizes(), ", but ", name(0), " has ", first.sizes());
    LUCID_CHECK(t.dtype() == first.dtype(), "default_collate: ", field, " of ", name(k),
                " has dtype ", t.dtype(), ", but ", name(0), " has ", first.dtype());
    LUCID_CHECK(t.device() == first.device(), "default_collate: ", field, " of ", name(k),
                " is on ", t.device().str(), ", but ", name(0), " is on ", first.device().str());
    parts.push_back(t);
  }
  return parts.empty() ? Tensor() : stack(parts, 0);
}

}  // namespace

Example default_collate(const std::vector<Example>& samples, const std::vector<size_t>& indices) {
  LUCID_CHECK(!samples.empty(), "default_collate: the batch has no samples");
  LUCID_CHECK(indices.empty() || indices.size() == samples.size(), "default_collate: ",
              samples.size(), " samples but ", indices.size(), " indices");
  NoGradGuard no_grad;
  return {stack_field(samples, indices, "data", &Example::data),
          stack_field(samples, indices, "target", &Example::target)};
}

}  // namespace lucid::data
