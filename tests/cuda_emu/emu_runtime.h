// The host side of lucid's CUDA emulator (tests/cuda_emu/README.md): what the
// fake CUDA runtime, cuBLAS, cuDNN and CUB share.
//
// Device memory. Each fake device owns one reserved address range. While host
// code runs, every range is PROT_NONE, so host code that dereferences a device
// pointer faults at once (the bug a real GPU shows as a crash or garbage). Code
// that plays the device (a kernel launch, cudaMemcpy, a cuBLAS/cuDNN call) opens
// the ranges for its duration with a DeviceScope:
//
//   cublasStatus_t cublasGemmStridedBatchedEx(...) {
//     lucid_emu::DeviceScope device;   // device memory readable and writable here
//     ... plain loops over A, B, C ...
//   }
//
// Every call is synchronous: streams and events exist, but work finishes before
// the call returns, so stream order always holds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace lucid_emu {

// Opens device memory to this process while it lives (nests; thread-safe: a
// range closes again when the last scope using it, in any thread, ends). The
// default opens every device; a kernel launch opens only its own device, so a
// kernel touching another GPU's memory faults as it would without peer access.
class DeviceScope {
 public:
  explicit DeviceScope(int device = -1);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int device_;
};

// The fake device whose memory holds p, or -1 for host memory.
int device_of(const void* p);

// The host thread's current device (cudaSetDevice), the device a stream belongs
// to (-1: not a live stream), and the error cudaGetLastError reports next
// (a cudaError_t value): the launcher (launch.cpp) uses these from cudart.cpp.
int current_device();
int stream_device(const void* stream);
void set_last_error(int cuda_error);

// The fake devices' memory (device_memory.cpp), for cudart.cpp: how many
// devices (LUCID_EMU_DEVICES, default 2, so multi-GPU code runs too), each with
// LUCID_EMU_MEMORY_GIB of memory (default 16). allocate returns nullptr when
// the device is full; release returns false for a pointer allocate did not give.
int device_count();
size_t device_capacity();
size_t device_bytes_in_use(int device);
void* device_allocate(int device, size_t bytes);
bool device_release(void* p);
// Whether [p, p + bytes) lies inside one live allocation of a device.
bool device_range_valid(const void* p, size_t bytes);

// Aborts the program with "lucid cuda_emu: <what>": for misuse a real GPU would
// also refuse (a bad launch geometry, a deadlock at a barrier), so tests fail loudly.
[[noreturn]] void fail(const std::string& what);

}  // namespace lucid_emu
