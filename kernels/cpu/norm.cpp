// CPU batch norm and layer norm. The math, loop structure and costs are in norm.h.
#include <lucid/kernels/cpu/norm.h>

#include <algorithm>
#include <cmath>

#include <lucid/kernels/thread_pool.h>

namespace lucid::cpu {

namespace {

// Items per parallel_for chunk for about 16K elements of work, at least one.
int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, work_per_item));
}

}  // namespace

// ---- batch norm -------------------------------------------------------------

template <class T>
void batch_norm_stats(const T* x, int64_t N, int64_t C, int64_t S, double eps, T* mean, T* var,
                      T* invstd) {
  const double M = static_cast<double>(N * S);
  parallel_for(0, C, grain_for(N * S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      // Two passes: the mean, then the squared deviations (no cancellation).
      double sum = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0, base = (n * C + c) * S; s < S; ++s) sum += x[base + s];
      const double mu = sum / M;
      double sq = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0, base = (n * C + c) * S; s < S; ++s) {
          const double d = x[base + s] - mu;
          sq += d * d;
        }
      const double v = sq / M;
      mean[c] = static_cast<T>(mu);
      var[c] = static_cast<T>(v);
      invstd[c] = static_cast<T>(1.0 / std::sqrt(v + eps));
    }
  });
}

template <class T>
void batch_norm_forward(const T* x, int64_t N, int64_t C, int64_t S, const T* mean,
                        const T* invstd, const T* weight, const T* bias, T* y) {
  parallel_for(0, N * C, grain_for(S), [&](int64_t p0, int64_t p1) {
    for (int64_t plane = p0; plane < p1; ++plane) {
      const int64_t c = plane % C;
      // y = x * scale + shift, with scale = invstd * w and shift = b - mean * scale
      const T scale = invstd[c] * (weight ? weight[c] : T(1));
      const T shift = (bias ? bias[c] : T(0)) - mean[c] * scale;
      const T* xp = x + plane * S;
      T* yp = y + plane * S;
      for (int64_t s = 0; s < S; ++s) yp[s] = xp[s] * scale + shift;
    }
  });
}

template <class T>
void batch_norm_backward(const T* g, const T* x, int64_t N, int64_t C, int64_t S, const T* mean,
                         const T* invstd, const T* weight, NormStatistics stats, T* dx,
                         T* dweight, T* dbias) {
  const double M = static_cast<double>(N * S);
  parallel_for(0, C, grain_for(N * S), [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double mu = mean[c], is = invstd[c], w = weight ? weight[c] : 1.0;
      double sum_g = 0, sum_g_xhat = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0, base = (n * C + c) * S; s < S; ++s) {
          sum_g += g[base + s];
          sum_g_xhat += g[base + s] * (x[base + s] - mu) * is;
        }
      if (dweight) dweight[c] = static_cast<T>(sum_g_xhat);
      if (dbias) dbias[c] = static_cast<T>(sum_g);
      if (!dx) continue;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t s = 0, base = (n * C + c) * S; s < S; ++s) {
          if (stats == NormStatistics::Fixed) {
            dx[base + s] = static_cast<T>(g[base + s] * w * is);
          } else {
            // dx = w invstd / M (M g - sum g - x_hat sum(g x_hat)): g_hat's sums are w times g's
            const double xhat = (x[base + s] - mu) * is;
            dx[base + s] = static_cast<T>(w * is / M * (M * g[base + s] - sum_g - xhat * sum_g_xhat));
          }
        }
    }
  });
}

// ---- layer norm -------------------------------------------------------------

