// Row reductions and softmax (the CPU reference: kernels/cpu/reduce.cpp).
//
// Scheme: each row of the [rows, K] buffer is cut into segments of kChunk
// elements (a constant, so the summation order depends on K only). One group of
// threads reduces one segment: a warp when the segment has at most 1024
// elements, the whole 256-thread block above that (group_reduce.cuh). A row
// with one segment is finished by its group; a longer row writes one partial per
// segment and a second launch folds the partials of each row in segment order.
// Sums accumulate in double.
//
//   geometry: rows * segments groups (8 warp-groups or 1 block-group per 256-thread
//             block), grid-stride; the fold: rows groups
//   sum:       reads sizeof(T) per element, 1 add
//   max/min:   reads sizeof(T), 1-3 compares (NaN wins, ties keep the first index)
//   logsumexp: 2 passes (max, then sum of exp(x - max)): 2 sizeof(T) reads, ~3 FLOPs + an exp
//   softmax:   3 passes (max, exp-sum, write): 3 reads + 1 write of sizeof(T), ~4 FLOPs + 2 exps
#include <lucid/kernels/cuda/copy.h>
#include <lucid/kernels/cuda/group_reduce.cuh>
#include <lucid/kernels/cuda/reduce.h>
#include <lucid/kernels/factory.h>

