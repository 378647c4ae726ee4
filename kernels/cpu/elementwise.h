// Elementwise CPU kernels: one table of unary and binary ops.
//
// Each op is one line of math in kernels/elementwise_math.h, shared with the
// CUDA kernels (kernels/cuda/elementwise.h); the loop that applies it over
// strided, broadcast operands is shared by all ops. Backward formulas
// that need their own fused kernel (gelu's derivative, ...) are binary ops
// named *Backward taking (grad, saved).
#pragma once
#include <lucid/kernels/tensor.h>

namespace lucid::cpu {

enum class UnaryOp {
  Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Relu, LeakyRelu, Gelu, GeluTanh, Silu, Sigmoid, Tanh,
  Softplus, Clamp, Square, Reciprocal, PowScalar,
};

enum class BinaryOp {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum,
  AddScaled,                                    // x + a*y, one rounding (add_ with alpha)
  Eq, Ne, Lt, Le, Gt, Ge,                       // output bool
  // backward helpers: (g, x) or (g, y) -> dL/dx
  ReluBackward, LeakyReluBackward, GeluBackward, GeluTanhBackward, SiluBackward,
  SigmoidBackward, TanhBackward, SoftplusBackward, ClampBackward,
};

// Scalar parameters some ops take: leaky_relu slope (a); clamp bounds (a, b);
// softplus beta (a) and threshold (b); pow exponent (a).
struct OpArgs {
  double a = 0.0;
  double b = 0.0;
};

bool is_comparison(BinaryOp op);

// out = op(x); out has x's shape, any strides.
void unary(UnaryOp op, const Tensor& x, const Tensor& out, OpArgs args = {});
// out = op(a, b); a and b broadcast to out's shape. Arithmetic runs in out's
// dtype (comparisons in the promoted dtype of a and b).
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, OpArgs args = {});
// out = where(cond, a, b) with broadcasting.
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);

}  // namespace lucid::cpu
