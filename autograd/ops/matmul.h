// Matrix products. Kernel: kernels/cpu/gemm.cpp (packed, cache-blocked GEMM).
#pragma once
#include <lucid/kernels/tensor.h>

namespace lucid {

// torch.matmul semantics: 1-D x 1-D dot; 2-D x 2-D; 1-D operands are promoted
// (prepend/append a dim, removed after); >2-D batched with broadcast batch dims.
// d(A B) = (g B^T, A^T g), summed over broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);   // 2-D only
Tensor bmm(const Tensor& a, const Tensor& b);  // 3-D only, equal batch

namespace nn::functional {
// y = x W^T + b; x [*, in], weight [out, in], bias [out] (optional)
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor());
}  // namespace nn::functional

}  // namespace lucid
