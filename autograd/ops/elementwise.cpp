// Elementwise ops: validate, run the kernel, record the backward.
// Each backward is one line of calculus in terms of other lucid ops.
#include <lucid/autograd/ops/elementwise.h>

#include <lucid/autograd/ops/reduce.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/cpu/elementwise.h>
#include <lucid/kernels/cuda/elementwise.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/factory.h>

#include <cmath>
#include <limits>

namespace lucid {

using autograd::Context;
using cpu::BinaryOp;
using cpu::OpArgs;
using cpu::UnaryOp;
using Grads = std::vector<Tensor>;

namespace {

void check_inputs(const char* op, const Tensor& a, const Tensor& b) {
  LUCID_CHECK(a.defined() && b.defined(), op, ": undefined tensor argument");
  LUCID_CHECK(a.device() == b.device(), op, ": expected both tensors on the same device, got ",
              a.device().str(), " and ", b.device().str());
}

// The forward of a binary op: promote dtypes, broadcast shapes, run the kernel.
Tensor binary_forward(BinaryOp op, const char* name, const Tensor& a, const Tensor& b,
                      OpArgs args = {}) {
  check_inputs(name, a, b);
  ScalarType t = promote_types(a.dtype(), b.dtype());
  if ((op == BinaryOp::Div || op == BinaryOp::Pow) && !is_floating_point(t)) t = kFloat32;
  if (!cpu::is_comparison(op) && op != BinaryOp::Add && op != BinaryOp::Sub && op != BinaryOp::AddScaled &&
      op != BinaryOp::Mul && op != BinaryOp::Maximum && op != BinaryOp::Minimum)
    check_float_math(name, t);
  if (t == kFloat16 || t == kBFloat16) check_float_math(name, t);  // no 16-bit CPU kernels
  LUCID_CHECK(t != kBool || cpu::is_comparison(op), name,
              ": bool tensors have no arithmetic; convert with .to(kInt64) or .to(kFloat32)");
  Shape shape = broadcast_shapes(a.sizes(), b.sizes(), name);
  Tensor ac, bc;
  {
    NoGradGuard g;  // internal conversions are not part of the graph
    ac = a.to(t);
    bc = b.to(t);
  }
  Tensor out = empty(shape, TensorOptions(cpu::is_comparison(op) ? kBool : t).device(a.device()));
  dispatch(name, a.device(), [&] { cpu::binary(op, ac, bc, out, args); },
           [&] { cuda::binary(op, ac, bc, out, args); });
  return out;
}

Tensor unary_forward(UnaryOp op, const char* name, const Tensor& x, OpArgs args = {},
                     bool float_only = true) {
  LUCID_CHECK(x.defined(), name, ": undefined tensor argument");
  if (float_only || x.dtype() == kFloat16 || x.dtype() == kBFloat16) check_float_math(name, x.dtype());
  LUCID_CHECK(x.dtype() != kBool, name, ": bool tensors have no arithmetic; convert with .to(kFloat32)");
  Tensor out = empty(x.sizes(), x.options());
  dispatch(name, x.device(), [&] { cpu::unary(op, x, out, args); },
           [&] { cuda::unary(op, x, out, args); });
  return out;
}

// The gradient for input i: undo broadcasting, back to the input's dtype.
Tensor grad_for(const Tensor& g, const Context& c, size_t i) {
  return sum_to(g, c.input_sizes(i)).to(c.input_dtype(i));
}

// Records a one-input op whose gradient is `backward(g, saved)`.
void record_unary(const char* name, const Tensor& x, Tensor& out, const Tensor& saved,
                  std::function<Tensor(const Tensor& g, const Tensor& saved)> backward) {
  if (!autograd::needs_grad({&x})) return;
  autograd::record(name, {x}, {&out}, {saved}, [backward](const Context& c, const Grads& g) {
    return Grads{backward(g[0], c.saved(0))};
  });
}

Tensor fused_backward(BinaryOp op, const Tensor& g, const Tensor& saved, OpArgs args = {}) {
  Tensor out = empty(g.sizes(), g.options());
  dispatch("backward", g.device(), [&] { cpu::binary(op, g, saved, out, args); },
           [&] { cuda::binary(op, g, saved, out, args); });
  return out;
}

}  // namespace

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.sizes() == shape) return g;
  const int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  Shape dims;
  for (int64_t d = 0; d < g.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && g.size(d) != 1)) dims.push_back(d);
  Tensor s = dims.empty() ? g : g.sum(dims, /*keepdim=*/true);
  return s.reshape(shape);
}

