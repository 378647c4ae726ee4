#pragma once
// Samplers: the order in which a DataLoader visits a dataset's indices, as
// PyTorch's torch.utils.data samplers.
//
//   Sampler                 indices(seed, epoch) and size()
//   SequentialSampler       0, 1, ..., n-1 every epoch
//   RandomSampler           a fresh permutation per epoch (or draws with replacement)
//   WeightedRandomSampler   draws index i with probability weights[i] / sum(weights)
//   DistributedSampler      rank r's share of one permutation split across replicas
//   epoch_generator_seed    the seed a sampler's generator gets for (seed, epoch)
//
// A sampler has no state: its order is a function of (seed, epoch), computed
// from a fresh Philox generator each time. That is what lets a loader resume
// mid-epoch from a checkpoint (same seed and epoch, same order) and gives
// every worker count the same batches. Random samplers take the loader's seed;
// DistributedSampler uses its own, because every rank must draw the same
// permutation while the ranks' loaders may have different seeds.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lucid::data {

// Whether an index may be drawn more than once per epoch.
enum class Replacement { Without, With };
// Whether an order is shuffled.
enum class Shuffle { No, Yes };
// What DistributedSampler does with indices that do not split evenly: pad by
// wrapping around to the first indices (every index is seen), or drop the tail.
enum class Tail { Pad, Drop };

class Sampler {
 public:
  virtual ~Sampler() = default;
  // The dataset indices of one epoch, in the order they are loaded. Equal
  // (seed, epoch) give equal orders.
  virtual std::vector<size_t> indices(uint64_t seed, uint64_t epoch) const = 0;
  // How many indices one epoch yields.
  virtual size_t size() const = 0;
};

class SequentialSampler : public Sampler {
 public:
  explicit SequentialSampler(size_t size) : size_(size) {}
  std::vector<size_t> indices(uint64_t seed, uint64_t epoch) const override;
  size_t size() const override { return size_; }

 private:
  size_t size_;
};

// Without replacement: a permutation of [0, size) per epoch; a num_samples
// above size chains fresh permutations (each index seen as evenly as possible).
// With replacement: num_samples independent uniform draws from [0, size).
// num_samples = 0 means size.
class RandomSampler : public Sampler {
 public:
  explicit RandomSampler(size_t size, Replacement replacement = Replacement::Without,
                         size_t num_samples = 0);
  std::vector<size_t> indices(uint64_t seed, uint64_t epoch) const override;
  size_t size() const override { return num_samples_; }

 private:
  size_t size_;
  Replacement replacement_;
  size_t num_samples_;
};

// num_samples draws, index i with probability weights[i] / sum(weights).
// Without replacement, each draw is among the indices not yet drawn (so
// num_samples may not exceed the number of positive weights).
class WeightedRandomSampler : public Sampler {
 public:
  WeightedRandomSampler(std::vector<double> weights, size_t num_samples,
                        Replacement replacement = Replacement::With);
  std::vector<size_t> indices(uint64_t seed, uint64_t epoch) const override;
  size_t size() const override { return num_samples_; }

 private:
  std::vector<double> weights_;
  size_t num_samples_;
  Replacement replacement_;
};

// For data-parallel training: the dataset order (shuffled with `seed` and the
// epoch, or sequential) is made a multiple of num_replicas (Tail::Pad repeats
// indices from the start, Tail::Drop cuts the tail), then rank r takes
// positions r, r + num_replicas, r + 2 num_replicas, ... Every rank gets the
// same number of indices, and together the ranks cover the (padded) order
// exactly once. The loader seed passed to indices() is ignored (see above).
class DistributedSampler : public Sampler {
 public:
  DistributedSampler(size_t size, size_t num_replicas, size_t rank,
                     Shuffle shuffle = Shuffle::Yes, uint64_t seed = 0, Tail tail = Tail::Pad);
  std::vector<size_t> indices(uint64_t seed, uint64_t epoch) const override;
  size_t size() const override { return num_samples_; }

 private:
  size_t size_;
  size_t num_replicas_;
  size_t rank_;
  Shuffle shuffle_;
  uint64_t seed_;
  Tail tail_;
  size_t num_samples_;  // per rank
};

// The seed of the generator a sampler draws epoch `epoch`'s order from. Mixed
// (with a salt) so that it is unrelated to the per-sample seeds of dataset.h.
uint64_t epoch_generator_seed(uint64_t seed, uint64_t epoch);

}  // namespace lucid::data
