#pragma once
// The DataLoader: batches of a Dataset, loaded ahead of time by worker
// threads, handed out in order by a range-for loop. PyTorch's DataLoader, with
// LibTorch-style chained options.
//
//   DataLoaderOptions   batch_size, shuffle, sampler, drop_last, num_workers,
//                       prefetch_factor, collate, pin_memory, device, seed
//   DataLoader          for (Example& batch : loader) ...; size() batches per epoch;
//                       epoch / set_epoch; batch_indices; state_dict / load_state_dict
//
//   auto loader = data::DataLoader(dataset, data::DataLoaderOptions(64).shuffle(true).num_workers(2));
//   for (int e = 0; e < 10; ++e)
//     for (data::Example& batch : loader) train_step(batch.data, batch.target);
//
// Epochs. Every loop over the loader is one epoch; the epoch counter advances
// by itself (set_epoch overrides it). The epoch's index order comes from the
// sampler as a function of (seed, epoch), and sample i's augmentation from a
// generator seeded by (seed, epoch, i) (data/dataset.h). So the same seed gives
// the same batches whatever num_workers is, and a new order every epoch.
//
// Resuming. state_dict() holds {epoch, batches_served, seed}: the first batch
// not yet handed out. After load_state_dict, the next loop continues that epoch
// from that batch, in the same order. A loop left early (break) without a
// load_state_dict is abandoned: the next loop starts the next epoch, as in PyTorch.
// A loop that fails before handing out its first batch served nothing: the next
// loop retries the same epoch from the same batch (a resumed one included).
//
// Workers and errors. num_workers threads load batches while the training
// step runs, at most num_workers * prefetch_factor batches ahead; 0 loads each
// batch in the calling thread. A failing get() reaches the loop as a
// lucid::Error "DataLoader: sample <index> (batch b of epoch e): <message>".
// Breaking out of the loop, an exception, or destroying the loader stops and
// joins every worker (the loop's iterator owns them; see data/epoch_run.h).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include <lucid/data/collate.h>
#include <lucid/data/dataset.h>
#include <lucid/data/epoch_run.h>
#include <lucid/data/sampler.h>
#include <lucid/kernels/device.h>
#include <lucid/kernels/ordered_dict.h>

namespace lucid::data {

// Chained setters: DataLoaderOptions(32).shuffle(true).num_workers(2). Each
// name read without an argument is the getter.
class DataLoaderOptions {
 public:
  explicit DataLoaderOptions(size_t batch_size = 1) : batch_size_(batch_size) {}

  // Samples per batch (> 0).
  DataLoaderOptions& batch_size(size_t v) { batch_size_ = v; return *this; }
  size_t batch_size() const { return batch_size_; }
  // A new seeded permutation every epoch (a RandomSampler). Not with sampler().
  DataLoaderOptions& shuffle(bool v) { shuffle_ = v; return *this; }
  bool shuffle() const { return shuffle_; }
  // The index order; default SequentialSampler (RandomSampler with shuffle).
  DataLoaderOptions& sampler(std::shared_ptr<const Sampler> v) { sampler_ = std::move(v); return *this; }
  const std::shared_ptr<const Sampler>& sampler() const { return sampler_; }
  // Drop the last batch if it is smaller than batch_size.
  DataLoaderOptions& drop_last(bool v) { drop_last_ = v; return *this; }
  bool drop_last() const { return drop_last_; }
  // Loader threads; 0 loads in the calling thread.
  DataLoaderOptions& num_workers(size_t v) { num_workers_ = v; return *this; }
  size_t num_workers() const { return num_workers_; }
  // Batches in flight per worker (> 0): up to num_workers * prefetch_factor.
  DataLoaderOptions& prefetch_factor(size_t v) { prefetch_factor_ = v; return *this; }
  size_t prefetch_factor() const { return prefetch_factor_; }
  // Samples -> batch; default default_collate (data/collate.h). Called from
  // several workers at once, so it must not mutate shared state.
  DataLoaderOptions& collate(CollateFn v) { collate_ = std::move(v); return *this; }
  const CollateFn& collate() const { return collate_; }
  // Batches in page-locked (pinned) CPU memory: Tensor::pin_memory() after
  // collate, on the worker. With a CUDA device() too, the copy to the GPU is
  // then a non_blocking one from pinned memory. Without a usable GPU (no
  // device, or a build without CUDA) it is a no-op, never an error: batches
  // stay in ordinary memory, as PyTorch does.
  DataLoaderOptions& pin_memory(bool v) { pin_memory_ = v; return *this; }
  bool pin_memory() const { return pin_memory_; }
  // Batches are copied here by the workers, ahead of the step that uses them.
  DataLoaderOptions& device(Device v) { device_ = v; return *this; }
  const std::optional<Device>& device() const { return device_; }
  // Seeds the order and the augmentation. Default: drawn from
  // default_generator() when the loader is built (PyTorch's base seed).
  DataLoaderOptions& seed(uint64_t v) { seed_ = v; return *this; }
  const std::optional<uint64_t>& seed() const { return seed_; }

