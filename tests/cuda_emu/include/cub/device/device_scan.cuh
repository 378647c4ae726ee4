// lucid's CUDA emulator: a CPU stand-in for CUB's <cub/device/device_scan.cuh>
// (this include directory comes first in the emulated build). Only what lucid
// calls is provided: cub::DeviceScan::InclusiveSum, out-of-place and in-place.
//
// Documented behaviour followed (CUB's DeviceScan reference, the comments in
// CCCL's cub/device/device_scan.cuh, and cub/util_temporary_storage.cuh):
//   - out[i] = in[0] + in[1] + ... + in[i], for i < num_items.
//   - two phases: with d_temp_storage == nullptr the call only writes the bytes it
//     needs to temp_storage_bytes and does no work; the real call needs at least
//     that many bytes, else cudaErrorInvalidValue (CUB's check of the size).
//   - when d_in == d_out the scan is in place; otherwise the input and output
//     ranges "shall not overlap in any other way".
// Stricter than CUB (reported as cudaErrorInvalidValue): num_items < 0, and
// (for pointers) input and output ranges that overlap without being equal.
// Pointers not inside allocations of the current device abort the emulator (a
// GPU would fault). Synchronous: the stream is ignored. The partial sums are built in the
// temporary storage, so a too-small or bogus buffer shows.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <type_traits>

#include "emu_runtime.h"

namespace cub {

namespace emu_scan_detail {

// The sum's type: what in + in gives (CUB's accumulator for plus).
template <typename InputIteratorT>
using Accum = decltype(std::declval<typename std::iterator_traits<InputIteratorT>::value_type>() +
                       std::declval<typename std::iterator_traits<InputIteratorT>::value_type>());

// Bytes of scratch InclusiveSum asks for: 256 of slack to align the start, then
// one partial sum per item.
template <typename AccumT>
size_t inclusive_sum_temp_bytes(size_t n) {
  return 256 + n * sizeof(AccumT);
}

// Aborts unless [p, p + bytes) lies inside one live allocation of the current
// device: a GPU would fault on host memory, another device's or a short buffer.
inline void require_device_memory(const char* name, const void* p, size_t bytes) {
  if (bytes == 0) return;
  const int device = lucid_emu::current_device();
  if (p == nullptr || lucid_emu::device_of(p) != device || !lucid_emu::device_range_valid(p, bytes))
    lucid_emu::fail(std::string("cub::DeviceScan::InclusiveSum: ") + name + " (" + std::to_string(bytes) +
                    " bytes) is not inside one allocation of the current device " + std::to_string(device));
}

}  // namespace emu_scan_detail

struct DeviceScan {
  // d_out[i] = d_in[0] + ... + d_in[i] for i < num_items (d_in == d_out: in place);
  // with d_temp_storage == nullptr only sets temp_storage_bytes.
  template <typename InputIteratorT, typename OutputIteratorT, typename NumItemsT>
  static cudaError_t InclusiveSum(void* d_temp_storage, size_t& temp_storage_bytes, InputIteratorT d_in,
                                  OutputIteratorT d_out, NumItemsT num_items, cudaStream_t stream = 0) {
    static_assert(std::is_integral_v<NumItemsT>, "emulated InclusiveSum: num_items must be an integer");
    using AccumT = emu_scan_detail::Accum<InputIteratorT>;
    (void)stream;  // synchronous
    if (num_items < 0) return cudaErrorInvalidValue;
    const size_t n = static_cast<size_t>(num_items);
    const size_t needed = emu_scan_detail::inclusive_sum_temp_bytes<AccumT>(n);
    if (d_temp_storage == nullptr) {  // phase 1: the size query
      temp_storage_bytes = needed;
      return cudaSuccess;
    }
    if (temp_storage_bytes < needed) return cudaErrorInvalidValue;

    lucid_emu::DeviceScope device(lucid_emu::current_device());
    emu_scan_detail::require_device_memory("d_temp_storage", d_temp_storage, temp_storage_bytes);
    if constexpr (std::is_pointer_v<InputIteratorT> && std::is_pointer_v<OutputIteratorT>) {
      // Pointers: both ranges on the device, equal or disjoint.
      const size_t in_bytes = n * sizeof(*d_in), out_bytes = n * sizeof(*d_out);
      emu_scan_detail::require_device_memory("d_in", d_in, in_bytes);
      emu_scan_detail::require_device_memory("d_out", d_out, out_bytes);
      const uintptr_t in0 = reinterpret_cast<uintptr_t>(d_in), out0 = reinterpret_cast<uintptr_t>(d_out);
      const bool overlap = n > 0 && in0 < out0 + out_bytes && out0 < in0 + in_bytes;
      if (overlap && in0 != out0) return cudaErrorInvalidValue;
    }
    if (n == 0) return cudaSuccess;

    // The running sums go to the temporary storage first, so in place is safe.
    uintptr_t temp = reinterpret_cast<uintptr_t>(d_temp_storage);
    temp = (temp + 255) / 256 * 256;
    AccumT* sums = reinterpret_cast<AccumT*>(temp);
    AccumT running = d_in[0];
    sums[0] = running;
    for (size_t i = 1; i < n; ++i) {
      running = running + d_in[i];
      sums[i] = running;
    }
    for (size_t i = 0; i < n; ++i) d_out[i] = sums[i];
    return cudaSuccess;
  }

  // d_data[i] = d_data[0] + ... + d_data[i], in place.
  template <typename IteratorT, typename NumItemsT>
  static cudaError_t InclusiveSum(void* d_temp_storage, size_t& temp_storage_bytes, IteratorT d_data,
                                  NumItemsT num_items, cudaStream_t stream = 0) {
    return InclusiveSum(d_temp_storage, temp_storage_bytes, d_data, d_data, num_items, stream);
  }
};

}  // namespace cub
