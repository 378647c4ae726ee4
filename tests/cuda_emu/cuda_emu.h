// The device side of lucid's CUDA emulator (tests/cuda_emu/README.md).
//
// A .cu file of kernels/cuda/ is compiled as plain C++ with this header
// force-included, after tests/cuda_emu/rewrite.cpp has turned each launch
//   kernel<<<grid, block, smem, stream>>>(args);
// into
//   ::lucid_emu::launch("kernel", ::lucid_emu::LaunchConfig(grid, block, smem, stream),
//                       [&](auto&... a) { kernel(a...); }, args);
// and each `extern __shared__ T name[];` into a pointer to the block's dynamic
// shared memory. A kernel is then an ordinary function that launch() runs once
// per CUDA thread, each thread a fiber (launch.cpp): threads of a block run one
// after another and switch only at a barrier (__syncthreads, a warp shuffle or
// vote), which is where CUDA threads may observe each other.
//
// What CUDA's keywords become here:
//   __global__, __device__, __host__        nothing (ordinary functions)
//   __shared__                              static thread_local: one copy per block
//                                           being run (blocks run one at a time per
//                                           host thread)
//   threadIdx, blockIdx, blockDim, gridDim  the running fiber's coordinates
// These are macros because they stand in for language keywords and built-in
// variables; nothing else in lucid may do this.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>

#include "emu_runtime.h"

#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __forceinline__
#undef __noinline__
#undef __launch_bounds__
#define __global__
#define __device__
#define __host__
#define __shared__ static thread_local
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)

namespace lucid_emu {

// The coordinates of the CUDA thread a fiber plays.
struct ThreadCoords {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};
// The running fiber's coordinates; null outside a kernel.
inline thread_local const ThreadCoords* current_thread = nullptr;

struct LaunchConfig {
  dim3 grid, block;
  size_t shared_bytes;
  cudaStream_t stream;
  LaunchConfig(dim3 g, dim3 b, size_t smem = 0, cudaStream_t s = nullptr)
      : grid(g), block(b), shared_bytes(smem), stream(s) {}
};

// Runs body once per thread of the grid (launch.cpp). A geometry CUDA would
// refuse (zero or too many threads, a grid over its limits, more than 48 KiB of
// dynamic shared memory) runs nothing and leaves cudaErrorInvalidConfiguration
// for cudaGetLastError, as a real launch does.
void run_grid(const char* kernel, const LaunchConfig& cfg, void (*body)(void*), void* closure);

// The kernel's arguments are evaluated once, here on the host (as for a real
// launch: an exception reaches the caller), and every thread calls
// kernel(copies of them) through `call`, a generic lambda the rewriter writes.
template <class Call, class... Args>
void launch(const char* kernel, const LaunchConfig& cfg, Call&& call, Args&&... args) {
  std::tuple<std::decay_t<Args>...> values(std::forward<Args>(args)...);
  auto body = [&] { std::apply(call, values); };
  run_grid(kernel, cfg, [](void* b) { (*static_cast<decltype(body)*>(b))(); }, &body);
}

// The block's dynamic shared memory (filled with 0xFF bytes, NaN in every float
// type, when the block starts, so a read before any write shows).
void* dynamic_shared_memory();
template <class T>
T* dynamic_shared() {
  return static_cast<T*>(dynamic_shared_memory());
}

// Barriers: all live threads of the block, or of the calling thread's warp
// (__syncwarp: full masks only).
void block_barrier();
void warp_barrier();
void warp_sync(unsigned mask);
// Shuffles of a narrower width than the warp are not emulated.
void require_full_width(int width);
// A warp exchange: each live lane offers `bits` and receives the offer of lane
// `src` (its own when src is -1). Reading a lane that has exited is an error.
uint64_t warp_exchange(unsigned mask, uint64_t bits, int src);
// Bit l set when live lane l passes pred true.
unsigned warp_ballot(unsigned mask, bool pred);
int lane_id();

template <class T>
T shuffle(unsigned mask, T v, int src) {
  static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable_v<T>);
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  const uint64_t got = warp_exchange(mask, bits, src);
  T r;
  std::memcpy(&r, &got, sizeof(T));
  return r;
}

}  // namespace lucid_emu

#define threadIdx (::lucid_emu::current_thread->thread_idx)
#define blockIdx (::lucid_emu::current_thread->block_idx)
#define blockDim (::lucid_emu::current_thread->block_dim)
#define gridDim (::lucid_emu::current_thread->grid_dim)

// ---- synchronization -----------------------------------------------------------------
inline void __syncthreads() { ::lucid_emu::block_barrier(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { ::lucid_emu::warp_sync(mask); }
inline void __threadfence() {}

// ---- warp shuffles and votes (width 32 only, as lucid uses them) -----------------------
template <class T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
  ::lucid_emu::require_full_width(width);
  return ::lucid_emu::shuffle(mask, v, src_lane & 31);
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  ::lucid_emu::require_full_width(width);
  return ::lucid_emu::shuffle(mask, v, (::lucid_emu::lane_id() ^ lane_mask) & 31);
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  ::lucid_emu::require_full_width(width);
  const int src = ::lucid_emu::lane_id() + static_cast<int>(delta);
  return ::lucid_emu::shuffle(mask, v, src < 32 ? src : -1);  // past the warp's end: own value
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  ::lucid_emu::require_full_width(width);
  const int src = ::lucid_emu::lane_id() - static_cast<int>(delta);
  return ::lucid_emu::shuffle(mask, v, src >= 0 ? src : -1);
}
inline unsigned __ballot_sync(unsigned mask, int pred) { return ::lucid_emu::warp_ballot(mask, pred != 0); }
inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }

// ---- atomics: the threads of a launch run one at a time, so plain updates are atomic ----
template <class T>
T atomicAdd(T* p, T v) {
  const T old = *p;
  *p = old + v;
  return old;
}
template <class T>
T atomicMin(T* p, T v) {
  const T old = *p;
  if (v < old) *p = v;
  return old;
}
template <class T>
T atomicMax(T* p, T v) {
  const T old = *p;
  if (old < v) *p = v;
  return old;
}
template <class T>
T atomicExch(T* p, T v) {
  const T old = *p;
  *p = v;
  return old;
}
template <class T>
T atomicCAS(T* p, T compare, T v) {
  const T old = *p;
  if (old == compare) *p = v;
  return old;
}

// ---- integer and float intrinsics -------------------------------------------------------
inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<uint64_t>(a) * b) >> 32);
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
template <class T>
T __ldg(const T* p) {
  return *p;
}
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }

// CUDA's integer and float min/max overloads for device code.
template <class T>
  requires std::is_integral_v<T>
T min(T a, T b) {
  return b < a ? b : a;
}
template <class T>
  requires std::is_integral_v<T>
T max(T a, T b) {
  return a < b ? b : a;
}
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
