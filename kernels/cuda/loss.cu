// Cross entropy (fused log_softmax + nll) and nll kernels (the CPU reference:
// kernels/cpu/loss.cpp), and the target bounds check.
//
// cross_entropy_forward: one group per row, a warp for C <= 1024, else the
//   256-thread block (group_reduce.cuh): the row max, the exp-sum, and with label
//   smoothing sum_j w_j (lse - x_j), each a deterministic group fold in double.
//   geometry: M groups, grid-stride;  reads 2-3 C sizeof(T) per row (+ C weights
//   when smoothing), ~4C FLOPs + C exps; writes 3 sizeof(T) per row.
// cross_entropy_backward: one thread per element of [M, C], grid-stride;
//   reads 2 sizeof(T) (+ a weight), ~8 FLOPs + an exp, writes sizeof(T).
//   sum_j w_j comes from one block (weight_sum_kernel) when there are weights.
// nll_forward / nll_backward: one thread per row; a few bytes per row.
// find_bad_target: one thread per target; an integer atomicMin keeps the first
//   bad index (integer min is order-independent: deterministic), 8 bytes read per target.
#include <lucid/kernels/cuda/group_reduce.cuh>
#include <lucid/kernels/cuda/loss.h>
#include <lucid/kernels/factory.h>

namespace lucid::cuda {

namespace {

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}

template <int G, class T>
__global__ void cross_entropy_forward_kernel(const T* x, const int64_t* target, const T* weight, int64_t M,
                                             int64_t C, int64_t ignore_index, double eps, T* loss, T* wrow,
                                             T* lse) {
  constexpr int kGroups = kThreads / G;
  const int lane = threadIdx.x % G;
  // the loop bound and every branch below are the same for all threads of a group
  for (int64_t r = blockIdx.x * int64_t(kGroups) + threadIdx.x / G; r < M; r += int64_t(gridDim.x) * kGroups) {
    const T* xr = x + r * C;
    double mx = -INFINITY;  // max ignoring NaN, as std::max on the CPU
    for (int64_t j = lane; j < C; j += G) mx = mx < double(xr[j]) ? double(xr[j]) : mx;
    mx = group_reduce<G>(mx, [](double a, double b) { return a < b ? b : a; });
    double se = 0;
    for (int64_t j = lane; j < C; j += G) se += exp(xr[j] - mx);
    se = group_reduce<G>(se, add_doubles);
    const double l = mx + log(se);
    const int64_t t = target[r];
    if (t == ignore_index) {
      if (lane == 0) {
        lse[r] = static_cast<T>(l);
        loss[r] = wrow[r] = T(0);
      }
      continue;
    }
    const double wt = weight ? static_cast<double>(weight[t]) : 1.0;
    double v = (1.0 - eps) * wt * (l - xr[t]);  // -w_t log p_t
    if (eps > 0) {
      double smooth = 0;  // -sum_j w_j log p_j
      for (int64_t j = lane; j < C; j += G) smooth += (weight ? double(weight[j]) : 1.0) * (l - xr[j]);
      smooth = group_reduce<G>(smooth, add_doubles);
      v += eps / static_cast<double>(C) * smooth;
    }
    if (lane == 0) {
      lse[r] = static_cast<T>(l);
      loss[r] = static_cast<T>(v);
      wrow[r] = static_cast<T>(wt);
    }
  }
}

// *wsum = sum_j weight[j], one block, in a fixed order.
template <class T>
__global__ void weight_sum_kernel(const T* weight, int64_t C, double* wsum) {
  double s = 0;
  for (int64_t j = threadIdx.x; j < C; j += kThreads) s += weight[j];
  s = group_reduce<kThreads>(s, add_doubles);
  if (threadIdx.x == 0) *wsum = s;
}

// wsum: sum of the weights on the device, or null (no weights: the sum is C).
template <class T>
__global__ void cross_entropy_backward_kernel(const T* x, const int64_t* target, const T* weight, const double* wsum,
                                              const T* lse, const T* s, int64_t M, int64_t C, int64_t ignore_index,
                                              double eps, T* dx) {
  const int64_t n = M * C;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / C, j = i % C;
    const int64_t t = target[r];
    if (t == ignore_index) {
      dx[i] = T(0);
      continue;
    }
    const double wt = weight ? static_cast<double>(weight[t]) : 1.0;
    const double ws = wsum ? *wsum : static_cast<double>(C);
    const double qsum = (1.0 - eps) * wt + eps * ws / static_cast<double>(C);
    const double p = exp(static_cast<double>(x[i]) - lse[r]);
    double q = eps * (weight ? double(weight[j]) : 1.0) / static_cast<double>(C);
    if (j == t) q += (1.0 - eps) * wt;
    dx[i] = static_cast<T>(s[r] * (p * qsum - q));
  }
}

template <class T>
__global__ void nll_forward_kernel(const T* lp, const int64_t* target, const T* weight, int64_t M, int64_t C,
                                   int64_t ignore_index, T* loss, T* wrow) {
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r < M; r += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = target[r];
    const T wt = t == ignore_index ? T(0) : (weight ? weight[t] : T(1));
    wrow[r] = wt;
    loss[r] = t == ignore_index ? T(0) : -wt * lp[r * C + t];
  }
}

template <class T>
__global__ void nll_backward_kernel(const int64_t* target, const T* weight, const T* s, int64_t M, int64_t C,
                                    int64_t ignore_index, T* dlp) {
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r < M; r += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = target[r];
    if (t != ignore_index) dlp[r * C + t] = -s[r] * (weight ? weight[t] : T(1));
  }
}

