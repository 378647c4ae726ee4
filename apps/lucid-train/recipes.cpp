#include "recipes.h"

#include <filesystem>
#include <numeric>

#include <lucid/lucid.h>
#include <lucid/train/log/summary_writer.h>

namespace lucid::apps {

namespace F = nn::functional;
namespace fs = std::filesystem;

const std::vector<std::string>& recipe_names() {
  static const std::vector<std::string> names = {"fashion-cnn", "fashion-mlp", "charlm"};
  return names;
}

namespace {

// ---- defaults --------------------------------------------------------------------
template <class T>
void default_to(T& field, T unset, T value) {
  if (field == unset) field = value;
}

void check(bool ok, const char* flag, const std::string& what) { LUCID_CHECK(ok, "lucid-train: ", flag, " ", what); }

// Fashion-MNIST's pixel mean and std over the 60000 training images
// (data::channel_stats; examples/train_fashion_mnist.cpp computes them).
const std::vector<double> kFashionMean = {0.2860};
const std::vector<double> kFashionStd = {0.3530};

// The first n samples of a dataset (all of them for n = 0 or n >= size).
std::shared_ptr<const data::Dataset> first_n(std::shared_ptr<const data::Dataset> set, int64_t n) {
  if (n <= 0 || static_cast<size_t>(n) >= set->size()) return set;
  std::vector<size_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), size_t{0});
  return std::make_shared<const data::Subset>(std::move(set), std::move(idx));
}

std::pair<int64_t, int64_t> correct_of(const Tensor& logits, const Tensor& target) {
  NoGradGuard no_grad;
  // Padding targets (charlm's -100) are not scored; no prediction equals them.
  const Tensor padding = scalar_tensor(-100, kInt64).to(target.device());
  const int64_t right = (logits.argmax(-1) == target).sum().item<int64_t>();
  return {right, (target != padding).sum().item<int64_t>()};
}

// ---- Fashion-MNIST -----------------------------------------------------------------
Recipe fashion(const RunConfig& c, bool cnn) {
  Recipe r;
  r.name = c.recipe;
  const data::Compose train_tf(data::RandomHorizontalFlip(0.5), data::ToTensor(),
                               data::Normalize(kFashionMean, kFashionStd));
  const data::Compose eval_tf = train_tf.eval();  // ToTensor + the same Normalize
  r.train_set = first_n(std::make_shared<const data::FashionMNIST>(c.data, data::Split::Train, train_tf),
                        c.train_samples);
  r.val_set = first_n(std::make_shared<const data::FashionMNIST>(c.data, data::Split::Test, eval_tf), c.val_samples);
  manual_seed(static_cast<uint64_t>(c.seed));  // the initial weights
  if (cnn) {
    nn::SmallCNN model;
    r.model = model.ptr();
    r.forward = [model](const Tensor& x) { return model(x); };
    r.description = "SmallCNN (conv32-BN-ReLU-pool, conv64-BN-ReLU-pool, FC128, dropout, FC10) on Fashion-MNIST";
  } else {
    nn::MLP model(nn::MLPOptions(28 * 28, {512, 256}, 10).dropout(0.2));
    r.model = model.ptr();
    r.forward = [model](const Tensor& x) { return model(x.flatten(1)); };
    r.description = "MLP 784-512-256-10 (ReLU, dropout 0.2) on Fashion-MNIST";
  }
  r.loss = [](const Tensor& logits, const Tensor& target) { return F::cross_entropy(logits, target); };
  r.correct = correct_of;
  r.class_names = data::FashionMNIST::classes();
  r.mean = kFashionMean;
  r.std = kFashionStd;
  return r;
}

