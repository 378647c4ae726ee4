// convert<D>(s): one element of dtype S as dtype D, with lucid's rules. The one
// definition that the CPU copy (kernels/cpu/copy.cpp) and the CUDA copy
// (kernels/cuda/copy.cu, through kernels/cuda/launch.cuh) both apply, so the
// two backends convert to the same bits.
//   16-bit floats go through float (both ways);
//   x -> bool is x != 0;
//   float -> int truncates toward zero, saturates at the type's range and maps NaN to 0;
//   anything else is static_cast.
#pragma once
#include <limits>
#include <type_traits>

#include <lucid/kernels/dtype.h>
#include <lucid/kernels/host_device.h>

namespace lucid {

// Whether T is a 16-bit float: lucid's host types here; CUDA's __half and
// __nv_bfloat16 are added by kernels/cuda/launch.cuh (this header stays free of
// CUDA includes). Neither kind is an arithmetic type: both convert through float.
template <class T> struct IsFloat16 : std::false_type {};
template <> struct IsFloat16<BFloat16> : std::true_type {};
template <> struct IsFloat16<Half> : std::true_type {};

template <class D, class S>
LUCID_HOST_DEVICE inline D convert(S s) {
  if constexpr (std::is_same_v<D, S>) {
    return s;
  } else if constexpr (IsFloat16<S>::value) {
    return convert<D>(static_cast<float>(s));
  } else if constexpr (IsFloat16<D>::value) {
    return D(static_cast<float>(s));
  } else if constexpr (std::is_same_v<D, bool>) {
    return s != S(0);
  } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
    // float -> int: C++ leaves NaN and out-of-range values undefined; lucid
    // truncates toward zero, saturates at the type's range and maps NaN to 0.
    if (s != s) return D(0);
    if (s <= static_cast<S>(std::numeric_limits<D>::min())) return std::numeric_limits<D>::min();
    if (s >= static_cast<S>(std::numeric_limits<D>::max())) return std::numeric_limits<D>::max();
    return static_cast<D>(s);
  } else {
    return static_cast<D>(s);
  }
}

}  // namespace lucid
