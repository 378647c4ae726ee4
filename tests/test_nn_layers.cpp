// The nn layer modules: output shapes, train/eval behaviour, parameter and
// buffer names, printing equal to PyTorch 1.13's repr (strings copied from
// Python), initialization, and errors that name the layer and the shapes.
// Values and gradients against PyTorch: test_nn_layer_goldens.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <lucid/lucid.h>

#include "check_values.h"

using namespace lucid;
using lucid::testing::check_values;
using lucid::testing::values;

namespace {

std::string repr(const nn::Module& m) {
  std::ostringstream os;
  os << m;
  return os.str();
}

std::vector<std::string> param_names(const nn::Module& m) { return m.named_parameters().keys(); }
std::vector<std::string> buffer_names(const nn::Module& m) { return m.named_buffers().keys(); }

}  // namespace

TEST_CASE("Conv2d: shapes, PyTorch's names, init bound and repr") {
  nn::Conv2d conv(nn::Conv2dOptions(3, 8, 3).padding(1));
  CHECK(conv->weight.sizes() == Shape{8, 3, 3, 3});
  CHECK(param_names(*conv) == std::vector<std::string>{"weight", "bias"});
  CHECK(conv(randn({2, 3, 10, 12})).sizes() == Shape{2, 8, 10, 12});
  CHECK(conv(randn({3, 10, 12})).sizes() == Shape{8, 10, 12});  // unbatched
  // kaiming_uniform_(a = sqrt(5)): |w| <= 1 / sqrt(fan_in), fan_in = 3 * 3 * 3
  for (double w : values(conv->weight)) CHECK(std::abs(w) <= 1.0 / std::sqrt(27.0));

  nn::Conv2d strided(nn::Conv2dOptions(4, 6, {3, 2}).stride({2, 1}).padding({1, 0})
                         .dilation({1, 2}).groups(2).bias(false));
  CHECK(strided->weight.sizes() == Shape{6, 2, 3, 2});
  CHECK_FALSE(strided->bias.defined());
  CHECK(param_names(*strided) == std::vector<std::string>{"weight"});
  CHECK(strided(randn({1, 4, 7, 8})).sizes() == Shape{1, 6, 4, 6});

  CHECK(repr(*nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1))) ==
        "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
  CHECK(repr(*strided) == "Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), "
                          "dilation=(1, 2), groups=2, bias=False)");
}