// ---- charlm: GPT on fortunes ---------------------------------------------------------
Recipe charlm(const RunConfig& c, const std::string& logdir) {
  Recipe r;
  r.name = c.recipe;
  const std::string eot = "<|endoftext|>";
  const std::string corpus = data::text::read_fortunes(data::text::fortune_files(c.data), eot);
  // Fortunes in file order: the last tenth (by bytes, cut at a fortune's end) is held out.
  size_t cut = corpus.find(eot, corpus.size() * 9 / 10);
  cut = cut == std::string::npos ? corpus.size() : cut + eot.size();
  const std::string_view train_text(corpus.data(), cut), val_text(corpus.data() + cut, corpus.size() - cut);

  // The tokenizer is trained once per run and kept in the log directory, so a
  // resumed run (and anyone reading the samples later) uses the same one.
  const std::string tok_path = (fs::path(logdir) / "tokenizer.json").string();
  std::shared_ptr<const data::text::Tokenizer> tokenizer;
  if (fs::exists(tok_path)) {
    tokenizer = data::text::load_tokenizer(tok_path);
    LUCID_CHECK(tokenizer->vocab_size() <= c.vocab_size, "lucid-train: ", tok_path, " has ", tokenizer->vocab_size(),
                " tokens; this run's --vocab-size is ", c.vocab_size);
  } else {
    auto bpe = std::make_shared<data::text::BpeTokenizer>(
        data::text::BpeTokenizer::train(train_text, c.vocab_size, {eot}));
    fs::create_directories(logdir);
    bpe->save(tok_path);
    tokenizer = bpe;
  }
  auto train_set = std::make_shared<const data::text::TextDataset>(train_text, tokenizer, c.block_size);
  auto val_set = std::make_shared<const data::text::TextDataset>(val_text, tokenizer, c.block_size);
  r.train_set = first_n(train_set, c.train_samples);
  r.val_set = first_n(val_set, c.val_samples);

  manual_seed(static_cast<uint64_t>(c.seed));
  nn::GPT gpt(nn::GPTConfig{.vocab_size = c.vocab_size, .block_size = c.block_size, .n_layer = c.layers,
                            .n_head = c.heads, .n_embd = c.width, .dropout = c.dropout});
  r.model = gpt.ptr();
  r.forward = [gpt](const Tensor& idx) { return gpt(idx); };
  r.description = detail::str_cat("GPT (", c.layers, " layers, width ", c.width, ", ", c.heads, " heads, context ",
                                  c.block_size, ") on fortunes, BPE vocabulary ", tokenizer->vocab_size(), ", ",
                                  train_set->ids().size(), " training tokens");
  r.loss = [](const Tensor& logits, const Tensor& target) {
    return F::cross_entropy(logits.flatten(0, 1), target.flatten());  // ignores padding (-100)
  };
  r.correct = correct_of;
  r.accuracy_name = "next-token accuracy on held-out fortunes";
  r.monitor = "val/loss";
  r.mode = train::MonitorMode::Min;
  const int64_t tokens = c.sample_tokens;
  const std::string prompt = c.prompt;
  r.after_training = [gpt, tokenizer, tokens, prompt](train::log::SummaryWriter& writer, int64_t step) {
    NoGradGuard no_grad;
    gpt->eval();
    std::vector<int64_t> ids = tokenizer->encode(prompt);
    if (ids.empty()) ids.push_back(0);
    const Device device = gpt->wte->weight.device();
    const Tensor idx = tensor(ids).reshape({1, static_cast<int64_t>(ids.size())}).to(device);
    const Tensor out = gpt->generate(idx, tokens, /*temperature=*/0.8, /*top_k=*/40).to(kCPU);
    std::vector<int64_t> all(out.data_ptr<int64_t>(), out.data_ptr<int64_t>() + out.numel());
    const std::string text = tokenizer->decode(all);
    std::printf("sample (temperature 0.8, top-k 40):\n%s\n", text.c_str());
    writer.add_text("samples/text", text, step);
  };
  return r;
}

}  // namespace