// ---- arithmetic ---------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  // a + alpha*b in one fused step (one rounding), as PyTorch's add(alpha)
  Tensor out = alpha == 1.0 ? binary_forward(BinaryOp::Add, "add", a, b)
                            : binary_forward(BinaryOp::AddScaled, "add", a, b, {alpha, 0.0});
  if (autograd::needs_grad({&a, &b}))
    // d(a + alpha b) = (g, alpha g)
    autograd::record("add", {a, b}, {&out}, {}, [alpha](const Context& c, const Grads& g) {
      return Grads{grad_for(g[0], c, 0), grad_for(alpha == 1.0 ? g[0] : g[0] * alpha, c, 1)};
    });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  Tensor out = alpha == 1.0 ? binary_forward(BinaryOp::Sub, "sub", a, b)
                            : binary_forward(BinaryOp::AddScaled, "sub", a, b, {-alpha, 0.0});
  if (autograd::needs_grad({&a, &b}))
    // d(a - alpha b) = (g, -alpha g)
    autograd::record("sub", {a, b}, {&out}, {}, [alpha](const Context& c, const Grads& g) {
      return Grads{grad_for(g[0], c, 0), grad_for(g[0] * -alpha, c, 1)};
    });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::Mul, "mul", a, b);
  if (autograd::needs_grad({&a, &b}))
    // d(a b) = (g b, g a)
    autograd::record("mul", {a, b}, {&out}, {a, b}, [](const Context& c, const Grads& g) {
      return Grads{c.needs_input_grad(0) ? grad_for(g[0] * c.saved(1), c, 0) : Tensor(),
                   c.needs_input_grad(1) ? grad_for(g[0] * c.saved(0), c, 1) : Tensor()};
    });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::Div, "div", a, b);
  if (autograd::needs_grad({&a, &b}))
    // d(a / b) = (g / b, -g a / b^2)
    autograd::record("div", {a, b}, {&out}, {a, b}, [](const Context& c, const Grads& g) {
      const Tensor &a = c.saved(0), &b = c.saved(1);
      return Grads{c.needs_input_grad(0) ? grad_for(g[0] / b, c, 0) : Tensor(),
                   c.needs_input_grad(1) ? grad_for(-g[0] * a / (b * b), c, 1) : Tensor()};
    });
  return out;
}

Tensor pow(const Tensor& base, const Tensor& exponent) {
  Tensor out = binary_forward(BinaryOp::Pow, "pow", base, exponent);
  if (autograd::needs_grad({&base, &exponent}))
    // d(a^b) = (g b a^(b-1), g a^b log a); the second is 0 where a == 0 (PyTorch's choice)
    autograd::record("pow", {base, exponent}, {&out}, {base, exponent, out},
                     [](const Context& c, const Grads& g) {
                       const Tensor &a = c.saved(0), &b = c.saved(1), &y = c.saved(2);
                       Tensor ga, gb;
                       if (c.needs_input_grad(0)) ga = grad_for(g[0] * b * pow(a, b - 1.0), c, 0);
                       if (c.needs_input_grad(1)) {
                         Tensor safe_log = where(eq(a, zeros_like(a)), zeros_like(a), log(a));
                         gb = grad_for(g[0] * y * safe_log, c, 1);
                       }
                       return Grads{ga, gb};
                     });
  return out;
}

