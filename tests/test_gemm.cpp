// Tests for lucid::cpu::gemm (against a naive triple loop) and lucid::parallel_for.
#include <doctest/doctest.h>
#include <lucid/kernels/cpu/gemm.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/thread_pool.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

using lucid::cpu::gemm;
using lucid::cpu::Transpose;

namespace {

// Restores the pool size a test changed.
struct ThreadCountGuard {
  int saved = lucid::get_num_threads();
  ~ThreadCountGuard() { lucid::set_num_threads(saved); }
};

template <class T>
std::vector<T> random_vector(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

struct GemmCase {
  Transpose ta, tb;
  int64_t M, N, K;
  int64_t pad;  // extra elements per row of A, B and C beyond the minimum
  double alpha, beta;
};

// Runs gemm and a naive reference (accumulating in long double) on random data;
// checks every element of C, including that padding columns are untouched.
template <class T>
void check_against_naive(const GemmCase& c, uint32_t seed) {
  const int64_t a_rows = c.ta == Transpose::No ? c.M : c.K;
  const int64_t a_cols = c.ta == Transpose::No ? c.K : c.M;
  const int64_t b_rows = c.tb == Transpose::No ? c.K : c.N;
  const int64_t b_cols = c.tb == Transpose::No ? c.N : c.K;
  const int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.N + c.pad;
  const std::vector<T> A = random_vector<T>(a_rows * lda, seed);
  const std::vector<T> B = random_vector<T>(b_rows * ldb, seed + 1);
  std::vector<T> C = random_vector<T>(c.M * ldc, seed + 2);
  if (c.beta == 0) std::fill(C.begin(), C.end(), std::numeric_limits<T>::quiet_NaN());
  const std::vector<T> C0 = C;

  const auto a = [&](int64_t i, int64_t k) {
    return c.ta == Transpose::No ? A[i * lda + k] : A[k * lda + i];
  };
  const auto b = [&](int64_t k, int64_t j) {
    return c.tb == Transpose::No ? B[k * ldb + j] : B[j * ldb + k];
  };

  gemm(c.ta, c.tb, c.M, c.N, c.K, T(c.alpha), A.data(), lda, B.data(), ldb, T(c.beta),
       C.data(), ldc);

  // Each product term is < 1 in magnitude, so the error bound grows with K.
  const double eps = std::numeric_limits<T>::epsilon();
  const double tol = 4 * eps * (c.K + 2) * (std::abs(c.alpha) + std::abs(c.beta) + 1);
  int64_t bad = 0;
  for (int64_t i = 0; i < c.M; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const T got = C[i * ldc + j];
      if (j >= c.N) {  // padding: must be left alone (bitwise, NaN included)
        if (std::memcmp(&got, &C0[i * ldc + j], sizeof(T)) != 0) ++bad;
        continue;
      }
      long double sum = 0;
      for (int64_t k = 0; k < c.K; ++k) sum += (long double)a(i, k) * b(k, j);
      long double want = (long double)c.alpha * sum;
      if (c.beta != 0) want += (long double)c.beta * C0[i * ldc + j];
      if (!(std::abs((double)(got - want)) <= tol)) ++bad;  // NaN counts as bad
    }
  }
  INFO("M=", c.M, " N=", c.N, " K=", c.K, " ta=", int(c.ta), " tb=", int(c.tb),
       " pad=", c.pad, " alpha=", c.alpha, " beta=", c.beta);
  CHECK(bad == 0);
}

const int64_t kShapes[][3] = {{1, 1, 1},     {7, 13, 5},    {65, 33, 129}, {100, 1, 300},
                              {257, 259, 31}, {1, 300, 100}, {97, 600, 260}};
const double kAlphaBeta[][2] = {{1.0, 0.0}, {0.5, 1.0}, {-1.5, 0.25}, {1.0, -2.0}};

template <class T>
void check_all_cases() {
  uint32_t seed = 1;
  for (const auto& s : kShapes)
    for (Transpose ta : {Transpose::No, Transpose::Yes})
      for (Transpose tb : {Transpose::No, Transpose::Yes})
        for (int64_t pad : {0, 3})
          for (const auto& ab : kAlphaBeta)
            check_against_naive<T>({ta, tb, s[0], s[1], s[2], pad, ab[0], ab[1]}, seed++);
}

// C computed with the given thread count, for bitwise comparison.
template <class T>
std::vector<T> gemm_with_threads(int threads, int64_t M, int64_t N, int64_t K) {
  lucid::set_num_threads(threads);
  const std::vector<T> A = random_vector<T>(M * K, 11), B = random_vector<T>(K * N, 12);
  std::vector<T> C = random_vector<T>(M * N, 13);
  gemm(Transpose::No, Transpose::Yes, M, N, K, T(0.75), A.data(), K, B.data(), K, T(0.5),
       C.data(), N);
  return C;
}

}  // namespace

TEST_CASE("gemm float matches naive loop for odd shapes, all transposes, strides, alpha/beta") {
  check_all_cases<float>();
}

TEST_CASE("gemm double matches naive loop for odd shapes, all transposes, strides, alpha/beta") {
  check_all_cases<double>();
}

