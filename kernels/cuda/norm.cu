// Layer norm forward/backward and batch norm's fixed-statistics backward (the
// CPU reference: kernels/cpu/norm.cpp). Sums accumulate in double in a fixed
// order (group_reduce.cuh); no atomics.
//
// layer_norm_forward: one group per row (a warp for M <= 1024, else the
//   256-thread block): sum -> mean, sum of squared deviations -> invstd, write y.
//   3 reads + 1 write of sizeof(T) per element (+ weight, bias), ~8 FLOPs.
// layer_norm_backward, dx: one group per row: sum(g_hat), sum(g_hat x_hat), then
//   dx. 4 reads + 1 write of sizeof(T) per element, ~10 FLOPs.
// layer_norm_backward, dweight/dbias: two passes. Pass 1: one thread per
//   (chunk of kRowsPerChunk rows, column) sums down its chunk in row order
//   (threads of a warp read adjacent columns: coalesced); pass 2: one thread per
//   column folds the chunk partials in chunk order. 2 reads of sizeof(T) per
//   element, 16 bytes per partial, ~4 FLOPs.
// batch_norm_backward_fixed_stats: one 256-thread block per channel folds
//   sum(g), sum(g x_hat) over its N*S values, then writes dx = g w invstd.
//   2 reads + 1 write of sizeof(T) per element, ~5 FLOPs.
#include <lucid/kernels/cuda/group_reduce.cuh>
#include <lucid/kernels/cuda/norm.h>
#include <lucid/kernels/factory.h>

namespace lucid::cuda {

namespace {

constexpr int64_t kRowsPerChunk = 32;  // rows per partial of the column sums: fixes their order

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}
template <class T>
T* mut_or_null(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

__device__ inline Sum2 add_sum2(Sum2 x, Sum2 y) { return {x.a + y.a, x.b + y.b}; }

template <int G, class T>
__global__ void layer_norm_forward_kernel(const T* x, int64_t R, int64_t M, double eps, const T* weight,
                                          const T* bias, T* y, T* mean, T* invstd) {
  constexpr int kGroups = kThreads / G;
  const int lane = threadIdx.x % G;
  for (int64_t r = blockIdx.x * int64_t(kGroups) + threadIdx.x / G; r < R; r += int64_t(gridDim.x) * kGroups) {
    const T* xr = x + r * M;
    T* yr = y + r * M;
    // two passes: the mean, then the squared deviations (no cancellation)
    double sum = 0;
    for (int64_t j = lane; j < M; j += G) sum += xr[j];
    const double mu = group_reduce<G>(sum, add_doubles) / static_cast<double>(M);
    double sq = 0;
    for (int64_t j = lane; j < M; j += G) sq += (xr[j] - mu) * (xr[j] - mu);
    const double is = 1.0 / sqrt(group_reduce<G>(sq, add_doubles) / static_cast<double>(M) + eps);
    if (lane == 0) {
      mean[r] = static_cast<T>(mu);
      invstd[r] = static_cast<T>(is);
    }
    for (int64_t j = lane; j < M; j += G) {
      const double xhat = (xr[j] - mu) * is;
      yr[j] = static_cast<T>(xhat * (weight ? weight[j] : T(1)) + (bias ? bias[j] : T(0)));
    }
  }
}

template <int G, class T>
__global__ void layer_norm_backward_dx_kernel(const T* g, const T* x, int64_t R, int64_t M, const T* mean,
                                              const T* invstd, const T* weight, T* dx) {
  constexpr int kGroups = kThreads / G;
  const int lane = threadIdx.x % G;
  for (int64_t r = blockIdx.x * int64_t(kGroups) + threadIdx.x / G; r < R; r += int64_t(gridDim.x) * kGroups) {
    const T *gr = g + r * M, *xr = x + r * M;
    const double mu = mean[r], is = invstd[r];
    Sum2 s{0, 0};  // sums of g_hat and g_hat * x_hat over the row
    for (int64_t j = lane; j < M; j += G) {
      const double gh = gr[j] * (weight ? weight[j] : T(1));
      s.a += gh;
      s.b += gh * (xr[j] - mu) * is;
    }
    s = group_reduce<G>(s, add_sum2);
    // dx = invstd / M (M g_hat - sum g_hat - x_hat sum(g_hat x_hat))
    for (int64_t j = lane; j < M; j += G) {
      const double gh = gr[j] * (weight ? weight[j] : T(1));
      const double xhat = (xr[j] - mu) * is;
      dx[r * M + j] = static_cast<T>(is / static_cast<double>(M) * (static_cast<double>(M) * gh - s.a - xhat * s.b));
    }
  }
}

// Pass 1: part[c * M + j] = (sum g, sum g x_hat) over rows [c * kRowsPerChunk, ...) of column j.
template <class T>
__global__ void layer_norm_column_partials_kernel(const T* g, const T* x, int64_t R, int64_t M, const T* mean,
                                                  const T* invstd, int64_t nchunks, Sum2* part) {
  const int64_t n = nchunks * M;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = i / M, j = i % M;
    const int64_t r1 = (c + 1) * kRowsPerChunk < R ? (c + 1) * kRowsPerChunk : R;
    Sum2 s{0, 0};
    for (int64_t r = c * kRowsPerChunk; r < r1; ++r) {
      const double gv = g[r * M + j];
      s.a += gv;
      s.b += gv * (x[r * M + j] - static_cast<double>(mean[r])) * invstd[r];
    }
    part[i] = s;
  }
}

// Pass 2: dweight[j], dbias[j] = the chunk partials of column j, folded in chunk order.
template <class T>
__global__ void layer_norm_column_fold_kernel(const Sum2* part, int64_t nchunks, int64_t M, T* dweight, T* dbias) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < M; j += int64_t(gridDim.x) * blockDim.x) {
    Sum2 s{0, 0};
    for (int64_t c = 0; c < nchunks; ++c) s = add_sum2(s, part[c * M + j]);
    if (dweight) dweight[j] = static_cast<T>(s.b);
    if (dbias) dbias[j] = static_cast<T>(s.a);
  }
}