// slots[0] = min index i with a bad target (stays all-ones when there is none).
__global__ void find_bad_target_kernel(const int64_t* target, int64_t M, int64_t C, int64_t ignore_index,
                                       unsigned long long* slots) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < M; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = target[i];
    if (t != ignore_index && (t < 0 || t >= C)) atomicMin(&slots[0], static_cast<unsigned long long>(i));
  }
}

// slots[1] = target[slots[0]], so that one 16-byte read gives index and value.
__global__ void read_bad_target_kernel(const int64_t* target, unsigned long long* slots) {
  if (slots[0] != ~0ull) slots[1] = static_cast<unsigned long long>(target[slots[0]]);
}

}  // namespace

void cross_entropy_forward(const Tensor& x, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                           double eps, const Tensor& loss, const Tensor& wrow, const Tensor& lse) {
  const int64_t M = x.size(0), C = x.size(1);
  if (M == 0) return;
  visit_float_dtype("cross_entropy", x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    auto launch = [&](auto group) {  // group: std::integral_constant<int, G>
      constexpr int G = decltype(group)::value;
      cross_entropy_forward_kernel<G, T><<<blocks_for_groups<G>(M), kThreads, 0, stream()>>>(
          static_cast<const T*>(x.raw_data()), target.data_ptr<int64_t>(), ptr_or_null<T>(weight), M, C,
          ignore_index, eps, loss.data_ptr<T>(), wrow.data_ptr<T>(), lse.data_ptr<T>());
    };
    if (C <= kWarpRowMax)
      launch(std::integral_constant<int, kWarp>{});
    else
      launch(std::integral_constant<int, kThreads>{});
    LUCID_CUDA_CHECK_LAUNCH("cross_entropy_forward_kernel");
  });
}

void cross_entropy_backward(const Tensor& x, const Tensor& target, const Tensor& weight, const Tensor& lse,
                            const Tensor& s, int64_t ignore_index, double eps, const Tensor& dx) {
  const int64_t M = x.size(0), C = x.size(1);
  if (M * C == 0) return;
  visit_float_dtype("cross_entropy_backward", x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Tensor wsum;
    if (weight.defined()) {
      wsum = empty({1}, TensorOptions(kFloat64).device(x.device()));
      weight_sum_kernel<T><<<1, kThreads, 0, stream()>>>(ptr_or_null<T>(weight), C, wsum.data_ptr<double>());
      LUCID_CUDA_CHECK_LAUNCH("weight_sum_kernel");
    }
    cross_entropy_backward_kernel<T><<<blocks_for(M * C), kThreads, 0, stream()>>>(
        static_cast<const T*>(x.raw_data()), target.data_ptr<int64_t>(), ptr_or_null<T>(weight),
        wsum.defined() ? wsum.data_ptr<double>() : nullptr, lse.data_ptr<T>(), s.data_ptr<T>(), M, C, ignore_index,
        eps, dx.data_ptr<T>());
    LUCID_CUDA_CHECK_LAUNCH("cross_entropy_backward_kernel");
  });
}

void nll_forward(const Tensor& lp, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                 const Tensor& loss, const Tensor& wrow) {
  const int64_t M = lp.size(0), C = lp.size(1);
  if (M == 0) return;
  visit_float_dtype("nll_loss", lp.dtype(), [&](auto tag) {
    using T = decltype(tag);
    nll_forward_kernel<T><<<blocks_for(M), kThreads, 0, stream()>>>(
        static_cast<const T*>(lp.raw_data()), target.data_ptr<int64_t>(), ptr_or_null<T>(weight), M, C,
        ignore_index, loss.data_ptr<T>(), wrow.data_ptr<T>());
    LUCID_CUDA_CHECK_LAUNCH("nll_forward_kernel");
  });
}

void nll_backward(const Tensor& target, const Tensor& weight, const Tensor& s, int64_t ignore_index,
                  const Tensor& dlp) {
  const int64_t M = dlp.size(0), C = dlp.size(1);
  if (M == 0) return;
  visit_float_dtype("nll_loss_backward", dlp.dtype(), [&](auto tag) {
    using T = decltype(tag);
    nll_backward_kernel<T><<<blocks_for(M), kThreads, 0, stream()>>>(
        target.data_ptr<int64_t>(), ptr_or_null<T>(weight), s.data_ptr<T>(), M, C, ignore_index, dlp.data_ptr<T>());
    LUCID_CUDA_CHECK_LAUNCH("nll_backward_kernel");
  });
}

std::optional<int64_t> first_bad_target(const Tensor& target, int64_t C, int64_t ignore_index) {
  const int64_t M = target.numel();
  if (M == 0) return std::nullopt;
  Tensor slots = empty({2}, TensorOptions(kInt64).device(target.device()));
  auto* s = static_cast<unsigned long long*>(slots.raw_data());
  LUCID_CUDA_CHECK(cudaMemsetAsync(s, 0xFF, 2 * sizeof(unsigned long long), stream()));  // "none found"
  find_bad_target_kernel<<<blocks_for(M), kThreads, 0, stream()>>>(target.data_ptr<int64_t>(), M, C, ignore_index, s);
  LUCID_CUDA_CHECK_LAUNCH("find_bad_target_kernel");
  read_bad_target_kernel<<<1, 1, 0, stream()>>>(target.data_ptr<int64_t>(), s);
  LUCID_CUDA_CHECK_LAUNCH("read_bad_target_kernel");
  unsigned long long host[2];
  LUCID_CUDA_CHECK(cudaMemcpyAsync(host, s, sizeof(host), cudaMemcpyDeviceToHost, stream()));
  LUCID_CUDA_CHECK(cudaStreamSynchronize(stream()));
  if (host[0] == ~0ull) return std::nullopt;
  return static_cast<int64_t>(host[1]);
}

}  // namespace lucid::cuda
