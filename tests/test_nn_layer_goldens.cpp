// Golden test for the nn layer modules: lucid against PyTorch 1.13 on every
// case in goldens/nn_layers.txt (made by goldens/make_nn_layer_goldens.py; the
// format is goldens/README.md's plus `state` records, read by golden_file.h).
//
// Per case: build the lucid module with the same options, load PyTorch's
// state_dict into it with a STRICT load_state_dict (so parameter and buffer
// names, shapes and dtypes must equal PyTorch's), set train/eval, run forward
// on the same inputs, backward with the same grad_out, and compare
//   the outputs (out, attention weights),
//   grad_<x> of each input that takes a gradient,
//   grad.<name> of every parameter (by lucid's named_parameters),
//   after.<name> of every buffer (BatchNorm's running stats and counter).
// Every record of the case must be matched by one lucid value.
//
// Tolerance (float32): |lucid - torch| <= 1e-6 * (|torch| + max|torch of that
// tensor|). That is 1e-6 relative to the tensor's own scale: an element that
// is the difference of large terms (a gradient near 0) is held to the scale of
// the tensor, not to its own tiny value, where a different summation order
// alone moves it by several ulps of the terms. (Measured: every record is
// within 3e-7 of its scale. Element-wise relative error reaches 1e-4 on
// gradients near 0, and MultiheadAttention's key bias gradient is exactly 0 in
// theory, softmax being shift-invariant, but ~1e-9 of float noise in both
// libraries.) int64 values must be equal.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <lucid/lucid.h>

#include "check_values.h"
#include "golden_file.h"

using namespace lucid;
namespace F = lucid::nn::functional;

