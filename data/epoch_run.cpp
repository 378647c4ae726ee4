#include <lucid/data/epoch_run.h>

#include <algorithm>
#include <string>
#include <utility>

#include <lucid/kernels/error.h>

namespace lucid::data::detail {

namespace {

std::string what_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// "12, 13, 14" (the first few, then "...").
std::string list_indices(const std::vector<size_t>& indices) {
  std::string out;
  const size_t shown = std::min<size_t>(indices.size(), 8);
  for (size_t k = 0; k < shown; ++k) out += (k ? ", " : "") + std::to_string(indices[k]);
  if (shown < indices.size()) out += ", ...";
  return out;
}

}  // namespace

size_t num_batches(size_t num_indices, size_t batch_size, bool drop_last) {
  return drop_last ? num_indices / batch_size : (num_indices + batch_size - 1) / batch_size;
}

EpochRun::EpochRun(EpochPlan plan)
    : plan_(std::move(plan)),
      end_(num_batches(plan_.indices.size(), plan_.batch_size, plan_.drop_last)),
      capacity_(std::max<size_t>(1, plan_.num_workers * plan_.prefetch_factor)),
      next_job_(std::min(plan_.first_batch, end_)),
      next_out_(next_job_) {
  try {
    for (size_t w = 0; w < plan_.num_workers; ++w) workers_.emplace_back([this] { worker_loop(); });
  } catch (...) {
    stop();  // the threads already started must not outlive us
    throw;
  }
}

void EpochRun::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  batch_ready_.notify_all();
  std::lock_guard join_lock(join_mutex_);
  for (std::thread& t : workers_)
    if (t.joinable()) t.join();
}

std::optional<Example> EpochRun::next() {
  if (plan_.num_workers == 0) {
    size_t batch;
    {
      std::lock_guard lock(mutex_);
      LUCID_CHECK(!stopping_, "DataLoader: this iteration was stopped (the loader was destroyed)");
      if (next_out_ == end_) return std::nullopt;
      batch = next_out_++;
    }
    return load_batch(batch);
  }
  Slot slot;
  {
    std::unique_lock lock(mutex_);
    if (next_out_ == end_) return std::nullopt;
    batch_ready_.wait(lock, [&] { return stopping_ || done_.count(next_out_) != 0; });
    LUCID_CHECK(!stopping_, "DataLoader: this iteration was stopped (the loader was destroyed)");
    slot = std::move(done_.extract(next_out_).mapped());
    ++next_out_;
  }
  work_ready_.notify_one();  // one more batch may now be taken
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

void EpochRun::worker_loop() {
  for (;;) {
    size_t batch;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [&] {
        return stopping_ || next_job_ == end_ || next_job_ < next_out_ + capacity_;
      });
      if (stopping_ || next_job_ == end_) return;
      batch = next_job_++;
    }
    Slot slot;
    try {
      slot.batch = load_batch(batch);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      done_.emplace(batch, std::move(slot));
    }
    batch_ready_.notify_one();  // only the consumer waits on it
  }
}

Example EpochRun::load_batch(size_t batch) const {
  const size_t begin = batch * plan_.batch_size;
  const size_t end = std::min(begin + plan_.batch_size, plan_.indices.size());
  const std::vector<size_t> indices(plan_.indices.begin() + static_cast<std::ptrdiff_t>(begin),
                                    plan_.indices.begin() + static_cast<std::ptrdiff_t>(end));
  const Dataset& dataset = *plan_.dataset;
  std::vector<Example> samples;
  samples.reserve(indices.size());
  for (size_t index : indices) {
    LUCID_CHECK(index < dataset.size(), "DataLoader: the sampler gave index ", index,
                " (batch ", batch, " of epoch ", plan_.epoch, "), but the dataset has ",
                dataset.size(), " samples");
    // Augmentation in get() draws from a generator seeded by (seed, epoch,
    // index) alone: the same sample is the same for any worker count.
    SampleScope scope(plan_.seed, plan_.epoch, index);
    try {
      samples.push_back(dataset.get(index));
    } catch (...) {
      throw Error("DataLoader: sample " + std::to_string(index) + " (batch " +
                  std::to_string(batch) + " of epoch " + std::to_string(plan_.epoch) +
                  "): " + what_of(std::current_exception()));
    }
  }
  Example out;
  try {
    out = plan_.collate ? plan_.collate(samples) : default_collate(samples, indices);
  } catch (...) {
    throw Error("DataLoader: collating batch " + std::to_string(batch) + " of epoch " +
                std::to_string(plan_.epoch) + " (samples " + list_indices(indices) +
                "): " + what_of(std::current_exception()));
  }
  // Pinning and the copy to the device happen here, on the worker, so the
  // batch is ready when the training step asks for it. From pinned memory the
  // copy to a GPU is asynchronous (non_blocking): it runs on this thread's
  // current stream, the device's default stream unless the dataset set another,
  // which orders it before the training step's kernels. The pinned source
  // may be dropped at once: the copy recorded an event on its block, which the
  // pinned-memory cache does not hand out again before the copy is done
  // (kernels/cuda/pinned.cpp).
  auto place = [&](Tensor& t) {
    if (!t.defined()) return;
    if (plan_.pin_memory && t.is_cpu()) t = t.pin_memory();
    if (plan_.device) t = t.to(*plan_.device, /*non_blocking=*/t.is_cpu() && t.is_pinned());
  };
  place(out.data);
  place(out.target);
  return out;
}

}  // namespace lucid::data::detail
