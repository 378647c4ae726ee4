// CachingAllocator: the idea behind PyTorch's CUDA caching allocator, small
// enough to read in one sitting.
//
// cudaMalloc and cudaFree are slow (cudaFree also waits for the whole device),
// and a training step frees and re-allocates the same sizes every iteration.
// So a freed block is not given back: it goes into a pool keyed by its size
// class and the stream it was used on, and the next request of that class on
// that stream takes it. Reuse on the same stream is safe without any waiting:
// kernels on one stream run in order, so the new owner's kernels start after
// the old owner's have finished. (A tensor used on a second stream must be
// synchronized by the user before it dies, as with PyTorch's record_stream.)
//
// Size classes: requests round up to a multiple of 512 bytes up to 1 MiB, and
// to a multiple of 2 MiB above. Blocks are never split or merged.
//
// Out of memory: the backend returns nullptr; the allocator frees every cached
// block (empty_cache) and tries once more, then throws lucid::Error naming the
// request and the allocated and reserved bytes.
//
// The raw allocation is a Backend (cudaMalloc for a GPU, or a fake one in the
// tests), so the pooling and statistics are tested on any machine.
//
// With caching off (LUCID_NO_CUDA_MEMORY_CACHING=1 for the GPU allocator, as
// PyTorch's PYTORCH_NO_CUDA_MEMORY_CACHING) every request goes to the backend at
// its exact size and every free returns at once: slow, but each tensor is then
// its own cudaMalloc, so a memory checker (compute-sanitizer, the CPU emulator)
// sees an access past a tensor's end instead of inside a larger cached block.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace lucid {

// PyTorch's names: allocated (handed out), reserved (allocated + cached).
struct MemoryStats {
  int64_t allocated = 0;
  int64_t max_allocated = 0;
  int64_t reserved = 0;
  int64_t max_reserved = 0;
  int64_t num_alloc_retries = 0;  // times the cache was emptied to satisfy a request
  int64_t num_ooms = 0;           // requests that failed even then
};

class CachingAllocator {
 public:
  struct Backend {
    std::function<void*(size_t)> raw_alloc;  // nullptr when out of memory
    std::function<void(void*)> raw_free;
    std::function<std::string()> describe;   // e.g. "cuda:0 (3.2 GiB free of 80 GiB)"
  };

  static constexpr size_t kSmallLimit = size_t{1} << 20;  // 1 MiB
  static constexpr size_t kSmallStep = 512;
  static constexpr size_t kLargeStep = size_t{2} << 20;   // 2 MiB
  // The block size a request of `nbytes` gets (0 bytes still takes 512).
  static size_t round_size(size_t nbytes);

  explicit CachingAllocator(Backend backend, bool caching = true)
      : backend_(std::move(backend)), caching_(caching) {}
  ~CachingAllocator();  // returns every block, cached or not, to the backend
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // A block of at least `nbytes` for use on `stream` (any id; 0 is the default).
  void* allocate(size_t nbytes, uintptr_t stream = 0);
  // Returns the block to its pool; nullptr is ignored.
  void free(void* ptr);
  void empty_cache();

  MemoryStats stats() const;
  void reset_peak_stats();  // max_* = current values
  bool caching() const { return caching_; }

 private:
  struct Block {
    size_t size;
    uintptr_t stream;
  };
  using PoolKey = std::pair<uintptr_t, size_t>;  // (stream, size class)

  void empty_cache_locked();

  Backend backend_;
  bool caching_;
  mutable std::mutex mu_;
  std::unordered_map<void*, Block> live_;          // handed out
  std::map<PoolKey, std::vector<void*>> cached_;   // free, kept for reuse
  MemoryStats stats_;
};

}  // namespace lucid
