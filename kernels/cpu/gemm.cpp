// Packed, cache-blocked GEMM (the GotoBLAS / BLIS scheme):
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C,   row-major, strided.
// FLOPs: 2*M*N*K (one multiply and one add per term). Bytes: at least
// (M*K + K*N + 2*M*N) * sizeof(T); at 1024^3 that is ~170 FLOPs per byte, so
// GEMM is compute bound and the job of the blocking is to feed the FMA units
// from cache instead of memory.
//
// Loops, outermost first (block sizes below):
//   for jc in N step NC               B panel op(B)[pc.., jc..] of KC x NC, packed once
//     for pc in K step KC             and shared by all threads (fits in L3)
//       pack B panel                  (parallel over NR-wide micro-panels)
//       parallel tasks over (ic in M step MC) x (jb in NC step NB):
//         pack A block op(A)[ic.., pc..] of MC x KC     (per thread; fits in L2)
//         for jr in NB step NR        B micro-panel KC x NR stays in L1
//           for ir in MC step MR      A micro-panel MR x KC streams from L2
//             micro-kernel: MR x NR tile in registers, kc steps   (gemm_microkernel.h)
//             C tile = alpha * tile + beta * C tile  (beta = 1 after the first pc)
//
// Packing copies op(A) and op(B) into the exact order the micro-kernel reads
// them (contiguous, 64-byte aligned, zero-padded to full MR/NR), which also
// makes transposes and leading dimensions free for the inner loops.
//
// Block sizes (elements; KC x NR x 4 bytes ~ 32 KiB for the AVX-512 float kernel):
//   KC = 256  B micro-panel (KC x NR) + A micro-panel (MR x KC) fit in L1 (32-48 KiB)
//   MC = 96   A block MC x KC = 96 KiB (float) sits in L2 (>= 256 KiB on any x86-64)
//   NB = 256  columns per task: several tasks per thread from n ~ 256 up (the A
//             block is re-packed once per task, ~1/NB extra work)
//   NC = 4096 packed B panel KC x NC = 4 MiB (float), shared through L3
// MC, NB and NC are multiples of every kernel's MR and NR.
//
// Threads and determinism: the pc loop runs in order on the calling thread, and
// each task owns a disjoint block of C, so every C element is summed by one
// thread in one fixed order (k ascending inside a KC block, KC blocks in order).
// The result is bit-identical for any thread count. (It may differ between
// machines with different ISAs, e.g. FMA vs no FMA.)
#include <lucid/kernels/cpu/gemm.h>
#include <lucid/kernels/cpu/gemm_microkernel.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/thread_pool.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

