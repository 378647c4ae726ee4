// lucid's CUDA emulator: a CPU stand-in for CUB's <cub/device/device_radix_sort.cuh>
// (this include directory comes first in the emulated build). Only the call lucid
// makes is provided: the pointer form of cub::DeviceRadixSort::SortPairs.
//
// Documented behaviour followed (CUB's DeviceRadixSort reference, the comments in
// CCCL's cub/device/device_radix_sort.cuh, and cub/util_temporary_storage.cuh):
//   - two phases: with d_temp_storage == nullptr the call only writes the bytes it
//     needs to temp_storage_bytes and does no work; the real call needs at least
//     that many bytes, else cudaErrorInvalidValue (CUB's check of the size).
//   - the sort is stable and ascending, an LSD radix sort over key bits
//     [begin_bit, end_bit) only; other key bits are ignored.
//   - keys are first made radix-sortable, and the bit range applies to the result:
//     unsigned keys as they are, signed keys with the sign bit inverted, floats
//     with the sign bit inverted (positive) or all bits inverted (negative);
//     -0.0 and +0.0 are equal (they keep their input order).
//   - inputs are not altered; the four ranges keys_in, keys_out, values_in,
//     values_out must not overlap (in-place is not supported).
// Stricter than CUB (misuse a GPU would not report, reported here as
// cudaErrorInvalidValue): num_items < 0, a bit range outside
// 0 <= begin_bit <= end_bit <= 8 * sizeof(KeyT), overlapping ranges. Pointers
// not inside allocations of the current device abort the emulator (a GPU would
// fault).
// Synchronous: the stream is ignored. The temporary storage is really used (as
// the second key/value buffer), so a too-small or bogus buffer shows.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "emu_runtime.h"

namespace cub {

namespace emu_detail {

// The unsigned integer with the same size as T.
template <size_t Bytes>
struct UnsignedOfSize;
template <>
struct UnsignedOfSize<1> { using type = uint8_t; };
template <>
struct UnsignedOfSize<2> { using type = uint16_t; };
template <>
struct UnsignedOfSize<4> { using type = uint32_t; };
template <>
struct UnsignedOfSize<8> { using type = uint64_t; };

template <typename T>
using Bits = typename UnsignedOfSize<sizeof(T)>::type;

// The radix-sortable bits of key: ordering them as unsigned numbers orders the keys.
// unsigned: as is; signed: sign bit flipped; float: -0.0 as +0.0, then the sign bit
// flipped if positive, every bit flipped if negative.
template <typename KeyT>
Bits<KeyT> sortable_bits(KeyT key) {
  using U = Bits<KeyT>;
  const U sign = static_cast<U>(U(1) << (8 * sizeof(KeyT) - 1));
  if constexpr (std::is_floating_point_v<KeyT>) {
    if (key == KeyT(0)) key = KeyT(0);  // -0.0 sorts as +0.0
    U bits = 0;
    std::memcpy(&bits, &key, sizeof(key));
    return (bits & sign) ? static_cast<U>(~bits) : static_cast<U>(bits ^ sign);
  } else {
    U bits = 0;
    std::memcpy(&bits, &key, sizeof(key));
    return std::is_signed_v<KeyT> ? static_cast<U>(bits ^ sign) : bits;
  }
}

// The digit of key for the pass that looks at bits [shift, shift + width).
template <typename KeyT>
unsigned digit_of(KeyT key, int shift, int width) {
  const uint64_t bits = sortable_bits(key);
  return static_cast<unsigned>((bits >> shift) & ((uint64_t(1) << width) - 1));
}

// p rounded up to a multiple of `to` (a power of two), as a number.
inline size_t round_up(size_t p, size_t to) { return (p + to - 1) / to * to; }

// Bytes of scratch SortPairs asks for: 256 of slack to align the start, then a
// second key buffer and a second value buffer, each starting 256-aligned.
template <typename KeyT, typename ValueT>
size_t sort_pairs_temp_bytes(size_t n) {
  return 256 + round_up(n * sizeof(KeyT), 256) + n * sizeof(ValueT);
}

// True when the byte ranges [a, a + a_bytes) and [b, b + b_bytes) share a byte.
inline bool ranges_overlap(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  const uintptr_t a0 = reinterpret_cast<uintptr_t>(a), b0 = reinterpret_cast<uintptr_t>(b);
  return a_bytes > 0 && b_bytes > 0 && a0 < b0 + b_bytes && b0 < a0 + a_bytes;
}

// Aborts unless [p, p + bytes) lies inside one live allocation of the current
// device: a GPU would fault on host memory, another device's or a short buffer.
inline void require_device_memory(const char* call, const char* name, const void* p, size_t bytes) {
  if (bytes == 0) return;
  const int device = lucid_emu::current_device();
  if (p == nullptr || lucid_emu::device_of(p) != device || !lucid_emu::device_range_valid(p, bytes))
    lucid_emu::fail(std::string(call) + ": " + name + " (" + std::to_string(bytes) +
                    " bytes) is not inside one allocation of the current device " + std::to_string(device));
}

// One stable counting-sort pass on the digit at bits [shift, shift + width):
// out[place[d] + j] = the j-th input (in order) whose digit is d, for keys and values.
template <typename KeyT, typename ValueT>
void radix_pass(const KeyT* keys_in, const ValueT* values_in, KeyT* keys_out, ValueT* values_out, size_t n,
                int shift, int width) {
  size_t place[256] = {};
  for (size_t i = 0; i < n; ++i) ++place[digit_of(keys_in[i], shift, width)];
  size_t start = 0;  // counts -> first output position of each digit
  for (size_t& p : place) {
    const size_t count = p;
    p = start;
    start += count;
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t to = place[digit_of(keys_in[i], shift, width)]++;
    keys_out[to] = keys_in[i];
    values_out[to] = values_in[i];
  }
}

// Copies n keys and values: the sort of an empty bit range.
template <typename KeyT, typename ValueT>
void copy_pairs(const KeyT* keys_in, const ValueT* values_in, KeyT* keys_out, ValueT* values_out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    keys_out[i] = keys_in[i];
    values_out[i] = values_in[i];
  }
}

}  // namespace emu_detail

