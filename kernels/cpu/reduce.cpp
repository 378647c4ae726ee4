// Row reductions and softmax over a contiguous [rows, K] buffer.
//
// Scheme (deterministic for any thread count):
//   Each row's K is cut into blocks of kBlock = 4096 elements (a constant, never
//   derived from the thread count). A block gives a partial (sum, max, max+index,
//   ...) computed in a fixed order; a row's result folds its block partials in
//   block order. Which thread computes a block never changes the bits, so:
//     - many rows:  threads share the rows, each row folds its blocks itself;
//     - few rows, large K: threads share the (row, block) pairs, then each row
//       folds its partials. Both paths produce the same bits.
//   Sums use 8 independent double lanes inside a block (so the compiler can
//   vectorize the float->double adds) and add the lanes in a fixed tree.
//
// Cost per element: K reads, 1 write per row.
//   sum: 1 add (4 bytes float / 8 bytes double read);  max/min: 1 compare;
//   logsumexp: 2 reads (max pass, exp-sum pass), ~3 FLOPs + an exp;
//   softmax: 3 reads + 1 write (max, exp-sum, output), ~4 FLOPs + 2 exps.
#include <lucid/kernels/cpu/reduce.h>
#include <lucid/kernels/thread_pool.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace lucid::cpu {

namespace {

constexpr int64_t kBlock = 4096;     // elements per block: fixes the summation order
constexpr int64_t kFewRows = 16;     // below this (and K > kBlock), parallelize over blocks
constexpr int64_t kGrainElems = 16384;  // about this many elements per parallel chunk

using Acc = double;  // accumulate in double: float sums stay accurate

int64_t num_blocks(int64_t K) { return (K + kBlock - 1) / kBlock; }

// ---- per-block partials: each reads x[0..n) in a fixed order ----

// sum f(x[k]) over the block, 8 lanes then a fixed tree.
template <class T, class F>
Acc block_sum(const T* x, int64_t n, F f) {
  Acc lane[8] = {};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int j = 0; j < 8; ++j) lane[j] += f(x[k + j]);
  for (int j = 0; k < n; ++k, ++j) lane[j] += f(x[k]);
  return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

template <class T>
struct Best {
  T value;
  int64_t arg;  // index within the row
};

// NaN wins (as in PyTorch); ties keep the first index.
template <class T>
bool better(ReduceOp op, T cand, T best) {
  return std::isnan(cand) || (op == ReduceOp::Max ? cand > best : cand < best);
}

template <class T>
Best<T> block_best(ReduceOp op, const T* x, int64_t n, int64_t k0) {
  Best<T> b{x[0], k0};
  for (int64_t k = 1; k < n && !std::isnan(b.value); ++k)
    if (better(op, x[k], b.value)) b = {x[k], k0 + k};
  return b;
}

// Max ignoring NaN (std::max(m, NaN) == m); a NaN shows up later in the exp-sum.
// Also folds the per-block maxima.
template <class T>
T block_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t k = 0; k < n; ++k) m = std::max(m, x[k]);
  return m;
}

// ---- folding partials in block order ----

Acc fold_sum(const Acc* p, int64_t nb) {
  Acc s = 0;
  for (int64_t b = 0; b < nb; ++b) s += p[b];
  return s;
}

template <class T>
Best<T> fold_best(ReduceOp op, const Best<T>* p, int64_t nb) {
  Best<T> best = p[0];
  for (int64_t b = 1; b < nb && !std::isnan(best.value); ++b)
    if (better(op, p[b].value, best.value)) best = p[b];
  return best;
}


// ---- running fn(r, b, k0, n) for every block of every row ----

// Row mode: threads share rows, each row visits its blocks in order, then
// finish(r) folds them. Block mode: threads share (row, block) pairs, then
// finish(r) runs for every row. Same partials, same fold, same bits.
template <class BlockFn, class FinishFn>
void for_each_block(int64_t rows, int64_t K, BlockFn block, FinishFn finish) {
  const int64_t nb = num_blocks(K);
  auto run_block = [&](int64_t r, int64_t b) {
    const int64_t k0 = b * kBlock;
    block(r, b, k0, std::min(kBlock, K - k0));
  };
  if (rows >= kFewRows || nb <= 1) {
    const int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(K, 1));
    parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t b = 0; b < nb; ++b) run_block(r, b);
        finish(r);
      }
    });
  } else {
    parallel_for(0, rows * nb, std::max<int64_t>(1, kGrainElems / kBlock), [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) run_block(i / nb, i % nb);
    });
    for (int64_t r = 0; r < rows; ++r) finish(r);
  }
}

