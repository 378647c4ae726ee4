// bench_matmul: GFLOP/s of lucid::cpu::gemm (float, C = A * B) at square sizes,
// on 1 and 2 threads, next to OpenBLAS cblas_sgemm when it was found at build
// time. FLOPs = 2 * n^3. Each entry: 2 warm-up runs, then the median of 7.
#include <lucid/kernels/cpu/gemm.h>
#include <lucid/kernels/thread_pool.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

#ifdef LUCID_BENCH_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int num_threads);
extern "C" char* openblas_get_corename(void);
#endif

namespace {

double median_seconds(const std::function<void()>& run) {
  for (int i = 0; i < 2; ++i) run();  // warm-up: caches, page faults, pool start
  std::vector<double> times;
  for (int i = 0; i < 7; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main() {
#ifdef LUCID_BENCH_OPENBLAS
  // OpenBLAS picks its kernels from CPUID; an old OpenBLAS on a new CPU may fall
  // back to a slow generic core (e.g. "Prescott"). Override with the
  // OPENBLAS_CORETYPE environment variable (see bench/README.md).
  std::printf("OpenBLAS core: %s\n", openblas_get_corename());
#endif
  std::printf("%6s %8s %14s %16s %8s\n", "n", "threads", "lucid GFLOP/s", "OpenBLAS GFLOP/s",
              "ratio");
  for (int n : {256, 512, 1024}) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> A(size_t(n) * n), B(size_t(n) * n), C(size_t(n) * n);
    for (float& x : A) x = dist(rng);
    for (float& x : B) x = dist(rng);
    const double gflop = 2.0 * n * n * n * 1e-9;

    for (int threads : {1, 2}) {
      lucid::set_num_threads(threads);
      const double lucid_s = median_seconds([&] {
        lucid::cpu::gemm(lucid::cpu::Transpose::No, lucid::cpu::Transpose::No, n, n, n, 1.0f,
                         A.data(), n, B.data(), n, 0.0f, C.data(), n);
      });
#ifdef LUCID_BENCH_OPENBLAS
      openblas_set_num_threads(threads);
      const double blas_s = median_seconds([&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A.data(), n,
                    B.data(), n, 0.0f, C.data(), n);
      });
      std::printf("%6d %8d %14.1f %16.1f %8.2f\n", n, threads, gflop / lucid_s, gflop / blas_s,
                  blas_s / lucid_s);
#else
      std::printf("%6d %8d %14.1f %16s %8s\n", n, threads, gflop / lucid_s, "n/a", "n/a");
#endif
    }
  }
#ifndef LUCID_BENCH_OPENBLAS
  std::printf("(OpenBLAS was not found at build time: no comparison column)\n");
#endif
  return 0;
}
