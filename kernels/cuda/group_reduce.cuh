// Deterministic reductions over a group of threads, for the row kernels
// (reduce.cu, loss.cu, norm.cu). A group is one warp (G = 32, for short rows)
// or one whole block (G = kThreads = 256). Each thread first folds its own
// elements (k = lane, lane + G, ...), then the group folds the G partials in a
// fixed tree: warp shuffles, then the 8 warp results in warp order through
// shared memory. The order depends only on G, never on timing: same input,
// same bits. No atomics. Included by .cu files only.
#pragma once
#include <lucid/kernels/cuda/launch.cuh>

namespace lucid::cuda {

inline constexpr int kWarp = 32;
inline constexpr unsigned kFullMask = 0xffffffffu;

// Threads per row: a warp for rows up to this long, the whole block above.
inline constexpr int64_t kWarpRowMax = 1024;

// A value and its index in the row (argmax/argmin).
template <class T>
struct ValueIndex {
  T value;
  int64_t index;
};

// Two sums carried together (layer norm and batch norm backward).
struct Sum2 {
  double a, b;
};

// ---- warp shuffles of each partial type ----
__device__ inline float shfl_down(float v, int d) { return __shfl_down_sync(kFullMask, v, d); }
__device__ inline double shfl_down(double v, int d) { return __shfl_down_sync(kFullMask, v, d); }
__device__ inline Sum2 shfl_down(Sum2 v, int d) { return {shfl_down(v.a, d), shfl_down(v.b, d)}; }
template <class T>
__device__ inline ValueIndex<T> shfl_down(ValueIndex<T> v, int d) {
  return {shfl_down(v.value, d), static_cast<int64_t>(__shfl_down_sync(kFullMask, static_cast<long long>(v.index), d))};
}
__device__ inline float shfl_from(float v, int lane) { return __shfl_sync(kFullMask, v, lane); }
__device__ inline double shfl_from(double v, int lane) { return __shfl_sync(kFullMask, v, lane); }
__device__ inline Sum2 shfl_from(Sum2 v, int lane) { return {shfl_from(v.a, lane), shfl_from(v.b, lane)}; }
template <class T>
__device__ inline ValueIndex<T> shfl_from(ValueIndex<T> v, int lane) {
  return {shfl_from(v.value, lane), static_cast<int64_t>(__shfl_sync(kFullMask, static_cast<long long>(v.index), lane))};
}

// Folds p over the G threads of the group with combine(a, b); every thread of
// the group gets the result. With G = kThreads every thread of the block must
// call it (it synchronizes the block).
template <int G, class P, class Combine>
__device__ P group_reduce(P p, Combine combine) {
  static_assert(G == kWarp || G == kThreads, "a group is a warp or the block");
#pragma unroll
  for (int d = kWarp / 2; d > 0; d /= 2) p = combine(p, shfl_down(p, d));  // lane 0 holds the warp's fold
  if constexpr (G == kWarp) {
    return shfl_from(p, 0);
  } else {
    __shared__ P warp_part[kThreads / kWarp];
    if (threadIdx.x % kWarp == 0) warp_part[threadIdx.x / kWarp] = p;
    __syncthreads();
    P r = warp_part[0];
#pragma unroll
    for (int w = 1; w < kThreads / kWarp; ++w) r = combine(r, warp_part[w]);  // warp order
    __syncthreads();  // warp_part may be reused by the next call
    return r;
  }
}

__device__ inline double add_doubles(double a, double b) { return a + b; }

// Blocks for `groups` groups of G threads (grid-stride loops do the rest).
template <int G>
unsigned blocks_for_groups(int64_t groups) {
  constexpr int64_t per_block = kThreads / G;
  const int64_t b = (groups + per_block - 1) / per_block;
  return static_cast<unsigned>(b < 65536 ? (b > 0 ? b : 1) : 65536);
}

}  // namespace lucid::cuda
