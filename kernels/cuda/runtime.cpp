// Devices, streams, events and the error checks (kernels/cuda/runtime.h, check.h).
#include <lucid/kernels/cuda/check.h>
#include <lucid/kernels/error.h>

#include <mutex>
#include <vector>

namespace lucid::cuda {

// ---- error checks ------------------------------------------------------------------
namespace detail {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  (void)cudaGetLastError();  // clear a sticky launch error so the next call reports its own
  throw Error(lucid::detail::str_cat("CUDA error: ", call, " failed at ", file, ":", line, ": ",
                                     cudaGetErrorString(err), " (", cudaGetErrorName(err), ")"));
}

[[noreturn]] void throw_cublas_error(cublasStatus_t st, const char* call, const char* file, int line) {
  throw Error(lucid::detail::str_cat("cuBLAS error: ", call, " failed at ", file, ":", line, ": ",
                                     cublasGetStatusString(st), " (", cublasGetStatusName(st), ")"));
}

[[noreturn]] void throw_cudnn_error(cudnnStatus_t st, const char* call, const char* file, int line) {
  char last[256] = {0};
  cudnnGetLastErrorString(last, sizeof(last));
  throw Error(lucid::detail::str_cat("cuDNN error: ", call, " failed at ", file, ":", line, ": ",
                                     cudnnGetErrorString(st), last[0] ? std::string(": ") + last : ""));
}

}  // namespace detail

// ---- devices -----------------------------------------------------------------------
namespace {

struct Probe {
  int count = 0;
  std::string reason;
};

// Asked once: cudaGetDeviceCount fails without a driver or a GPU.
const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    const cudaError_t err = cudaGetDeviceCount(&r.count);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      r.count = 0;
      r.reason = lucid::detail::str_cat(cudaGetErrorString(err), " (", cudaGetErrorName(err), ")");
    } else if (r.count == 0) {
      r.reason = "no CUDA device found";
    }
    return r;
  }();
  return p;
}

int resolve(int device) {
  if (device < 0) return current_device();
  LUCID_CHECK(device < device_count(), "cuda: device ", device, " does not exist (",
              device_count(), " CUDA devices", probe().reason.empty() ? "" : "; " + probe().reason, ")");
  return device;
}

}  // namespace

bool is_available() { return probe().count > 0; }
int device_count() { return probe().count; }
std::string unavailable_reason() { return probe().reason; }

void check_device(const char* op, Device d) {
  if (d.is_cpu() || (d.index >= 0 && d.index < device_count())) return;
  throw Error(lucid::detail::str_cat(op, ": device ", d.str(), " needs a usable CUDA device (",
                                     is_available() ? std::to_string(device_count()) + " CUDA devices"
                                                    : probe().reason, ")"));
}

int current_device() {
  LUCID_CHECK(is_available(), "cuda: no CUDA device: ", probe().reason);
  int d = 0;
  LUCID_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

void set_device(int device) { LUCID_CUDA_CHECK(cudaSetDevice(resolve(device))); }

void synchronize(int device) {
  DeviceGuard g(resolve(device));
  LUCID_CUDA_CHECK(cudaDeviceSynchronize());
}

DeviceGuard::DeviceGuard(int device) : previous_(current_device()) {
  const int d = resolve(device);
  if (d != previous_) LUCID_CUDA_CHECK(cudaSetDevice(d));
}

DeviceGuard::~DeviceGuard() { (void)cudaSetDevice(previous_); }  // never throws

// ---- streams -----------------------------------------------------------------------
namespace {

// This thread's current stream per device; empty entries mean the default stream.
std::vector<Stream>& current_streams() {
  thread_local std::vector<Stream> streams;
  if (streams.empty())
    for (int d = 0; d < device_count(); ++d) streams.push_back(Stream::default_stream(d));
  return streams;
}

// The answer of cudaStreamQuery / cudaEventQuery: true when the work is done,
// false while it runs. cudaErrorNotReady is no failure, but the runtime records
// it as the last error: cleared, so the next check reports its own.
bool is_done(cudaError_t err) {
  if (err == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  LUCID_CUDA_CHECK(err);
  return true;
}

}  // namespace

Stream Stream::create(int device) {
  const int d = resolve(device);
  DeviceGuard g(d);
  cudaStream_t s = nullptr;
  LUCID_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamDefault));
  // The stream's pool of cached blocks is keyed by its handle, which a later
  // stream may reuse: let its work finish before it goes.
  std::shared_ptr<void> owner(s, [](void* p) {
    (void)cudaStreamSynchronize(static_cast<cudaStream_t>(p));
    (void)cudaStreamDestroy(static_cast<cudaStream_t>(p));
  });
  return Stream(std::move(owner), s, d);
}

Stream Stream::default_stream(int device) { return Stream(nullptr, nullptr, resolve(device)); }

// The default stream's handle (null) means "the current device's": each call
// below runs with the stream's (or event's) own device current.
bool Stream::query() const {
  DeviceGuard g(device_);
  return is_done(cudaStreamQuery(static_cast<cudaStream_t>(handle_)));
}

void Stream::synchronize() const {
  DeviceGuard g(device_);
  LUCID_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(handle_)));
}

Stream current_stream(int device) { return current_streams()[resolve(device)]; }

void set_current_stream(const Stream& stream) { current_streams()[stream.device_index()] = stream; }

StreamGuard::StreamGuard(const Stream& stream)
    : device_(stream.device_index()), previous_(current_stream(stream.device_index())) {
  set_current_stream(stream);
}

StreamGuard::~StreamGuard() { set_current_stream(previous_); }

void* detail::current_stream_handle(int device) {
  return current_streams()[resolve(device)].handle();
}

// ---- events ------------------------------------------------------------------------
Event::Event(bool enable_timing) : device_(current_device()) {
  cudaEvent_t e = nullptr;
  LUCID_CUDA_CHECK(cudaEventCreateWithFlags(&e, enable_timing ? cudaEventDefault : cudaEventDisableTiming));
  event_ = e;
}

Event::~Event() { (void)cudaEventDestroy(static_cast<cudaEvent_t>(event_)); }

void Event::record(const Stream& stream) {
  LUCID_CHECK(stream.device_index() == device_, "Event::record: event is on cuda:", device_,
              " but the stream is on cuda:", stream.device_index());
  DeviceGuard g(device_);
  LUCID_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event_), static_cast<cudaStream_t>(stream.handle())));
}

void Event::record() { record(current_stream(device_)); }

void Event::wait(const Stream& stream) const {
  DeviceGuard g(stream.device_index());
  LUCID_CUDA_CHECK(cudaStreamWaitEvent(static_cast<cudaStream_t>(stream.handle()),
                                       static_cast<cudaEvent_t>(event_), 0));
}

void Event::synchronize() const {
  DeviceGuard g(device_);
  LUCID_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event_)));
}

bool Event::query() const {
  DeviceGuard g(device_);
  return is_done(cudaEventQuery(static_cast<cudaEvent_t>(event_)));
}

float Event::elapsed_time(const Event& end) const {
  float ms = 0;
  LUCID_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(event_), static_cast<cudaEvent_t>(end.event_)));
  return ms;
}

}  // namespace lucid::cuda