// One block per channel (grid-stride over channels: the loop bound is block-uniform).
template <class T>
__global__ void batch_norm_backward_fixed_kernel(const T* g, const T* x, int64_t N, int64_t C, int64_t S,
                                                 const T* mean, const T* invstd, const T* weight, T* dx,
                                                 T* dweight, T* dbias) {
  const int64_t MS = N * S;
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    const double mu = mean[c], is = invstd[c], w = weight ? weight[c] : 1.0;
    if (dweight || dbias) {
      Sum2 s{0, 0};  // sum g, sum g x_hat
      for (int64_t i = threadIdx.x; i < MS; i += kThreads) {
        const int64_t at = ((i / S) * C + c) * S + i % S;
        s.a += g[at];
        s.b += g[at] * (x[at] - mu) * is;
      }
      s = group_reduce<kThreads>(s, add_sum2);
      if (threadIdx.x == 0) {
        if (dweight) dweight[c] = static_cast<T>(s.b);
        if (dbias) dbias[c] = static_cast<T>(s.a);
      }
    }
    if (dx)
      for (int64_t i = threadIdx.x; i < MS; i += kThreads) {
        const int64_t at = ((i / S) * C + c) * S + i % S;
        dx[at] = static_cast<T>(g[at] * w * is);
      }
  }
}

}  // namespace

