// The one dispatch point every op goes through to reach a kernel.
//
// Today only the CPU kernels exist; the CUDA backend (its own issue) adds a
// CUDA kernel argument here and in each op's call, so that an op's CPU and
// CUDA kernels sit side by side at its call site.
#pragma once
#include <lucid/kernels/device.h>
#include <lucid/kernels/error.h>

namespace lucid {

template <class CpuKernel>
void dispatch(const char* op, Device device, CpuKernel&& cpu_kernel) {
  switch (device.type) {
    case DeviceType::CPU:
      cpu_kernel();
      return;
    case DeviceType::CUDA:
      throw Error(std::string(op) + ": tensor is on " + device.str() +
                  ", but lucid was built without CUDA");
  }
}

// Float math on the CPU is done in float32 and float64; the 16-bit formats
// and integers convert, copy and store. Throws "<op>: ... not supported".
void check_float_math(const char* op, ScalarType t);

}  // namespace lucid