 private:
  size_t batch_size_;
  bool shuffle_ = false;
  std::shared_ptr<const Sampler> sampler_;
  bool drop_last_ = false;
  size_t num_workers_ = 0;
  size_t prefetch_factor_ = 2;
  CollateFn collate_;
  bool pin_memory_ = false;
  std::optional<Device> device_;
  std::optional<uint64_t> seed_;
};

namespace detail {
// Where the loader stands; shared with the live iterator, which may outlive
// the loader (destroying a loader mid-loop must stop the workers, not crash).
struct Progress {
  std::mutex mutex;
  uint64_t epoch = 0;   // the epoch running, or the next one
  size_t served = 0;    // batches of `epoch` handed out
  bool resume = false;  // the next loop continues `epoch` at `served` (until it serves a batch)
  bool running = false; // a loop's iterator is live
};
}  // namespace detail

class DataLoader {
 public:
  class Iterator;
  struct Sentinel {};

  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = DataLoaderOptions());
  // Takes a dataset by value: DataLoader(MyDataset(...), options).
  template <class D>
    requires std::derived_from<D, Dataset>
  explicit DataLoader(D dataset, DataLoaderOptions options = DataLoaderOptions())
      : DataLoader(std::make_shared<const D>(std::move(dataset)), std::move(options)) {}
  ~DataLoader();  // stops and joins the workers of a loop still running
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Starts an epoch: loads the first batch (blocking) and returns the iterator
  // that owns the epoch's workers. One loop at a time per loader.
  Iterator begin();
  Sentinel end() const { return {}; }

  size_t size() const;  // batches per epoch
  size_t len() const { return size(); }

  uint64_t epoch() const;       // the epoch running, or the next one to run
  void set_epoch(uint64_t epoch);  // the next loop runs this epoch from its start
  uint64_t seed() const { return seed_; }
  const Dataset& dataset() const { return *dataset_; }
  const Sampler& sampler() const { return *sampler_; }
  const DataLoaderOptions& options() const { return options_; }

  // The dataset indices of batch `batch` of `epoch`, as the loop loads them:
  // what a report about one bad batch names (a non-finite loss, a crash).
  std::vector<size_t> batch_indices(uint64_t epoch, size_t batch) const;

  // {epoch, batches_served, seed}: see "Resuming" above.
  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

 private:
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  std::shared_ptr<const Sampler> sampler_;
  uint64_t seed_;
  std::shared_ptr<detail::Progress> progress_;
  std::weak_ptr<detail::EpochRun> active_;  // the running loop's workers, to stop on destruction
};

// Owns one epoch's workers (through EpochRun). Move-only; its destructor
// stops and joins them, so leaving a loop early is always safe.
class DataLoader::Iterator {
 public:
  Iterator(Iterator&&) noexcept = default;
  Iterator& operator=(Iterator&&) = delete;
  ~Iterator() { finish(); }

  Example& operator*() { return *batch_; }
  Example* operator->() { return &*batch_; }
  Iterator& operator++();  // throws the next batch's error, if it failed
  bool operator==(Sentinel) const { return !batch_.has_value(); }

 private:
  friend class DataLoader;
  Iterator(std::shared_ptr<detail::Progress> progress, std::shared_ptr<detail::EpochRun> run);
  void fetch();   // the next batch into batch_; at the end, finish()
  void finish();  // stop the workers and mark the loop over

  std::shared_ptr<detail::Progress> progress_;
  std::shared_ptr<detail::EpochRun> run_;
  std::optional<Example> batch_;
};

}  // namespace lucid::data