template <class T>
void layer_norm_forward(const T* x, int64_t R, int64_t M, double eps, const T* weight,
                        const T* bias, T* y, T* mean, T* invstd) {
  parallel_for(0, R, grain_for(M), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * M;
      T* yr = y + r * M;
      double sum = 0;
      for (int64_t j = 0; j < M; ++j) sum += xr[j];
      const double mu = sum / static_cast<double>(M);
      double sq = 0;
      for (int64_t j = 0; j < M; ++j) sq += (xr[j] - mu) * (xr[j] - mu);
      const double is = 1.0 / std::sqrt(sq / static_cast<double>(M) + eps);
      mean[r] = static_cast<T>(mu);
      invstd[r] = static_cast<T>(is);
      for (int64_t j = 0; j < M; ++j) {
        const double xhat = (xr[j] - mu) * is;
        yr[j] = static_cast<T>(xhat * (weight ? weight[j] : T(1)) + (bias ? bias[j] : T(0)));
      }
    }
  });
}

template <class T>
void layer_norm_backward(const T* g, const T* x, int64_t R, int64_t M, const T* mean,
                         const T* invstd, const T* weight, T* dx, T* dweight, T* dbias) {
  if (dx) {
    parallel_for(0, R, grain_for(M), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T *gr = g + r * M, *xr = x + r * M;
        const double mu = mean[r], is = invstd[r];
        double sum_gh = 0, sum_gh_xhat = 0;  // sums of g_hat and g_hat * x_hat over the row
        for (int64_t j = 0; j < M; ++j) {
          const double gh = gr[j] * (weight ? weight[j] : T(1));
          sum_gh += gh;
          sum_gh_xhat += gh * (xr[j] - mu) * is;
        }
        // dx = invstd / M (M g_hat - sum g_hat - x_hat sum(g_hat x_hat))
        for (int64_t j = 0; j < M; ++j) {
          const double gh = gr[j] * (weight ? weight[j] : T(1));
          const double xhat = (xr[j] - mu) * is;
          dx[r * M + j] = static_cast<T>(is / static_cast<double>(M) *
                                         (static_cast<double>(M) * gh - sum_gh - xhat * sum_gh_xhat));
        }
      }
    });
  }
  if (dweight || dbias) {
    // Column sums over the rows, in row order.
    parallel_for(0, M, grain_for(R), [&](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; ++j) {
        double sum_g = 0, sum_g_xhat = 0;
        for (int64_t r = 0; r < R; ++r) {
          const double gv = g[r * M + j];
          sum_g += gv;
          sum_g_xhat += gv * (x[r * M + j] - static_cast<double>(mean[r])) * invstd[r];
        }
        if (dweight) dweight[j] = static_cast<T>(sum_g_xhat);
        if (dbias) dbias[j] = static_cast<T>(sum_g);
      }
    });
  }
}

// ---- the float and double instances ------------------------------------------

template void batch_norm_stats(const float*, int64_t, int64_t, int64_t, double, float*, float*, float*);
template void batch_norm_stats(const double*, int64_t, int64_t, int64_t, double, double*, double*, double*);
template void batch_norm_forward(const float*, int64_t, int64_t, int64_t, const float*, const float*,
                                 const float*, const float*, float*);
template void batch_norm_forward(const double*, int64_t, int64_t, int64_t, const double*, const double*,
                                 const double*, const double*, double*);
template void batch_norm_backward(const float*, const float*, int64_t, int64_t, int64_t, const float*,
                                  const float*, const float*, NormStatistics, float*, float*, float*);
template void batch_norm_backward(const double*, const double*, int64_t, int64_t, int64_t, const double*,
                                  const double*, const double*, NormStatistics, double*, double*, double*);
template void layer_norm_forward(const float*, int64_t, int64_t, double, const float*, const float*,
                                 float*, float*, float*);
template void layer_norm_forward(const double*, int64_t, int64_t, double, const double*, const double*,
                                 double*, double*, double*);
template void layer_norm_backward(const float*, const float*, int64_t, int64_t, const float*,
                                  const float*, const float*, float*, float*, float*);
template void layer_norm_backward(const double*, const double*, int64_t, int64_t, const double*,
                                  const double*, const double*, double*, double*, double*);

}  // namespace lucid::cpu