Tensor pow(const Tensor& x, double e) {
  Tensor out = unary_forward(UnaryOp::PowScalar, "pow", x, {e, 0});
  // d(x^e) = g e x^(e-1)
  record_unary("pow", x, out, x, [e](const Tensor& g, const Tensor& x) {
    return e == 0.0 ? zeros_like(g) : g * (pow(x, e - 1.0) * e);
  });
  return out;
}

// Ties split the gradient equally, as current PyTorch does.
static Tensor max_min(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(op, name, a, b);
  if (autograd::needs_grad({&a, &b}))
    // d max(a, b) = (g [a > b] + g/2 [a == b], g [b > a] + g/2 [a == b])
    autograd::record(name, {a, b}, {&out}, {a, b}, [op](const Context& c, const Grads& g) {
      const Tensor &a = c.saved(0), &b = c.saved(1);
      Tensor a_wins = (op == BinaryOp::Maximum ? gt(a, b) : lt(a, b)).to(g[0].dtype());
      Tensor tie = eq(a, b).to(g[0].dtype()) * 0.5;
      Tensor wa = a_wins + tie;
      return Grads{grad_for(g[0] * wa, c, 0), grad_for(g[0] * (1.0 - wa), c, 1)};
    });
  return out;
}
Tensor maximum(const Tensor& a, const Tensor& b) { return max_min(BinaryOp::Maximum, "maximum", a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return max_min(BinaryOp::Minimum, "minimum", a, b); }

Tensor neg(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Neg, "neg", x, {}, /*float_only=*/false);
  record_unary("neg", x, out, Tensor(), [](const Tensor& g, const Tensor&) { return -g; });  // d(-x) = -g
  return out;
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Exp, "exp", x);
  record_unary("exp", x, out, out, [](const Tensor& g, const Tensor& y) { return g * y; });  // d e^x = g e^x
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Log, "log", x);
  record_unary("log", x, out, x, [](const Tensor& g, const Tensor& x) { return g / x; });  // d log x = g / x
  return out;
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Sqrt, "sqrt", x);
  // d sqrt(x) = g / (2 sqrt(x))
  record_unary("sqrt", x, out, out, [](const Tensor& g, const Tensor& y) { return g / (y * 2.0); });
  return out;
}

Tensor rsqrt(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Rsqrt, "rsqrt", x);
  // d x^(-1/2) = -g x^(-3/2) / 2 = -g y^3 / 2
  record_unary("rsqrt", x, out, out, [](const Tensor& g, const Tensor& y) { return g * (y * y * y) * -0.5; });
  return out;
}

Tensor abs(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Abs, "abs", x, {}, /*float_only=*/false);
  record_unary("abs", x, out, x, [](const Tensor& g, const Tensor& x) { return g * sign(x); });  // d|x| = g sign(x)
  return out;
}

Tensor sign(const Tensor& x) { return unary_forward(UnaryOp::Sign, "sign", x, {}, false); }

Tensor square(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Square, "square", x, {}, false);
  record_unary("square", x, out, x, [](const Tensor& g, const Tensor& x) { return g * x * 2.0; });  // d x^2 = 2 g x
  return out;
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  LUCID_CHECK(min || max, "clamp: at least one of min and max must be given");
  const double lo = min.value_or(-std::numeric_limits<double>::infinity());
  const double hi = max.value_or(std::numeric_limits<double>::infinity());
  Tensor out = unary_forward(UnaryOp::Clamp, "clamp", x, {lo, hi});
  // d clamp(x) = g where lo <= x <= hi, else 0
  record_unary("clamp", x, out, x, [lo, hi](const Tensor& g, const Tensor& x) {
    return fused_backward(BinaryOp::ClampBackward, g, x, {lo, hi});
  });
  return out;
}

// ---- activations ----------------------------------------------------------------------
Tensor relu(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Relu, "relu", x);
  // d relu(x) = g [y > 0]
  record_unary("relu", x, out, out, [](const Tensor& g, const Tensor& y) {
    return fused_backward(BinaryOp::ReluBackward, g, y);
  });
  return out;
}

