// Class-index losses on a GPU: the twins of kernels/cpu/loss.h (same formulas,
// weights, ignore_index and label smoothing), for float32 and float64.
//
// Layout as on the CPU: x (logits) or lp (log-probabilities) as contiguous
// [M, C] rows, target as contiguous int64 [M], weight [C] or undefined; every
// per-row output is a contiguous [M] tensor; all on one GPU. Targets are
// already checked (first_bad_target).
#pragma once
#include <cstdint>
#include <optional>

#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

// loss[r], wrow[r] = w_t (0 if ignored) and lse[r] = logsumexp(x[r]); see cpu::cross_entropy_forward.
void cross_entropy_forward(const Tensor& x, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                           double eps, const Tensor& loss, const Tensor& wrow, const Tensor& lse);
// dx [M, C] = s_row (softmax(x) sum(q) - q); s is [M].
void cross_entropy_backward(const Tensor& x, const Tensor& target, const Tensor& weight, const Tensor& lse,
                            const Tensor& s, int64_t ignore_index, double eps, const Tensor& dx);

// nll: loss[r] = -w_t lp[r, t], wrow[r] = w_t (both 0 for ignored rows).
void nll_forward(const Tensor& lp, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                 const Tensor& loss, const Tensor& wrow);
// dlp[r, t] = -s[r] w_t; dlp [M, C] must be zeroed by the caller.
void nll_backward(const Tensor& target, const Tensor& weight, const Tensor& s, int64_t ignore_index,
                  const Tensor& dlp);

// The value of the first target (in index order) that is neither ignore_index
// nor in [0, C), or nullopt. Reads 16 bytes back to the host, not the targets.
std::optional<int64_t> first_bad_target(const Tensor& target, int64_t C, int64_t ignore_index);

}  // namespace lucid::cuda
