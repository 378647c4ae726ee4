// CPU batch norm and layer norm on raw, contiguous pointers, for float and double.
//
// Batch norm sees its input as x [N, C, S] (S = product of the spatial dims) and
// normalizes each channel c over its M = N*S values; layer norm sees x [R, M]
// and normalizes each of the R rows over its M values. With
//     x_hat = (x - mean) * invstd,   invstd = 1 / sqrt(var + eps)   (biased var)
//     y     = x_hat * weight + bias  (weight, bias per channel / per column; may be null)
// the backward, with g_hat = g * weight, is
//     normalized with the batch's own statistics (batch norm training, layer norm):
//       dx = invstd / M * (M * g_hat - sum(g_hat) - x_hat * sum(g_hat * x_hat))
//     normalized with fixed statistics (batch norm eval):
//       dx = g_hat * invstd
//     dweight = sum(g * x_hat),  dbias = sum(g)
// where the sums run over the M values of a channel (batch norm) or a row (layer
// norm) for dx, and over the N*S values of a channel (batch norm) or the R rows
// (layer norm) for dweight and dbias.
//
// Loop structure: parallel_for over channels (batch norm) or rows (layer norm);
// each chunk owns its slice of every output. Layer norm's dweight/dbias sum down
// the columns in a second pass, parallel over columns. Sums accumulate in double
// in a fixed order, so results are deterministic for any thread count.
//
// Cost per element: forward 2 passes for the statistics + 1 to normalize
// (~8 FLOPs, reads 3*sizeof(T), writes sizeof(T)); backward 2 passes (~10 FLOPs,
// reads 2*2*sizeof(T), writes sizeof(T)).
#pragma once
#include <cstdint>

namespace lucid::cpu {

enum class NormStatistics { Batch, Fixed };  // normalized with its own / with given statistics

// mean[c], var[c] (biased) and invstd[c] = 1/sqrt(var[c] + eps) of each channel of x [N, C, S].
template <class T>
void batch_norm_stats(const T* x, int64_t N, int64_t C, int64_t S, double eps, T* mean, T* var,
                      T* invstd);

// y [N, C, S] = (x - mean[c]) * invstd[c] * weight[c] + bias[c]; weight, bias may be null.
template <class T>
void batch_norm_forward(const T* x, int64_t N, int64_t C, int64_t S, const T* mean,
                        const T* invstd, const T* weight, const T* bias, T* y);

// dx [N, C, S], dweight [C], dbias [C]; any of them may be null (not wanted).
template <class T>
void batch_norm_backward(const T* g, const T* x, int64_t N, int64_t C, int64_t S, const T* mean,
                         const T* invstd, const T* weight, NormStatistics stats, T* dx,
                         T* dweight, T* dbias);

// y [R, M] normalized per row; mean [R] and invstd [R] are written for the backward.
template <class T>
void layer_norm_forward(const T* x, int64_t R, int64_t M, double eps, const T* weight,
                        const T* bias, T* y, T* mean, T* invstd);

// dx [R, M], dweight [M], dbias [M]; any of them may be null.
template <class T>
void layer_norm_backward(const T* g, const T* x, int64_t R, int64_t M, const T* mean,
                         const T* invstd, const T* weight, T* dx, T* dweight, T* dbias);

}  // namespace lucid::cpu