TEST_CASE("Conv2d: wrong input channels raise an error naming the layer and both shapes") {
  nn::Conv2d conv(nn::Conv2dOptions(3, 8, 3).padding(1));
  CHECK_THROWS_WITH_AS(conv(randn({2, 4, 10, 10})),
                       doctest::Contains("Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), "
                                         "padding=(1, 1)): expected input [N, 3, H, W]"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(conv(randn({2, 4, 10, 10})), doctest::Contains("got [2, 4, 10, 10]"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(conv(randn({10, 10})), doctest::Contains("got [10, 10]"), lucid::Error);
  CHECK_THROWS_WITH_AS(nn::Conv2d(nn::Conv2dOptions(3, 8, 3).groups(2)),
                       doctest::Contains("groups=2 must be > 0 and divide in_channels=3"),
                       lucid::Error);
}

TEST_CASE("BatchNorm2d: train mode uses batch stats and updates buffers; eval uses running stats") {
  nn::BatchNorm2d bn(3);
  CHECK(param_names(*bn) == std::vector<std::string>{"weight", "bias"});
  CHECK(buffer_names(*bn) ==
        std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
  CHECK(bn->num_batches_tracked.dtype() == kInt64);
  CHECK(bn->num_batches_tracked.dim() == 0);
  check_values(bn->weight, {1, 1, 1});
  check_values(bn->bias, {0, 0, 0});

  Tensor x = randn({8, 3, 4, 4}) * 3.0 + 2.0;
  Tensor y = bn(x);
  // Batch statistics: every channel of y has mean 0 and (biased) variance ~1.
  for (double m : values(y.mean({0, 2, 3}))) CHECK(m == doctest::Approx(0.0).scale(1.0).epsilon(1e-5));
  for (double v : values(y.var({0, 2, 3}, 0))) CHECK(v == doctest::Approx(1.0).epsilon(1e-3));
  CHECK(bn->num_batches_tracked.item<int64_t>() == 1);
  // running_mean = 0.9 * 0 + 0.1 * batch mean
  const std::vector<double> batch_mean = values(x.mean({0, 2, 3}));
  const std::vector<double> rm = values(bn->running_mean);
  for (size_t c = 0; c < 3; ++c) CHECK(rm[c] == doctest::Approx(0.1 * batch_mean[c]).epsilon(1e-5));

  bn->eval();
  Tensor y_eval = bn(x);
  const std::vector<double> rv = values(bn->running_var);
  // eval: (x - running_mean) / sqrt(running_var + eps)
  const std::vector<double> xs = values(x.select(1, 0)), ys = values(y_eval.select(1, 0));
  for (size_t i = 0; i < 5; ++i)
    CHECK(ys[i] == doctest::Approx((xs[i] - rm[0]) / std::sqrt(rv[0] + 1e-5)).epsilon(1e-5));
  CHECK(bn->num_batches_tracked.item<int64_t>() == 1);  // unchanged in eval

  CHECK(repr(*bn) == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  CHECK(repr(*nn::BatchNorm1d(nn::BatchNormOptions(4).momentum(std::nullopt).affine(false))) ==
        "BatchNorm1d(4, eps=1e-05, momentum=None, affine=False, track_running_stats=True)");
}

TEST_CASE("BatchNorm: without running stats eval mode still normalizes with the batch") {
  nn::BatchNorm1d bn(nn::BatchNormOptions(2).track_running_stats(false).affine(false));
  CHECK(bn->named_buffers().is_empty());
  CHECK(bn->named_parameters().is_empty());
  bn->eval();
  Tensor y = bn(tensor({{1.0, 10.0}, {3.0, 30.0}}));
  check_values(y, {-1, -1, 1, 1}, 1e-4);
}

TEST_CASE("BatchNorm: wrong rank or channel count is an error naming the layer") {
  nn::BatchNorm2d bn2(3);
  CHECK_THROWS_WITH_AS(bn2(randn({2, 3, 4})),
                       doctest::Contains("BatchNorm2d: expected 4D input (got 3D input of shape [2, 3, 4])"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(bn2(randn({2, 5, 4, 4})), doctest::Contains("expected 3 channels in dim 1"),
                       lucid::Error);
  nn::BatchNorm1d bn1(3);
  CHECK_THROWS_WITH_AS(bn1(randn({2, 3, 4, 4})), doctest::Contains("BatchNorm1d: expected 2D or 3D input"),
                       lucid::Error);
}

TEST_CASE("LayerNorm: normalizes the trailing dims; repr as PyTorch's") {
  nn::LayerNorm ln(nn::LayerNormOptions({8}));
  CHECK(param_names(*ln) == std::vector<std::string>{"weight", "bias"});
  Tensor y = ln(randn({2, 3, 8}) * 5.0 + 1.0);
  CHECK(y.sizes() == Shape{2, 3, 8});
  for (double m : values(y.mean({2}))) CHECK(m == doctest::Approx(0.0).scale(1.0).epsilon(1e-5));
  CHECK(repr(*ln) == "LayerNorm((8,), eps=1e-05, elementwise_affine=True)");
  nn::LayerNorm ln2(nn::LayerNormOptions({4, 8}).eps(1e-6).elementwise_affine(false));
  CHECK(ln2->named_parameters().is_empty());
  CHECK(repr(*ln2) == "LayerNorm((4, 8), eps=1e-06, elementwise_affine=False)");
}

TEST_CASE("Pooling layers: shapes and reprs that print sizes as given") {
  Tensor x = randn({2, 3, 8, 9});
  CHECK(nn::MaxPool2d(2)(x).sizes() == Shape{2, 3, 4, 4});
  CHECK(nn::AvgPool2d(nn::AvgPool2dOptions(3).stride(2).padding(1))(x).sizes() == Shape{2, 3, 4, 5});
  CHECK(nn::AdaptiveAvgPool2d(1)(x).sizes() == Shape{2, 3, 1, 1});
  CHECK(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({2, 3}))(x).sizes() == Shape{2, 3, 2, 3});

  CHECK(repr(*nn::MaxPool2d(2)) ==
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
  CHECK(repr(*nn::MaxPool2d(nn::MaxPool2dOptions({3, 2}).stride(1).padding({1, 0}))) ==
        "MaxPool2d(kernel_size=(3, 2), stride=1, padding=(1, 0), dilation=1, ceil_mode=False)");
  CHECK(repr(*nn::AvgPool2d(nn::AvgPool2dOptions(3).stride(2).padding(1))) ==
        "AvgPool2d(kernel_size=3, stride=2, padding=1)");
  CHECK(repr(*nn::AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)");
  CHECK(repr(*nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({2, 3}))) ==
        "AdaptiveAvgPool2d(output_size=(2, 3))");
}

TEST_CASE("Embedding: N(0, 1) init with the padding row zeroed; padding row gets no gradient") {
  manual_seed(7);
  nn::Embedding emb(nn::EmbeddingOptions(50, 16).padding_idx(-1));  // -1 -> 49, as PyTorch
  CHECK(*emb->options.padding_idx() == 49);
  CHECK(repr(*emb) == "Embedding(50, 16, padding_idx=49)");
  CHECK(repr(*nn::Embedding(10, 3)) == "Embedding(10, 3)");
  for (double v : values(emb->weight.select(0, 49))) CHECK(v == 0.0);
  const std::vector<double> w = values(emb->weight.narrow(0, 0, 49));
  double mean = 0, sq = 0;
  for (double v : w) mean += v / static_cast<double>(w.size());
  for (double v : w) sq += (v - mean) * (v - mean) / static_cast<double>(w.size());
  CHECK(std::abs(mean) < 0.1);
  CHECK(std::sqrt(sq) == doctest::Approx(1.0).epsilon(0.1));

  Tensor idx = tensor(std::vector<int64_t>{3, 49, 3, 0}).reshape({2, 2});
  Tensor y = emb(idx);
  CHECK(y.sizes() == Shape{2, 2, 16});
  y.sum().backward();
  for (double g : values(emb->weight.grad().select(0, 49))) CHECK(g == 0.0);
  for (double g : values(emb->weight.grad().select(0, 3))) CHECK(g == 2.0);
  CHECK_THROWS_WITH_AS(nn::Embedding(nn::EmbeddingOptions(5, 2).padding_idx(5)),
                       doctest::Contains("padding_idx 5 must be within num_embeddings (5)"), lucid::Error);
}

TEST_CASE("MultiheadAttention: PyTorch's names, init, shapes for both layouts, repr") {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(8, 2).batch_first(true));
  CHECK(param_names(*mha) == std::vector<std::string>{"in_proj_weight", "in_proj_bias",
                                                      "out_proj.weight", "out_proj.bias"});
  CHECK(mha->in_proj_weight.sizes() == Shape{24, 8});
  for (double b : values(mha->in_proj_bias)) CHECK(b == 0.0);
  for (double b : values(mha->out_proj->bias)) CHECK(b == 0.0);
  // xavier_uniform_: bound sqrt(6 / (8 + 24))
  for (double w : values(mha->in_proj_weight)) CHECK(std::abs(w) <= std::sqrt(6.0 / 32.0));

  auto [out, weights] = mha->forward(randn({3, 5, 8}), randn({3, 7, 8}), randn({3, 7, 8}));
  CHECK(out.sizes() == Shape{3, 5, 8});
  CHECK(weights.sizes() == Shape{3, 5, 7});
  for (double s : values(weights.sum({2}))) CHECK(s == doctest::Approx(1.0));

  nn::MultiheadAttention seq_first(8, 2);
  auto [o2, w2] = seq_first->forward(randn({5, 3, 8}), randn({7, 3, 8}), randn({7, 3, 8}), Tensor(),
                                     nn::AttentionWeights::PerHead);
  CHECK(o2.sizes() == Shape{5, 3, 8});
  CHECK(w2.sizes() == Shape{3, 2, 5, 7});

  CHECK(repr(*mha) == "MultiheadAttention(\n"
                      "  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)\n"
                      ")");
}

TEST_CASE("MultiheadAttention: causal self-attention ignores the future; bad shapes name the layer") {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(4, 2).batch_first(true));
  Tensor x = randn({1, 4, 4});
  auto [y, w] = mha->forward(x, x, x, Tensor(), nn::AttentionWeights::Averaged, /*is_causal=*/true);
  const std::vector<double> wv = values(w);  // [1, 4, 4]: zero above the diagonal
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j) CHECK(wv[static_cast<size_t>(i * 4 + j)] == 0.0);
  // Changing the last token leaves the earlier outputs unchanged.
  Tensor x2 = x.clone();
  {
    NoGradGuard ng;
    x2.select(1, 3).fill_(5.0);
  }
  auto [y2, unused] = mha->forward(x2, x2, x2, Tensor(), nn::AttentionWeights::None, true);
  check_values(y2.narrow(1, 0, 3), values(y.narrow(1, 0, 3)), 1e-5);

  CHECK_THROWS_WITH_AS(mha->forward(randn({1, 4, 5}), x, x),
                       doctest::Contains("MultiheadAttention: query, key and value must have embed_dim=4"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(mha->forward(x, x, x, ones({3, 3}, kBool)),
                       doctest::Contains("attn_mask must be [4, 4] or [2, 4, 4]"), lucid::Error);
  CHECK_THROWS_WITH_AS(nn::MultiheadAttention(6, 4), doctest::Contains("embed_dim (6) must be divisible by num_heads (4)"),
                       lucid::Error);
}

TEST_CASE("MultiheadAttention: dropout acts on the weights only while training") {
  nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(4, 1).dropout(0.5).batch_first(true));
  Tensor x = randn({2, 6, 4});
  mha->eval();
  auto [a, wa] = mha->forward(x, x, x);
  auto [b, wb] = mha->forward(x, x, x);
  check_values(a, values(b), 1e-12);
  mha->train();
  auto [c, wc] = mha->forward(x, x, x);
  int zeros_seen = 0;
  for (double v : values(wc)) zeros_seen += v == 0.0;  // averaged over one head: the dropped weights
  CHECK(zeros_seen > 0);
}

TEST_CASE("Loss modules: options reach the functional op; weights are buffers; reprs") {
  Tensor logits = randn({6, 5}, requires_grad());
  Tensor target = tensor(std::vector<int64_t>{0, 1, 4, 2, 1, 3});
  Tensor w = rand({5}) + 0.5;
  nn::CrossEntropyLoss ce(nn::CrossEntropyLossOptions().weight(w).ignore_index(1).label_smoothing(0.1));
  CHECK(buffer_names(*ce) == std::vector<std::string>{"weight"});
  check_values(ce(logits, target),
               values(nn::functional::cross_entropy(logits, target, w, 1, nn::Reduction::Mean, 0.1)), 1e-12);
  CHECK(nn::CrossEntropyLoss(nn::CrossEntropyLossOptions().reduction(nn::Reduction::None))(logits, target)
            .sizes() == Shape{6});
  CHECK(nn::CrossEntropyLoss()->named_buffers().is_empty());

  nn::NLLLoss nll;
  check_values(nll(log_softmax(logits, 1), target), values(nn::CrossEntropyLoss()(logits, target)), 1e-6);
  nn::MSELoss mse;
  check_values(mse(tensor({1.0, 2.0}), tensor({0.0, 4.0})), {2.5});
  check_values(nn::MSELoss(nn::Reduction::Sum)(tensor({1.0, 2.0}), tensor({0.0, 4.0})), {5.0});
  nn::BCEWithLogitsLoss bce(nn::BCEWithLogitsLossOptions().pos_weight(tensor({2.0})));
  CHECK(buffer_names(*bce) == std::vector<std::string>{"pos_weight"});
  // x = 0, y = 1: -pos_weight * log(sigmoid(0)) = 2 log 2
  check_values(bce(zeros({1}), ones({1})), {2.0 * std::log(2.0)}, 1e-6);

  CHECK(repr(*ce) == "CrossEntropyLoss()");
  CHECK(repr(*nll) == "NLLLoss()");
  CHECK(repr(*mse) == "MSELoss()");
  CHECK(repr(*bce) == "BCEWithLogitsLoss()");
  CHECK_THROWS_WITH_AS(ce(logits, tensor(std::vector<int64_t>{0, 1})), doctest::Contains("cross_entropy"),
                       lucid::Error);
}

TEST_CASE("SmallCNN prints exactly as the same PyTorch module") {
  nn::SmallCNN net;
  // Python: print(SmallCNN()) for the class in nn/models/small_cnn.h's comment.
  CHECK(repr(*net) ==
        "SmallCNN(\n"
        "  (features): Sequential(\n"
        "    (0): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "    (1): BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "    (2): ReLU()\n"
        "    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
        "    (4): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "    (5): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "    (6): ReLU()\n"
        "    (7): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
        "  )\n"
        "  (classifier): Sequential(\n"
        "    (0): Flatten(start_dim=1, end_dim=-1)\n"
        "    (1): Linear(in_features=3136, out_features=128, bias=True)\n"
        "    (2): ReLU()\n"
        "    (3): Dropout(p=0.5, inplace=False)\n"
        "    (4): Linear(in_features=128, out_features=10, bias=True)\n"
        "  )\n"
        ")");
}

TEST_CASE("to(kFloat64) converts layer parameters and float buffers, not the int64 counter") {
  nn::BatchNorm2d bn(2);
  bn->to(kFloat64);
  CHECK(bn->weight.dtype() == kFloat64);
  CHECK(bn->running_mean.dtype() == kFloat64);
  CHECK(bn->num_batches_tracked.dtype() == kInt64);
  CHECK(bn(randn({2, 2, 3, 3}, kFloat64)).dtype() == kFloat64);
  nn::Conv2d conv(1, 2, 3);
  conv->to(kFloat64);
  CHECK(conv(randn({1, 1, 5, 5}, kFloat64)).dtype() == kFloat64);
}
