// DataLoader (data/dataloader.h) and default_collate (data/collate.h): every
// sample exactly once per epoch, the same batches for any worker count, resume
// mid-epoch, errors that name the sample, and no hang or leak when a loop is
// left early or the loader is destroyed mid-epoch.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <lucid/lucid.h>

using namespace lucid;
using namespace lucid::data;

namespace {

// Sample i: data [i, u] with u drawn from sample_generator() (a stand-in for a
// random augmentation), target i (int64 scalar). Optionally throws at one
// index, sleeps per sample, or counts get() calls.
class CountingDataset : public Dataset {
 public:
  explicit CountingDataset(size_t n) : n_(n) {}
  CountingDataset& throw_at(size_t i) { throw_at_ = i; return *this; }
  CountingDataset& sleep_us(int us) { sleep_us_ = us; return *this; }
  size_t size() const override { return n_; }
  Example get(size_t index) const override {
    if (index == throw_at_) throw std::runtime_error("corrupt record in shard 3");
    if (sleep_us_) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    float u;
    sample_generator().fill_uniform(&u, 1);
    return {tensor({static_cast<double>(index), static_cast<double>(u)}),
            scalar_tensor(static_cast<double>(index), kInt64)};
  }

 private:
  size_t n_;
  size_t throw_at_ = SIZE_MAX;
  int sleep_us_ = 0;
};

// One epoch's batches, as (targets, data bytes) per batch.
struct Batch {
  std::vector<int64_t> targets;
  std::string data;
  bool operator==(const Batch&) const = default;
};

Batch summarize(const Example& b) {
  Batch out;
  const Tensor t = b.target.contiguous();
  out.targets.assign(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
  const Tensor d = b.data.contiguous();
  out.data.assign(static_cast<const char*>(d.raw_data()), d.numel() * d.element_size());
  return out;
}

std::vector<Batch> run_epoch(DataLoader& loader) {
  std::vector<Batch> out;
  for (Example& batch : loader) out.push_back(summarize(batch));
  return out;
}

std::vector<int64_t> all_targets(const std::vector<Batch>& batches) {
  std::vector<int64_t> out;
  for (const Batch& b : batches) out.insert(out.end(), b.targets.begin(), b.targets.end());
  return out;
}

// Runs fn on another thread; a hang (a deadlocked join) fails the whole test
// binary after `seconds` instead of stalling CI until its global timeout.
void finishes_within(double seconds, const std::function<void()>& fn) {
  auto done = std::async(std::launch::async, fn);
  if (done.wait_for(std::chrono::duration<double>(seconds)) == std::future_status::timeout) {
    std::fprintf(stderr, "test_dataloader: hung for %.0f s; aborting\n", seconds);
    std::fflush(stderr);
    std::_Exit(1);
  }
  done.get();  // rethrows a failure
}

}  // namespace

TEST_CASE("DataLoader: every sample exactly once per epoch (drop_last on/off, 0/1/4 workers)") {
  auto dataset = std::make_shared<CountingDataset>(23);  // not divisible by the batch size 5
  for (bool shuffle : {false, true}) {
    for (bool drop_last : {false, true}) {
      for (size_t workers : {0, 1, 4}) {
        CAPTURE(shuffle);
        CAPTURE(drop_last);
        CAPTURE(workers);
        DataLoader loader(dataset, DataLoaderOptions(5).shuffle(shuffle).drop_last(drop_last)
                                       .num_workers(workers).seed(1));
        CHECK(loader.size() == (drop_last ? 4u : 5u));
        for (int epoch = 0; epoch < 2; ++epoch) {
          const std::vector<Batch> batches = run_epoch(loader);
          REQUIRE(batches.size() == loader.size());
          for (size_t b = 0; b < batches.size(); ++b)
            CHECK(batches[b].targets.size() == (b < 4 ? 5u : 3u));
          std::vector<int64_t> seen = all_targets(batches);
          std::sort(seen.begin(), seen.end());
          CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());  // no repeats
          if (!drop_last) {
            std::vector<int64_t> want(23);
            std::iota(want.begin(), want.end(), 0);
            CHECK(seen == want);
          }
        }
        CHECK(loader.epoch() == 2);
      }
    }
  }
}

