#include <lucid/kernels/caching_allocator.h>
#include <lucid/kernels/error.h>

#include <algorithm>

namespace lucid {

size_t CachingAllocator::round_size(size_t nbytes) {
  if (nbytes <= kSmallLimit) return std::max<size_t>(1, (nbytes + kSmallStep - 1) / kSmallStep) * kSmallStep;
  LUCID_CHECK(nbytes <= SIZE_MAX - kLargeStep, "CachingAllocator: request of ", nbytes,
              " bytes is too large");
  return (nbytes + kLargeStep - 1) / kLargeStep * kLargeStep;
}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mu_);
  empty_cache_locked();
  for (auto& [ptr, block] : live_) backend_.raw_free(ptr);  // leaked tensors at exit
}

void* CachingAllocator::allocate(size_t nbytes, uintptr_t stream) {
  const size_t size = caching_ ? round_size(nbytes) : std::max<size_t>(nbytes, 1);
  std::lock_guard<std::mutex> lock(mu_);
  void* ptr = nullptr;
  auto hit = cached_.find({stream, size});
  if (caching_ && hit != cached_.end() && !hit->second.empty()) {
    ptr = hit->second.back();  // most recently freed: likely still in L2
    hit->second.pop_back();
    if (hit->second.empty()) cached_.erase(hit);  // cached_ holds no empty pools
  } else {
    ptr = backend_.raw_alloc(size);
    if (ptr == nullptr && !cached_.empty()) {  // give the cache back and try once more
      ++stats_.num_alloc_retries;
      empty_cache_locked();
      ptr = backend_.raw_alloc(size);
    }
    if (ptr == nullptr) {
      ++stats_.num_ooms;
      throw Error(detail::str_cat("out of memory: tried to allocate ", nbytes, " bytes (block of ",
                                  size, ") on ", backend_.describe ? backend_.describe() : "device",
                                  "; ", stats_.allocated, " bytes allocated, ", stats_.reserved,
                                  " bytes reserved by lucid"));
    }
    stats_.reserved += static_cast<int64_t>(size);
    stats_.max_reserved = std::max(stats_.max_reserved, stats_.reserved);
  }
  live_.emplace(ptr, Block{size, stream});
  stats_.allocated += static_cast<int64_t>(size);
  stats_.max_allocated = std::max(stats_.max_allocated, stats_.allocated);
  return ptr;
}

void CachingAllocator::free(void* ptr) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(ptr);
  LUCID_CHECK(it != live_.end(), "CachingAllocator::free: pointer ", ptr,
              " was not allocated here (or was freed twice)");
  const Block block = it->second;
  live_.erase(it);
  stats_.allocated -= static_cast<int64_t>(block.size);
  if (caching_) {
    cached_[{block.stream, block.size}].push_back(ptr);
  } else {
    backend_.raw_free(ptr);
    stats_.reserved -= static_cast<int64_t>(block.size);
  }
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  empty_cache_locked();
}

void CachingAllocator::empty_cache_locked() {
  for (auto& [key, ptrs] : cached_) {
    for (void* p : ptrs) backend_.raw_free(p);
    stats_.reserved -= static_cast<int64_t>(key.second * ptrs.size());
  }
  cached_.clear();
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CachingAllocator::reset_peak_stats() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.max_allocated = stats_.allocated;
  stats_.max_reserved = stats_.reserved;
}

}  // namespace lucid
