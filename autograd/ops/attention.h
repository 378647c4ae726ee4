// Scaled dot-product attention: softmax(Q K^T * scale + mask) V.
#pragma once
#include <optional>

#include <lucid/kernels/tensor.h>

namespace lucid::nn::functional {

// query [*, L, E], key [*, S, E], value [*, S, Ev] -> [*, L, Ev].
// attn_mask: bool (true = take part) or float (added), broadcast to [*, L, S].
// is_causal: position i attends to positions <= i. scale defaults to 1/sqrt(E).
// dropout_p > 0 applies dropout to the attention weights.
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0.0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);

}  // namespace lucid::nn::functional
