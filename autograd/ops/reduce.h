// Reductions over one or several dims (keepdim as in PyTorch), and softmax.
// Kernels: kernels/cpu/reduce.cpp. Backward formulas: reduce.cpp beside this.
#pragma once
#include <tuple>

#include <lucid/kernels/tensor.h>

namespace lucid {

Tensor sum(const Tensor& x);                                      // all elements
Tensor sum(const Tensor& x, Shape dims, bool keepdim = false);    // empty dims: all
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, Shape dims, bool keepdim = false);
// var = sum (x - mean)^2 / (N - correction); correction 1 is the unbiased estimate
Tensor var(const Tensor& x, Shape dims, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, Shape dims, int64_t correction = 1, bool keepdim = false);
std::tuple<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);  // values, indices
std::tuple<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // over all elements
Tensor min(const Tensor& x);
Tensor amax(const Tensor& x, Shape dims, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor logsumexp(const Tensor& x, Shape dims, bool keepdim = false);

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

}  // namespace lucid
