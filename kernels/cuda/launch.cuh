// What every lucid CUDA kernel file shares: dtype mapping and conversion,
// strided indexing (any layout: transposed, sliced, broadcast), 16-byte
// vectorized access, and launch geometry. Included by .cu files only.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include <lucid/kernels/convert.h>
#include <lucid/kernels/cuda/check.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/tensor.h>

namespace lucid {
// CUDA's 16-bit floats convert through float, as lucid's own (kernels/convert.h).
template <> struct IsFloat16<__half> : std::true_type {};
template <> struct IsFloat16<__nv_bfloat16> : std::true_type {};
}  // namespace lucid

namespace lucid::cuda {

// ---- dtypes ----------------------------------------------------------------------
// convert<D>(s) (kernels/convert.h) is lucid's element conversion, host and device.
// lucid's BFloat16/Half are host types with the same bits as CUDA's.
template <class T> struct DeviceTypeOf { using type = T; };
template <> struct DeviceTypeOf<BFloat16> { using type = __nv_bfloat16; };
template <> struct DeviceTypeOf<Half> { using type = __half; };
template <class T> using device_t = typename DeviceTypeOf<T>::type;

// visit_dtype with the device type: fn(T{}) for T in float, double, __nv_bfloat16,
// __half, int64_t, int32_t, uint8_t, bool.
template <class Fn>
decltype(auto) visit_device_dtype(ScalarType t, Fn&& fn) {
  return visit_dtype(t, [&](auto x) { return fn(device_t<decltype(x)>{}); });
}

// Float32 and float64 do the math; fn(float{}) or fn(double{}).
template <class Fn>
decltype(auto) visit_float_dtype(const char* op, ScalarType t, Fn&& fn) {
  if (t == kFloat32) return fn(float{});
  if (t == kFloat64) return fn(double{});
  throw Error(std::string(op) + ": CUDA kernel supports float32 and float64, got " + dtype_name(t));
}

// ---- strided indexing --------------------------------------------------------------
// Element i of an N-operand op, in row-major order of `sizes`, lives at
// base[k] + sum_d coord_d(i) * strides[k][d] for operand k. Passed to kernels
// by value (it fits in the 4 KB parameter space).
inline constexpr int kMaxDims = 12;

template <int N>
struct StridedIndexer {
  int dims = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};  // in elements; 0 for broadcast dims

  // Element offsets of linear index i, for each operand.
  __device__ inline void offsets(int64_t i, int64_t (&out)[N]) const {
#pragma unroll
    for (int k = 0; k < N; ++k) out[k] = 0;
    for (int d = dims - 1; d >= 0; --d) {
      const int64_t c = i % sizes[d];
      i /= sizes[d];
#pragma unroll
      for (int k = 0; k < N; ++k) out[k] += c * strides[k][d];
    }
  }
};

// Operand k of `ops` broadcast to `shape` (stride 0 where it is expanded).
template <int N>
StridedIndexer<N> make_indexer(const char* op, const Shape& shape, const Tensor* const (&ops)[N]) {
  LUCID_CHECK(static_cast<int>(shape.size()) <= kMaxDims, op, ": CUDA kernels take at most ", kMaxDims,
              " dims, got shape ", shape);
  StridedIndexer<N> ix;
  ix.dims = static_cast<int>(shape.size());
  for (int d = 0; d < ix.dims; ++d) ix.sizes[d] = shape[d];
  for (int k = 0; k < N; ++k) {
    const Tensor& t = *ops[k];
    const int lead = ix.dims - static_cast<int>(t.dim());
    for (int d = 0; d < ix.dims; ++d) {
      const int td = d - lead;
      ix.strides[k][d] = (td < 0 || t.sizes()[td] == 1) ? 0 : t.strides()[td];
    }
  }
  return ix;
}

// Merges neighbouring dims that every operand walks as one (outer stride ==
// inner stride * inner size; broadcast dims too) and drops size-1 dims, so the
// per-element index math shrinks: a contiguous operand ends up 1-d.
template <int N>
StridedIndexer<N> collapse(const StridedIndexer<N>& ix) {
  StridedIndexer<N> r;
  for (int d = 0; d < ix.dims; ++d) {
    if (ix.sizes[d] == 1) continue;
    bool merge = r.dims > 0;
    for (int k = 0; k < N && merge; ++k) merge = r.strides[k][r.dims - 1] == ix.strides[k][d] * ix.sizes[d];
    if (merge) {
      r.sizes[r.dims - 1] *= ix.sizes[d];
      for (int k = 0; k < N; ++k) r.strides[k][r.dims - 1] = ix.strides[k][d];
    } else {
      r.sizes[r.dims] = ix.sizes[d];
      for (int k = 0; k < N; ++k) r.strides[k][r.dims] = ix.strides[k][d];
      ++r.dims;
    }
  }
  return r;
}

// ---- vectorized access -------------------------------------------------------------
// V elements of T moved as one access (16 bytes when V = 16 / sizeof(T)): a
// float4 / double2 worth per load and store.
template <class T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

template <class T>
inline constexpr int kVec = 16 / sizeof(T);

// Whether p may be read or written as `bytes`-wide accesses.
inline bool aligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

// ---- launch geometry ---------------------------------------------------------------
inline constexpr int kThreads = 256;  // 8 warps: a good default for memory-bound kernels

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, capped
// so the loop does the rest (the y/z limits never matter; x allows 2^31 - 1).
inline unsigned blocks_for(int64_t n, int threads = kThreads) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < 65536 ? (b > 0 ? b : 1) : 65536);
}

}  // namespace lucid::cuda
