// Row reductions and softmax.
// Per row: K reads, 1 write; sum 1 FLOP/element, logsumexp and softmax ~3 plus an exp.
#include <lucid/kernels/cpu/reduce.h>
#include <lucid/kernels/thread_pool.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace lucid::cpu {

namespace {

template <class T>
using Acc = double;  // accumulate in double: float sums stay accurate and order-stable

template <class T>
void reduce_rows_impl(ReduceOp op, const T* in, int64_t rows, int64_t K, T* out, int64_t* idx) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(K, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* x = in + r * K;
      switch (op) {
        case ReduceOp::Sum: {
          Acc<T> s = 0;
          for (int64_t k = 0; k < K; ++k) s += x[k];
          out[r] = static_cast<T>(s);
          break;
        }
        case ReduceOp::Max:
        case ReduceOp::Min: {
          // NaN wins (as in PyTorch); ties keep the first index
          const bool is_max = op == ReduceOp::Max;
          T best = x[0];
          int64_t arg = 0;
          for (int64_t k = 1; k < K && !std::isnan(best); ++k) {
            if (std::isnan(x[k]) || (is_max ? x[k] > best : x[k] < best)) {
              best = x[k];
              arg = k;
            }
          }
          out[r] = best;
          if (idx) idx[r] = arg;
          break;
        }
        case ReduceOp::LogSumExp: {
          // log sum exp(x) = m + log sum exp(x - m), m = max x, for stability
          T m = -std::numeric_limits<T>::infinity();
          for (int64_t k = 0; k < K; ++k) m = std::max(m, x[k]);
          if (std::isinf(m)) { out[r] = m; break; }
          Acc<T> s = 0;
          for (int64_t k = 0; k < K; ++k) s += std::exp(static_cast<Acc<T>>(x[k] - m));
          out[r] = static_cast<T>(m + std::log(s));
          break;
        }
      }
    }
  });
}

template <class T>
void softmax_rows_impl(SoftmaxKind kind, const T* in, int64_t rows, int64_t K, T* out) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(K, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* x = in + r * K;
      T* y = out + r * K;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t k = 0; k < K; ++k) m = std::max(m, x[k]);
      Acc<T> s = 0;
      for (int64_t k = 0; k < K; ++k) s += std::exp(static_cast<Acc<T>>(x[k] - m));
      if (kind == SoftmaxKind::Softmax) {
        const Acc<T> inv = 1.0 / s;
        for (int64_t k = 0; k < K; ++k) y[k] = static_cast<T>(std::exp(static_cast<Acc<T>>(x[k] - m)) * inv);
      } else {
        const T lse = static_cast<T>(m + std::log(s));
        for (int64_t k = 0; k < K; ++k) y[k] = x[k] - lse;
      }
    }
  });
}

}  // namespace

void reduce_rows(ReduceOp op, const float* in, int64_t rows, int64_t K, float* out, int64_t* idx) {
  reduce_rows_impl(op, in, rows, K, out, idx);
}
void reduce_rows(ReduceOp op, const double* in, int64_t rows, int64_t K, double* out, int64_t* idx) {
  reduce_rows_impl(op, in, rows, K, out, idx);
}
void softmax_rows(SoftmaxKind kind, const float* in, int64_t rows, int64_t K, float* out) {
  softmax_rows_impl(kind, in, rows, K, out);
}
void softmax_rows(SoftmaxKind kind, const double* in, int64_t rows, int64_t K, double* out) {
  softmax_rows_impl(kind, in, rows, K, out);
}

}  // namespace lucid::cpu
