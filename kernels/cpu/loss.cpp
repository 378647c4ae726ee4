// Fused log_softmax + nll (cross entropy) and plain nll kernels. See loss.h.
#include <lucid/kernels/cpu/loss.h>

#include <lucid/kernels/thread_pool.h>

#include <algorithm>
#include <cmath>

namespace lucid::cpu {

namespace {
constexpr int64_t kGrain = 64;  // rows per task
}

template <class T>
void cross_entropy_forward(const T* x, const int64_t* target, const T* weight, int64_t M,
                           int64_t C, int64_t ignore_index, double eps, T* loss, T* wrow, T* lse) {
  parallel_for(0, M, kGrain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * C;
      double mx = -INFINITY;
      for (int64_t j = 0; j < C; ++j) mx = std::max(mx, static_cast<double>(xr[j]));
      double se = 0;
      for (int64_t j = 0; j < C; ++j) se += std::exp(xr[j] - mx);
      const double l = mx + std::log(se);
      lse[r] = static_cast<T>(l);
      const int64_t t = target[r];
      if (t == ignore_index) {
        loss[r] = wrow[r] = T(0);
        continue;
      }
      const double wt = weight ? static_cast<double>(weight[t]) : 1.0;
      double v = (1.0 - eps) * wt * (l - xr[t]);  // -w_t log p_t
      if (eps > 0) {
        double smooth = 0;  // -sum_j w_j log p_j
        for (int64_t j = 0; j < C; ++j) smooth += (weight ? double(weight[j]) : 1.0) * (l - xr[j]);
        v += eps / static_cast<double>(C) * smooth;
      }
      loss[r] = static_cast<T>(v);
      wrow[r] = static_cast<T>(wt);
    }
  });
}

template <class T>
void cross_entropy_backward(const T* x, const int64_t* target, const T* weight, const T* lse,
                            const T* s, int64_t M, int64_t C, int64_t ignore_index, double eps,
                            T* dx) {
  double wsum = 0;  // sum_j w_j
  for (int64_t j = 0; j < C; ++j) wsum += weight ? double(weight[j]) : 1.0;
  parallel_for(0, M, kGrain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * C;
      T* dr = dx + r * C;
      const int64_t t = target[r];
      if (t == ignore_index) {
        std::fill(dr, dr + C, T(0));
        continue;
      }
      const double wt = weight ? static_cast<double>(weight[t]) : 1.0;
      const double qsum = (1.0 - eps) * wt + eps * wsum / static_cast<double>(C);
      const double sr = s[r];
      for (int64_t j = 0; j < C; ++j) {
        const double p = std::exp(static_cast<double>(xr[j]) - lse[r]);
        double q = eps * (weight ? double(weight[j]) : 1.0) / static_cast<double>(C);
        if (j == t) q += (1.0 - eps) * wt;
        dr[j] = static_cast<T>(sr * (p * qsum - q));
      }
    }
  });
}

template <class T>
void nll_forward(const T* lp, const int64_t* target, const T* weight, int64_t M, int64_t C,
                 int64_t ignore_index, T* loss, T* wrow) {
  for (int64_t r = 0; r < M; ++r) {
    const int64_t t = target[r];
    const T wt = t == ignore_index ? T(0) : (weight ? weight[t] : T(1));
    wrow[r] = wt;
    loss[r] = t == ignore_index ? T(0) : -wt * lp[r * C + t];
  }
}

template <class T>
void nll_backward(const int64_t* target, const T* weight, const T* s, int64_t M, int64_t C,
                  int64_t ignore_index, T* dlp) {
  for (int64_t r = 0; r < M; ++r) {
    const int64_t t = target[r];
    if (t != ignore_index) dlp[r * C + t] = -s[r] * (weight ? weight[t] : T(1));
  }
}

template void cross_entropy_forward<float>(const float*, const int64_t*, const float*, int64_t, int64_t,
                                           int64_t, double, float*, float*, float*);
template void cross_entropy_backward<float>(const float*, const int64_t*, const float*, const float*, const float*,
                                            int64_t, int64_t, int64_t, double, float*);
template void nll_forward<float>(const float*, const int64_t*, const float*, int64_t, int64_t, int64_t, float*, float*);
template void nll_backward<float>(const int64_t*, const float*, const float*, int64_t, int64_t, int64_t, float*);
template void cross_entropy_forward<double>(const double*, const int64_t*, const double*, int64_t, int64_t,
                                           int64_t, double, double*, double*, double*);
template void cross_entropy_backward<double>(const double*, const int64_t*, const double*, const double*, const double*,
                                            int64_t, int64_t, int64_t, double, double*);
template void nll_forward<double>(const double*, const int64_t*, const double*, int64_t, int64_t, int64_t, double*, double*);
template void nll_backward<double>(const int64_t*, const double*, const double*, int64_t, int64_t, int64_t, double*);

}  // namespace lucid::cpu
