// Elementwise CPU kernels: the loops. The math of each op, on one element, is
// in kernels/elementwise_math.h, shared with the CUDA kernels.
// Each output element costs one read per input and one write: sizeof(T) * (inputs + 1)
// bytes; FLOPs per element are the op's own (1 for add, ~20 for gelu's erf).
// Contiguous rows take a plain loop the compiler vectorizes.
#include <lucid/kernels/cpu/elementwise.h>
#include <lucid/kernels/cpu/loops.h>
#include <lucid/kernels/elementwise_math.h>

namespace lucid::cpu {

namespace {

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
    run_unary<T, T>(x, out, [a, b](T v) { return math::unary_op<OP, T>(v, a, b); });
  });
}

template <BinaryOp OP>
void binary_typed(const Tensor& x, const Tensor& y, const Tensor& out, OpArgs args) {
  if constexpr (math::is_comparison(OP)) {
    ScalarType t = x.dtype();  // entry converted both to one dtype
    if (t == ScalarType::Bool) {
      run_binary<bool, bool>(x, y, out,
                             [](bool u, bool v) { return math::binary_op<OP, bool>(u, v, 0, 0); });
      return;
    }
    visit_math_dtype(t, "comparison", [&](auto tag) {
      using T = decltype(tag);
      run_binary<bool, T>(x, y, out, [](T u, T v) { return math::binary_op<OP, T>(u, v, T(0), T(0)); });
    });
  } else {
    visit_math_dtype(out.dtype(), "binary op", [&](auto tag) {
      using T = decltype(tag);
      const T a = static_cast<T>(args.a), b = static_cast<T>(args.b);
      run_binary<T, T>(x, y, out, [a, b](T u, T v) { return math::binary_op<OP, T>(u, v, a, b); });
    });
  }
}

}  // namespace

bool is_comparison(BinaryOp op) { return math::is_comparison(op); }

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
