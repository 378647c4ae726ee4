// bench_loader: DataLoader throughput on Fashion-MNIST-sized samples with
// augmentation, at 0, 1 and 2 workers, and how long a training step waits for
// each batch when the step itself takes a fixed time.
//
// Table 1, loader alone: samples/s over one epoch (median of 3 epochs after
// one warm-up), batch 64.
// Table 2, loader + a simulated 2 ms training step per batch: the mean time
// the step waits in ++it per batch. With workers the next batch should already
// be there (a wait near 0); with 0 workers the step waits for the whole load of
// every batch. Two kinds of step: `cpu` is a busy loop that occupies a core (a
// CPU training step), `idle` sleeps (a step that waits for the GPU).
//
// The dataset: 28x28 uint8 images, get() does what a Fashion-MNIST training
// pipeline does per sample: zero-pad 4 + random 28x28 crop, random horizontal
// flip, normalize to float. TODO(data issue): switch make_dataset() to the real
// data::FashionMNIST reader and its transforms once they are merged; nothing
// else here depends on the dataset.
#include <lucid/lucid.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

using namespace lucid;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kSide = 28;
constexpr int64_t kPad = 4;

class AugmentedImages : public data::Dataset {
 public:
  explicit AugmentedImages(size_t n) : n_(n), pixels_(n * kSide * kSide) {
    Generator gen(1);  // fixed synthetic images
    std::vector<uint32_t> words(pixels_.size());
    gen.fill_uint32(words.data(), static_cast<int64_t>(words.size()));
    for (size_t i = 0; i < words.size(); ++i) pixels_[i] = static_cast<uint8_t>(words[i]);
  }
  size_t size() const override { return n_; }

  data::Example get(size_t index) const override {
    int64_t draws[3];  // crop offsets in [0, 2 * pad], flip in {0, 1}
    data::sample_generator().fill_randint(draws, 2, 0, 2 * kPad + 1);
    data::sample_generator().fill_randint(draws + 2, 1, 0, 2);
    const int64_t dy = draws[0] - kPad, dx = draws[1] - kPad;
    const bool flip = draws[2] == 1;
    const uint8_t* src = pixels_.data() + index * kSide * kSide;
    Tensor out = empty({1, kSide, kSide});
    float* dst = out.data_ptr<float>();
    const float mean = 0.2860f, inv_std = 1.0f / 0.3530f;  // Fashion-MNIST statistics
    for (int64_t y = 0; y < kSide; ++y) {
      for (int64_t x = 0; x < kSide; ++x) {
        const int64_t sy = y + dy, sx = (flip ? kSide - 1 - x : x) + dx;
        const bool inside = sy >= 0 && sy < kSide && sx >= 0 && sx < kSide;
        const float v = inside ? src[sy * kSide + sx] / 255.0f : 0.0f;  // zero padding
        dst[y * kSide + x] = (v - mean) * inv_std;
      }
    }
    return {out, scalar_tensor(static_cast<double>(index % 10), kInt64)};
  }

 private:
  size_t n_;
  std::vector<uint8_t> pixels_;
};

std::shared_ptr<const data::Dataset> make_dataset() {
  return std::make_shared<AugmentedImages>(10000);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

enum class Step { Cpu, Idle };

void simulated_step(Step kind, double seconds) {
  if (kind == Step::Idle) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return;
  }
  const auto t0 = Clock::now();
  while (seconds_since(t0) < seconds) {
  }
}

struct EpochTiming {
  double seconds = 0;     // the whole epoch
  double wait = 0;        // total time spent getting batches
  size_t batches = 0;
  size_t samples = 0;
};

EpochTiming time_epoch(data::DataLoader& loader, Step kind, double step_seconds) {
  EpochTiming t;
  const auto t0 = Clock::now();
  auto it = loader.begin();  // starts the workers and waits for the first batch
  t.wait += seconds_since(t0);
  while (it != loader.end()) {
    t.samples += static_cast<size_t>(it->target.numel());
    ++t.batches;
    if (step_seconds > 0) simulated_step(kind, step_seconds);  // the training step
    const auto asked = Clock::now();
    ++it;
    t.wait += seconds_since(asked);
  }
  t.seconds = seconds_since(t0);
  return t;
}

EpochTiming median_epoch(data::DataLoader& loader, Step kind, double step_seconds) {
  time_epoch(loader, kind, step_seconds);  // warm-up: first touches, thread start-up
  std::vector<EpochTiming> runs;
  for (int i = 0; i < 3; ++i) runs.push_back(time_epoch(loader, kind, step_seconds));
  std::sort(runs.begin(), runs.end(),
            [](const EpochTiming& a, const EpochTiming& b) { return a.seconds < b.seconds; });
  return runs[1];
}

}  // namespace

int main() {
  const auto dataset = make_dataset();
  const size_t batch = 64;
  const double step = 0.002;
  std::printf("dataset: %zu samples of 1x28x28, pad-4 crop + flip + normalize in get(); batch %zu; "
              "%d CPU threads for ops\n\n", dataset->size(), batch, get_num_threads());

  std::printf("loader alone\n%8s %12s %14s\n", "workers", "samples/s", "ms/batch");
  for (size_t workers : {0, 1, 2}) {
    data::DataLoader loader(dataset, data::DataLoaderOptions(batch).shuffle(true)
                                         .num_workers(workers).seed(0));
    const EpochTiming t = median_epoch(loader, Step::Idle, 0);
    std::printf("%8zu %12.0f %14.3f\n", workers, t.samples / t.seconds, 1e3 * t.seconds / t.batches);
  }

  std::printf("\nloader + a %.0f ms training step per batch\n%6s %8s %16s %10s %12s\n", step * 1e3,
              "step", "workers", "wait/batch ms", "epoch s", "step share");
  for (Step kind : {Step::Cpu, Step::Idle}) {
    for (size_t workers : {0, 1, 2}) {
      data::DataLoader loader(dataset, data::DataLoaderOptions(batch).shuffle(true)
                                           .num_workers(workers).seed(0));
      const EpochTiming t = median_epoch(loader, kind, step);
      const double step_total = step * t.batches;
      std::printf("%6s %8zu %16.3f %10.3f %11.0f%%\n", kind == Step::Cpu ? "cpu" : "idle", workers,
                  1e3 * t.wait / t.batches, t.seconds, 100.0 * step_total / t.seconds);
    }
  }
  return 0;
}
