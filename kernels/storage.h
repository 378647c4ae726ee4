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
  // Allocates `nbytes` on `device` (64-byte aligned on the CPU).
  Storage(size_t nbytes, Device device);
  // Wraps memory owned elsewhere (from_blob); `deleter` runs when the storage dies.
  Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  std::function<void(void*)> deleter_;  // empty: lucid's allocator owns data_
  std::atomic<uint32_t> version_{0};
};

// Allocator statistics for a device, named as PyTorch's torch.cuda.memory_*.
// On the CPU they count the bytes of live lucid-owned storages.
int64_t memory_allocated(Device device = Device());
int64_t max_memory_allocated(Device device = Device());
void reset_peak_memory_stats(Device device = Device());

}  // namespace lucid
