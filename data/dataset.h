#pragma once
// The map-style Dataset: one sample by index, as PyTorch's torch.utils.data.Dataset.
//
//   Example              {data, target}: one sample, or (stacked) one batch
//   Dataset              size() and get(index); augmentation lives in get()
//   sample_generator()   the generator a sample's random transforms draw from
//   SampleScope          how the DataLoader seeds it per (seed, epoch, index)
//
// Why a per-sample generator: a random transform must give the same result for
// sample i of epoch e whatever worker thread serves it and in whatever order,
// so the loader seeds a fresh generator from (loader seed, epoch, index) for
// each get() call. A get() called outside a loader draws from the default
// generator, as in PyTorch.

#include <cstddef>
#include <cstdint>
#include <memory>

#include <lucid/kernels/philox.h>
#include <lucid/kernels/tensor.h>

namespace lucid::data {

// One sample (data [...], target []) or one batch (data [B, ...], target [B]),
// as LibTorch's torch::data::Example<>.
struct Example {
  Tensor data;
  Tensor target;
};

// Subclass and implement size() and get(). get() is called concurrently from
// the loader's worker threads, so it must not mutate shared state (it is const;
// draw randomness only from sample_generator()).
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  virtual Example get(size_t index) const = 0;
};

// The seed of sample `index` in `epoch` of a loader seeded with `loader_seed`:
// a SplitMix64 hash of the three, so nearby indices get unrelated streams.
uint64_t sample_seed(uint64_t loader_seed, uint64_t epoch, uint64_t index);

// The generator for the sample this thread is loading: the innermost
// SampleScope's, or default_generator() when no scope is active.
Generator& sample_generator();

// RAII: while alive, sample_generator() on this thread is a fresh generator
// seeded with sample_seed(loader_seed, epoch, index). Scopes nest.
class SampleScope {
 public:
  SampleScope(uint64_t loader_seed, uint64_t epoch, uint64_t index);
  ~SampleScope();
  SampleScope(const SampleScope&) = delete;
  SampleScope& operator=(const SampleScope&) = delete;

 private:
  Generator generator_;
  Generator* previous_;
};

}  // namespace lucid::data
