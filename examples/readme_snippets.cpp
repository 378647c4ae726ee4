// The code of README.md's "Models", "Optimizers and schedulers" and "Data"
// sections, compiled so that it cannot rot. Each README block is the body of
// one function below, between the "README" markers. Running it does a few
// tiny steps on random data (no dataset files needed).
#include <lucid/lucid.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

using namespace lucid;
namespace F = lucid::nn::functional;

// ---- Models ----------------------------------------------------------------------
// README: models begin
struct NetImpl : nn::Module {
  NetImpl() {
    conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(1, 16, 3).padding(1)));
    bn = register_module("bn", nn::BatchNorm2d(16));
    fc = register_module("fc", nn::Linear(16 * 14 * 14, 10));
  }
  Tensor forward(const Tensor& x) {                       // [N, 1, 28, 28] -> [N, 10]
    Tensor h = F::max_pool2d(F::relu(bn(conv(x))), {2, 2});
    return fc(h.flatten(1));
  }
  nn::Conv2d conv = nullptr;
  nn::BatchNorm2d bn = nullptr;
  nn::Linear fc = nullptr;
};
// The handle type (what TORCH_MODULE(Net) declares in LibTorch):
class Net : public nn::ModuleHolder<NetImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};
// README: models end

static void models() {
  // README: models use begin
  Net net;
  std::cout << net << "\n";             // Net(\n  (conv): Conv2d(1, 16, kernel_size=(3, 3), ...
  std::cout << nn::summary(*net);       // parameter counts per module
  StateDict state = net->state_dict();  // conv.weight, conv.bias, bn.weight, bn.bias,
                                        // bn.running_mean, bn.running_var,
                                        // bn.num_batches_tracked, fc.weight, fc.bias
  Net copy;
  copy->load_state_dict(state);         // LoadStrictness::Strict: every key must match
  Tensor logits = copy(randn({8, 1, 28, 28}));
  // README: models use end
  std::printf("logits [%lld, %lld]\n", static_cast<long long>(logits.size(0)),
              static_cast<long long>(logits.size(1)));
}

// ---- Optimizers and schedulers -------------------------------------------------
static void optimizers() {
  Net net;
  Tensor x = randn({16, 1, 28, 28});
  Tensor y = randint(0, 10, {16});
  // README: optim begin
  // Two parameter groups: weight decay on conv/linear weights, none on biases and norms.
  std::vector<Tensor> decay, no_decay;
  for (const auto& p : net->named_parameters())
    (p.value().dim() > 1 ? decay : no_decay).push_back(p.value());
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<optim::AdamWOptions>(
                                 optim::AdamWOptions(1e-3).weight_decay(0.05)));
  groups.emplace_back(no_decay, std::make_unique<optim::AdamWOptions>(
                                    optim::AdamWOptions(1e-3).weight_decay(0.0)));
  optim::AdamW opt(std::move(groups), optim::AdamWOptions(1e-3));

  // Linear warmup for 10 steps, then cosine decay over 90 (stepped per batch).
  auto warmup = std::make_shared<optim::LinearLR>(opt, /*start_factor=*/0.01, 1.0, 10);
  auto cosine = std::make_shared<optim::CosineAnnealingLR>(opt, /*T_max=*/90);
  optim::SequentialLR sched(opt, {warmup, cosine}, /*milestones=*/{10});
  // or, in one: optim::OneCycleLR sched(opt, optim::OneCycleLROptions({3e-3}, 100));

  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    Tensor loss = F::cross_entropy(net(x), y);
    loss.backward();
    nn::utils::clip_grad_norm_(net->parameters(), 1.0);
    opt.step();
    sched.step();
  }
  StateDict opt_state = opt.state_dict();      // param_groups.0.lr, state.0.step, state.0.exp_avg, ...
  StateDict sched_state = sched.state_dict();  // last_epoch, ..., schedulers.0.*, schedulers.1.*
  // README: optim end
  std::printf("lr after 100 steps %.3g; %zu optimizer and %zu scheduler entries\n",
              sched.get_last_lr()[0], opt_state.size(), sched_state.size());
}

// ---- Data ------------------------------------------------------------------------
// README: data begin
// Images kept in memory as uint8 [N, 28, 28]. get() runs the transform, whose
// random steps draw from data::sample_generator(): inside a DataLoader that is
// seeded per (loader seed, epoch, index), so sample i gets the same crop and
// flip whichever worker loads it. get() is const: workers call it concurrently.
class InMemoryImages : public data::Dataset {   // uint8 [N, 28, 28] images
 public:
  InMemoryImages(Tensor images, Tensor labels, data::Compose transform)
      : images_(images.contiguous()), labels_(labels), transform_(std::move(transform)) {}
  size_t size() const override { return static_cast<size_t>(images_.size(0)); }
  data::Example get(size_t i) const override {
    data::Image image(28, 28, 1);
    const uint8_t* src = images_.data_ptr<uint8_t>() + i * 28 * 28;
    std::copy(src, src + 28 * 28, image.pixels.begin());
    return {transform_(image), labels_[static_cast<int64_t>(i)]};
  }

 private:
  Tensor images_, labels_;
  data::Compose transform_;
};
// README: data end

static void data_pipeline() {
  Tensor images = randint(0, 256, {1000, 28, 28}).to(kUInt8);
  Tensor labels = randint(0, 10, {1000});
  // README: data use begin
  data::Compose train_tf(data::RandomCrop({28, 28}, /*padding=*/2), data::RandomHorizontalFlip(0.5),
                         data::ToTensor(), data::Normalize({0.2860}, {0.3530}));
  data::Compose eval_tf = train_tf.eval();  // ToTensor + the same Normalize, no random steps

  auto options = data::DataLoaderOptions(64).shuffle(true).seed(42).num_workers(2).drop_last(true);
  data::DataLoader loader(InMemoryImages(images, labels, train_tf), options);
  int seen = 0;
  for (data::Example& batch : loader) {  // batch.data [64, 1, 28, 28], batch.target [64]
    if (++seen == 5) break;              // stop mid-epoch, e.g. to checkpoint
  }
  StateDict where = loader.state_dict();  // {epoch 0, batches_served 5, seed 42}

  // Later, in a new process: same dataset and options, then resume.
  data::DataLoader resumed(InMemoryImages(images, labels, train_tf), options);
  resumed.load_state_dict(where);
  for (data::Example& batch : resumed) {  // batches 5..14 of epoch 0: the same order and
    ++seen;                               // augmentation the first loader would have given
  }
  data::DataLoader test_loader(InMemoryImages(images, labels, eval_tf), data::DataLoaderOptions(256));
  // README: data use end
  std::printf("%d training batches, %zu test batches\n", seen, test_loader.size());
}

int main() {
  manual_seed(0);
  models();
  optimizers();
  data_pipeline();
  return 0;
}
