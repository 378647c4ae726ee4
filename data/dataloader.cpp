#include <lucid/data/dataloader.h>

#include <algorithm>
#include <string>
#include <utility>

#include <lucid/kernels/cuda/runtime.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>
#include <lucid/kernels/philox.h>

namespace lucid::data {

namespace {

// 64 bits from the default generator: the loader's base seed, as PyTorch
// draws one from its default generator per iterator.
uint64_t draw_seed() {
  uint32_t words[2];
  default_generator().fill_uint32(words, 2);
  return words[0] | (static_cast<uint64_t>(words[1]) << 32);
}

std::shared_ptr<const Sampler> choose_sampler(const DataLoaderOptions& o, size_t size) {
  if (o.sampler()) return o.sampler();
  if (o.shuffle()) return std::make_shared<RandomSampler>(size);
  return std::make_shared<SequentialSampler>(size);
}

}  // namespace

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)),
      progress_(std::make_shared<detail::Progress>()) {
  LUCID_CHECK(dataset_ != nullptr, "DataLoader: the dataset is null");
  LUCID_CHECK(options_.batch_size() > 0, "DataLoader: batch_size must be positive");
  LUCID_CHECK(options_.prefetch_factor() > 0, "DataLoader: prefetch_factor must be positive");
  LUCID_CHECK(!(options_.sampler() && options_.shuffle()),
              "DataLoader: the sampler option is mutually exclusive with shuffle");
  if (options_.device()) {
    // Fail here, not on the first batch: the same error Tensor::to gives.
    try {
      empty({0}).to(*options_.device());
    } catch (const Error& e) {
      throw Error("DataLoader: device " + options_.device()->str() + ": " + e.what());
    }
  }
  sampler_ = choose_sampler(options_, dataset_->size());
  seed_ = options_.seed() ? *options_.seed() : draw_seed();
}

DataLoader::~DataLoader() {
  if (std::shared_ptr<detail::EpochRun> run = active_.lock()) run->stop();
}

size_t DataLoader::size() const {
  return detail::num_batches(sampler_->size(), options_.batch_size(), options_.drop_last());
}

std::vector<size_t> DataLoader::batch_indices(uint64_t epoch, size_t batch) const {
  LUCID_CHECK(batch < size(), "DataLoader.batch_indices: batch ", batch, " of an epoch of ", size(), " batches");
  const std::vector<size_t> order = sampler_->indices(seed_, epoch);
  const size_t first = batch * options_.batch_size();
  const size_t last = std::min(order.size(), first + options_.batch_size());
  return std::vector<size_t>(order.begin() + static_cast<std::ptrdiff_t>(first),
                             order.begin() + static_cast<std::ptrdiff_t>(last));
}

uint64_t DataLoader::epoch() const {
  std::lock_guard lock(progress_->mutex);
  return progress_->epoch;
}

void DataLoader::set_epoch(uint64_t epoch) {
  std::lock_guard lock(progress_->mutex);
  LUCID_CHECK(!progress_->running, "DataLoader.set_epoch: a loop over this loader is running");
  progress_->epoch = epoch;
  progress_->served = 0;
  progress_->resume = false;
}

StateDict DataLoader::state_dict() const {
  std::lock_guard lock(progress_->mutex);
  StateDict state("entry");
  state.insert("epoch", state_int(static_cast<int64_t>(progress_->epoch)));
  state.insert("batches_served", state_int(static_cast<int64_t>(progress_->served)));
  state.insert("seed", state_int(static_cast<int64_t>(seed_)));  // bits kept: uint64 <-> int64
  return state;
}

void DataLoader::load_state_dict(const StateDict& state) {
  const char* who = "DataLoader.load_state_dict";
  const int64_t epoch = read_int(state, "epoch", who);
  const int64_t served = read_int(state, "batches_served", who);
  const uint64_t seed = static_cast<uint64_t>(read_int(state, "seed", who));
  LUCID_CHECK(epoch >= 0 && served >= 0, who, ": negative epoch ", epoch, " or batches_served ",
              served);
  LUCID_CHECK(static_cast<size_t>(served) <= size(), who, ": batches_served ", served,
              " is more than the ", size(), " batches of an epoch");
  std::lock_guard lock(progress_->mutex);
  LUCID_CHECK(!progress_->running, who, ": a loop over this loader is running");
  seed_ = seed;
  progress_->epoch = static_cast<uint64_t>(epoch);
  progress_->served = static_cast<size_t>(served);
  progress_->resume = true;
}

DataLoader::Iterator DataLoader::begin() {
  detail::EpochPlan plan;
  {
    std::lock_guard lock(progress_->mutex);
    LUCID_CHECK(!progress_->running, "DataLoader: a loop over this loader is already running; "
                "finish it (or destroy its iterator) before starting another");
    if (!progress_->resume && progress_->served > 0) {  // an abandoned loop: next epoch
      ++progress_->epoch;
      progress_->served = 0;
    }
    // `resume` stays set until the first batch is handed out (fetch): a loop whose first batch
    // fails has served nothing of its own, so a retry continues the same epoch at the same batch.
    progress_->running = true;
    plan.epoch = progress_->epoch;
    plan.first_batch = progress_->served;
  }
  std::shared_ptr<detail::EpochRun> run;
  try {
    plan.dataset = dataset_;
    plan.indices = sampler_->indices(seed_, plan.epoch);
    plan.batch_size = options_.batch_size();
    plan.drop_last = options_.drop_last();
    plan.seed = seed_;
    plan.collate = options_.collate();
    plan.device = options_.device();
    plan.pin_memory = options_.pin_memory() && cuda::is_available();  // a no-op without a GPU
    plan.num_workers = options_.num_workers();
    plan.prefetch_factor = options_.prefetch_factor();
    run = std::make_shared<detail::EpochRun>(std::move(plan));
  } catch (...) {
    std::lock_guard lock(progress_->mutex);
    progress_->running = false;
    throw;
  }
  active_ = run;
  return Iterator(progress_, std::move(run));
}

// ---- Iterator ------------------------------------------------------------------------
DataLoader::Iterator::Iterator(std::shared_ptr<detail::Progress> progress,
                               std::shared_ptr<detail::EpochRun> run)
    : progress_(std::move(progress)), run_(std::move(run)) {
  try {
    fetch();
  } catch (...) {
    finish();  // the destructor will not run: stop the workers here
    throw;
  }
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  fetch();
  return *this;
}

void DataLoader::Iterator::fetch() {
  LUCID_CHECK(run_ != nullptr, "DataLoader: ++ on an iterator past the end");
  batch_.reset();  // free the previous batch before the next arrives
  batch_ = run_->next();
  if (batch_) {
    std::lock_guard lock(progress_->mutex);
    ++progress_->served;
    progress_->resume = false;  // this loop has served a batch: leaving it now abandons it
    return;
  }
  run_.reset();  // the epoch is complete and the workers have exited: join them
  std::lock_guard lock(progress_->mutex);
  ++progress_->epoch;
  progress_->served = 0;
  progress_->resume = false;
  progress_->running = false;
}

void DataLoader::Iterator::finish() {
  if (!run_) return;  // moved from, or the epoch completed
  run_->stop();
  run_.reset();
  std::lock_guard lock(progress_->mutex);
  progress_->running = false;
}

}  // namespace lucid::data