void layer_norm_forward(const Tensor& x, int64_t R, int64_t M, double eps, const Tensor& weight,
                        const Tensor& bias, const Tensor& y, const Tensor& mean, const Tensor& invstd) {
  if (R == 0 || M == 0) return;
  visit_float_dtype("layer_norm", x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    auto launch = [&](auto group) {  // group: std::integral_constant<int, G>
      constexpr int G = decltype(group)::value;
      layer_norm_forward_kernel<G, T><<<blocks_for_groups<G>(R), kThreads, 0, stream()>>>(
          static_cast<const T*>(x.raw_data()), R, M, eps, ptr_or_null<T>(weight), ptr_or_null<T>(bias),
          static_cast<T*>(y.raw_data()), mean.data_ptr<T>(), invstd.data_ptr<T>());
    };
    if (M <= kWarpRowMax)
      launch(std::integral_constant<int, kWarp>{});
    else
      launch(std::integral_constant<int, kThreads>{});
    LUCID_CUDA_CHECK_LAUNCH("layer_norm_forward_kernel");
  });
}

void layer_norm_backward(const Tensor& g, const Tensor& x, int64_t R, int64_t M, const Tensor& mean,
                         const Tensor& invstd, const Tensor& weight, const Tensor& dx, const Tensor& dweight,
                         const Tensor& dbias) {
  if (M == 0) return;
  visit_float_dtype("layer_norm_backward", x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* gp = static_cast<const T*>(g.raw_data());
    const T* xp = static_cast<const T*>(x.raw_data());
    if (dx.defined() && R > 0) {
      auto launch = [&](auto group) {
        constexpr int G = decltype(group)::value;
        layer_norm_backward_dx_kernel<G, T><<<blocks_for_groups<G>(R), kThreads, 0, stream()>>>(
            gp, xp, R, M, mean.data_ptr<T>(), invstd.data_ptr<T>(), ptr_or_null<T>(weight), mut_or_null<T>(dx));
      };
      if (M <= kWarpRowMax)
        launch(std::integral_constant<int, kWarp>{});
      else
        launch(std::integral_constant<int, kThreads>{});
      LUCID_CUDA_CHECK_LAUNCH("layer_norm_backward_dx_kernel");
    }
    if (dweight.defined() || dbias.defined()) {
      const int64_t nchunks = (R + kRowsPerChunk - 1) / kRowsPerChunk;  // 0 rows: no partials, sums of 0
      Tensor part = empty({nchunks * M * 2}, TensorOptions(kFloat64).device(x.device()));  // Sum2 = 2 doubles
      Sum2* pp = static_cast<Sum2*>(part.raw_data());
      if (nchunks > 0) {
        layer_norm_column_partials_kernel<T><<<blocks_for(nchunks * M), kThreads, 0, stream()>>>(
            gp, xp, R, M, mean.data_ptr<T>(), invstd.data_ptr<T>(), nchunks, pp);
        LUCID_CUDA_CHECK_LAUNCH("layer_norm_column_partials_kernel");
      }
      layer_norm_column_fold_kernel<T><<<blocks_for(M), kThreads, 0, stream()>>>(pp, nchunks, M, mut_or_null<T>(dweight),
                                                                                mut_or_null<T>(dbias));
      LUCID_CUDA_CHECK_LAUNCH("layer_norm_column_fold_kernel");
    }
  });
}

void batch_norm_backward_fixed_stats(const Tensor& g, const Tensor& x, int64_t N, int64_t C, int64_t S,
                                     const Tensor& mean, const Tensor& invstd, const Tensor& weight,
                                     const Tensor& dx, const Tensor& dweight, const Tensor& dbias) {
  if (C == 0) return;
  visit_float_dtype("batch_norm_backward", x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const unsigned blocks = static_cast<unsigned>(C < 65536 ? C : 65536);
    batch_norm_backward_fixed_kernel<T><<<blocks, kThreads, 0, stream()>>>(
        static_cast<const T*>(g.raw_data()), static_cast<const T*>(x.raw_data()), N, C, S, mean.data_ptr<T>(),
        invstd.data_ptr<T>(), ptr_or_null<T>(weight), mut_or_null<T>(dx), mut_or_null<T>(dweight),
        mut_or_null<T>(dbias));
    LUCID_CUDA_CHECK_LAUNCH("batch_norm_backward_fixed_kernel");
  });
}

}  // namespace lucid::cuda
