// Losses. Each returns the reduced loss (or per-element losses for Reduction::None).
#pragma once
#include <lucid/kernels/tensor.h>

namespace lucid::nn::functional {

enum class Reduction { None, Mean, Sum };

// input [N, C] (or [N, C, d1, ...]) logits, target [N] (or [N, d1, ...]) int64 class
// indices. weight [C] optional. Mean with weights divides by the sum of the target
// weights of non-ignored elements, as PyTorch. With label smoothing eps (PyTorch 1.13):
//   loss_i = (1 - eps) w_t (-log p_t) + (eps / C) sum_j w_j (-log p_j), 0 where ignored.
// Targets outside [0, C) other than ignore_index raise. `weight` gets no gradient.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, Reduction reduction = Reduction::Mean,
                     double label_smoothing = 0.0);
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight = Tensor(),
                int64_t ignore_index = -100, Reduction reduction = Reduction::Mean);
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight = Tensor(),
                                        Reduction reduction = Reduction::Mean,
                                        const Tensor& pos_weight = Tensor());

}  // namespace lucid::nn::functional