TEST_CASE("DataLoader: the same seed gives the same batches (and augmentation) for 0, 1 and 4 workers") {
  auto dataset = std::make_shared<CountingDataset>(37);
  auto epochs = [&](size_t workers, size_t prefetch) {
    DataLoader loader(dataset, DataLoaderOptions(4).shuffle(true).num_workers(workers)
                                   .prefetch_factor(prefetch).seed(1234));
    std::vector<std::vector<Batch>> out;
    for (int e = 0; e < 3; ++e) out.push_back(run_epoch(loader));
    return out;
  };
  const auto ref = epochs(0, 2);
  CHECK(epochs(1, 2) == ref);
  CHECK(epochs(4, 2) == ref);
  CHECK(epochs(4, 1) == ref);
  CHECK(epochs(2, 5) == ref);
  // Another seed: another order.
  DataLoader other(dataset, DataLoaderOptions(4).shuffle(true).seed(1235));
  CHECK(run_epoch(other) != ref[0]);
}

TEST_CASE("DataLoader: a new order and new augmentation every epoch with shuffle") {
  auto dataset = std::make_shared<CountingDataset>(50);
  DataLoader loader(dataset, DataLoaderOptions(10).shuffle(true).num_workers(2).seed(8));
  const std::vector<Batch> e0 = run_epoch(loader), e1 = run_epoch(loader);
  CHECK(all_targets(e0) != all_targets(e1));
  // Without shuffle the order repeats but the augmentation (epoch in its seed) does not.
  DataLoader plain(dataset, DataLoaderOptions(10).seed(8));
  const std::vector<Batch> p0 = run_epoch(plain), p1 = run_epoch(plain);
  CHECK(all_targets(p0) == all_targets(p1));
  CHECK(p0[0].data != p1[0].data);
  // set_epoch replays an epoch.
  plain.set_epoch(0);
  CHECK(run_epoch(plain) == p0);
}

TEST_CASE("DataLoader: resume mid-epoch from state_dict gives the uninterrupted batch sequence") {
  auto dataset = std::make_shared<CountingDataset>(30);
  const auto options = DataLoaderOptions(4).shuffle(true).num_workers(2).seed(0xfedcba9876543210ull);
  // Uninterrupted: 4 epochs.
  std::vector<Batch> want;
  {
    DataLoader loader(dataset, options);
    for (int e = 0; e < 4; ++e)
      for (const Batch& b : run_epoch(loader)) want.push_back(b);
  }
  // Interrupted after 2.5 epochs (3 of the 8 batches of epoch 2), resumed in a fresh loader.
  std::vector<Batch> got;
  StateDict state;
  {
    DataLoader loader(dataset, options);
    for (int e = 0; e < 2; ++e)
      for (const Batch& b : run_epoch(loader)) got.push_back(b);
    for (Example& batch : loader) {
      got.push_back(summarize(batch));
      if (got.size() == 2 * loader.size() + 3) break;
    }
    state = loader.state_dict();
  }
  CHECK(read_int(state, "epoch", "test") == 2);
  CHECK(read_int(state, "batches_served", "test") == 3);
  CHECK(static_cast<uint64_t>(read_int(state, "seed", "test")) == 0xfedcba9876543210ull);
  DataLoader resumed(dataset, DataLoaderOptions(4).shuffle(true).num_workers(1));  // seed from state
  resumed.load_state_dict(state);
  CHECK(resumed.seed() == 0xfedcba9876543210ull);
  for (const Batch& b : run_epoch(resumed)) got.push_back(b);  // the rest of epoch 2
  CHECK(resumed.epoch() == 3);
  for (const Batch& b : run_epoch(resumed)) got.push_back(b);  // epoch 3
  CHECK(got == want);
}

TEST_CASE("DataLoader: a loop left early is abandoned; the next loop is the next epoch") {
  auto dataset = std::make_shared<CountingDataset>(20);
  DataLoader loader(dataset, DataLoaderOptions(5).seed(3));
  for (Example& batch : loader) {
    (void)batch;
    break;
  }
  CHECK(loader.epoch() == 0);
  CHECK(read_int(loader.state_dict(), "batches_served", "test") == 1);
  const std::vector<Batch> next = run_epoch(loader);
  CHECK(next.size() == 4);
  CHECK(loader.epoch() == 2);
}