namespace {

using testing::GoldenCase;
using testing::Record;

// The cases of nn_layers.txt, read by the shared reader (golden_file.h).
const std::vector<GoldenCase>& cases() {
  static const std::vector<GoldenCase> all = testing::read_goldens("goldens/nn_layers.txt");
  return all;
}

// ---- the lucid side of each case --------------------------------------------

using Inputs = std::map<std::string, Tensor>;
using Outputs = std::vector<Record>;  // "out" first

struct Spec {
  std::function<std::shared_ptr<nn::Module>()> make;
  std::function<Outputs(nn::Module&, const Inputs&)> run;
  bool train = true;
};

// A module whose forward takes one tensor.
template <class Impl>
Spec single(std::function<std::shared_ptr<Impl>()> make, const char* input, bool train = true) {
  return {[make] { return make(); },
          [input](nn::Module& m, const Inputs& in) {
            return Outputs{{"out", dynamic_cast<Impl&>(m).forward(in.at(input))}};
          },
          train};
}

// A loss module: forward(input, target).
template <class Impl>
Spec loss(std::function<std::shared_ptr<Impl>()> make) {
  return {[make] { return make(); },
          [](nn::Module& m, const Inputs& in) {
            return Outputs{{"out", dynamic_cast<Impl&>(m).forward(in.at("input"), in.at("target"))}};
          }};
}

Outputs out_weights(const std::tuple<Tensor, Tensor>& r) {
  return {{"out", std::get<0>(r)}, {"weights", std::get<1>(r)}};
}

const std::map<std::string, Spec>& specs() {
  using nn::Reduction;
  auto bn2 = [] { return nn::BatchNorm2d(3).ptr(); };
  auto bn1 = [] { return nn::BatchNorm1d(4).ptr(); };
  static const std::map<std::string, Spec> table = {
      {"conv2d_k3_p1", single<nn::Conv2dImpl>(
                           [] { return nn::Conv2d(nn::Conv2dOptions(3, 4, 3).padding(1)).ptr(); }, "x")},
      {"conv2d_s2_p1_d2_g2_nobias",
       single<nn::Conv2dImpl>(
           [] {
             return nn::Conv2d(nn::Conv2dOptions(4, 6, {3, 2}).stride({2, 1}).padding({1, 0})
                                   .dilation({1, 2}).groups(2).bias(false)).ptr();
           },
           "x")},
      {"batchnorm2d_train", single<nn::BatchNorm2dImpl>(bn2, "x")},
      {"batchnorm2d_eval", single<nn::BatchNorm2dImpl>(bn2, "x", /*train=*/false)},
      {"batchnorm1d_train_3d_m0.3",
       single<nn::BatchNorm1dImpl>([] { return nn::BatchNorm1d(nn::BatchNormOptions(4).momentum(0.3)).ptr(); }, "x")},
      {"batchnorm1d_train_mNone",
       single<nn::BatchNorm1dImpl>(
           [] { return nn::BatchNorm1d(nn::BatchNormOptions(4).momentum(std::nullopt)).ptr(); }, "x")},
      {"batchnorm1d_eval_2d", single<nn::BatchNorm1dImpl>(bn1, "x", /*train=*/false)},
      {"layernorm_4x5",
       single<nn::LayerNormImpl>([] { return nn::LayerNorm(nn::LayerNormOptions({4, 5})).ptr(); }, "x")},
      {"layernorm_noaffine", single<nn::LayerNormImpl>(
                                 [] {
                                   return nn::LayerNorm(nn::LayerNormOptions({5}).eps(1e-3)
                                                            .elementwise_affine(false)).ptr();
                                 },
                                 "x")},
      {"maxpool2d_k3_s2_p1", single<nn::MaxPool2dImpl>(
                                 [] { return nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)).ptr(); },
                                 "x")},
      {"avgpool2d_k3_s2_p1_excpad",
       single<nn::AvgPool2dImpl>(
           [] {
             return nn::AvgPool2d(nn::AvgPool2dOptions(3).stride(2).padding(1).count_include_pad(false)).ptr();
           },
           "x")},
      {"adaptive_avgpool2d_2x3",
       single<nn::AdaptiveAvgPool2dImpl>([] { return nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({2, 3})).ptr(); }, "x")},
      {"embedding_padding_idx_2",
       single<nn::EmbeddingImpl>(
           [] { return nn::Embedding(nn::EmbeddingOptions(10, 4).padding_idx(2)).ptr(); }, "idx")},
      {"mha_self_causal_batch_first",
       {[] { return nn::MultiheadAttention(nn::MultiheadAttentionOptions(8, 2).batch_first(true)).ptr(); },
        [](nn::Module& m, const Inputs& in) {
          const Tensor& x = in.at("x");
          return out_weights(dynamic_cast<nn::MultiheadAttentionImpl&>(m).forward(x, x, x, in.at("attn_mask")));
        }}},
      // The same golden, reached with is_causal and the fused attention path.
      {"mha_self_causal_batch_first/is_causal",
       {[] { return nn::MultiheadAttention(nn::MultiheadAttentionOptions(8, 2).batch_first(true)).ptr(); },
        [](nn::Module& m, const Inputs& in) {
          const Tensor& x = in.at("x");
          auto [out, none] = dynamic_cast<nn::MultiheadAttentionImpl&>(m).forward(
              x, x, x, Tensor(), nn::AttentionWeights::None, /*is_causal=*/true);
          CHECK_FALSE(none.defined());
          return Outputs{{"out", out}};
        }}},
      {"mha_cross_float_mask_per_head",
       {[] { return nn::MultiheadAttention(8, 2).ptr(); },
        [](nn::Module& m, const Inputs& in) {
          return out_weights(dynamic_cast<nn::MultiheadAttentionImpl&>(m).forward(
              in.at("q"), in.at("k"), in.at("v"), in.at("attn_mask"), nn::AttentionWeights::PerHead));
        }}},
      {"mha_nobias_unbatched",
       {[] { return nn::MultiheadAttention(nn::MultiheadAttentionOptions(6, 3).bias(false)).ptr(); },
        [](nn::Module& m, const Inputs& in) {
          return out_weights(
              dynamic_cast<nn::MultiheadAttentionImpl&>(m).forward(in.at("q"), in.at("k"), in.at("v")));
        }}},
      // Loss weights start as placeholders of the right shape; load_state_dict fills them.
      {"cross_entropy_w_ignore1_ls0.1", loss<nn::CrossEntropyLossImpl>([] {
         return nn::CrossEntropyLoss(nn::CrossEntropyLossOptions().weight(zeros({5})).ignore_index(1)
                                         .label_smoothing(0.1)).ptr();
       })},
      {"cross_entropy_sum_nd", loss<nn::CrossEntropyLossImpl>([] {
         return nn::CrossEntropyLoss(nn::CrossEntropyLossOptions().reduction(Reduction::Sum)).ptr();
       })},
      {"nll_loss_weight", loss<nn::NLLLossImpl>([] {
         return nn::NLLLoss(nn::NLLLossOptions().weight(zeros({4}))).ptr();
       })},
      {"mse_loss", loss<nn::MSELossImpl>([] { return nn::MSELoss().ptr(); })},
      {"bce_with_logits_w_posw", loss<nn::BCEWithLogitsLossImpl>([] {
         return nn::BCEWithLogitsLoss(nn::BCEWithLogitsLossOptions().weight(zeros({4})).pos_weight(zeros({4})))
             .ptr();
       })},
  };
  return table;
}

