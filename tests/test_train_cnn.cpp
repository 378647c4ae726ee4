// End to end on real data: SmallCNN trained on 512 Fashion-MNIST training
// images through the augmented, multi-worker DataLoader. Proves that
//   - the loss falls clearly (and that the same bound fails with lr = 0, so it is not vacuous),
//   - every parameter gets a finite, non-zero gradient,
//   - a checkpoint (model, optimizer, scheduler, loader and RNG state) taken mid-epoch and
//     loaded into freshly built objects continues bit-identically to the original run.
#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <vector>

#include <lucid/lucid.h>

using namespace lucid;
namespace F = lucid::nn::functional;

namespace {

const std::string kFashion = "/usr/share/datasets/fashion-mnist";

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
// The loss bound needs 30 steps (20 give a ratio of 0.54, too near the bound),
// so the sanitized Debug build, whose kernels run unoptimized, skips only the
// lr-0 control below: it checks the test's logic, not memory safety.
constexpr int kLossSteps = 30;
constexpr size_t kImages = 512;
constexpr size_t kBatch = 64;

// The first kImages training images, augmented as the main job does (Normalize
// with Fashion-MNIST's known mean and std: channel_stats over 60000 images is
// the example's job, not this test's).
std::shared_ptr<const data::Dataset> train_subset() {
  static const std::shared_ptr<const data::Dataset> subset = [] {
    const data::Compose transform(data::RandomCrop({28, 28}, 2), data::RandomHorizontalFlip(0.5),
                                  data::ToTensor(), data::Normalize({0.2860}, {0.3530}));
    auto full = std::make_shared<const data::FashionMNIST>(kFashion, data::Split::Train, transform);
    std::vector<size_t> first(kImages);
    std::iota(first.begin(), first.end(), size_t{0});
    return std::make_shared<const data::Subset>(full, std::move(first));
  }();
  return subset;
}

// A narrow SmallCNN (same layers, fewer channels) so the test stays fast; its
// Dropout still draws from the default generator, which the checkpoint saves.
nn::SmallCNN make_model(uint64_t init_seed) {
  manual_seed(init_seed);
  return nn::SmallCNN(nn::SmallCNNOptions().channels(8, 16).hidden(64).dropout(0.2));
}

data::DataLoaderOptions loader_options() {
  return data::DataLoaderOptions(kBatch).shuffle(true).seed(7).num_workers(2).drop_last(true);
}

// Everything a run consists of, built from scratch.
struct Run {
  nn::SmallCNN model;
  optim::Adam optimizer;
  optim::OneCycleLR scheduler;
  data::DataLoader loader;

  Run(uint64_t init_seed, double lr, int64_t total_steps)
      : model(make_model(init_seed)),
        optimizer(model->parameters(), optim::AdamOptions(lr)),
        scheduler(optimizer, optim::OneCycleLROptions({lr}, total_steps).pct_start(0.2)),
        loader(train_subset(), loader_options()) {}
};

// Runs `steps` training steps, as many epochs as it takes; after_step(k) is
// called after step k (1-based) completes, still inside the loop.
std::vector<double> train_steps(Run& run, int steps, const std::function<void(int)>& after_step = {}) {
  std::vector<double> losses;
  run.model->train();
  while (static_cast<int>(losses.size()) < steps) {
    for (data::Example& batch : run.loader) {
      run.optimizer.zero_grad();
      Tensor loss = F::cross_entropy(run.model(batch.data), batch.target);
      loss.backward();
      nn::utils::clip_grad_norm_(run.model->parameters(), 5.0);
      run.optimizer.step();
      run.scheduler.step();
      losses.push_back(loss.item<double>());
      if (after_step) after_step(static_cast<int>(losses.size()));
      if (static_cast<int>(losses.size()) == steps) break;
    }
  }
  return losses;
}

double mean_of(const std::vector<double>& v, size_t from, size_t count) {
  return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(from),
                         v.begin() + static_cast<std::ptrdiff_t>(from + count), 0.0) /
         static_cast<double>(count);
}