TEST_CASE("gemm with beta=0 never reads C, so NaN in C does not leak") {
  // check_against_naive already fills C with NaN when beta == 0; this case
  // adds K == 0 and alpha == 0, where no product is computed at all.
  for (double alpha : {0.0, 1.0}) {
    for (int64_t K : {0, 4}) {
      std::vector<float> A(3 * 4, 1.0f), B(4 * 5, 1.0f);
      std::vector<float> C(3 * 5, std::numeric_limits<float>::quiet_NaN());
      gemm(Transpose::No, Transpose::No, 3, 5, K, float(alpha), A.data(), 4, B.data(), 5, 0.0f,
           C.data(), 5);
      for (float x : C) CHECK(x == float(alpha) * K);
    }
  }
}

TEST_CASE("gemm rejects leading dimensions smaller than the rows they describe") {
  std::vector<float> A(16), B(16), C(16);
  CHECK_THROWS_AS(gemm(Transpose::No, Transpose::No, 2, 2, 4, 1.0f, A.data(), 3, B.data(), 2,
                       0.0f, C.data(), 2),
                  lucid::Error);
}

TEST_CASE("gemm is bit-identical for 1, 2 and 3 threads") {
  ThreadCountGuard guard;
  // Large enough for many tasks per K block and several K blocks (K > 256).
  const int64_t M = 301, N = 1100, K = 600;
  const std::vector<float> f1 = gemm_with_threads<float>(1, M, N, K);
  const std::vector<double> d1 = gemm_with_threads<double>(1, M, N, K);
  for (int threads : {2, 3}) {
    CAPTURE(threads);
    CHECK(gemm_with_threads<float>(threads, M, N, K) == f1);
    CHECK(gemm_with_threads<double>(threads, M, N, K) == d1);
  }
}

TEST_CASE("parallel_for visits every index exactly once, for any thread count") {
  ThreadCountGuard guard;
  for (int threads : {1, 2, 3, 8}) {
    lucid::set_num_threads(threads);
    CHECK(lucid::get_num_threads() == threads);
    for (int64_t grain : {1, 7, 1000}) {
      std::vector<std::atomic<int>> hits(1003);
      lucid::parallel_for(0, 1003, grain, [&](int64_t b, int64_t e) {
        CHECK(e - b <= grain);
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
      int64_t wrong = 0;
      for (auto& h : hits) wrong += h.load() != 1;
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("parallel_for chunk boundaries depend only on begin, end and grain") {
  ThreadCountGuard guard;
  for (int threads : {1, 3}) {
    lucid::set_num_threads(threads);
    std::vector<int64_t> chunk_end(100, -1);
    lucid::parallel_for(5, 100, 10, [&](int64_t b, int64_t e) { chunk_end[b] = e; });
    for (int64_t b = 5; b < 100; b += 10) CHECK(chunk_end[b] == std::min<int64_t>(b + 10, 100));
  }
}

TEST_CASE("parallel_for rethrows an exception from a chunk after all chunks ran") {
  ThreadCountGuard guard;
  lucid::set_num_threads(3);
  std::atomic<int> chunks_run{0};
  CHECK_THROWS_WITH_AS(lucid::parallel_for(0, 64, 1,
                                           [&](int64_t b, int64_t) {
                                             chunks_run++;
                                             if (b == 17) throw std::runtime_error("chunk 17");
                                           }),
                       "chunk 17", std::runtime_error);
  CHECK(chunks_run == 64);
  // The pool is still usable afterwards.
  std::atomic<int> after{0};
  lucid::parallel_for(0, 64, 1, [&](int64_t, int64_t) { after++; });
  CHECK(after == 64);
}

TEST_CASE("nested parallel_for runs inline on the calling worker") {
  ThreadCountGuard guard;
  lucid::set_num_threads(2);
  std::atomic<int> inner_total{0}, inner_on_other_thread{0};
  lucid::parallel_for(0, 8, 1, [&](int64_t, int64_t) {
    const std::thread::id outer = std::this_thread::get_id();
    lucid::parallel_for(0, 100, 10, [&](int64_t b, int64_t e) {
      inner_total += int(e - b);
      if (std::this_thread::get_id() != outer) inner_on_other_thread++;
    });
  });
  CHECK(inner_total == 800);
  CHECK(inner_on_other_thread == 0);
}

TEST_CASE("parallel_for is safe when several user threads call it at once") {
  ThreadCountGuard guard;
  lucid::set_num_threads(2);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> users;
  for (int u = 0; u < 4; ++u)
    users.emplace_back([&] {
      for (int rep = 0; rep < 20; ++rep)
        lucid::parallel_for(0, 1000, 10, [&](int64_t b, int64_t e) { total += e - b; });
    });
  for (auto& t : users) t.join();
  CHECK(total == 4 * 20 * 1000);
}

TEST_CASE("set_num_threads rejects n < 1 with lucid::Error naming the function") {
  CHECK_THROWS_WITH_AS(lucid::set_num_threads(0), doctest::Contains("set_num_threads"),
                       lucid::Error);
  CHECK_THROWS_AS(lucid::set_num_threads(-3), lucid::Error);
}

TEST_CASE("get_num_threads inside a parallel_for chunk answers instead of deadlocking") {
  lucid::set_num_threads(2);
  std::atomic<int> seen{0};
  lucid::parallel_for(0, 64, 1, [&](int64_t, int64_t) { seen = lucid::get_num_threads(); });
  CHECK(seen.load() == 2);
  CHECK_THROWS_AS(lucid::parallel_for(0, 64, 1, [&](int64_t, int64_t) { lucid::set_num_threads(3); }),
                  lucid::Error);
}
