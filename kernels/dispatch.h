// The one dispatch point every op goes through to reach a kernel.
//
//   dispatch("relu", x.device(),
//            [&] { cpu::unary(UnaryOp::Relu, x, out); },    // kernels/cpu/
//            [&] { cuda::unary(UnaryOp::Relu, x, out); });  // kernels/cuda/
//
// An op's CPU and CUDA kernels sit side by side at its call site. In a build
// without CUDA (LUCID_WITH_CUDA undefined) the CUDA lambda is compiled but never
// called, so nothing in kernels/cuda/ needs to exist: a CUDA tensor there
// cannot be made in the first place, and dispatch throws if one shows up.
#pragma once
#include <lucid/kernels/cuda/runtime.h>
#include <lucid/kernels/device.h>
#include <lucid/kernels/dtype.h>
#include <lucid/kernels/error.h>

namespace lucid {

#ifdef LUCID_WITH_CUDA
inline constexpr bool kBuiltWithCuda = true;
#else
inline constexpr bool kBuiltWithCuda = false;
#endif

template <class CpuKernel, class CudaKernel>
void dispatch(const char* op, Device device, CpuKernel&& cpu_kernel, CudaKernel&& cuda_kernel) {
  switch (device.type) {
    case DeviceType::CPU:
      cpu_kernel();
      return;
    case DeviceType::CUDA:
      if constexpr (kBuiltWithCuda) {
        cuda::check_device(op, device);
        cuda::DeviceGuard guard(device.index);  // kernels launch on the tensor's GPU
        cuda_kernel();
      } else {
        cuda::check_device(op, device);  // throws: "... (lucid was built without CUDA)"
      }
      return;
  }
}

// An op with a CPU kernel only (it reads data on the host, say): a CUDA tensor
// gets a clear error instead of a wrong answer.
template <class CpuKernel>
void dispatch(const char* op, Device device, CpuKernel&& cpu_kernel) {
  if (device.is_cpu()) {
    cpu_kernel();
    return;
  }
  throw Error(std::string(op) + ": no CUDA kernel; tensor is on " + device.str() +
              (kBuiltWithCuda ? "" : " (lucid was built without CUDA)"));
}

// Float math on the CPU is done in float32 and float64; the 16-bit formats
// and integers convert, copy and store. Throws "<op>: ... not supported".
void check_float_math(const char* op, ScalarType t);

}  // namespace lucid
