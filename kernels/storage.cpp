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

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  LUCID_CHECK(device.is_cpu(), "Storage: device ", device.str(),
              " needs the CUDA backend (lucid was built without CUDA)");
  size_t rounded = (nbytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  data_ = std::aligned_alloc(64, rounded);
  LUCID_CHECK(data_ != nullptr, "Storage: out of memory allocating ", nbytes, " bytes on cpu (",
              g_cpu_allocated.load(), " bytes allocated)");
  note_alloc(static_cast<int64_t>(nbytes));
}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)) {
  if (!deleter_) deleter_ = [](void*) {};  // not ours: never freed here
}

Storage::~Storage() {
  if (deleter_) {
    try {
      deleter_(data_);
    } catch (...) {
      // destructors never throw: a throwing user deleter is ignored
    }
  } else {
    std::free(data_);
    g_cpu_allocated.fetch_sub(static_cast<int64_t>(nbytes_));
  }
}

int64_t memory_allocated(Device d) { return d.is_cpu() ? g_cpu_allocated.load() : 0; }
int64_t max_memory_allocated(Device d) { return d.is_cpu() ? g_cpu_peak.load() : 0; }
void reset_peak_memory_stats(Device d) {
  if (d.is_cpu()) g_cpu_peak.store(g_cpu_allocated.load());
}

}  // namespace lucid
