// The caching allocator's pools and statistics, on a fake backend that hands
// out host memory and can be told to run out: the same class serves every GPU
// (kernels/cuda/allocator.cpp), so its bookkeeping is tested on any machine.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <set>

#include <lucid/lucid.h>
#include <lucid/kernels/caching_allocator.h>

using lucid::CachingAllocator;

namespace {

// A backend with a byte budget; counts the raw calls.
struct FakeDevice {
  size_t budget = 0;
  size_t used = 0;
  int raw_allocs = 0;
  int raw_frees = 0;
  std::set<void*> live;

  CachingAllocator::Backend backend() {
    CachingAllocator::Backend b;
    b.raw_alloc = [this](size_t n) -> void* {
      if (used + n > budget) return nullptr;
      void* p = std::malloc(n);
      used += n;
      ++raw_allocs;
      live.insert(p);
      sizes[p] = n;
      return p;
    };
    b.raw_free = [this](void* p) {
      REQUIRE(live.count(p) == 1);
      live.erase(p);
      used -= sizes[p];
      ++raw_frees;
      std::free(p);
    };
    b.describe = [] { return std::string("fake:0"); };
    return b;
  }
  std::map<void*, size_t> sizes;
};

}  // namespace

TEST_CASE("size classes: 512-byte steps up to 1 MiB, 2 MiB steps above") {
  CHECK(CachingAllocator::round_size(0) == 512);
  CHECK(CachingAllocator::round_size(1) == 512);
  CHECK(CachingAllocator::round_size(512) == 512);
  CHECK(CachingAllocator::round_size(513) == 1024);
  CHECK(CachingAllocator::round_size(4000) == 4096);
  CHECK(CachingAllocator::round_size(1 << 20) == (1 << 20));
  CHECK(CachingAllocator::round_size((1 << 20) + 1) == (2 << 20));
  CHECK(CachingAllocator::round_size((5 << 20) + 7) == (6 << 20));
}

TEST_CASE("allocated, reserved and peaks are exact; freed blocks are reused, not returned") {
  FakeDevice dev;
  dev.budget = 64 << 20;
  CachingAllocator a(dev.backend());
  void* p = a.allocate(4000);  // 4096-byte block
  void* q = a.allocate(100);   // 512
  CHECK(a.stats().allocated == 4096 + 512);
  CHECK(a.stats().reserved == 4096 + 512);
  a.free(p);
  CHECK(a.stats().allocated == 512);
  CHECK(a.stats().reserved == 4096 + 512);  // cached, not returned
  CHECK(a.stats().max_allocated == 4096 + 512);
  CHECK(dev.raw_frees == 0);

  void* r = a.allocate(3900);  // same size class: the cached block comes back
  CHECK(r == p);
  CHECK(dev.raw_allocs == 2);
  a.reset_peak_stats();
  CHECK(a.stats().max_allocated == 4096 + 512);
  a.free(r);
  a.free(q);
  CHECK(a.stats().allocated == 0);
  CHECK(a.stats().max_allocated == 4096 + 512);  // the peak stays until reset
  a.reset_peak_stats();
  CHECK(a.stats().max_allocated == 0);

  a.empty_cache();
  CHECK(a.stats().reserved == 0);
  CHECK(dev.raw_frees == 2);
  CHECK(dev.live.empty());
}

TEST_CASE("blocks are reused only on the stream they were used on") {
  FakeDevice dev;
  dev.budget = 64 << 20;
  CachingAllocator a(dev.backend());
  void* p = a.allocate(1000, /*stream=*/1);
  a.free(p);
  void* q = a.allocate(1000, /*stream=*/2);
  CHECK(q != p);  // stream 2 must not take a block stream 1 may still be using
  void* r = a.allocate(1000, /*stream=*/1);
  CHECK(r == p);
  a.free(q);
  a.free(r);
}

