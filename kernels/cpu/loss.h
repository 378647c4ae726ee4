// CPU kernels for the class-index losses (autograd/ops/loss.cpp calls them).
//
// Layout: logits or log-probabilities as M packed rows of C classes (the class
// dim moved last), targets as M int64. `weight` is C values or nullptr.
// Targets are already checked: each is in [0, C) or equal to ignore_index.
// One row per step; rows are independent (parallel over rows, no sums shared).
// FLOPs per row: about 4C (max, exp-sum, the weighted sums); bytes: C + 1 reads.
#pragma once
#include <cstdint>

namespace lucid::cpu {

// The loss rule of one row with target t (ignored rows give 0 and weight 0):
//   q_j    = (1 - eps) w_t [j == t] + eps w_j / C     (the target distribution)
//   loss   = -sum_j q_j log_softmax(x)_j
//   wrow   = w_t                                      (the Mean denominator term)
// and lse the row's logsumexp, saved for the backward.
template <class T>
void cross_entropy_forward(const T* x, const int64_t* target, const T* weight, int64_t M,
                           int64_t C, int64_t ignore_index, double eps, T* loss, T* wrow, T* lse);

// dx_j = s_row (p_j sum(q) - q_j),  p = exp(x - lse): softmax minus the target
// distribution, scaled by the row's upstream gradient s_row.
template <class T>
void cross_entropy_backward(const T* x, const int64_t* target, const T* weight, const T* lse,
                            const T* s, int64_t M, int64_t C, int64_t ignore_index, double eps,
                            T* dx);

// nll: loss = -w_t lp_t, wrow = w_t (0 for ignored rows).
template <class T>
void nll_forward(const T* lp, const int64_t* target, const T* weight, int64_t M, int64_t C,
                 int64_t ignore_index, T* loss, T* wrow);
// dlp_j = -s_row w_t [j == t]; dlp must be zeroed by the caller.
template <class T>
void nll_backward(const int64_t* target, const T* weight, const T* s, int64_t M, int64_t C,
                  int64_t ignore_index, T* dlp);

}  // namespace lucid::cpu