namespace lucid::cpu {
namespace {

constexpr int64_t KC = 256;
constexpr int64_t MC = 96;
constexpr int64_t NB = 256;
constexpr int64_t NC = 4096;
constexpr int kMaxTile = 12 * 32;  // largest MR * NR of any kernel

// The kernel for this CPU, chosen once. LUCID_GEMM_KERNEL=avx2|sse2 forces a
// narrower one (to test the fallbacks on a machine that has AVX-512).
template <class T>
const detail::MicroKernel<T>& micro_kernel_for_this_cpu() {
  static const detail::MicroKernel<T> kernel = [] {
    const char* env = std::getenv("LUCID_GEMM_KERNEL");
    const std::string_view forced = env ? env : "";
    const int lanes = 16 / sizeof(T);  // per 128 bits
    __builtin_cpu_init();
    const bool fma = __builtin_cpu_supports("fma");
    if (forced.empty() && fma && __builtin_cpu_supports("avx512f"))
      return detail::MicroKernel<T>{12, 8 * lanes, detail::kernel_avx512, "avx512"};
    if ((forced.empty() || forced == "avx2") && fma && __builtin_cpu_supports("avx2"))
      return detail::MicroKernel<T>{6, 4 * lanes, detail::kernel_avx2, "avx2"};
    return detail::MicroKernel<T>{4, 2 * lanes, detail::kernel_sse2, "sse2"};
  }();
  return kernel;
}

// A growable, 64-byte aligned scratch buffer (RAII).
template <class T>
class AlignedBuffer {
 public:
  T* get(int64_t n) {
    if (n > size_) {
      data_.reset(static_cast<T*>(::operator new[](n * sizeof(T), std::align_val_t{64})));
      size_ = n;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(T* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  std::unique_ptr<T, Free> data_;
  int64_t size_ = 0;
};

// A read-only strided view: element (r, c) is data[r * rs + c * cs]. op(A) and
// op(B) are views of A and B with the strides swapped when transposed.
template <class T>
struct View {
  const T* data;
  int64_t rs, cs;
  const T* at(int64_t r, int64_t c) const { return data + r * rs + c * cs; }
};

// Copies a depth x width slice into panels `w` wide:
//   dst[p][k][0..w) = src(k, p*w .. p*w+w)   along `k_stride` and `w_stride`,
// zero-padding the last panel so the micro-kernel always sees full panels.
template <class T>
void pack_panels(const T* src, int64_t k_stride, int64_t w_stride, int64_t depth,
                 int64_t width, int w, T* dst) {
  for (int64_t p0 = 0; p0 < width; p0 += w) {
    const int64_t n = std::min<int64_t>(w, width - p0);
    const T* s = src + p0 * w_stride;
    for (int64_t k = 0; k < depth; ++k, dst += w) {
      const T* sk = s + k * k_stride;
      if (w_stride == 1) {
        std::memcpy(dst, sk, n * sizeof(T));
      } else {
        for (int64_t j = 0; j < n; ++j) dst[j] = sk[j * w_stride];
      }
      for (int64_t j = n; j < w; ++j) dst[j] = T(0);
    }
  }
}

// C tile (m x n valid of the mr x nr `tile`) = alpha * tile + beta * C.
// beta == 0 writes without reading C, so NaN garbage in C cannot leak.
template <class T>
void store_tile(const T* tile, int nr, int64_t m, int64_t n, T alpha, T beta, T* c,
                int64_t ldc) {
  for (int64_t i = 0; i < m; ++i, c += ldc, tile += nr) {
    if (beta == T(0)) {
      for (int64_t j = 0; j < n; ++j) c[j] = alpha * tile[j];
    } else {
      for (int64_t j = 0; j < n; ++j) c[j] = alpha * tile[j] + beta * c[j];
    }
  }
}

// C = beta * C, for the cases with no product to add (K == 0 or alpha == 0).
template <class T>
void scale_c(int64_t M, int64_t N, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == T(0) ? T(0) : beta * C[i * ldc + j];
}

template <class T>
void gemm_impl(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, T alpha,
               const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  LUCID_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm: negative size M=", M, " N=", N, " K=", K);
  const int64_t a_cols = ta == Transpose::No ? K : M;  // as stored, row-major
  const int64_t b_cols = tb == Transpose::No ? N : K;
  LUCID_CHECK(lda >= std::max<int64_t>(1, a_cols), "gemm: lda=", lda, " < ", a_cols);
  LUCID_CHECK(ldb >= std::max<int64_t>(1, b_cols), "gemm: ldb=", ldb, " < ", b_cols);
  LUCID_CHECK(ldc >= std::max<int64_t>(1, N), "gemm: ldc=", ldc, " < ", N);
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) return scale_c(M, N, beta, C, ldc);

  const View<T> opA = ta == Transpose::No ? View<T>{A, lda, 1} : View<T>{A, 1, lda};
  const View<T> opB = tb == Transpose::No ? View<T>{B, ldb, 1} : View<T>{B, 1, ldb};
  const detail::MicroKernel<T>& kernel = micro_kernel_for_this_cpu<T>();
  const int mr = kernel.mr, nr = kernel.nr;

  thread_local AlignedBuffer<T> packed_b_buffer;  // per calling thread
  T* const packed_b = packed_b_buffer.get(KC * NC);

  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    const int64_t nc_panels = (nc + nr - 1) / nr;
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const T beta_here = pc == 0 ? beta : T(1);

      // Pack op(B)[pc:pc+kc, jc:jc+nc] as NR-wide micro-panels of kc rows.
      parallel_for(0, nc_panels, 16, [&](int64_t p0, int64_t p1) {
        const int64_t width = std::min(nc, p1 * nr) - p0 * nr;
        pack_panels(opB.at(pc, jc + p0 * nr), opB.rs, opB.cs, kc, width, nr,
                    packed_b + p0 * nr * kc);
      });

      // One task per MC x NB block of C.
      const int64_t m_blocks = (M + MC - 1) / MC;
      const int64_t n_blocks = (nc + NB - 1) / NB;
      parallel_for(0, m_blocks * n_blocks, 1, [&](int64_t t0, int64_t t1) {
        thread_local AlignedBuffer<T> packed_a_buffer;  // per worker
        T* const packed_a = packed_a_buffer.get(MC * KC);
        alignas(64) T tile[kMaxTile];
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t ic = (t / n_blocks) * MC, mc = std::min(MC, M - ic);
          const int64_t jb = (t % n_blocks) * NB, nb = std::min(NB, nc - jb);
          // Pack op(A)[ic:ic+mc, pc:pc+kc] as MR-tall micro-panels of kc columns.
          pack_panels(opA.at(ic, pc), opA.cs, opA.rs, kc, mc, mr, packed_a);
          for (int64_t jr = 0; jr < nb; jr += nr) {
            const T* b_panel = packed_b + (jb + jr) * kc;
            for (int64_t ir = 0; ir < mc; ir += mr) {
              kernel.run(kc, packed_a + ir * kc, b_panel, tile);
              store_tile(tile, nr, std::min<int64_t>(mr, mc - ir), std::min<int64_t>(nr, nb - jr),
                         alpha, beta_here, C + (ic + ir) * ldc + jc + jb + jr, ldc);
            }
          }
        }
      });
    }
  }
}

}  // namespace

void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc) {
  gemm_impl(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, double alpha,
          const double* A, int64_t lda, const double* B, int64_t ldb, double beta,
          double* C, int64_t ldc) {
  gemm_impl(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace lucid::cpu
