// The model zoo (nn/models): forward shapes, parameter counts equal to the same
// PyTorch modules', GPT weight tying, a few SGD steps lowering the loss on a
// tiny fixed batch, and GPT generation. Configs are small to keep this fast.
//
// Parameter counts were computed with torch 1.13 (sum(p.numel() for p in
// m.parameters())) for the PyTorch modules described in each model's header:
//   MLP 784-[256,128]-10 (ReLU)             235146     MLP 2-[16,8]-3        211
//   SmallCNN default (32, 64, 128)          421834     SmallCNN(4, 8, 16)    6818
//   ResNet depth 20 width 16                272474     ResNet depth 8 width 4   5214
//   ResNet depth 14 width 4                  11374
//   nanoGPT V=65 T=64 L=4 C=128             809856     nanoGPT V=11 T=8 L=2 C=16  6896
//     (lm_head.weight tied to wte.weight: PyTorch's parameters() lists it once,
//      28 tensors, while its state_dict has 29 keys)
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <lucid/lucid.h>

#include "check_values.h"

using namespace lucid;
using lucid::testing::check_values;
using lucid::testing::values;
namespace F = lucid::nn::functional;

namespace {

// Plain SGD on every parameter.
void sgd_step(nn::Module& model, double lr) {
  NoGradGuard ng;
  for (Tensor& p : model.parameters())
    if (p.grad().defined()) p.sub_(p.grad(), lr);
  model.zero_grad();
}

// Loss before and after `steps` SGD steps on the same batch.
std::pair<double, double> train_steps(nn::Module& model, const std::function<Tensor()>& loss_fn,
                                      int steps, double lr) {
  double first = 0, last = 0;
  for (int i = 0; i <= steps; ++i) {
    Tensor loss = loss_fn();
    if (i == 0) first = loss.item<double>();
    last = loss.item<double>();
    if (i == steps) break;
    loss.backward();
    sgd_step(model, lr);
  }
  return {first, last};
}

nn::GPTConfig tiny_gpt() {
  return nn::GPTConfig{.vocab_size = 11, .block_size = 8, .n_layer = 2, .n_head = 2, .n_embd = 16,
                       .dropout = 0.0};
}

}  // namespace

TEST_CASE("MLP: shapes, PyTorch's parameter count, names, and SGD lowers the loss") {
  CHECK(nn::parameter_count(*nn::MLP(784, std::vector<int64_t>{256, 128}, 10)) == 235146);
  manual_seed(1);
  nn::MLP mlp(nn::MLPOptions(2, {16, 8}, 3).activation(nn::MLPActivation::Tanh));
  CHECK(nn::parameter_count(*mlp) == 211);
  CHECK(mlp->named_parameters().keys().front() == "layers.0.weight");
  CHECK(mlp->named_parameters().keys().back() == "layers.4.bias");
  Tensor x = randn({16, 2});
  Tensor y = randint(0, 3, {16});
  CHECK(mlp(x).sizes() == Shape{16, 3});
  auto [before, after] = train_steps(*mlp, [&] { return F::cross_entropy(mlp(x), y); }, 20, 0.5);
  CHECK(after < before * 0.9);
}

TEST_CASE("SmallCNN: 28x28 -> logits; PyTorch's parameter count; train/eval; SGD lowers the loss") {
  CHECK(nn::parameter_count(*nn::SmallCNN()) == 421834);
  manual_seed(2);
  nn::SmallCNN net(nn::SmallCNNOptions().channels(4, 8).hidden(16).dropout(0.0));
  CHECK(nn::parameter_count(*net) == 6818);
  Tensor x = randn({8, 1, 28, 28});
  Tensor y = randint(0, 10, {8});
  CHECK(net(x).sizes() == Shape{8, 10});
  auto [before, after] = train_steps(*net, [&] { return F::cross_entropy(net(x), y); }, 8, 0.1);
  CHECK(after < before * 0.8);
  net->eval();  // running statistics in use: two calls agree
  check_values(net(x), values(net(x)), 1e-12);
  CHECK_THROWS_WITH_AS(net(randn({2, 1, 32, 32})), doctest::Contains("SmallCNN: expected input [N, 1, 28, 28], got [2, 1, 32, 32]"),
                       lucid::Error);
}

