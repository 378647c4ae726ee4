// The math of every elementwise op, on one element: the one definition that
// the CPU kernels (kernels/cpu/elementwise.cpp) and the CUDA kernels
// (kernels/cuda/elementwise.cu) both apply, so the two backends cannot drift
// apart. Compiled by nvcc, every function here is __host__ __device__.
//
//   unary_op<OP, T>(x, a, b)       out = OP(x)
//   binary_op<OP, T>(x, y, a, b)   out = OP(x, y): T for arithmetic, bool for comparisons
//
// a and b are the op's scalar parameters (cpu::OpArgs, already converted to T).
#pragma once
#include <cmath>
#include <type_traits>

#include <lucid/kernels/cpu/elementwise.h>
#include <lucid/kernels/host_device.h>

namespace lucid::math {

using cpu::BinaryOp;
using cpu::UnaryOp;

inline constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2/pi)
inline constexpr double kInvSqrt2 = 0.7071067811865476;
inline constexpr double kInvSqrt2Pi = 0.3989422804014327;   // 1/sqrt(2 pi)

constexpr bool is_comparison(BinaryOp op) {
  return op == BinaryOp::Eq || op == BinaryOp::Ne || op == BinaryOp::Lt || op == BinaryOp::Le ||
         op == BinaryOp::Gt || op == BinaryOp::Ge;
}

template <class T>
LUCID_HOST_DEVICE inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// x < 0, without a pointless comparison for unsigned types.
template <class T>
LUCID_HOST_DEVICE inline bool is_negative(T x) {
  if constexpr (std::is_unsigned_v<T>) return false;
  else return x < T(0);
}

// Integer add/sub/mul wrap around (two's complement) as in PyTorch; doing
// them in the unsigned type keeps that defined behaviour in C++.
template <class T, bool = std::is_integral_v<T> && !std::is_same_v<T, bool>>
struct WrapType { using type = T; };
template <class T>
struct WrapType<T, true> { using type = std::make_unsigned_t<T>; };
template <class T>
using Wrap = typename WrapType<T>::type;

// -x; for integers wrapping around (-INT_MIN == INT_MIN, as PyTorch) instead of
// overflowing; floats keep the sign of zero (-(+0.0) == -0.0).
template <class T>
LUCID_HOST_DEVICE inline T negate(T x) {
  if constexpr (std::is_integral_v<T>) return T(Wrap<T>(0) - Wrap<T>(x));
  else return -x;
}

template <UnaryOp OP, class T>
LUCID_HOST_DEVICE inline T unary_op(T x, T a, T b) {
  if constexpr (OP == UnaryOp::Neg) return negate(x);
  if constexpr (OP == UnaryOp::Exp) return std::exp(x);
  if constexpr (OP == UnaryOp::Log) return std::log(x);
  if constexpr (OP == UnaryOp::Sqrt) return std::sqrt(x);
  if constexpr (OP == UnaryOp::Rsqrt) return T(1) / std::sqrt(x);
  if constexpr (OP == UnaryOp::Abs) return is_negative(x) ? negate(x) : x;
  if constexpr (OP == UnaryOp::Sign) return T((x > T(0)) - is_negative(x));
  if constexpr (OP == UnaryOp::Relu) return x > T(0) ? x : T(0);
  if constexpr (OP == UnaryOp::LeakyRelu) return x > T(0) ? x : a * x;
  // gelu(x) = x * Phi(x) = x/2 (1 + erf(x / sqrt 2))
  if constexpr (OP == UnaryOp::Gelu) return x * T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2)));
  // tanh approximation: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  if constexpr (OP == UnaryOp::GeluTanh)
    return T(0.5) * x * (T(1) + std::tanh(T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x)));
  if constexpr (OP == UnaryOp::Silu) return x * sigmoid(x);
  if constexpr (OP == UnaryOp::Sigmoid) return sigmoid(x);
  if constexpr (OP == UnaryOp::Tanh) return std::tanh(x);
  // softplus(x) = log(1 + exp(beta x)) / beta, linear above the threshold
  if constexpr (OP == UnaryOp::Softplus)
    return x * a > b ? x : std::log1p(std::exp(x * a)) / a;
  // min(max(x, lo), hi): with lo > hi every element becomes hi, as in PyTorch
  if constexpr (OP == UnaryOp::Clamp) return (x < a ? a : x) > b ? b : (x < a ? a : x);
  if constexpr (OP == UnaryOp::Square) return T(Wrap<T>(x) * Wrap<T>(x));
  if constexpr (OP == UnaryOp::Reciprocal) return T(1) / x;
  if constexpr (OP == UnaryOp::PowScalar) return std::pow(x, a);
  return x;
}