Tensor leaky_relu(const Tensor& x, double slope) {
  Tensor out = unary_forward(UnaryOp::LeakyRelu, "leaky_relu", x, {slope, 0});
  // d leaky_relu(x) = g if x > 0 else slope g
  record_unary("leaky_relu", x, out, x, [slope](const Tensor& g, const Tensor& x) {
    return fused_backward(BinaryOp::LeakyReluBackward, g, x, {slope, 0});
  });
  return out;
}

Tensor gelu(const Tensor& x, GeluApproximation approximate) {
  const bool tanh_form = approximate == GeluApproximation::Tanh;
  Tensor out = unary_forward(tanh_form ? UnaryOp::GeluTanh : UnaryOp::Gelu, "gelu", x);
  // d gelu(x) = Phi(x) + x phi(x)  (or the derivative of the tanh form)
  record_unary("gelu", x, out, x, [tanh_form](const Tensor& g, const Tensor& x) {
    return fused_backward(tanh_form ? BinaryOp::GeluTanhBackward : BinaryOp::GeluBackward, g, x);
  });
  return out;
}

Tensor silu(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Silu, "silu", x);
  // d x sigmoid(x) = g s (1 + x (1 - s))
  record_unary("silu", x, out, x, [](const Tensor& g, const Tensor& x) {
    return fused_backward(BinaryOp::SiluBackward, g, x);
  });
  return out;
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Sigmoid, "sigmoid", x);
  // d sigmoid(x) = g y (1 - y)
  record_unary("sigmoid", x, out, out, [](const Tensor& g, const Tensor& y) {
    return fused_backward(BinaryOp::SigmoidBackward, g, y);
  });
  return out;
}

Tensor tanh(const Tensor& x) {
  Tensor out = unary_forward(UnaryOp::Tanh, "tanh", x);
  // d tanh(x) = g (1 - y^2)
  record_unary("tanh", x, out, out, [](const Tensor& g, const Tensor& y) {
    return fused_backward(BinaryOp::TanhBackward, g, y);
  });
  return out;
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  LUCID_CHECK(beta != 0, "softplus: beta must be nonzero");
  Tensor out = unary_forward(UnaryOp::Softplus, "softplus", x, {beta, threshold});
  // d softplus(x) = g sigmoid(beta x)  (g above the threshold)
  record_unary("softplus", x, out, x, [beta, threshold](const Tensor& g, const Tensor& x) {
    return fused_backward(BinaryOp::SoftplusBackward, g, x, {beta, threshold});
  });
  return out;
}

// ---- comparisons and where -------------------------------------------------------------
Tensor eq(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Eq, "eq", a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Ne, "ne", a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Lt, "lt", a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Le, "le", a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Gt, "gt", a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Ge, "ge", a, b); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_inputs("where", a, b);
  check_inputs("where", cond, a);
  LUCID_CHECK(cond.dtype() == kBool, "where: condition must be a bool tensor, got ", cond.dtype());
  Shape shape = broadcast_shapes(broadcast_shapes(cond.sizes(), a.sizes(), "where"), b.sizes(), "where");
  ScalarType t = promote_types(a.dtype(), b.dtype());
  Tensor ac, bc;
  {
    NoGradGuard ng;
    ac = a.to(t);
    bc = b.to(t);
  }
  Tensor out = empty(shape, TensorOptions(t).device(a.device()));
  dispatch("where", a.device(), [&] { cpu::where(cond, ac, bc, out); },
           [&] { cuda::where(cond, ac, bc, out); });
  if (autograd::needs_grad({&a, &b}))
    // d where(c, a, b) = (g [c], g [!c])
    autograd::record("where", {a, b}, {&out}, {cond}, [](const Context& c, const Grads& g) {
      Tensor z = zeros_like(g[0]);
      return Grads{grad_for(where(c.saved(0), g[0], z), c, 0),
                   grad_for(where(c.saved(0), z, g[0]), c, 1)};
    });
  return out;
}