struct DeviceRadixSort {
  // (keys_out, values_out) = (keys_in, values_in) stably sorted by the key bits
  // [begin_bit, end_bit); with d_temp_storage == nullptr only sets temp_storage_bytes.
  template <typename KeyT, typename ValueT, typename NumItemsT>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in,
                               KeyT* d_keys_out, const ValueT* d_values_in, ValueT* d_values_out,
                               NumItemsT num_items, int begin_bit = 0, int end_bit = sizeof(KeyT) * 8,
                               cudaStream_t stream = 0) {
    static_assert(std::is_arithmetic_v<KeyT>, "emulated SortPairs: keys must be built-in numbers");
    static_assert(std::is_integral_v<NumItemsT>, "emulated SortPairs: num_items must be an integer");
    (void)stream;  // synchronous
    const char* call = "cub::DeviceRadixSort::SortPairs";
    if (num_items < 0) return cudaErrorInvalidValue;
    const size_t n = static_cast<size_t>(num_items);
    const size_t needed = emu_detail::sort_pairs_temp_bytes<KeyT, ValueT>(n);
    if (d_temp_storage == nullptr) {  // phase 1: the size query
      temp_storage_bytes = needed;
      return cudaSuccess;
    }
    if (temp_storage_bytes < needed) return cudaErrorInvalidValue;
    if (begin_bit < 0 || begin_bit > end_bit || end_bit > static_cast<int>(8 * sizeof(KeyT)))
      return cudaErrorInvalidValue;
    const size_t key_bytes = n * sizeof(KeyT), value_bytes = n * sizeof(ValueT);
    const void* ranges[4] = {d_keys_in, d_keys_out, d_values_in, d_values_out};
    const size_t sizes[4] = {key_bytes, key_bytes, value_bytes, value_bytes};
    for (int i = 0; i < 4; ++i)
      for (int j = i + 1; j < 4; ++j)
        if (emu_detail::ranges_overlap(ranges[i], sizes[i], ranges[j], sizes[j])) return cudaErrorInvalidValue;

    lucid_emu::DeviceScope device(lucid_emu::current_device());
    emu_detail::require_device_memory(call, "d_temp_storage", d_temp_storage, temp_storage_bytes);
    emu_detail::require_device_memory(call, "d_keys_in", d_keys_in, key_bytes);
    emu_detail::require_device_memory(call, "d_keys_out", d_keys_out, key_bytes);
    emu_detail::require_device_memory(call, "d_values_in", d_values_in, value_bytes);
    emu_detail::require_device_memory(call, "d_values_out", d_values_out, value_bytes);
    if (n == 0) return cudaSuccess;

    // The second buffers live in the temporary storage, 256-aligned.
    const uintptr_t temp = emu_detail::round_up(reinterpret_cast<uintptr_t>(d_temp_storage), 256);
    KeyT* keys_temp = reinterpret_cast<KeyT*>(temp);
    ValueT* values_temp = reinterpret_cast<ValueT*>(temp + emu_detail::round_up(key_bytes, 256));

    const int passes = (end_bit - begin_bit + 7) / 8;  // 8-bit digits, least significant first
    if (passes == 0) {
      emu_detail::copy_pairs(d_keys_in, d_values_in, d_keys_out, d_values_out, n);
      return cudaSuccess;
    }
    // Ping-pong between the output and the temporary buffers so the last pass
    // writes the output: an odd number of passes starts there.
    const KeyT* keys_from = d_keys_in;
    const ValueT* values_from = d_values_in;
    bool to_output = passes % 2 == 1;
    for (int p = 0; p < passes; ++p) {
      const int shift = begin_bit + 8 * p;
      const int width = end_bit - shift < 8 ? end_bit - shift : 8;
      KeyT* keys_to = to_output ? d_keys_out : keys_temp;
      ValueT* values_to = to_output ? d_values_out : values_temp;
      emu_detail::radix_pass(keys_from, values_from, keys_to, values_to, n, shift, width);
      keys_from = keys_to;
      values_from = values_to;
      to_output = !to_output;
    }
    return cudaSuccess;
  }
};

}  // namespace cub