void check_close(const std::string& what, const Tensor& got, const Tensor& want) {
  CAPTURE(what);
  REQUIRE(got.defined());
  REQUIRE(got.sizes() == want.sizes());
  if (want.dtype() == kInt64 || want.dtype() == kBool) {
    CHECK(testing::values(got) == testing::values(want));
    return;
  }
  CHECK(got.dtype() == want.dtype());
  const std::vector<double> g = testing::values(got), w = testing::values(want);
  double scale = 0;
  for (double v : w) scale = std::max(scale, std::abs(v));
  double worst = 0;
  for (size_t i = 0; i < w.size(); ++i)
    worst = std::max(worst, std::abs(g[i] - w[i]) / (std::abs(w[i]) + scale + 1e-30));
  CAPTURE(worst);
  CHECK(worst <= 1e-6);
}

void run_case(const std::string& spec_name, const GoldenCase& c, const Spec& spec) {
  CAPTURE(spec_name);
  std::shared_ptr<nn::Module> module = spec.make();
  StateDict state("state");
  for (const Record& r : c.state) state.insert(r.name, r.value);
  module->load_state_dict(state);  // strict: PyTorch's names, shapes and dtypes
  module->train(spec.train);

  // Inputs that take a gradient are the ones the script wrote grad_<x> for.
  Inputs in;
  for (const Record& r : c.inputs) {
    Tensor x = r.value.clone();
    if (testing::find(c.outputs, "grad_" + r.name)) x.requires_grad_(true);
    in[r.name] = x;
  }
  const Outputs outs = spec.run(*module, in);
  REQUIRE(outs.front().name == "out");
  (outs.front().value * in.at("grad_out")).sum().backward();

  std::map<std::string, Tensor> got;
  for (const Record& r : outs) got[r.name] = r.value;
  for (const auto& [name, x] : in)
    if (x.requires_grad()) got["grad_" + name] = x.grad();
  for (const auto& item : module->named_parameters()) got["grad." + item.key()] = item.value().grad();
  for (const auto& item : module->named_buffers()) got["after." + item.key()] = item.value();

  const bool subset = spec_name.find('/') != std::string::npos;  // a variant checks what it computes
  for (const Record& want : c.outputs) {
    auto it = got.find(want.name);
    if (it == got.end()) {
      if (!subset) FAIL_CHECK("lucid computed no '" << want.name << "'");
      continue;
    }
    check_close(want.name, it->second, want.value);
  }
}

}  // namespace

TEST_CASE("every nn layer golden case matches PyTorch 1.13 (forward, input and parameter grads, buffers)") {
  REQUIRE(cases().size() >= 21);
  std::map<std::string, int> used;
  for (const auto& [spec_name, spec] : specs()) {
    const std::string case_name = spec_name.substr(0, spec_name.find('/'));
    auto c = std::find_if(cases().begin(), cases().end(),
                          [&](const GoldenCase& gc) { return gc.name == case_name; });
    CAPTURE(spec_name);
    REQUIRE(c != cases().end());
    ++used[case_name];
    run_case(spec_name, *c, spec);
  }
  for (const GoldenCase& c : cases()) {
    CAPTURE(c.name);
    CHECK(used.count(c.name) == 1);  // every golden case has a lucid side
  }
}
