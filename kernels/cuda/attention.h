// Fused scaled dot-product attention on a GPU: softmax(Q K^T * scale + mask) V
// without ever storing the [L, S] score matrix (FlashAttention's idea: an online
// softmax over key tiles, and a backward that recomputes the probabilities from
// the saved per-row logsumexp). The reference is the composed op in
// autograd/ops/attention.cpp, which also decides when this path is taken.
//
// Shapes (all packed, float32 or float64, one dtype): B = the flattened batch dims,
//   q [B, L, E], k [B, S, E], v [B, S, Ev], out [B, L, Ev], lse [B, L].
// mask: undefined, or a bool / q-dtype tensor already expanded to [*, L, S]
// (any strides, 0 where broadcast). bool: true = take part; float: added to the
// scores. is_causal: query i sees keys j <= i (top-left aligned). Not both.
#pragma once
#include <cstddef>
#include <cstdint>

#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

// The largest E and Ev the kernels take: each lane of a warp keeps
// kAttentionMaxHeadDim / 32 accumulators in registers.
inline constexpr int64_t kAttentionMaxHeadDim = 128;
inline constexpr int kAttentionRowsPerBlock = 8;  // one warp per query (or key) row
inline constexpr int kAttentionTile = 32;         // keys (or queries) per shared-memory tile
inline constexpr size_t kAttentionMaxSharedBytes = 48 * 1024;  // no opt-in needed
inline constexpr int64_t kAttentionMaxBatchDims = 10;  // the [*] of a mask's [*, L, S]

// Shared memory of the largest of the three kernels (the backward ones):
// 8 rows of E and Ev, and 32-row tiles of E and Ev padded by one element, plus
// 2 x 32 per-query scalars.
inline size_t attention_shared_bytes(int64_t E, int64_t Ev, size_t element_size) {
  const int64_t R = kAttentionRowsPerBlock, T = kAttentionTile;
  return static_cast<size_t>(R * (E + Ev) + T * (E + 1) + T * (Ev + 1) + 2 * T) * element_size;
}

// Whether the fused kernels take this head size (else the op falls back to the
// composed path): float32 up to E = Ev = 128, float64 up to E = Ev = 64.
inline bool attention_fits(int64_t E, int64_t Ev, size_t element_size) {
  return E <= kAttentionMaxHeadDim && Ev <= kAttentionMaxHeadDim &&
         attention_shared_bytes(E, Ev, element_size) <= kAttentionMaxSharedBytes;
}

// out = softmax(q k^T scale + mask) v; lse[b, i] = logsumexp_j of row i's scores
// (-inf and a NaN output row where every key is masked, as the composed op).
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                       bool is_causal, double scale, const Tensor& out, const Tensor& lse);

// With P = exp(scores - lse), D_i = sum_d dO_i O_i, dS = P (dO V^T - D):
// gq = scale dS k, gk = scale dS^T q, gv = P^T dO. All outputs packed, written whole.
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                        bool is_causal, double scale, const Tensor& out, const Tensor& lse,
                        const Tensor& grad_out, const Tensor& gq, const Tensor& gk,
                        const Tensor& gv);

}  // namespace lucid::cuda