namespace lucid::cuda {

namespace {

constexpr int64_t kChunk = 32768;  // elements per segment: fixes the summation order

template <class T>
__device__ inline bool is_nan(T v) { return v != v; }

// ---- the reduce ops: identity, load(r, k), combine(a, b), finish(r, p) ----

template <class T>
struct SumOp {
  using P = double;
  const T* in;
  int64_t K;
  T* out;
  __device__ P identity() const { return 0.0; }
  __device__ P load(int64_t r, int64_t k) const { return static_cast<double>(in[r * K + k]); }
  __device__ P combine(P a, P b) const { return a + b; }
  __device__ void finish(int64_t r, P p) const { out[r] = static_cast<T>(p); }
};

// Max or min with its index. A NaN beats any number (the first NaN wins); equal
// values keep the smaller index. Both rules compare indices, not positions in the
// tree, so any fold order gives the CPU's answer: the first extreme element.
template <class T>
struct BestOp {
  using P = ValueIndex<T>;
  const T* in;
  int64_t K;
  bool is_max;
  T* out;
  int64_t* idx;  // may be null
  __device__ P identity() const {
    const T inf = std::numeric_limits<T>::infinity();
    return {is_max ? -inf : inf, std::numeric_limits<int64_t>::max()};  // loses every tie
  }
  __device__ P load(int64_t r, int64_t k) const { return {in[r * K + k], k}; }
  __device__ P combine(P a, P b) const {
    const bool na = is_nan(a.value), nb = is_nan(b.value);
    if (na || nb) return (na && nb) ? (a.index < b.index ? a : b) : (na ? a : b);
    if (a.value == b.value) return a.index < b.index ? a : b;
    return (is_max ? b.value > a.value : b.value < a.value) ? b : a;
  }
  __device__ void finish(int64_t r, P p) const {
    out[r] = p.value;
    if (idx) idx[r] = p.index;
  }
};

// The row max that ignores NaN (as std::max(m, NaN) == m on the CPU): the
// shift of logsumexp and softmax. A NaN shows up later, in the exp-sum.
template <class T>
struct ShiftMaxOp {
  using P = T;
  const T* in;
  int64_t K;
  T* m;
  __device__ P identity() const { return -std::numeric_limits<T>::infinity(); }
  __device__ P load(int64_t r, int64_t k) const { return in[r * K + k]; }
  __device__ P combine(P a, P b) const { return a < b ? b : a; }
  __device__ void finish(int64_t r, P p) const { m[r] = p; }
};

// sum exp(x - m[r]), then either stored (softmax) or turned into logsumexp
// m + log(sum); a row whose max is infinite has logsumexp m.
template <class T>
struct ExpSumOp {
  using P = double;
  const T* in;
  int64_t K;
  const T* m;
  double* sum_out;  // softmax: the row sums (or null)
  T* lse_out;       // logsumexp: the result (or null)
  __device__ P identity() const { return 0.0; }
  __device__ P load(int64_t r, int64_t k) const { return exp(static_cast<double>(in[r * K + k] - m[r])); }
  __device__ P combine(P a, P b) const { return a + b; }
  __device__ void finish(int64_t r, P p) const {
    if (sum_out) sum_out[r] = p;
    if (lse_out) lse_out[r] = isinf(m[r]) ? m[r] : static_cast<T>(m[r] + log(p));
  }
};

// The second launch of a long row: folds its segment partials in order.
template <class Op>
struct FoldOp {
  using P = typename Op::P;
  Op op;
  const P* part;  // [rows, nchunks]
  int64_t nchunks;
  __device__ P identity() const { return op.identity(); }
  __device__ P load(int64_t r, int64_t k) const { return part[r * nchunks + k]; }
  __device__ P combine(P a, P b) const { return op.combine(a, b); }
  __device__ void finish(int64_t r, P p) const { op.finish(r, p); }
};

// One group of G threads per (row, segment); segment c of row r covers
// k in [c * chunk, min(K, (c + 1) * chunk)). Writes partial[r * nchunks + c],
// or finishes the row when partial is null (then nchunks == 1).
template <int G, class Op>
__global__ void segment_reduce_kernel(Op op, int64_t rows, int64_t K, int64_t chunk, int64_t nchunks,
                                      typename Op::P* partial) {
  using P = typename Op::P;
  constexpr int kGroups = kThreads / G;
  const int lane = threadIdx.x % G;
  const int64_t nseg = rows * nchunks;
  // the loop bound is the same for all threads of a group (a block when G = kThreads)
  for (int64_t seg = blockIdx.x * int64_t(kGroups) + threadIdx.x / G; seg < nseg;
       seg += int64_t(gridDim.x) * kGroups) {
    const int64_t r = seg / nchunks, c = seg % nchunks;
    const int64_t k0 = c * chunk, k1 = k0 + chunk < K ? k0 + chunk : K;
    P p = op.identity();
    for (int64_t k = k0 + lane; k < k1; k += G) p = op.combine(p, op.load(r, k));
    p = group_reduce<G>(p, [&](P a, P b) { return op.combine(a, b); });
    if (lane == 0) {
      if (partial)
        partial[seg] = p;
      else
        op.finish(r, p);
    }
  }
}

template <class Op>
void launch_segments(const Op& op, int64_t rows, int64_t K, int64_t chunk, int64_t nchunks,
                     typename Op::P* partial) {
  const int64_t seg_len = chunk < K ? chunk : K;
  if (seg_len <= kWarpRowMax) {
    segment_reduce_kernel<kWarp, Op>
        <<<blocks_for_groups<kWarp>(rows * nchunks), kThreads, 0, stream()>>>(op, rows, K, chunk, nchunks, partial);
  } else {
    segment_reduce_kernel<kThreads, Op>
        <<<blocks_for_groups<kThreads>(rows * nchunks), kThreads, 0, stream()>>>(op, rows, K, chunk, nchunks, partial);
  }
  LUCID_CUDA_CHECK_LAUNCH("segment_reduce_kernel");
}

// Reduces every row of a [rows, K] buffer with op (K >= 1); `like` gives the device.
template <class Op>
void reduce_each_row(const Op& op, int64_t rows, int64_t K, const Tensor& like) {
  using P = typename Op::P;
  if (rows == 0) return;
  const int64_t nchunks = (K + kChunk - 1) / kChunk;
  if (nchunks == 1) {
    launch_segments(op, rows, K, kChunk, 1, nullptr);
    return;
  }
  // scratch for the partials, as float64 words (a ValueIndex is two words)
  const int64_t words = (rows * nchunks * int64_t(sizeof(P)) + 7) / 8;
  Tensor part = empty({words}, TensorOptions(kFloat64).device(like.device()));
  P* p = static_cast<P*>(part.raw_data());
  launch_segments(op, rows, K, kChunk, nchunks, p);
  launch_segments(FoldOp<Op>{op, p, nchunks}, rows, nchunks, nchunks, 1, nullptr);
}

// y = exp(x - m) / s, or x - (m + log s), one thread per element.
template <class T>
__global__ void softmax_write_kernel(SoftmaxKind kind, const T* in, const T* m, const double* s, int64_t K,
                                     int64_t n, T* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / K;
    if (kind == SoftmaxKind::Softmax) {
      out[i] = static_cast<T>(exp(static_cast<double>(in[i] - m[r])) * (1.0 / s[r]));
    } else {
      const T lse = static_cast<T>(m[r] + log(s[r]));
      out[i] = in[i] - lse;
    }
  }
}

template <class T>
void reduce_rows_impl(ReduceOp op, const Tensor& in, int64_t rows, int64_t K, const Tensor& out,
                      const Tensor& idx) {
  const T* x = static_cast<const T*>(in.raw_data());
  T* y = static_cast<T*>(out.raw_data());
  switch (op) {
    case ReduceOp::Sum:
      reduce_each_row(SumOp<T>{x, K, y}, rows, K, in);
      break;
    case ReduceOp::Max:
    case ReduceOp::Min:
      reduce_each_row(BestOp<T>{x, K, op == ReduceOp::Max, y, idx.defined() ? idx.data_ptr<int64_t>() : nullptr},
                      rows, K, in);
      break;
    case ReduceOp::LogSumExp: {
      // log sum exp(x) = m + log sum exp(x - m), m = max x, for stability
      Tensor m = empty({rows}, in.options());
      reduce_each_row(ShiftMaxOp<T>{x, K, m.data_ptr<T>()}, rows, K, in);
      reduce_each_row(ExpSumOp<T>{x, K, m.data_ptr<T>(), nullptr, y}, rows, K, in);
      break;
    }
  }
}

template <class T>
void softmax_rows_impl(SoftmaxKind kind, const Tensor& in, int64_t rows, int64_t K, const Tensor& out) {
  const T* x = static_cast<const T*>(in.raw_data());
  Tensor m = empty({rows}, in.options());
  Tensor s = empty({rows}, TensorOptions(kFloat64).device(in.device()));
  reduce_each_row(ShiftMaxOp<T>{x, K, m.data_ptr<T>()}, rows, K, in);
  reduce_each_row(ExpSumOp<T>{x, K, m.data_ptr<T>(), s.data_ptr<double>(), nullptr}, rows, K, in);
  const int64_t n = rows * K;
  softmax_write_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(kind, x, m.data_ptr<T>(), s.data_ptr<double>(),
                                                                   K, n, static_cast<T*>(out.raw_data()));
  LUCID_CUDA_CHECK_LAUNCH("softmax_write_kernel");
}

}  // namespace

void reduce_rows(ReduceOp op, const Tensor& in, int64_t rows, int64_t K, const Tensor& out, const Tensor& idx) {
  if (rows <= 0) return;
  if (K == 0) {  // sum of nothing is 0, logsumexp of nothing is -inf (max/min are refused by the op)
    cuda::fill(out, op == ReduceOp::Sum ? 0.0 : -std::numeric_limits<double>::infinity());
    return;
  }
  visit_float_dtype("reduce", in.dtype(), [&](auto t) { reduce_rows_impl<decltype(t)>(op, in, rows, K, out, idx); });
}

void softmax_rows(SoftmaxKind kind, const Tensor& in, int64_t rows, int64_t K, const Tensor& out) {
  if (rows <= 0 || K <= 0) return;
  visit_float_dtype("softmax", in.dtype(), [&](auto t) { softmax_rows_impl<decltype(t)>(kind, in, rows, K, out); });
}

}  // namespace lucid::cuda