// mean of the last 5 losses / mean of the first 5
double loss_ratio(double lr) {
  Run run(0, lr, kLossSteps);
  std::vector<double> losses = train_steps(run, kLossSteps);
  const double first = mean_of(losses, 0, 5), last = mean_of(losses, losses.size() - 5, 5);
  MESSAGE("lr " << lr << ": loss " << first << " (first 5) -> " << last << " (last 5) in "
                << kLossSteps << " steps");
  return last / first;
}

// Same dtype, shape and bytes: bit-identical, stricter than allclose (and than
// ==, which calls -0.0 and 0.0 equal).
bool bit_identical(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.sizes() != b.sizes()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), static_cast<size_t>(ca.numel()) * ca.element_size()) == 0;
}

// Every parameter and buffer, cloned.
StateDict snapshot(const nn::Module& model) {
  StateDict out;
  for (const auto& item : model.state_dict()) out.insert(item.key(), item.value().clone());
  return out;
}

}  // namespace

TEST_CASE("SmallCNN on 512 augmented Fashion-MNIST images: Adam lowers the loss clearly") {
  // Measured: 2.13 -> 0.89 (ratio 0.42) in 30 steps, the same in Release and
  // ASan builds; with lr 0 the ratio stays near 1 (next test case).
  CHECK(loss_ratio(1e-2) < 0.6);
}

TEST_CASE("the loss bound is not vacuous: with lr 0 it fails" * doctest::skip(kSanitized)) {
  CHECK(loss_ratio(0.0) > 0.6);
}

TEST_CASE("after the first backward every SmallCNN parameter has a finite non-zero gradient") {
  Run run(0, 1e-3, 10);
  data::Example batch = *run.loader.begin();
  F::cross_entropy(run.model(batch.data), batch.target).backward();
  nn::utils::GradFlowReport report = nn::utils::check_grad_flow(*run.model);
  INFO(report.str());
  CHECK(report.ok());
  CHECK(report.healthy.size() == run.model->parameters().size());
}

TEST_CASE("a mid-epoch checkpoint loaded into fresh objects continues bit-identically") {
  // 512 / 64 = 8 batches per epoch: the checkpoint after step 6 is mid-epoch,
  // and the 4 steps after it cross into the next epoch.
  constexpr int kBefore = 6, kAfter = 4, kTotal = kBefore + kAfter;
  Run original(0, 3e-3, kTotal);
  StateDict model_state, optimizer_state, scheduler_state, loader_state;
  GeneratorState rng_state{};  // Dropout draws from the default generator
  train_steps(original, kTotal, [&](int step) {
    if (step != kBefore) return;
    model_state = snapshot(*original.model);
    optimizer_state = original.optimizer.state_dict();
    scheduler_state = original.scheduler.state_dict();
    loader_state = original.loader.state_dict();
    rng_state = default_generator().get_state();
  });
  CHECK(read_int(loader_state, "batches_served", "test") == kBefore);

  Run fresh(12345, 1.0, kTotal);  // other initial weights and lr: the load must overwrite them
  fresh.model->load_state_dict(model_state);
  fresh.optimizer.load_state_dict(optimizer_state);
  fresh.scheduler.load_state_dict(scheduler_state);
  fresh.loader.load_state_dict(loader_state);
  default_generator().set_state(rng_state);
  train_steps(fresh, kAfter);

  const StateDict a = original.model->state_dict(), b = fresh.model->state_dict();
  REQUIRE(a.size() == b.size());
  for (const auto& item : a) {
    INFO(item.key());
    CHECK(bit_identical(item.value(), b[item.key()]));
  }
  CHECK(fresh.scheduler.get_last_lr() == original.scheduler.get_last_lr());
  CHECK(fresh.loader.epoch() == original.loader.epoch());
}
