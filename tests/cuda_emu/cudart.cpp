// A fake CUDA runtime: the cuda* functions lucid calls, with the real header's
// signatures, on the CPU. Memory comes from device_memory.cpp; everything is
// synchronous, so streams and events hold only what is needed to answer
// questions (which device, recorded when) and to refuse what CUDA refuses:
// a stream or event used on the wrong device, a copy whose direction does not
// match its pointers, a copy outside an allocation, a freed pointer.
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_map>

#include "emu_runtime.h"

namespace lucid_emu {
namespace {

struct EmuStream {
  int device;
};
struct EmuEvent {
  int device;
  unsigned flags;
  bool recorded = false;
  std::chrono::steady_clock::time_point when;
  bool unqueried = false;  // recorded, not yet queried or waited for
};

struct Registry {
  std::mutex mutex;
  std::set<const void*> streams, events;
  std::unordered_map<const void*, size_t> pinned;  // host pointer -> bytes
};
Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: freed late by static destructors
  return *r;
}

thread_local int t_device = 0;
thread_local cudaError_t t_last_error = cudaSuccess;

// Every failing call also becomes the thread's last error, as in CUDA.
cudaError_t fail_with(cudaError_t e) {
  t_last_error = e;
  return e;
}

bool is_stream_handle(cudaStream_t s) {
  // The legacy default stream (0 or cudaStreamLegacy) and cudaStreamPerThread
  // belong to the current device.
  return s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread;
}

bool live_event(cudaEvent_t e) {
  std::lock_guard<std::mutex> lock(registry().mutex);
  return registry().events.count(e) != 0;
}

}  // namespace

int current_device() { return t_device; }

int stream_device(const void* stream) {
  cudaStream_t s = static_cast<cudaStream_t>(const_cast<void*>(stream));
  if (is_stream_handle(s)) return t_device;
  std::lock_guard<std::mutex> lock(registry().mutex);
  if (registry().streams.count(stream) == 0) return -1;
  return reinterpret_cast<const EmuStream*>(stream)->device;
}

void set_last_error(int cuda_error) { t_last_error = static_cast<cudaError_t>(cuda_error); }

}  // namespace lucid_emu

using namespace lucid_emu;

// ---- errors ----------------------------------------------------------------------------
cudaError_t cudaGetLastError() {
  const cudaError_t e = t_last_error;
  t_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return t_last_error; }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    default: return "cudaErrorUnknown";
  }
}
const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    default: return "unknown error";
  }
}

// ---- devices ----------------------------------------------------------------------------
cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return fail_with(cudaErrorInvalidValue);
  *count = device_count();
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return fail_with(cudaErrorInvalidValue);
  *device = t_device;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= device_count()) return fail_with(cudaErrorInvalidDevice);
  t_device = device;
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (free_bytes == nullptr || total_bytes == nullptr) return fail_with(cudaErrorInvalidValue);
  *total_bytes = device_capacity();
  *free_bytes = device_capacity() - device_bytes_in_use(t_device);
  return cudaSuccess;
}

// ---- memory -----------------------------------------------------------------------------
cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (p == nullptr) return fail_with(cudaErrorInvalidValue);
  *p = nullptr;
  if (bytes == 0) return cudaSuccess;
  *p = device_allocate(t_device, bytes);
  return *p != nullptr ? cudaSuccess : fail_with(cudaErrorMemoryAllocation);
}
cudaError_t cudaFree(void* p) {
  if (p == nullptr) return cudaSuccess;
  return device_release(p) ? cudaSuccess : fail_with(cudaErrorInvalidValue);
}

cudaError_t cudaHostAlloc(void** p, size_t bytes, unsigned int) {
  if (p == nullptr) return fail_with(cudaErrorInvalidValue);
  const size_t rounded = (bytes + 4095) / 4096 * 4096;
  if (rounded < bytes || rounded > (size_t{1} << 40)) return fail_with(cudaErrorMemoryAllocation);
  *p = std::aligned_alloc(4096, rounded == 0 ? 4096 : rounded);
  if (*p == nullptr) return fail_with(cudaErrorMemoryAllocation);
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().pinned[*p] = bytes;
  return cudaSuccess;
}
cudaError_t cudaFreeHost(void* p) {
  if (p == nullptr) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(registry().mutex);
    if (registry().pinned.erase(p) == 0) return fail_with(cudaErrorInvalidValue);
  }
  std::free(p);
  return cudaSuccess;
}

