#pragma once
// EpochRun: the machinery behind one pass of a DataLoader (data/dataloader.h).
// Users do not touch it; it is a header so that the loader's header can name it.
//
//   EpochPlan      everything one epoch needs: dataset, index order, batching, seed
//   num_batches    how many batches n indices make
//   EpochRun       worker threads + a reorder buffer; next() hands out batches in order
//
// How the workers cooperate (num_workers > 0):
//   - Batches are numbered in sampler order. A worker takes the lowest batch
//     nobody has taken (next_job_), loads it, and files the result under its
//     number in `done_` (the reorder buffer). The consumer's next() waits for
//     batch next_out_ to appear there, so batches come out in order however the
//     workers race.
//   - At most `capacity` = num_workers * prefetch_factor batches are taken but
//     not yet handed out: a worker waits while next_job_ >= next_out_ + capacity.
//     This bounds memory, and keeps workers busy while the training step runs.
//   - One mutex guards next_job_, next_out_, done_ and stopping_; `work_ready_`
//     wakes workers (a slot was freed, or stop), `batch_ready_` wakes the
//     consumer (a batch was filed, or stop).
//   - stop() sets stopping_, wakes everyone and joins every thread. A worker
//     finishes the batch in hand first (a get() cannot be interrupted). The
//     destructor calls stop(), so no thread outlives its EpochRun.
//   - A failing batch (get, collate or device copy) is filed as an exception
//     and rethrown by next() when the consumer reaches that batch.
// With num_workers = 0, next() loads each batch in the calling thread.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <lucid/data/collate.h>
#include <lucid/data/dataset.h>
#include <lucid/kernels/device.h>

namespace lucid::data::detail {

struct EpochPlan {
  std::shared_ptr<const Dataset> dataset;
  std::vector<size_t> indices;  // the epoch's sampler order
  size_t batch_size = 1;
  bool drop_last = false;
  size_t first_batch = 0;  // > 0 when resuming mid-epoch
  uint64_t seed = 0;
  uint64_t epoch = 0;
  CollateFn collate;              // empty: default_collate
  std::optional<Device> device;   // where batches are copied, if anywhere
  bool pin_memory = false;        // collate into pinned memory (set only when a GPU is usable)
  size_t num_workers = 0;
  size_t prefetch_factor = 2;
};

// ceil(n / batch_size), or floor with drop_last.
size_t num_batches(size_t num_indices, size_t batch_size, bool drop_last);

class EpochRun {
 public:
  explicit EpochRun(EpochPlan plan);  // starts the workers
  ~EpochRun() { stop(); }
  EpochRun(const EpochRun&) = delete;
  EpochRun& operator=(const EpochRun&) = delete;

  // The next batch in sampler order, or nullopt once the epoch is done.
  // Throws the batch's lucid::Error if loading it failed, or if stop() was called.
  std::optional<Example> next();

  // Stops and joins every worker. Safe to call twice and from two threads.
  void stop();

 private:
  Example load_batch(size_t batch) const;  // get + collate + device copy
  void worker_loop();

  struct Slot {
    Example batch;
    std::exception_ptr error;
  };

  const EpochPlan plan_;
  const size_t end_;       // one past the last batch
  const size_t capacity_;  // batches in flight at most

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable batch_ready_;
  size_t next_job_;   // lowest batch no worker has taken
  size_t next_out_;   // the batch next() hands out next
  std::map<size_t, Slot> done_;  // loaded, not yet handed out
  bool stopping_ = false;

  std::mutex join_mutex_;  // one stop() joins at a time
  std::vector<std::thread> workers_;
};

}  // namespace lucid::data::detail