template <class T>
void reduce_rows_impl(ReduceOp op, const T* in, int64_t rows, int64_t K, T* out, int64_t* idx) {
  if (rows <= 0) return;
  if (K == 0) {  // sum of nothing is 0, logsumexp of nothing is -inf (max/min are refused by the op)
    std::fill(out, out + rows, op == ReduceOp::Sum ? T(0) : -std::numeric_limits<T>::infinity());
    return;
  }
  const int64_t nb = num_blocks(K);
  auto row = [&](int64_t r) { return in + r * K; };
  switch (op) {
    case ReduceOp::Sum: {
      std::vector<Acc> part(rows * nb);
      for_each_block(
          rows, K,
          [&](int64_t r, int64_t b, int64_t k0, int64_t n) {
            part[r * nb + b] = block_sum(row(r) + k0, n, [](T v) { return static_cast<Acc>(v); });
          },
          [&](int64_t r) { out[r] = static_cast<T>(fold_sum(&part[r * nb], nb)); });
      break;
    }
    case ReduceOp::Max:
    case ReduceOp::Min: {
      std::vector<Best<T>> part(rows * nb);
      for_each_block(
          rows, K,
          [&](int64_t r, int64_t b, int64_t k0, int64_t n) {
            part[r * nb + b] = block_best(op, row(r) + k0, n, k0);
          },
          [&](int64_t r) {
            const Best<T> best = fold_best(op, &part[r * nb], nb);
            out[r] = best.value;
            if (idx) idx[r] = best.arg;
          });
      break;
    }
    case ReduceOp::LogSumExp: {
      // log sum exp(x) = m + log sum exp(x - m), m = max x, for stability.
      // Pass 1: block maxima -> row max m. Pass 2: block sums of exp(x - m).
      std::vector<T> bmax(rows * nb), m(rows);
      std::vector<Acc> part(rows * nb);
      for_each_block(
          rows, K,
          [&](int64_t r, int64_t b, int64_t k0, int64_t n) { bmax[r * nb + b] = block_max(row(r) + k0, n); },
          [&](int64_t r) { m[r] = block_max(&bmax[r * nb], nb); });
      for_each_block(
          rows, K,
          [&](int64_t r, int64_t b, int64_t k0, int64_t n) {
            if (std::isinf(m[r])) return;  // all -inf (or a +inf): the answer is m
            const T mr = m[r];
            part[r * nb + b] = block_sum(row(r) + k0, n, [mr](T v) { return std::exp(static_cast<Acc>(v - mr)); });
          },
          [&](int64_t r) {
            out[r] = std::isinf(m[r]) ? m[r] : static_cast<T>(m[r] + std::log(fold_sum(&part[r * nb], nb)));
          });
      break;
    }
  }
}

template <class T>
void softmax_rows_impl(SoftmaxKind kind, const T* in, int64_t rows, int64_t K, T* out) {
  if (rows <= 0 || K <= 0) return;
  const int64_t nb = num_blocks(K);
  std::vector<T> bmax(rows * nb), m(rows);
  std::vector<Acc> part(rows * nb), s(rows);

  // Few rows with large K: three passes, each shared over blocks.
  // Many rows: one pass over rows, each row doing all three steps while it is in cache.
  auto max_block = [&](int64_t r, int64_t b, int64_t k0, int64_t n) {
    bmax[r * nb + b] = block_max(in + r * K + k0, n);
  };
  auto max_finish = [&](int64_t r) { m[r] = block_max(&bmax[r * nb], nb); };
  auto sum_block = [&](int64_t r, int64_t b, int64_t k0, int64_t n) {
    const T mr = m[r];
    part[r * nb + b] = block_sum(in + r * K + k0, n, [mr](T v) { return std::exp(static_cast<Acc>(v - mr)); });
  };
  auto sum_finish = [&](int64_t r) { s[r] = fold_sum(&part[r * nb], nb); };
  auto write_block = [&](int64_t r, int64_t, int64_t k0, int64_t n) {
    const T* x = in + r * K + k0;
    T* y = out + r * K + k0;
    if (kind == SoftmaxKind::Softmax) {
      const Acc inv = 1.0 / s[r];
      for (int64_t k = 0; k < n; ++k) y[k] = static_cast<T>(std::exp(static_cast<Acc>(x[k] - m[r])) * inv);
    } else {
      const T lse = static_cast<T>(m[r] + std::log(s[r]));
      for (int64_t k = 0; k < n; ++k) y[k] = x[k] - lse;
    }
  };

  if (rows < kFewRows && nb > 1) {
    for_each_block(rows, K, max_block, max_finish);
    for_each_block(rows, K, sum_block, sum_finish);
    for_each_block(rows, K, write_block, [](int64_t) {});
  } else {
    const int64_t grain = std::max<int64_t>(1, kGrainElems / K);
    parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        // the same blocks and folds as the block-parallel path, one row at a time
        auto each_block = [&](auto fn) {
          for (int64_t b = 0; b < nb; ++b) fn(r, b, b * kBlock, std::min(kBlock, K - b * kBlock));
        };
        each_block(max_block);
        max_finish(r);
        each_block(sum_block);
        sum_finish(r);
        each_block(write_block);
      }
    });
  }
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
