// What the CUDA entry points (kernels/cuda/runtime.h) do in a build without
// CUDA: is_available() is false and everything else throws. A CUDA build
// compiles kernels/cuda/ instead of this file (CMakeLists.txt).
#include <lucid/kernels/cuda/runtime.h>
#include <lucid/kernels/error.h>

namespace lucid::cuda {

// Memory statistics read 0 (nothing is ever allocated); the rest throws.
namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw Error(std::string("cuda: ") + what + ": lucid was built without CUDA");
}
}  // namespace

bool is_available() { return false; }
int device_count() { return 0; }
std::string unavailable_reason() { return "lucid was built without CUDA"; }
void check_device(const char* op, Device d) {
  if (d.is_cpu()) return;
  throw Error(std::string(op) + ": device " + d.str() + " needs a usable CUDA device (lucid was built without CUDA)");
}
int current_device() { no_cuda("current_device"); }
void set_device(int) { no_cuda("set_device"); }
void synchronize(int) { no_cuda("synchronize"); }

DeviceGuard::DeviceGuard(int) : previous_(0) { no_cuda("DeviceGuard"); }
DeviceGuard::~DeviceGuard() = default;

Stream Stream::create(int) { no_cuda("Stream::create"); }
Stream Stream::default_stream(int) { no_cuda("Stream::default_stream"); }
bool Stream::query() const { no_cuda("Stream::query"); }
void Stream::synchronize() const { no_cuda("Stream::synchronize"); }
Stream current_stream(int) { no_cuda("current_stream"); }
void set_current_stream(const Stream&) { no_cuda("set_current_stream"); }
StreamGuard::StreamGuard(const Stream& s) : device_(s.device_index()), previous_(s) {}
StreamGuard::~StreamGuard() = default;

Event::Event(bool) { no_cuda("Event"); }
Event::~Event() = default;
void Event::record(const Stream&) { no_cuda("Event::record"); }
void Event::record() { no_cuda("Event::record"); }
void Event::wait(const Stream&) const { no_cuda("Event::wait"); }
void Event::synchronize() const { no_cuda("Event::synchronize"); }
bool Event::query() const { no_cuda("Event::query"); }
float Event::elapsed_time(const Event&) const { no_cuda("Event::elapsed_time"); }

int64_t memory_allocated(int) { return 0; }
int64_t max_memory_allocated(int) { return 0; }
int64_t memory_reserved(int) { return 0; }
int64_t max_memory_reserved(int) { return 0; }
void reset_peak_memory_stats(int) {}
void empty_cache() {}  // nothing cached

namespace detail {
void* current_stream_handle(int) { no_cuda("stream"); }
void* device_alloc(size_t, int) { no_cuda("allocating device memory"); }
void device_free(void*, int) {}
void set_poison_allocations(bool) {}
bool memory_caching_enabled() { return true; }
void* pinned_alloc(size_t) { no_cuda("pin_memory"); }
void pinned_free(void*) {}
void record_pinned_use(void*, void*) {}
void empty_pinned_cache() {}
void copy_between_devices(const Tensor&, const Tensor&, bool) { no_cuda("copying between devices"); }
}  // namespace detail

}  // namespace lucid::cuda