void resolve_config(RunConfig& c) {
  bool known = false;
  for (const auto& n : recipe_names()) known = known || n == c.recipe;
  std::string names;
  for (const auto& n : recipe_names()) names += (names.empty() ? "" : ", ") + n;
  check(known, "--recipe", "'" + c.recipe + "' is not a recipe (" + names + ")");
  const bool lm = c.recipe == "charlm";
  const bool cnn = c.recipe == "fashion-cnn";
  // Measured on a 2-core CPU (README): fashion-cnn reaches a test accuracy above
  // 0.90 in 3 epochs.
  default_to<int64_t>(c.epochs, -1, lm ? 1 : cnn ? 3 : 8);
  default_to<int64_t>(c.batch_size, -1, lm ? 32 : cnn ? 128 : 256);
  default_to<double>(c.lr, -1, lm ? 3e-3 : cnn ? 6e-3 : 2e-3);
  default_to<std::string>(c.optimizer, "", "adamw");
  default_to<std::string>(c.scheduler, "", "onecycle");
  default_to<double>(c.weight_decay, -1, lm ? 0.1 : 5e-4);
  default_to<double>(c.grad_clip, -1, lm ? 1.0 : 5.0);
  default_to<int64_t>(c.train_samples, -1, 0);
  default_to<int64_t>(c.val_samples, -1, 0);
  default_to<std::string>(c.data, "", lm ? "/usr/share/games/fortunes" : "/usr/share/datasets/fashion-mnist");
  default_to<int64_t>(c.image_every, -1, lm ? 0 : 200);
  default_to<int64_t>(c.block_size, -1, lm ? 128 : 0);
  default_to<int64_t>(c.layers, -1, lm ? 4 : 0);
  default_to<int64_t>(c.heads, -1, lm ? 4 : 0);
  default_to<int64_t>(c.width, -1, lm ? 128 : 0);
  default_to<int64_t>(c.vocab_size, -1, lm ? 512 : 0);
  default_to<double>(c.dropout, -1, lm ? 0.1 : 0.0);
  default_to<int64_t>(c.sample_tokens, -1, lm ? 200 : 0);
  default_to<std::string>(c.prompt, "", lm ? "Q: " : "");

  check(c.epochs >= 1, "--epochs", "must be at least 1");
  check(c.batch_size >= 1, "--batch-size", "must be at least 1");
  check(c.lr > 0, "--lr", "must be positive");
  check(c.optimizer == "adamw" || c.optimizer == "adam" || c.optimizer == "sgd", "--optimizer",
        "must be adamw, adam or sgd, not '" + c.optimizer + "'");
  check(c.scheduler == "onecycle" || c.scheduler == "cosine" || c.scheduler == "none", "--scheduler",
        "must be onecycle, cosine or none, not '" + c.scheduler + "'");
  check(c.weight_decay >= 0, "--weight-decay", "must not be negative");
  check(c.grad_clip >= 0, "--grad-clip", "must not be negative (0 turns clipping off)");
  check(c.seed >= 0, "--seed", "must not be negative");
  check(c.train_samples >= 0 && c.val_samples >= 0, "--train-samples/--val-samples", "must not be negative");
  check(c.log_every >= 1, "--log-every", "must be at least 1");
  check(c.image_every >= 0 && c.histogram_every >= 0 && c.grad_check_every >= 0,
        "--image-every/--histogram-every/--grad-check-every", "must not be negative");
  check(c.checkpoint_every_steps >= 0 && c.checkpoint_every_epochs >= 0, "--checkpoint-every-steps/-epochs",
        "must not be negative");
  check(c.save_top_k >= -1, "--save-top-k", "must be -1 (keep all), 0 or more");
  if (lm) {
    check(c.block_size >= 2, "--block-size", "must be at least 2");
    check(c.layers >= 1 && c.heads >= 1 && c.width >= 1, "--layers/--heads/--width", "must be at least 1");
    check(c.width % c.heads == 0, "--width", "must be divisible by --heads");
    check(c.vocab_size >= 257 + 1, "--vocab-size", "must be at least 258 (256 bytes, <|endoftext|>, one merge)");
    check(c.dropout >= 0 && c.dropout < 1, "--dropout", "must be in [0, 1)");
    check(c.sample_tokens >= 0, "--sample-tokens", "must not be negative");
  }
}

Recipe make_recipe(const RunConfig& c, const std::string& logdir) {
  if (c.recipe == "charlm") return charlm(c, logdir);
  return fashion(c, c.recipe == "fashion-cnn");
}

}  // namespace lucid::apps