TEST_CASE("DataLoader: a resumed loop whose first batch fails resumes at the same batch when retried") {
  // The resume point used to be dropped before the first batch arrived, so the retry took the
  // failed loop for an abandoned one and skipped to the next epoch.
  for (size_t workers : {0, 2}) {
    CAPTURE(workers);
    auto dataset = std::make_shared<CountingDataset>(40);
    DataLoader reference(dataset, DataLoaderOptions(4).shuffle(true).num_workers(workers).seed(11));
    reference.set_epoch(3);
    const std::vector<Batch> epoch3 = run_epoch(reference);
    REQUIRE(epoch3.size() == 10);

    DataLoader loader(dataset, DataLoaderOptions(4).shuffle(true).num_workers(workers).seed(11));
    StateDict state("entry");
    state.insert("epoch", state_int(3));
    state.insert("batches_served", state_int(4));
    state.insert("seed", state_int(11));
    loader.load_state_dict(state);
    dataset->throw_at(static_cast<size_t>(epoch3[4].targets[1]));  // a sample of batch 4: throws once
    CHECK_THROWS_WITH_AS(run_epoch(loader), doctest::Contains("(batch 4 of epoch 3): corrupt record"), Error);
    CHECK(loader.epoch() == 3);
    CHECK(read_int(loader.state_dict(), "batches_served", "test") == 4);
    dataset->throw_at(SIZE_MAX);
    const std::vector<Batch> rest = run_epoch(loader);
    CHECK(rest == std::vector<Batch>(epoch3.begin() + 4, epoch3.end()));
    CHECK(loader.epoch() == 4);
  }
}

TEST_CASE("DataLoader: a worker's exception reaches the loop with the sample index and message") {
  for (size_t workers : {0, 1, 4}) {
    CAPTURE(workers);
    auto dataset = std::make_shared<CountingDataset>(40);
    dataset->throw_at(17);
    DataLoader loader(dataset, DataLoaderOptions(4).num_workers(workers).seed(0));
    size_t batches_before = 0;
    finishes_within(30, [&] {
      CHECK_THROWS_WITH_AS(
          {
            for (Example& batch : loader) {
              (void)batch;
              ++batches_before;
            }
          },
          doctest::Contains("DataLoader: sample 17 (batch 4 of epoch 0): corrupt record in shard 3"),
          Error);
    });
    CHECK(batches_before == 4);  // batches 0..3 came out first, in order
    // The loader is usable again afterwards.
    dataset->throw_at(SIZE_MAX);
    CHECK(run_epoch(loader).size() == 10);
  }
}

TEST_CASE("DataLoader: breaking out early and destroying the loader mid-epoch join every worker") {
  auto dataset = std::make_shared<CountingDataset>(400);
  dataset->sleep_us(200);
  finishes_within(60, [&] {
    for (size_t workers : {1, 4}) {
      DataLoader loader(dataset, DataLoaderOptions(2).num_workers(workers).prefetch_factor(3).seed(1));
      int n = 0;
      for (Example& batch : loader) {
        (void)batch;
        if (++n == 3) break;
      }
      CHECK(n == 3);
    }
    // The loader dies while its iterator lives: the workers stop; the iterator reports it.
    auto loader = std::make_unique<DataLoader>(
        dataset, DataLoaderOptions(2).num_workers(4).seed(1));
    auto it = loader->begin();
    ++it;
    loader.reset();
    CHECK_THROWS_WITH_AS(++it, doctest::Contains("the loader was destroyed"), Error);
  });
}

TEST_CASE("DataLoader: many short epochs and broken loops in a row (no leak, no hang)") {
  auto dataset = std::make_shared<CountingDataset>(9);
  finishes_within(60, [&] {
    DataLoader loader(dataset, DataLoaderOptions(2).shuffle(true).num_workers(3).seed(5));
    for (int e = 0; e < 200; ++e) {
      if (e % 3 == 0) {
        for (Example& batch : loader) {
          (void)batch;
          break;
        }
      } else {
        CHECK(run_epoch(loader).size() == 5);
      }
    }
    for (int e = 0; e < 50; ++e) {  // a fresh loader each time
      DataLoader short_lived(dataset, DataLoaderOptions(4).num_workers(2).seed(e));
      auto it = short_lived.begin();
      (void)it;
    }
  });
}