namespace {
// A copy's pointers must match its direction: device pointers inside one live
// allocation, host pointers outside every device.
bool is_host(const void* p) { return device_of(p) < 0; }
bool is_device(const void* p, size_t n) { return device_range_valid(p, n); }

cudaError_t check_copy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  bool ok = false;
  switch (kind) {
    case cudaMemcpyHostToHost: ok = is_host(dst) && is_host(src); break;
    case cudaMemcpyHostToDevice: ok = is_device(dst, n) && is_host(src); break;
    case cudaMemcpyDeviceToHost: ok = is_host(dst) && is_device(src, n); break;
    case cudaMemcpyDeviceToDevice: ok = is_device(dst, n) && is_device(src, n); break;
    case cudaMemcpyDefault:
      ok = (is_host(dst) || is_device(dst, n)) && (is_host(src) || is_device(src, n));
      break;
    default: return cudaErrorInvalidMemcpyDirection;
  }
  return ok ? cudaSuccess : cudaErrorInvalidValue;
}
}  // namespace

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t stream) {
  if (stream_device(stream) < 0) return fail_with(cudaErrorInvalidResourceHandle);
  if (n == 0) return cudaSuccess;
  if (dst == nullptr || src == nullptr) return fail_with(cudaErrorInvalidValue);
  if (const cudaError_t e = check_copy(dst, src, n, kind); e != cudaSuccess) return fail_with(e);
  DeviceScope device;
  std::memmove(dst, src, n);
  return cudaSuccess;
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t n,
                                cudaStream_t stream) {
  if (stream_device(stream) < 0) return fail_with(cudaErrorInvalidResourceHandle);
  if (dst_device < 0 || dst_device >= device_count() || src_device < 0 || src_device >= device_count())
    return fail_with(cudaErrorInvalidDevice);
  if (n == 0) return cudaSuccess;
  if (!is_device(dst, n) || device_of(dst) != dst_device || !is_device(src, n) || device_of(src) != src_device)
    return fail_with(cudaErrorInvalidValue);
  DeviceScope device;
  std::memmove(dst, src, n);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t stream) {
  if (stream_device(stream) < 0) return fail_with(cudaErrorInvalidResourceHandle);
  if (n == 0) return cudaSuccess;
  if (!is_device(p, n)) return fail_with(cudaErrorInvalidValue);
  DeviceScope device;
  std::memset(p, value, n);
  return cudaSuccess;
}

// ---- streams ----------------------------------------------------------------------------
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) {
  if (s == nullptr) return fail_with(cudaErrorInvalidValue);
  auto* es = new EmuStream{t_device};
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().streams.insert(es);
  *s = reinterpret_cast<cudaStream_t>(es);
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  {
    std::lock_guard<std::mutex> lock(registry().mutex);
    if (registry().streams.erase(s) == 0) return fail_with(cudaErrorInvalidResourceHandle);
  }
  delete reinterpret_cast<EmuStream*>(s);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  return stream_device(s) >= 0 ? cudaSuccess : fail_with(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaStreamQuery(cudaStream_t s) {
  return stream_device(s) >= 0 ? cudaSuccess : fail_with(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned int) {
  // A stream may wait for an event of another device (that is how devices order work).
  if (stream_device(s) < 0 || !live_event(e)) return fail_with(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}

// ---- events -----------------------------------------------------------------------------
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
  if (e == nullptr) return fail_with(cudaErrorInvalidValue);
  auto* ev = new EmuEvent{t_device, flags, false, {}, false};
  std::lock_guard<std::mutex> lock(registry().mutex);
  registry().events.insert(ev);
  *e = reinterpret_cast<cudaEvent_t>(ev);
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  {
    std::lock_guard<std::mutex> lock(registry().mutex);
    if (registry().events.erase(e) == 0) return fail_with(cudaErrorInvalidResourceHandle);
  }
  delete reinterpret_cast<EmuEvent*>(e);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  if (!live_event(e)) return fail_with(cudaErrorInvalidResourceHandle);
  auto* ev = reinterpret_cast<EmuEvent*>(e);
  // The event and the stream must belong to the same device.
  if (stream_device(s) != ev->device) return fail_with(cudaErrorInvalidResourceHandle);
  std::lock_guard<std::mutex> lock(registry().mutex);
  ev->recorded = true;
  ev->when = std::chrono::steady_clock::now();
  ev->unqueried = true;
  return cudaSuccess;
}
// The first query after a record answers "not ready" (work on a GPU is rarely
// done that soon), so callers' waiting paths run too; the next one succeeds.
// Not-ready is not an error: it does not become the last error.
cudaError_t cudaEventQuery(cudaEvent_t e) {
  if (!live_event(e)) return fail_with(cudaErrorInvalidResourceHandle);
  std::lock_guard<std::mutex> lock(registry().mutex);
  auto* ev = reinterpret_cast<EmuEvent*>(e);
  if (ev->unqueried) {
    ev->unqueried = false;
    return cudaErrorNotReady;
  }
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (!live_event(e)) return fail_with(cudaErrorInvalidResourceHandle);
  std::lock_guard<std::mutex> lock(registry().mutex);
  reinterpret_cast<EmuEvent*>(e)->unqueried = false;
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (ms == nullptr) return fail_with(cudaErrorInvalidValue);
  if (!live_event(start) || !live_event(end)) return fail_with(cudaErrorInvalidResourceHandle);
  auto* a = reinterpret_cast<EmuEvent*>(start);
  auto* b = reinterpret_cast<EmuEvent*>(end);
  if (!a->recorded || !b->recorded || (a->flags & cudaEventDisableTiming) || (b->flags & cudaEventDisableTiming))
    return fail_with(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(b->when - a->when).count();
  return cudaSuccess;
}