Tensor isclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  NoGradGuard ng;  // a test, not part of any graph
  check_inputs("isclose", a, b);
  broadcast_shapes(a.sizes(), b.sizes(), "isclose");
  LUCID_CHECK(a.dtype() == b.dtype(), "isclose: expected tensors of one dtype, got ", a.dtype(),
              " and ", b.dtype());
  if (!is_floating_point(a.dtype())) return eq(a, b);
  Tensor a64 = a.to(kFloat64), b64 = b.to(kFloat64);
  Tensor close = le(abs(a64 - b64), abs(b64) * rtol + atol);
  Tensor same = eq(a64, b64);  // also equal infinities
  Tensor result = where(same, same, close);
  if (equal_nan) {
    Tensor both_nan = where(ne(a64, a64), ne(b64, b64), zeros({}, TensorOptions(kBool).device(a.device())));
    result = where(both_nan, both_nan, result);
  }
  return result;
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  Tensor c = isclose(a, b, rtol, atol, equal_nan);
  NoGradGuard ng;
  return sum(c.to(kInt64)).item<int64_t>() == c.numel();
}

// ---- Tensor methods and operators ------------------------------------------------------
Tensor scalar_like(double v, const Tensor& like) {
  ScalarType t = like.dtype();
  if (!is_floating_point(t) && v != std::floor(v)) t = kFloat32;
  if (t == kBool) t = kInt64;
  return full({}, v, TensorOptions(t).device(like.device()));
}

Tensor Tensor::add(const Tensor& o) const { return lucid::add(*this, o); }
Tensor Tensor::sub(const Tensor& o) const { return lucid::sub(*this, o); }
Tensor Tensor::mul(const Tensor& o) const { return lucid::mul(*this, o); }
Tensor Tensor::div(const Tensor& o) const { return lucid::div(*this, o); }
Tensor Tensor::pow(const Tensor& e) const { return lucid::pow(*this, e); }
Tensor Tensor::pow(double e) const { return lucid::pow(*this, e); }
Tensor Tensor::neg() const { return lucid::neg(*this); }
Tensor Tensor::exp() const { return lucid::exp(*this); }
Tensor Tensor::log() const { return lucid::log(*this); }
Tensor Tensor::sqrt() const { return lucid::sqrt(*this); }
Tensor Tensor::rsqrt() const { return lucid::rsqrt(*this); }
Tensor Tensor::abs() const { return lucid::abs(*this); }
Tensor Tensor::relu() const { return lucid::relu(*this); }
Tensor Tensor::sigmoid() const { return lucid::sigmoid(*this); }
Tensor Tensor::tanh() const { return lucid::tanh(*this); }
Tensor Tensor::clamp(std::optional<double> lo, std::optional<double> hi) const {
  return lucid::clamp(*this, lo, hi);
}
Tensor Tensor::eq(const Tensor& o) const { return lucid::eq(*this, o); }
Tensor Tensor::ne(const Tensor& o) const { return lucid::ne(*this, o); }
Tensor Tensor::lt(const Tensor& o) const { return lucid::lt(*this, o); }
Tensor Tensor::le(const Tensor& o) const { return lucid::le(*this, o); }
Tensor Tensor::gt(const Tensor& o) const { return lucid::gt(*this, o); }
Tensor Tensor::ge(const Tensor& o) const { return lucid::ge(*this, o); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, double b) { return add(a, scalar_like(b, a)); }
Tensor operator-(const Tensor& a, double b) { return sub(a, scalar_like(b, a)); }
Tensor operator*(const Tensor& a, double b) { return mul(a, scalar_like(b, a)); }
Tensor operator/(const Tensor& a, double b) { return div(a, scalar_like(b, a)); }
Tensor operator+(double a, const Tensor& b) { return add(scalar_like(a, b), b); }
Tensor operator-(double a, const Tensor& b) { return sub(scalar_like(a, b), b); }
Tensor operator*(double a, const Tensor& b) { return mul(scalar_like(a, b), b); }
Tensor operator/(double a, const Tensor& b) { return div(scalar_like(a, b), b); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }

}  // namespace lucid