TEST_CASE("out of memory: the cache is emptied and the request retried, then a clear error") {
  FakeDevice dev;
  dev.budget = 8 << 20;
  CachingAllocator a(dev.backend());
  void* p = a.allocate(6 << 20);  // 6 MiB block
  a.free(p);                       // cached: 6 of 8 MiB reserved
  void* q = a.allocate(4 << 20);   // does not fit beside it: cache emptied, retried
  CHECK(q != nullptr);
  CHECK(a.stats().num_alloc_retries == 1);
  CHECK(a.stats().reserved == (4 << 20));
  try {
    (void)a.allocate(5 << 20);
    FAIL("expected out of memory");
  } catch (const lucid::Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("out of memory") != std::string::npos);
    CHECK(msg.find("5242880 bytes") != std::string::npos);   // the request
    CHECK(msg.find("4194304 bytes allocated") != std::string::npos);
    CHECK(msg.find("fake:0") != std::string::npos);
  }
  CHECK(a.stats().num_ooms == 1);
  CHECK(a.stats().allocated == (4 << 20));  // the failure changed nothing
  a.free(q);
}

TEST_CASE("freeing an unknown pointer is an error, not corruption") {
  FakeDevice dev;
  dev.budget = 1 << 20;
  CachingAllocator a(dev.backend());
  int x = 0;
  CHECK_THROWS_AS(a.free(&x), lucid::Error);
  a.free(nullptr);  // ignored, as free(nullptr)
}

TEST_CASE("the CPU allocator reports the same statistics: allocated, reserved, peak") {
  const lucid::Device cpu;
  lucid::reset_peak_memory_stats(cpu);
  const int64_t base = lucid::memory_allocated(cpu);
  CHECK(lucid::memory_reserved(cpu) == base);
  {
    lucid::Tensor t = lucid::empty({1000});
    CHECK(lucid::memory_allocated(cpu) == base + 4000);
    CHECK(lucid::memory_reserved(cpu) == base + 4000);
    CHECK(lucid::max_memory_allocated(cpu) >= base + 4000);
  }
  CHECK(lucid::memory_allocated(cpu) == base);
  CHECK(lucid::max_memory_allocated(cpu) >= base + 4000);
  lucid::reset_peak_memory_stats(cpu);
  CHECK(lucid::max_memory_allocated(cpu) == base);
}

TEST_CASE("without a GPU, CUDA entry points fail clearly") {
  if (lucid::cuda::is_available()) return;  // tests/gpu covers the GPU side
  CHECK(lucid::cuda::device_count() == 0);
  CHECK(!lucid::cuda::unavailable_reason().empty());
  CHECK_THROWS_AS((void)lucid::empty({3}, lucid::Device(lucid::kCUDA, 0)), lucid::Error);
  CHECK_THROWS_AS((void)lucid::ones({3}).cuda(), lucid::Error);
  CHECK_THROWS_AS((void)lucid::ones({3}).pin_memory(), lucid::Error);
}

TEST_CASE("caching off: exact sizes from the backend, returned at once (LUCID_NO_CUDA_MEMORY_CACHING)") {
  FakeDevice dev;
  dev.budget = 1 << 20;
  CachingAllocator alloc(dev.backend(), /*caching=*/false);
  CHECK_FALSE(alloc.caching());
  void* a = alloc.allocate(4000);
  void* z = alloc.allocate(0);  // still a distinct block, of 1 byte
  CHECK(dev.sizes[a] == 4000);
  CHECK(dev.sizes[z] == 1);
  CHECK(alloc.stats().allocated == 4001);
  CHECK(alloc.stats().reserved == 4001);
  alloc.free(a);
  CHECK(dev.raw_frees == 1);  // given back, not cached
  CHECK(alloc.stats().allocated == 1);
  CHECK(alloc.stats().reserved == 1);
  CHECK(alloc.stats().max_allocated == 4001);
  void* b = alloc.allocate(4000);
  CHECK(dev.raw_allocs == 3);  // a new backend call, no reuse
  alloc.free(b);
  alloc.free(z);
  CHECK(alloc.stats().reserved == 0);
  CHECK(dev.live.empty());
  // Out of memory still throws the same error.
  CHECK_THROWS_WITH_AS(alloc.allocate(2 << 20), doctest::Contains("out of memory"), lucid::Error);
}