template <BinaryOp OP, class T>
LUCID_HOST_DEVICE inline auto binary_op(T x, T y, T a, T b) {
  if constexpr (OP == BinaryOp::Add) return T(Wrap<T>(x) + Wrap<T>(y));
  if constexpr (OP == BinaryOp::Sub) return T(Wrap<T>(x) - Wrap<T>(y));
  // fused multiply-add, as PyTorch's vectorized add(alpha): x + a*y rounded once
  if constexpr (OP == BinaryOp::AddScaled) {
    if constexpr (std::is_floating_point_v<T>) return T(std::fma(a, y, x));
    else return T(Wrap<T>(x) + Wrap<T>(a) * Wrap<T>(y));
  }
  if constexpr (OP == BinaryOp::Mul) return T(Wrap<T>(x) * Wrap<T>(y));
  if constexpr (OP == BinaryOp::Div) return T(x / y);
  if constexpr (OP == BinaryOp::Pow) return T(std::pow(x, y));
  // NaN propagates through maximum/minimum, as in PyTorch
  if constexpr (OP == BinaryOp::Maximum) return (x != x || x > y) ? x : y;
  if constexpr (OP == BinaryOp::Minimum) return (x != x || x < y) ? x : y;
  if constexpr (OP == BinaryOp::Eq) return x == y;
  if constexpr (OP == BinaryOp::Ne) return x != y;
  if constexpr (OP == BinaryOp::Lt) return x < y;
  if constexpr (OP == BinaryOp::Le) return x <= y;
  if constexpr (OP == BinaryOp::Gt) return x > y;
  if constexpr (OP == BinaryOp::Ge) return x >= y;
  // backward helpers: x is the incoming grad g, y the saved input or output
  if constexpr (OP == BinaryOp::ReluBackward) return y > T(0) ? x : T(0);  // y = relu output
  if constexpr (OP == BinaryOp::LeakyReluBackward) return y > T(0) ? x : a * x;
  // d/dx gelu = Phi(x) + x phi(x)
  if constexpr (OP == BinaryOp::GeluBackward)
    return T(x * (T(0.5) * (T(1) + std::erf(y * T(kInvSqrt2))) +
                  y * T(kInvSqrt2Pi) * std::exp(T(-0.5) * y * y)));
  // d/dx of the tanh form: 0.5(1+t) + 0.5 x (1-t^2) k (1 + 3*0.044715 x^2)
  if constexpr (OP == BinaryOp::GeluTanhBackward) {
    T inner = T(kSqrt2OverPi) * (y + T(0.044715) * y * y * y);
    T t = std::tanh(inner);
    T dinner = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * y * y);
    return T(x * (T(0.5) * (T(1) + t) + T(0.5) * y * (T(1) - t * t) * dinner));
  }
  // d/dx x sigmoid(x) = s (1 + x (1 - s))
  if constexpr (OP == BinaryOp::SiluBackward) {
    T s = sigmoid(y);
    return T(x * s * (T(1) + y * (T(1) - s)));
  }
  if constexpr (OP == BinaryOp::SigmoidBackward) return T(x * y * (T(1) - y));  // y = output
  if constexpr (OP == BinaryOp::TanhBackward) return T(x * (T(1) - y * y));     // y = output
  // d/dx softplus = sigmoid(beta x), 1 above the threshold
  if constexpr (OP == BinaryOp::SoftplusBackward) return y * a > b ? x : T(x * sigmoid(y * a));
  if constexpr (OP == BinaryOp::ClampBackward) return (y >= a && y <= b) ? x : T(0);
}

}  // namespace lucid::math
