// The CUDA runtime as lucid users see it, named as PyTorch's torch.cuda.
//
//   is_available, device_count        is there a GPU, how many
//   current_device, set_device        which GPU new CUDA tensors go to
//   DeviceGuard                       set a device for a scope (RAII)
//   Stream, current_stream,           the queue kernels are launched on; each
//   set_current_stream, StreamGuard   thread has a current stream per device
//   Event                             a marker in a stream: wait on it, time with it
//   synchronize                       wait for all work on a device
//   memory_allocated, ...             the caching allocator's statistics
//   empty_cache                       give cached, unused blocks back to the driver
//
// This header needs no CUDA headers: it compiles in every build. In a build
// without CUDA, is_available() is false, device_count() is 0, and everything
// else throws lucid::Error("... built without CUDA").
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <lucid/kernels/device.h>
#include <lucid/kernels/error.h>

namespace lucid {
class Tensor;
}

namespace lucid::cuda {

bool is_available();
int device_count();
// Why is_available() is false ("no CUDA-capable device is detected", "lucid was
// built without CUDA", ...); empty when it is true. Tests print it when they skip.
std::string unavailable_reason();

// Throws "<op>: device cuda:N needs a usable CUDA device (<why not>)" unless `d`
// is the CPU or an existing GPU. Checked where CUDA tensors are made or used.
void check_device(const char* op, Device d);

int current_device();
void set_device(int device);
// Waits for all work queued on `device` (-1: the current device).
void synchronize(int device = -1);

// Sets the current device for its scope and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  explicit DeviceGuard(Device device) : DeviceGuard(device.index) {}
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_;
};

// A CUDA stream. The default stream of each device is the legacy null stream,
// which orders itself with every other stream: code that never makes a stream
// is correct without any synchronization. Stream::create() makes a new one,
// freed when the last Stream copy referring to it dies.
class Stream {
 public:
  static Stream create(int device = -1);
  static Stream default_stream(int device = -1);

  int device_index() const { return device_; }
  void* handle() const { return handle_; }  // a cudaStream_t
  bool query() const;                       // true when all its work is done
  void synchronize() const;
  bool operator==(const Stream& o) const { return handle_ == o.handle_ && device_ == o.device_; }

 private:
  Stream(std::shared_ptr<void> owner, void* handle, int device)
      : owner_(std::move(owner)), handle_(handle), device_(device) {}
  std::shared_ptr<void> owner_;  // destroys the stream (null for the default stream)
  void* handle_ = nullptr;
  int device_ = 0;
};

// This thread's current stream on `device` (-1: the current device).
Stream current_stream(int device = -1);
void set_current_stream(const Stream& stream);

// Makes `stream` current (and its device) for a scope.
class StreamGuard {
 public:
  explicit StreamGuard(const Stream& stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  DeviceGuard device_;
  Stream previous_;
};

// A marker recorded in a stream. Timing is on unless disabled.
class Event {
 public:
  explicit Event(bool enable_timing = true);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record(const Stream& stream);
  void record();                       // on the current stream
  void wait(const Stream& stream) const;  // `stream` waits for this event (no host wait)
  void synchronize() const;            // the host waits for this event
  bool query() const;                  // true when the event has happened
  // Milliseconds from this event to `end`; both recorded and completed.
  float elapsed_time(const Event& end) const;

 private:
  void* event_ = nullptr;  // a cudaEvent_t
  int device_ = -1;
};

// ---- memory: the caching allocator's statistics, as torch.cuda.memory_* ----
// allocated: bytes of blocks handed out to live tensors (request sizes rounded
// up to the allocator's size classes: 512 bytes, or 2 MiB above 1 MiB);
// reserved: allocated plus cached free blocks, all taken from the driver.
int64_t memory_allocated(int device = -1);
int64_t max_memory_allocated(int device = -1);
int64_t memory_reserved(int device = -1);
int64_t max_memory_reserved(int device = -1);
void reset_peak_memory_stats(int device = -1);
// Returns every cached free block to the driver (cudaFree; cached pinned host
// blocks too, once the copies using them are done).
void empty_cache();

namespace detail {
// For lucid's own backend code (Storage, copies, kernels).
void* current_stream_handle(int device);  // cudaStream_t of this thread on `device`
void* device_alloc(size_t nbytes, int device);
// Tests: fill every block handed out with 0xFF bytes (NaN for every float dtype,
// -1 for ints), so an output element a kernel forgot to write shows up. Also on
// when the environment has LUCID_CUDA_POISON=1.
void set_poison_allocations(bool on);
// False when LUCID_NO_CUDA_MEMORY_CACHING=1: every tensor is its own cudaMalloc.
bool memory_caching_enabled();
void device_free(void* ptr, int device);
void* pinned_alloc(size_t nbytes);  // page-locked host memory, cached (kernels/cuda/pinned.cpp)
void pinned_free(void* ptr);
// An asynchronous copy on `stream` (a cudaStream_t) reads or writes the pinned
// block `ptr`: the block is not reused until the copy is done.
void record_pinned_use(void* ptr, void* stream);
void empty_pinned_cache();
// dst.copy_(src) where the two are on different devices (kernels/cuda/transfer.cpp).
void copy_between_devices(const Tensor& dst, const Tensor& src, bool non_blocking);
}  // namespace detail

}  // namespace lucid::cuda
