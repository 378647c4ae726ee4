// Device memory: one CachingAllocator (kernels/caching_allocator.h) per GPU,
// backed by cudaMalloc/cudaFree. (Pinned host memory: kernels/cuda/pinned.cpp.)
#include <lucid/kernels/caching_allocator.h>
#include <lucid/kernels/cuda/check.h>
#include <lucid/kernels/error.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

namespace lucid::cuda {

namespace {

CachingAllocator::Backend cuda_backend(int device) {
  CachingAllocator::Backend b;
  b.raw_alloc = [device](size_t n) -> void* {
    DeviceGuard g(device);
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, n);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();  // out of memory is not sticky: clear it and report nullptr
      return nullptr;
    }
    LUCID_CUDA_CHECK(err);
    return p;
  };
  // cudaFree waits for the device; at program exit the runtime may already be
  // unloading, so errors here are ignored (a destructor must not throw).
  b.raw_free = [device](void* p) {
    int previous = -1;
    if (cudaGetDevice(&previous) != cudaSuccess) return;
    if (cudaSetDevice(device) == cudaSuccess) (void)cudaFree(p);
    (void)cudaSetDevice(previous);  // the caller's current device is left as it was
  };
  b.describe = [device] {
    DeviceGuard g(device);
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
      (void)cudaGetLastError();
      return "cuda:" + std::to_string(device);
    }
    return lucid::detail::str_cat("cuda:", device, " (", free_b, " bytes free of ", total_b, ")");
  };
  return b;
}

// Created on first use; lives until exit (tensors may die in static destructors).
// LUCID_NO_CUDA_MEMORY_CACHING=1 turns caching off (kernels/caching_allocator.h):
// for memory checkers, as PyTorch's PYTORCH_NO_CUDA_MEMORY_CACHING.
bool caching_from_env() {
  const char* env = std::getenv("LUCID_NO_CUDA_MEMORY_CACHING");
  return env == nullptr || std::string(env) != "1";
}

CachingAllocator& allocator(int device) {
  static std::vector<std::unique_ptr<CachingAllocator>>* all = [] {
    auto* v = new std::vector<std::unique_ptr<CachingAllocator>>();
    const bool caching = caching_from_env();
    for (int d = 0; d < device_count(); ++d)
      v->push_back(std::make_unique<CachingAllocator>(cuda_backend(d), caching));
    return v;
  }();
  const int d = device < 0 ? current_device() : device;
  LUCID_CHECK(d < static_cast<int>(all->size()), "cuda: device ", d, " does not exist (", all->size(),
              " CUDA devices)");
  return *(*all)[d];
}

std::atomic<bool>& poison() {
  static std::atomic<bool> on{[] {
    const char* env = std::getenv("LUCID_CUDA_POISON");
    return env != nullptr && std::string(env) == "1";
  }()};
  return on;
}

}  // namespace

void detail::set_poison_allocations(bool on) { poison() = on; }
bool detail::memory_caching_enabled() { return caching_from_env(); }

void* detail::device_alloc(size_t nbytes, int device) {
  void* s = current_stream_handle(device);
  void* p = allocator(device).allocate(nbytes, reinterpret_cast<uintptr_t>(s));
  if (poison() && nbytes > 0) {
    try {
      DeviceGuard g(device < 0 ? current_device() : device);
      LUCID_CUDA_CHECK(cudaMemsetAsync(p, 0xFF, nbytes, static_cast<cudaStream_t>(s)));
    } catch (...) {
      allocator(device).free(p);
      throw;
    }
  }
  return p;
}

void detail::device_free(void* ptr, int device) { allocator(device).free(ptr); }

// Without a GPU nothing was ever allocated: the statistics read 0.
int64_t memory_allocated(int device) { return is_available() ? allocator(device).stats().allocated : 0; }
int64_t max_memory_allocated(int device) { return is_available() ? allocator(device).stats().max_allocated : 0; }
int64_t memory_reserved(int device) { return is_available() ? allocator(device).stats().reserved : 0; }
int64_t max_memory_reserved(int device) { return is_available() ? allocator(device).stats().max_reserved : 0; }
void reset_peak_memory_stats(int device) {
  if (is_available()) allocator(device).reset_peak_stats();
}

void empty_cache() {
  for (int d = 0; d < device_count(); ++d) allocator(d).empty_cache();
  if (is_available()) detail::empty_pinned_cache();
}

}  // namespace lucid::cuda