TEST_CASE("ResNet: depths 6n+2, downsample shortcuts, PyTorch's counts and names; SGD lowers the loss") {
  CHECK(nn::parameter_count(*nn::ResNet()) == 272474);
  CHECK(nn::parameter_count(*nn::ResNet(nn::ResNetOptions().depth(14).width(4))) == 11374);
  manual_seed(3);
  nn::ResNet net(nn::ResNetOptions().depth(8).width(4));
  CHECK(nn::parameter_count(*net) == 5214);
  const auto names = net->named_parameters().keys();
  CHECK(names[0] == "conv1.weight");
  CHECK(net->named_parameters().contains("layer2.0.downsample.0.weight"));
  CHECK(net->named_parameters().contains("layer3.0.downsample.1.bias"));
  CHECK_FALSE(net->named_parameters().contains("layer1.0.downsample.0.weight"));  // identity shortcut
  CHECK(names.back() == "fc.bias");
  Tensor x = randn({4, 3, 32, 32});
  Tensor y = randint(0, 10, {4});
  CHECK(net(x).sizes() == Shape{4, 10});
  CHECK(net(randn({2, 3, 16, 16})).sizes() == Shape{2, 10});  // any size: adaptive pooling
  auto [before, after] = train_steps(*net, [&] { return F::cross_entropy(net(x), y); }, 10, 0.1);
  CHECK(after < before * 0.8);
  CHECK_THROWS_WITH_AS(nn::ResNet(nn::ResNetOptions().depth(10)), doctest::Contains("6n + 2"), lucid::Error);
}

TEST_CASE("GPT: logits shape, PyTorch's parameter count, GPT-2 init") {
  CHECK(nn::parameter_count(*nn::GPT(nn::GPTConfig{.vocab_size = 65, .block_size = 64, .n_layer = 4,
                                                   .n_head = 4, .n_embd = 128})) == 809856);
  manual_seed(4);
  nn::GPT gpt(tiny_gpt());
  CHECK(nn::parameter_count(*gpt) == 6896);
  CHECK(gpt->parameters().size() == 28);  // as PyTorch's parameters(): the tied matrix once
  Tensor idx = randint(0, 11, {3, 8});
  CHECK(gpt(idx).sizes() == Shape{3, 8, 11});
  CHECK(gpt(idx.narrow(1, 0, 5)).sizes() == Shape{3, 5, 11});
  // residual projections start with std 0.02 / sqrt(2 n_layer) = 0.01; the others 0.02
  auto std_of = [](const Tensor& t) { return std::sqrt(values(t.var({0, 1}, 0))[0]); };
  auto& block = dynamic_cast<nn::GPTBlockImpl&>(*gpt->h[0]);
  CHECK(std_of(block.mlp->c_proj->weight) == doctest::Approx(0.01).epsilon(0.15));
  CHECK(std_of(block.mlp->c_fc->weight) == doctest::Approx(0.02).epsilon(0.15));
  for (double b : values(block.attn->c_attn->bias)) CHECK(b == 0.0);
  CHECK_THROWS_WITH_AS(gpt(randint(0, 11, {1, 9})), doctest::Contains("sequence length 9 must be in [1, block_size = 8]"),
                       lucid::Error);
}

