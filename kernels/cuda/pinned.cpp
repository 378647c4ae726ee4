// Pinned (page-locked) host memory, cached: the idea of PyTorch's
// CachingHostAllocator.
//
// Why cache: cudaHostAlloc and cudaFreeHost are slow and synchronize the
// device, and a DataLoader pins a fresh batch every step. So a freed block is
// kept, by size class (kernels/caching_allocator.h's round_size), and handed
// out again.
//
// Why events: a block may be freed while an asynchronous copy still reads it
// (to(cuda, non_blocking) from a pinned batch that then goes out of scope) or
// writes it (a non_blocking copy to pinned memory). Each such copy records an
// event on its stream (record_pinned_use); a freed block with events waits in
// `pending_` and becomes reusable only once all of them have completed. No
// thread ever waits for the GPU here.
#include <lucid/kernels/caching_allocator.h>
#include <lucid/kernels/cuda/check.h>
#include <lucid/kernels/error.h>

#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace lucid::cuda {

namespace {

class PinnedCache {
 public:
  void* allocate(size_t nbytes) {
    const size_t size = CachingAllocator::round_size(nbytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      collect_completed();
      auto hit = free_.find(size);
      if (hit != free_.end() && !hit->second.empty()) {
        void* p = hit->second.back();
        hit->second.pop_back();
        return p;  // blocks_[p] is already there, with no events
      }
    }
    // cudaHostAlloc is slow and waits behind driver locks: not under the mutex,
    // so freeing threads never wait for it. Out of memory: give the cached
    // blocks back and try once more.
    void* p = nullptr;
    cudaError_t err = cudaHostAlloc(&p, size, cudaHostAllocDefault);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      empty();
      err = cudaHostAlloc(&p, size, cudaHostAllocDefault);
    }
    LUCID_CUDA_CHECK(err);
    std::lock_guard<std::mutex> lock(mu_);
    blocks_[p] = Block{size, {}};
    return p;
  }

  void free(void* p) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = blocks_.find(p);
    if (it == blocks_.end()) return;  // not ours: never happens through Storage
    if (it->second.events.empty())
      free_[it->second.size].push_back(p);
    else
      pending_.push_back(p);
  }

  // An asynchronous copy on `stream` uses block `p`: it is not reused before
  // the copy is done.
  void record_use(void* p, cudaStream_t stream) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = blocks_.find(p);
    if (it == blocks_.end()) return;
    // A long-lived pinned buffer copied every step would pile up events: drop
    // the ones that have completed.
    std::vector<cudaEvent_t>& events = it->second.events;
    for (size_t i = 0; i < events.size();) {
      if (cudaEventQuery(events[i]) == cudaSuccess) {
        (void)cudaEventDestroy(events[i]);
        events[i] = events.back();
        events.pop_back();
      } else {
        (void)cudaGetLastError();  // cudaErrorNotReady is not an error
        ++i;
      }
    }
    cudaEvent_t e = nullptr;
    LUCID_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    const cudaError_t err = cudaEventRecord(e, stream);
    if (err != cudaSuccess) (void)cudaEventDestroy(e);
    LUCID_CUDA_CHECK(err);
    it->second.events.push_back(e);
  }

  // Waits for pending copies, then gives every free block back to the driver.
  // The blocks are taken out under the mutex; the waiting and freeing happen
  // outside it.
  void empty() {
    std::vector<std::pair<void*, std::vector<cudaEvent_t>>> to_free;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (void* p : pending_) {
        to_free.emplace_back(p, std::move(blocks_[p].events));
        blocks_.erase(p);
      }
      pending_.clear();
      for (auto& [size, ptrs] : free_)
        for (void* p : ptrs) {
          to_free.emplace_back(p, std::vector<cudaEvent_t>{});
          blocks_.erase(p);
        }
      free_.clear();
    }
    for (auto& [p, events] : to_free) {
      for (cudaEvent_t e : events) {
        (void)cudaEventSynchronize(e);
        (void)cudaEventDestroy(e);
      }
      (void)cudaFreeHost(p);
    }
  }

 private:
  struct Block {
    size_t size = 0;
    std::vector<cudaEvent_t> events;  // copies that may still use the block
  };

  // Pending blocks whose copies have all finished become free.
  void collect_completed() {
    for (size_t i = 0; i < pending_.size();) {
      Block& b = blocks_[pending_[i]];
      bool done = true;
      for (cudaEvent_t e : b.events) {
        const cudaError_t err = cudaEventQuery(e);
        if (err == cudaErrorNotReady) {
          (void)cudaGetLastError();
          done = false;
          break;
        }
        LUCID_CUDA_CHECK(err);
      }
      if (!done) {
        ++i;
        continue;
      }
      for (cudaEvent_t e : b.events) (void)cudaEventDestroy(e);
      b.events.clear();
      free_[b.size].push_back(pending_[i]);
      pending_[i] = pending_.back();
      pending_.pop_back();
    }
  }

  std::mutex mu_;
  std::unordered_map<void*, Block> blocks_;    // every block we own
  std::map<size_t, std::vector<void*>> free_;  // size class -> reusable blocks
  std::vector<void*> pending_;                 // freed, copies maybe in flight
};

// Lives until exit: pinned tensors may die in static destructors.
PinnedCache& cache() {
  static PinnedCache* c = new PinnedCache();
  return *c;
}

}  // namespace

void* detail::pinned_alloc(size_t nbytes) {
  LUCID_CHECK(is_available(), "pin_memory: no CUDA device: ", unavailable_reason());
  return cache().allocate(nbytes);
}

void detail::pinned_free(void* ptr) {
  try {
    cache().free(ptr);
  } catch (...) {
    // a destructor path: never throws
  }
}

void detail::record_pinned_use(void* ptr, void* stream) {
  cache().record_use(ptr, static_cast<cudaStream_t>(stream));
}

void detail::empty_pinned_cache() { cache().empty(); }

}  // namespace lucid::cuda
