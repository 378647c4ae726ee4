// Elementwise CUDA kernels: the same op table and the same math as the CPU
// kernels (kernels/cpu/elementwise.h; the math of each op, on one element, is
// kernels/elementwise_math.h, compiled for both). Same contracts: inputs
// already promoted and validated by the op's entry (autograd/ops/).
#pragma once
#include <lucid/kernels/cpu/elementwise.h>
#include <lucid/kernels/tensor.h>

namespace lucid::cuda {

// out = op(x); out has x's shape, any strides (out may be x: in place).
void unary(cpu::UnaryOp op, const Tensor& x, const Tensor& out, cpu::OpArgs args = {});
// out = op(a, b); a and b broadcast to out's shape. Arithmetic runs in out's
// dtype; comparisons in a's dtype (the promoted one) and write bool.
void binary(cpu::BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, cpu::OpArgs args = {});
// out = where(cond, a, b) with broadcasting; cond is bool, a and b have out's dtype.
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);

}  // namespace lucid::cuda
