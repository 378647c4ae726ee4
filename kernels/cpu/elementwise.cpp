// Elementwise CPU kernels.
// Each output element costs one read per input and one write: sizeof(T) * (inputs + 1)
// bytes; FLOPs per element are the op's own (1 for add, ~20 for gelu's erf).
// Contiguous rows take a plain loop the compiler vectorizes.
#include <lucid/kernels/cpu/elementwise.h>
#include <lucid/kernels/cpu/loops.h>

#include <cmath>

namespace lucid::cpu {

namespace {

constexpr double kSqrt2OverPi = 0.7978845608028654;  // sqrt(2/pi)
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;   // 1/sqrt(2 pi)

template <class T> T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }

// ---- the math of each op, on one element ------------------------------------
template <UnaryOp OP, class T>
inline T scalar_op(T x, T a, T b) {
  if constexpr (OP == UnaryOp::Neg) return -x;
  if constexpr (OP == UnaryOp::Exp) return std::exp(x);
  if constexpr (OP == UnaryOp::Log) return std::log(x);
  if constexpr (OP == UnaryOp::Sqrt) return std::sqrt(x);
  if constexpr (OP == UnaryOp::Rsqrt) return T(1) / std::sqrt(x);
  if constexpr (OP == UnaryOp::Abs) return x < T(0) ? -x : x;
  if constexpr (OP == UnaryOp::Sign) return T((x > T(0)) - (x < T(0)));
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
  if constexpr (OP == UnaryOp::Square) return x * x;
  if constexpr (OP == UnaryOp::Reciprocal) return T(1) / x;
  if constexpr (OP == UnaryOp::PowScalar) return std::pow(x, a);
  return x;
}

// Integer add/sub/mul wrap around (two's complement) as in PyTorch; doing
// them in the unsigned type keeps that defined behaviour in C++.
template <class T, bool = std::is_integral_v<T> && !std::is_same_v<T, bool>>
struct WrapType { using type = T; };
template <class T>
struct WrapType<T, true> { using type = std::make_unsigned_t<T>; };
template <class T>
using Wrap = typename WrapType<T>::type;

template <BinaryOp OP, class T>
inline auto scalar_op(T x, T y, T a, T b) {
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

// ---- the shared loops -----------------------------------------------------------
template <class Out, class In, class F>
void run_unary(const Tensor& x, const Tensor& out, F f) {
  Strides xs = x.strides();
  Operands<2> ops{{static_cast<char*>(out.raw_data()), static_cast<char*>(x.raw_data())},
                  {&out.strides(), &xs},
                  {sizeof(Out), sizeof(In)}};
  for_each_row(out.sizes(), ops, [&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> st) {
    Out* o = reinterpret_cast<Out*>(p[0]);
    const In* i0 = reinterpret_cast<const In*>(p[1]);
    if (st[0] == 1 && st[1] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(i0[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = f(i0[i * st[1]]);
    }
  });
}

template <class Out, class In, class F>
void run_binary(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  Strides as = broadcast_strides(a.sizes(), a.strides(), out.sizes());
  Strides bs = broadcast_strides(b.sizes(), b.strides(), out.sizes());
  Operands<3> ops{{static_cast<char*>(out.raw_data()), static_cast<char*>(a.raw_data()),
                   static_cast<char*>(b.raw_data())},
                  {&out.strides(), &as, &bs},
                  {sizeof(Out), sizeof(In), sizeof(In)}};
  for_each_row(out.sizes(), ops, [&](std::array<char*, 3> p, int64_t n, std::array<int64_t, 3> st) {
    Out* o = reinterpret_cast<Out*>(p[0]);
    const In* x = reinterpret_cast<const In*>(p[1]);
    const In* y = reinterpret_cast<const In*>(p[2]);
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {  // row times a broadcast scalar
      const In yv = y[0];
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = f(x[i * st[1]], y[i * st[2]]);
    }
  });
}

// Runs `body(T{})` for T in the dtypes an arithmetic kernel supports.
template <class Body>
void visit_math_dtype(ScalarType t, const char* what, Body&& body) {
  switch (t) {
    case ScalarType::Float: body(float{}); return;
    case ScalarType::Double: body(double{}); return;
    case ScalarType::Long: body(int64_t{}); return;
    case ScalarType::Int: body(int32_t{}); return;
    case ScalarType::Byte: body(uint8_t{}); return;
    default:
      throw Error(std::string(what) + ": dtype " + dtype_name(t) +
                  " has no CPU arithmetic kernel (convert with .to(kFloat32))");
  }
}

template <UnaryOp OP>
void unary_typed(const Tensor& x, const Tensor& out, OpArgs args) {
  visit_math_dtype(out.dtype(), "unary op", [&](auto tag) {
    using T = decltype(tag);
    const T a = static_cast<T>(args.a), b = static_cast<T>(args.b);
    run_unary<T, T>(x, out, [a, b](T v) { return scalar_op<OP, T>(v, a, b); });
  });
}

template <BinaryOp OP>
void binary_typed(const Tensor& x, const Tensor& y, const Tensor& out, OpArgs args) {
  if constexpr (OP == BinaryOp::Eq || OP == BinaryOp::Ne || OP == BinaryOp::Lt ||
                OP == BinaryOp::Le || OP == BinaryOp::Gt || OP == BinaryOp::Ge) {
    ScalarType t = x.dtype();  // entry converted both to one dtype
    if (t == ScalarType::Bool) {
      run_binary<bool, bool>(x, y, out, [](bool u, bool v) { return scalar_op<OP, bool>(u, v, 0, 0); });
      return;
    }
    visit_math_dtype(t, "comparison", [&](auto tag) {
      using T = decltype(tag);
      run_binary<bool, T>(x, y, out, [](T u, T v) { return scalar_op<OP, T>(u, v, T(0), T(0)); });
    });
  } else {
    visit_math_dtype(out.dtype(), "binary op", [&](auto tag) {
      using T = decltype(tag);
      const T a = static_cast<T>(args.a), b = static_cast<T>(args.b);
      run_binary<T, T>(x, y, out, [a, b](T u, T v) { return scalar_op<OP, T>(u, v, a, b); });
    });
  }
}

}  // namespace

bool is_comparison(BinaryOp op) {
  return op == BinaryOp::Eq || op == BinaryOp::Ne || op == BinaryOp::Lt || op == BinaryOp::Le ||
         op == BinaryOp::Gt || op == BinaryOp::Ge;
}

// One switch over the op table, written as a fold: runs the instantiation
// whose op equals `op`.
template <UnaryOp... OPS>
void unary_table(UnaryOp op, const Tensor& x, const Tensor& out, OpArgs args) {
  ((op == OPS && (unary_typed<OPS>(x, out, args), true)) || ...);
}
template <BinaryOp... OPS>
void binary_table(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, OpArgs args) {
  ((op == OPS && (binary_typed<OPS>(a, b, out, args), true)) || ...);
}

void unary(UnaryOp op, const Tensor& x, const Tensor& out, OpArgs args) {
  using enum UnaryOp;
  unary_table<Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Relu, LeakyRelu, Gelu, GeluTanh, Silu,
              Sigmoid, Tanh, Softplus, Clamp, Square, Reciprocal, PowScalar>(op, x, out, args);
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, OpArgs args) {
  using enum BinaryOp;
  binary_table<Add, Sub, AddScaled, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, ReluBackward,
               LeakyReluBackward, GeluBackward, GeluTanhBackward, SiluBackward, SigmoidBackward,
               TanhBackward, SoftplusBackward, ClampBackward>(op, a, b, out, args);
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  Strides cs = broadcast_strides(cond.sizes(), cond.strides(), out.sizes());
  Strides as = broadcast_strides(a.sizes(), a.strides(), out.sizes());
  Strides bs = broadcast_strides(b.sizes(), b.strides(), out.sizes());
  const int64_t es = static_cast<int64_t>(out.element_size());
  Operands<4> ops{{static_cast<char*>(out.raw_data()), static_cast<char*>(cond.raw_data()),
                   static_cast<char*>(a.raw_data()), static_cast<char*>(b.raw_data())},
                  {&out.strides(), &cs, &as, &bs},
                  {es, 1, es, es}};
  visit_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_row(out.sizes(), ops, [](std::array<char*, 4> p, int64_t n, std::array<int64_t, 4> st) {
      T* o = reinterpret_cast<T*>(p[0]);
      const bool* c = reinterpret_cast<const bool*>(p[1]);
      const T* x = reinterpret_cast<const T*>(p[2]);
      const T* y = reinterpret_cast<const T*>(p[3]);
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = c[i * st[1]] ? x[i * st[2]] : y[i * st[3]];
    });
  });
}

}  // namespace lucid::cpu
