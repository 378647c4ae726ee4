#include <lucid/kernels/cuda/runtime.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/storage.h>

#include <cstdlib>

namespace lucid {

namespace {
std::atomic<int64_t> g_cpu_allocated{0};
std::atomic<int64_t> g_cpu_peak{0};

void note_alloc(int64_t n) {
  int64_t now = g_cpu_allocated.fetch_add(n) + n;
  int64_t peak = g_cpu_peak.load();
  while (now > peak && !g_cpu_peak.compare_exchange_weak(peak, now)) {
  }
}
}  // namespace

Storage::Storage(size_t nbytes, Device device, bool pinned)
    : nbytes_(nbytes), device_(device), pinned_(pinned) {
  LUCID_CHECK(!pinned || device.is_cpu(), "Storage: only CPU memory can be pinned, not ", device.str());
  if (device.is_cuda()) {
    cuda::check_device("Storage", device);
    data_ = cuda::detail::device_alloc(nbytes, device.index);  // throws on out of memory
    deleter_ = [d = device.index](void* p) { cuda::detail::device_free(p, d); };
    return;
  }
  if (pinned) {
    data_ = cuda::detail::pinned_alloc(nbytes);
    deleter_ = [](void* p) { cuda::detail::pinned_free(p); };
  } else {
    size_t rounded = (nbytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
    data_ = std::aligned_alloc(64, rounded);
    LUCID_CHECK(data_ != nullptr, "Storage: out of memory allocating ", nbytes, " bytes on cpu (",
                g_cpu_allocated.load(), " bytes allocated)");
  }
  counted_ = true;
  note_alloc(static_cast<int64_t>(nbytes));
}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)) {
  if (!deleter_) deleter_ = [](void*) {};  // not ours: never freed here
}

Storage::~Storage() {
  if (counted_) g_cpu_allocated.fetch_sub(static_cast<int64_t>(nbytes_));
  if (!deleter_) {
    std::free(data_);
    return;
  }
  try {
    deleter_(data_);
  } catch (...) {
    // destructors never throw: a throwing user deleter is ignored
  }
}

int64_t memory_allocated(Device d) {
  return d.is_cpu() ? g_cpu_allocated.load() : cuda::memory_allocated(d.index);
}
int64_t max_memory_allocated(Device d) {
  return d.is_cpu() ? g_cpu_peak.load() : cuda::max_memory_allocated(d.index);
}
int64_t memory_reserved(Device d) { return d.is_cpu() ? g_cpu_allocated.load() : cuda::memory_reserved(d.index); }
int64_t max_memory_reserved(Device d) {
  return d.is_cpu() ? g_cpu_peak.load() : cuda::max_memory_reserved(d.index);
}
void reset_peak_memory_stats(Device d) {
  if (d.is_cpu())
    g_cpu_peak.store(g_cpu_allocated.load());
  else
    cuda::reset_peak_memory_stats(d.index);
}

}  // namespace lucid
