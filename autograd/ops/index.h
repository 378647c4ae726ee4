// Joining, splitting and indexing.
#pragma once
#include <vector>

#include <lucid/kernels/tensor.h>

namespace lucid {

// cat: equal dtypes required (no promotion); a 1-D empty tensor [0] is skipped, as PyTorch.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);  // views
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
// chunk: pieces of ceil(n / chunks) (views), so there may be fewer than `chunks` (PyTorch's rule).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);  // index: 1-D int64
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);        // out[i][j] = x[i][index[i][j]] (dim 1)

namespace nn::functional {
// weight [num_embeddings, dim], input int64 of any shape -> [*input.shape, dim].
// Rows at padding_idx (if >= 0) get no gradient.
Tensor embedding(const Tensor& input, const Tensor& weight, int64_t padding_idx = -1);
// Zeroes elements with probability p and scales the rest by 1/(1-p) when training.
// The mask comes from the default Philox generator: ceil(numel / 4) blocks are
// reserved, element i (row-major) takes word i, u = (word >> 8) * 2^-24, and is
// kept iff u >= p. p = 0 or training == false return `input` itself; p = 1 gives zeros.
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true);
}  // namespace nn::functional

}  // namespace lucid