TEST_CASE("GPT weight tying: one parameter; the lookup's and the lm head's gradients accumulate") {
  manual_seed(5);
  nn::GPT gpt(tiny_gpt());
  const auto named = gpt->named_parameters();
  CHECK(named.contains("wte.weight"));
  CHECK_FALSE(named.contains("lm_head.weight"));
  int tied = 0;
  for (const Tensor& p : gpt->parameters()) tied += p.is_same(gpt->wte->weight);
  CHECK(tied == 1);

  Tensor idx = randint(0, 11, {2, 6});
  Tensor target = randint(0, 11, {2, 6});
  Tensor loss = F::cross_entropy(gpt(idx).reshape({12, 11}), target.reshape({12}));
  loss.backward();
  const std::vector<double> total = values(gpt->wte->weight.grad());

  // The two uses on their own: the lm head alone (embedding input detached) ...
  gpt->zero_grad();
  Tensor w = gpt->wte->weight;
  {
    Tensor x = (F::embedding(idx, w.detach()) + gpt->wpe(arange(6.0, kInt64)));
    for (const auto& b : *gpt->h) x = dynamic_cast<nn::GPTBlockImpl&>(*b).forward(x);
    F::cross_entropy(F::linear(gpt->ln_f(x), w).reshape({12, 11}), target.reshape({12})).backward();
  }
  const std::vector<double> head = values(w.grad());
  // ... and the lookup alone (lm head weight detached).
  gpt->zero_grad();
  {
    Tensor x = (F::embedding(idx, w) + gpt->wpe(arange(6.0, kInt64)));
    for (const auto& b : *gpt->h) x = dynamic_cast<nn::GPTBlockImpl&>(*b).forward(x);
    F::cross_entropy(F::linear(gpt->ln_f(x), w.detach()).reshape({12, 11}), target.reshape({12})).backward();
  }
  const std::vector<double> lookup = values(w.grad());
  double lookup_norm = 0;
  for (size_t i = 0; i < total.size(); ++i) {
    CHECK(total[i] == doctest::Approx(head[i] + lookup[i]).epsilon(1e-4).scale(1e-6));
    lookup_norm += lookup[i] * lookup[i];
  }
  CHECK(lookup_norm > 0);  // both uses really contribute
}

TEST_CASE("GPT: SGD steps lower the loss on a tiny fixed batch") {
  manual_seed(6);
  nn::GPT gpt(tiny_gpt());
  Tensor seq = randint(0, 11, {4, 9});
  Tensor idx = seq.narrow(1, 0, 8), target = seq.narrow(1, 1, 8);
  auto [before, after] = train_steps(
      *gpt, [&] { return F::cross_entropy(gpt(idx).reshape({32, 11}), target.reshape({32})); }, 15, 0.5);
  CHECK(before == doctest::Approx(std::log(11.0)).epsilon(0.05));  // small init: near uniform
  CHECK(after < before * 0.9);
}

TEST_CASE("GPT generate: shape, token range, block_size cropping, top_k, determinism, no grad") {
  manual_seed(7);
  nn::GPT gpt(tiny_gpt());
  gpt->eval();
  Tensor idx = randint(0, 11, {2, 3});
  manual_seed(100);
  Tensor out = gpt->generate(idx, 12, 0.8, 3);  // 3 + 12 = 15 > block_size 8: the context is cropped
  CHECK(out.sizes() == Shape{2, 15});
  CHECK_FALSE(out.requires_grad());
  check_values(out.narrow(1, 0, 3), values(idx), 1e-12);  // the prompt is kept
  for (double t : values(out)) CHECK((t >= 0 && t < 11));
  manual_seed(100);
  check_values(gpt->generate(idx, 12, 0.8, 3), values(out), 1e-12);  // same seed, same tokens

  // top_k = 1 is greedy: each new token is the argmax of the cropped context's last logits.
  Tensor greedy = gpt->generate(idx, 10, 1.0, 1);
  for (int64_t t = 3; t < 13; ++t) {
    const int64_t start = std::max<int64_t>(0, t - 8);
    Tensor logits = gpt(greedy.narrow(1, start, t - start));
    check_values(greedy.select(1, t), values(logits.select(1, t - start - 1).argmax(1)), 1e-12);
  }
  CHECK_THROWS_WITH_AS(gpt->generate(idx, 1, 0.0), doctest::Contains("temperature must be > 0"), lucid::Error);
}
