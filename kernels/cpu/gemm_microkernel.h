// The GEMM micro-kernel: the only place where the floating-point work happens.
// Private to kernels/cpu/gemm.cpp; see the blocking scheme at the top of that file.
//
// It computes one MR x NR tile of C from packed operands:
//   tile[i][j] = sum_{k < kc} a[k][i] * b[k][j]        (k in increasing order)
// where `a` is an A micro-panel (kc columns of MR values, contiguous) and `b` a
// B micro-panel (kc rows of NR values, contiguous). The tile lives in registers
// for the whole k loop: each step loads one row of b, broadcasts MR values of a
// and does MR * NR multiply-adds, with no memory traffic for C.
//
// Why GCC vector types and not plain scalar loops: written as a scalar
// `c[i][j] += a[i] * b[j]` triple loop, GCC 12 vectorizes it but keeps the tile
// in a stack array (hundreds of spills per k step). With `Vec` (one SIMD
// register, VecBytes wide) the accumulators are named values and stay in
// registers. The same source builds every ISA variant below: the `target`
// attribute on each wrapper decides which instructions `Vec` arithmetic becomes
// (and `a * b + c` is contracted into an FMA where the ISA has one).
#pragma once
#include <cstdint>
#include <cstring>

namespace lucid::cpu::detail {

template <class T, int MR, int VecBytes, int VecsPerRow>
[[gnu::always_inline]] inline void micro_kernel(int64_t kc, const T* a, const T* b, T* tile) {
  typedef T Vec __attribute__((vector_size(VecBytes)));
  constexpr int kLanes = VecBytes / sizeof(T);
  constexpr int NR = VecsPerRow * kLanes;

  Vec acc[MR][VecsPerRow] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    Vec bk[VecsPerRow];
    for (int v = 0; v < VecsPerRow; ++v) std::memcpy(&bk[v], b + v * kLanes, VecBytes);
    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < VecsPerRow; ++v) acc[i][v] += a[i] * bk[v];
  }
  std::memcpy(tile, acc, sizeof(acc));  // row-major MR x NR
}

// A micro-kernel together with its tile shape; packing and the loops around
// the kernel read mr and nr from here, so each ISA can use its own shape.
template <class T>
struct MicroKernel {
  int mr, nr;
  void (*run)(int64_t kc, const T* a, const T* b, T* tile);
  const char* name;
};

// One tile shape per ISA, sized to its register file (accumulators + the B row
// + one broadcast must fit, or the tile spills):
//   AVX-512: 32 zmm -> 12 x (2 vectors) = 24 accumulators   float 12x32, double 12x16
//   AVX2   : 16 ymm ->  6 x (2 vectors) = 12 accumulators   float  6x16, double  6x8
//   SSE2   : 16 xmm ->  4 x (2 vectors) =  8 accumulators   float  4x8,  double  4x4
// Each step issues 2*MR FMAs against 2 loads of B, enough independent
// accumulators to hide the FMA latency on both FMA ports.
[[gnu::target("avx512f,fma")]] inline void kernel_avx512(int64_t kc, const float* a, const float* b, float* t) {
  micro_kernel<float, 12, 64, 2>(kc, a, b, t);
}
[[gnu::target("avx512f,fma")]] inline void kernel_avx512(int64_t kc, const double* a, const double* b, double* t) {
  micro_kernel<double, 12, 64, 2>(kc, a, b, t);
}
[[gnu::target("avx2,fma")]] inline void kernel_avx2(int64_t kc, const float* a, const float* b, float* t) {
  micro_kernel<float, 6, 32, 2>(kc, a, b, t);
}
[[gnu::target("avx2,fma")]] inline void kernel_avx2(int64_t kc, const double* a, const double* b, double* t) {
  micro_kernel<double, 6, 32, 2>(kc, a, b, t);
}
inline void kernel_sse2(int64_t kc, const float* a, const float* b, float* t) {
  micro_kernel<float, 4, 16, 2>(kc, a, b, t);
}
inline void kernel_sse2(int64_t kc, const double* a, const double* b, double* t) {
  micro_kernel<double, 4, 16, 2>(kc, a, b, t);
}

}  // namespace lucid::cpu::detail