TEST_CASE("DataLoader: one loop at a time; options are checked") {
  auto dataset = std::make_shared<CountingDataset>(6);
  DataLoader loader(dataset, DataLoaderOptions(2).num_workers(1).seed(0));
  auto it = loader.begin();
  CHECK_THROWS_WITH_AS(loader.begin(), doctest::Contains("already running"), Error);
  CHECK_THROWS_WITH_AS(loader.set_epoch(3), doctest::Contains("running"), Error);
  CHECK_THROWS_WITH_AS(
      DataLoader(dataset, DataLoaderOptions(0)), doctest::Contains("batch_size must be positive"), Error);
  CHECK_THROWS_WITH_AS(
      DataLoader(dataset, DataLoaderOptions(2).shuffle(true).sampler(std::make_shared<SequentialSampler>(6))),
      doctest::Contains("mutually exclusive with shuffle"), Error);
  // A CUDA device that is not there is Tensor::to's error, at construction.
  if (!cuda::is_available())
    CHECK_THROWS_WITH_AS(DataLoader(dataset, DataLoaderOptions(2).device(Device(kCUDA))),
                         doctest::Contains("device cuda:0 needs a usable CUDA device"), Error);
  // A sampler that points past the dataset names the index.
  DataLoader bad(dataset, DataLoaderOptions(2).sampler(std::make_shared<SequentialSampler>(8)).seed(0));
  CHECK_THROWS_WITH_AS(run_epoch(bad), doctest::Contains("the sampler gave index 6"), Error);
}

TEST_CASE("DataLoader: a custom sampler, collate and the cpu device option") {
  auto dataset = std::make_shared<CountingDataset>(10);
  DataLoader loader(dataset, DataLoaderOptions(3)
                                 .sampler(std::make_shared<DistributedSampler>(10, 2, 1, Shuffle::No))
                                 .collate([](const std::vector<Example>& samples) {
                                   Example e = default_collate(samples);
                                   e.data = e.data * 2.0;
                                   return e;
                                 })
                                 .device(Device(kCPU))
                                 .pin_memory(true)
                                 .num_workers(2)
                                 .seed(0));
  CHECK(loader.size() == 2);
  const std::vector<Batch> batches = run_epoch(loader);
  CHECK(all_targets(batches) == std::vector<int64_t>{1, 3, 5, 7, 9});
  float first;
  std::memcpy(&first, batches[0].data.data(), sizeof first);
  CHECK(first == 2.0f);  // sample 1's data [1, u] doubled
}

TEST_CASE("DataLoader: the default seed is drawn from the default generator") {
  auto dataset = std::make_shared<CountingDataset>(4);
  manual_seed(77);
  DataLoader a(dataset);
  manual_seed(77);
  DataLoader b(dataset);
  DataLoader c(dataset);
  CHECK(a.seed() == b.seed());
  CHECK(b.seed() != c.seed());
}

TEST_CASE("default_collate: stacks data and targets; mismatches name the samples and shapes") {
  std::vector<Example> samples = {{zeros({2, 3}), scalar_tensor(1, kInt64)},
                                  {ones({2, 3}), scalar_tensor(2, kInt64)}};
  const Example batch = default_collate(samples);
  CHECK(batch.data.sizes() == Shape{2, 2, 3});
  CHECK(batch.target.sizes() == Shape{2});
  CHECK(batch.target.dtype() == kInt64);

  samples.push_back({zeros({2, 4}), scalar_tensor(3, kInt64)});
  CHECK_THROWS_WITH_AS(default_collate(samples, {5, 9, 7}),
                       doctest::Contains("default_collate: data of sample 7 has shape [2, 4], but "
                                         "sample 5 has [2, 3]"),
                       Error);
  samples[2] = {zeros({2, 3}), Tensor()};
  CHECK_THROWS_WITH_AS(default_collate(samples),
                       doctest::Contains("target of sample 2 is undefined"), Error);
  samples[2] = {zeros({2, 3}, kFloat64), scalar_tensor(3, kInt64)};
  CHECK_THROWS_WITH_AS(default_collate(samples), doctest::Contains("has dtype float64"), Error);
  // Unlabelled samples: the batch target stays undefined.
  const Example unlabelled = default_collate({{zeros({1}), Tensor()}, {ones({1}), Tensor()}});
  CHECK(!unlabelled.target.defined());
  CHECK_THROWS_WITH_AS(default_collate({}), doctest::Contains("no samples"), Error);
}

TEST_CASE("DataLoader: a collate error names the batch's samples") {
  class Ragged : public Dataset {
   public:
    size_t size() const override { return 6; }
    Example get(size_t i) const override {
      return {zeros({i == 4 ? 3 : 2}), scalar_tensor(0, kInt64)};
    }
  };
  DataLoader loader(Ragged(), DataLoaderOptions(3).num_workers(2).seed(0));
  CHECK_THROWS_WITH_AS(run_epoch(loader),
                       doctest::Contains("collating batch 1 of epoch 0 (samples 3, 4, 5): "
                                         "default_collate: data of sample 4 has shape [3]"),
                       Error);
}
