// Storage: one reference-counted block of memory that tensors view.
//
// Views (transpose, narrow, expand, ...) share one Storage and differ only in
// sizes/strides/offset. The storage also carries the version counter that
// autograd uses to notice an in-place change to a tensor it saved.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include <lucid/kernels/device.h>

namespace lucid {

class Storage {
 public:
  // Allocates `nbytes` on `device`: 64-byte aligned on the CPU (page-locked
  // through CUDA if `pinned`), from the caching allocator on a GPU.
  Storage(size_t nbytes, Device device, bool pinned = false);
  // Wraps memory owned elsewhere (from_blob); `deleter` runs when the storage dies.
  Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  bool is_pinned() const { return pinned_; }

  uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  bool pinned_ = false;
  bool counted_ = false;                // in the CPU statistics
  std::function<void(void*)> deleter_;  // empty: std::free
  std::atomic<uint32_t> version_{0};
};

// Allocator statistics for a device, named as PyTorch's torch.cuda.memory_*.
// On the CPU they count the bytes of live lucid-owned storages (pinned ones
// too), and reserved == allocated (freed pinned blocks kept for reuse by the
// pinned cache, kernels/cuda/pinned.cpp, are not counted). On a
// GPU they are the caching allocator's (kernels/cuda/runtime.h).
int64_t memory_allocated(Device device = Device());
int64_t max_memory_allocated(Device device = Device());
int64_t memory_reserved(Device device = Device());
int64_t max_memory_reserved(Device device = Device());
void reset_peak_memory_stats(Device device = Device());

}  // namespace lucid
