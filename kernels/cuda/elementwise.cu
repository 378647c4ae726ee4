// Elementwise CUDA kernels. The CPU reference is kernels/cpu/elementwise.cpp;
// the math of each op, on one element, is kernels/elementwise_math.h, compiled
// here for the device: this file holds only the loops.
//
// Two kernels per op and dtype, both grid-stride loops with int64 indices:
//   *_flat     every operand is contiguous with out's shape (or is one element,
//              broadcast to all of out: x * 2) and 16-byte aligned. Each step a
//              thread loads 16 bytes of each input (a float4 / double2 worth:
//              V = 16 / sizeof(T) elements), applies the op V times and stores V
//              results; the last n % V elements are a scalar tail.
//              geometry: blocks_for(ceil(n / V)) x 256 threads
//   *_strided  anything else (broadcast, transposed, sliced, misaligned): one
//              element per step, at offsets from a StridedIndexer whose dims are
//              collapsed first (a contiguous operand then costs one division).
//              geometry: blocks_for(n) x 256 threads
// where: the same two kernels, moving elements as raw 1/2/4/8-byte words (its
// flat path also needs cond contiguous).
//
// Bytes per element: sizeof(T) read per input plus sizeof(out) written (bool
// for comparisons; where: 1 + 3 sizeof(T)). FLOPs per element: the op's own,
// 1 for add up to ~20 for gelu's erf. All memory-bound.
//
// Dtypes: float32 and float64 for every op; int64, int32 and uint8 as well for
// the ops the entry points send integers to (neg, abs, sign, square; add, sub,
// mul, div (through div_), maximum, minimum; comparisons, also on bool).
#include <lucid/kernels/cuda/elementwise.h>
#include <lucid/kernels/cuda/launch.cuh>
#include <lucid/kernels/elementwise_math.h>

#include <string>

namespace lucid::cuda {

using cpu::BinaryOp;
using cpu::OpArgs;
using cpu::UnaryOp;

namespace {

// Element i of t is at t's data + i.
bool flat_like(const Tensor& t, const Tensor& out) { return t.sizes() == out.sizes() && t.is_contiguous(); }

// The op as a function object the kernels call (a and b: its scalar parameters).
template <UnaryOp OP, class T>
struct UnaryFn {
  T a, b;
  __device__ T operator()(T x) const { return math::unary_op<OP, T>(x, a, b); }
};

template <BinaryOp OP, class T>
struct BinaryFn {
  T a, b;
  __device__ auto operator()(T x, T y) const { return math::binary_op<OP, T>(x, y, a, b); }
};

// ---- kernels ---------------------------------------------------------------------
template <class T, class F>
__global__ void unary_flat(T* out, const T* x, int64_t n, F f) {
  constexpr int V = kVec<T>;
  const int64_t start = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  const int64_t nv = n / V;
  for (int64_t i = start; i < nv; i += step) {
    Pack<T, V> p = reinterpret_cast<const Pack<T, V>*>(x)[i];
#pragma unroll
    for (int k = 0; k < V; ++k) p.v[k] = f(p.v[k]);
    reinterpret_cast<Pack<T, V>*>(out)[i] = p;
  }
  for (int64_t i = nv * V + start; i < n; i += step) out[i] = f(x[i]);  // tail
}

template <class T, class F>
__global__ void unary_strided(T* out, const T* x, int64_t n, StridedIndexer<2> ix, F f) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    ix.offsets(i, off);
    out[off[0]] = f(x[off[1]]);
  }
}

// Pack i of an input: V elements from p, or V copies of p0 when the input is
// one element broadcast to all of out (`one`).
template <int V, class T>
__device__ inline Pack<T, V> load_pack(const T* p, bool one, T p0, int64_t i) {
  Pack<T, V> r;
  if (one) {
#pragma unroll
    for (int k = 0; k < V; ++k) r.v[k] = p0;
  } else {
    r = reinterpret_cast<const Pack<T, V>*>(p)[i];
  }
  return r;
}

// a_one / b_one: that input is a single element, broadcast to all of out.
template <class Out, class T, class F>
__global__ void binary_flat(Out* out, const T* a, const T* b, bool a_one, bool b_one, int64_t n, F f) {
  constexpr int V = kVec<T>;
  const int64_t start = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  const int64_t nv = n / V;
  const T a0 = a[0], b0 = b[0];
  for (int64_t i = start; i < nv; i += step) {
    const Pack<T, V> x = load_pack<V>(a, a_one, a0, i), y = load_pack<V>(b, b_one, b0, i);
    Pack<Out, V> o;
#pragma unroll
    for (int k = 0; k < V; ++k) o.v[k] = f(x.v[k], y.v[k]);
    reinterpret_cast<Pack<Out, V>*>(out)[i] = o;
  }
  for (int64_t i = nv * V + start; i < n; i += step) out[i] = f(a_one ? a0 : a[i], b_one ? b0 : b[i]);  // tail
}

template <class Out, class T, class F>
__global__ void binary_strided(Out* out, const T* a, const T* b, int64_t n, StridedIndexer<3> ix, F f) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3];
    ix.offsets(i, off);
    out[off[0]] = f(a[off[1]], b[off[2]]);
  }
}

// W: an unsigned word of the element's size; where only moves bits. cond is
// contiguous with out's shape; a and b as in binary_flat.
template <class W>
__global__ void where_flat(W* out, const bool* cond, const W* a, const W* b, bool a_one, bool b_one, int64_t n) {
  constexpr int V = kVec<W>;
  const int64_t start = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  const int64_t nv = n / V;
  const W a0 = a[0], b0 = b[0];
  for (int64_t i = start; i < nv; i += step) {
    const Pack<bool, V> c = reinterpret_cast<const Pack<bool, V>*>(cond)[i];
    const Pack<W, V> x = load_pack<V>(a, a_one, a0, i), y = load_pack<V>(b, b_one, b0, i);
    Pack<W, V> o;
#pragma unroll
    for (int k = 0; k < V; ++k) o.v[k] = c.v[k] ? x.v[k] : y.v[k];
    reinterpret_cast<Pack<W, V>*>(out)[i] = o;
  }
  for (int64_t i = nv * V + start; i < n; i += step) out[i] = cond[i] ? (a_one ? a0 : a[i]) : (b_one ? b0 : b[i]);
}

template <class W>
__global__ void where_strided(W* out, const bool* cond, const W* a, const W* b, int64_t n, StridedIndexer<4> ix) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[4];
    ix.offsets(i, off);
    out[off[0]] = cond[off[1]] ? a[off[2]] : b[off[3]];
  }
}

// ---- launchers ---------------------------------------------------------------------
template <UnaryOp OP, class T>
void launch_unary(const Tensor& x, const Tensor& out, OpArgs args) {
  const int64_t n = out.numel();
  const UnaryFn<OP, T> f{static_cast<T>(args.a), static_cast<T>(args.b)};
  T* o = static_cast<T*>(out.raw_data());
  const T* xp = static_cast<const T*>(x.raw_data());
  if (out.is_contiguous() && flat_like(x, out) && aligned(o, 16) && aligned(xp, 16)) {
    unary_flat<<<blocks_for((n + kVec<T> - 1) / kVec<T>), kThreads, 0, stream()>>>(o, xp, n, f);
    LUCID_CUDA_CHECK_LAUNCH("unary_flat");
    return;
  }
  const Tensor* ops[2] = {&out, &x};
  const StridedIndexer<2> ix = collapse(make_indexer("unary op", out.sizes(), ops));
  unary_strided<<<blocks_for(n), kThreads, 0, stream()>>>(o, xp, n, ix, f);
  LUCID_CUDA_CHECK_LAUNCH("unary_strided");
}

// pa, pb: the op's parameters in T.
template <BinaryOp OP, class Out, class T>
void launch_binary(const Tensor& a, const Tensor& b, const Tensor& out, T pa, T pb) {
  const int64_t n = out.numel();
  const BinaryFn<OP, T> f{pa, pb};
  Out* o = static_cast<Out*>(out.raw_data());
  const T* ap = static_cast<const T*>(a.raw_data());
  const T* bp = static_cast<const T*>(b.raw_data());
  const bool a_one = a.numel() == 1, b_one = b.numel() == 1;
  const auto flat_input = [&](const Tensor& t, const T* p, bool one) {
    return one || (flat_like(t, out) && aligned(p, 16));
  };
  constexpr int V = kVec<T>;
  if (out.is_contiguous() && aligned(o, sizeof(Out) * V) && flat_input(a, ap, a_one) && flat_input(b, bp, b_one)) {
    binary_flat<<<blocks_for((n + V - 1) / V), kThreads, 0, stream()>>>(o, ap, bp, a_one, b_one, n, f);
    LUCID_CUDA_CHECK_LAUNCH("binary_flat");
    return;
  }
  const Tensor* ops[3] = {&out, &a, &b};
  const StridedIndexer<3> ix = collapse(make_indexer("binary op", out.sizes(), ops));
  binary_strided<<<blocks_for(n), kThreads, 0, stream()>>>(o, ap, bp, n, ix, f);
  LUCID_CUDA_CHECK_LAUNCH("binary_strided");
}

// ---- dtypes --------------------------------------------------------------------------
// The ops an entry point can send integer tensors to; the rest run on floats only.
constexpr bool takes_integers(UnaryOp op) {
  return op == UnaryOp::Neg || op == UnaryOp::Abs || op == UnaryOp::Sign || op == UnaryOp::Square;
}
constexpr bool takes_integers(BinaryOp op) {
  return math::is_comparison(op) || op == BinaryOp::Add || op == BinaryOp::Sub || op == BinaryOp::AddScaled ||
         op == BinaryOp::Mul || op == BinaryOp::Div || op == BinaryOp::Maximum || op == BinaryOp::Minimum;
}

// fn(T{}) for T in float, double and, when Integers, int64_t, int32_t, uint8_t.
template <bool Integers, class Fn>
void visit_math_dtype(ScalarType t, const char* what, Fn&& fn) {
  switch (t) {
    case ScalarType::Float: fn(float{}); return;
    case ScalarType::Double: fn(double{}); return;
    case ScalarType::Long: if constexpr (Integers) { fn(int64_t{}); return; } break;
    case ScalarType::Int: if constexpr (Integers) { fn(int32_t{}); return; } break;
    case ScalarType::Byte: if constexpr (Integers) { fn(uint8_t{}); return; } break;
    default: break;
  }
  throw Error(std::string(what) + ": dtype " + dtype_name(t) + " has no CUDA kernel for this op");
}

template <UnaryOp OP>
void unary_typed(const Tensor& x, const Tensor& out, OpArgs args) {
  visit_math_dtype<takes_integers(OP)>(out.dtype(), "unary op", [&](auto tag) {
    launch_unary<OP, decltype(tag)>(x, out, args);
  });
}

template <BinaryOp OP>
void binary_typed(const Tensor& a, const Tensor& b, const Tensor& out, OpArgs args) {
  if constexpr (math::is_comparison(OP)) {
    if (a.dtype() == ScalarType::Bool) {  // the entry converted both to one dtype
      launch_binary<OP, bool, bool>(a, b, out, false, false);
      return;
    }
    visit_math_dtype<true>(a.dtype(), "comparison", [&](auto tag) {
      using T = decltype(tag);
      launch_binary<OP, bool, T>(a, b, out, T(0), T(0));
    });
  } else {
    visit_math_dtype<takes_integers(OP)>(out.dtype(), "binary op", [&](auto tag) {
      using T = decltype(tag);
      launch_binary<OP, T, T>(a, b, out, static_cast<T>(args.a), static_cast<T>(args.b));
    });
  }
}

// One switch over the op table, written as a fold: runs the instantiation
// whose op equals `op`. An op missing from the table (added to the CPU list
// only) is an error, never an output left unwritten.
template <UnaryOp... OPS>
void unary_table(UnaryOp op, const Tensor& x, const Tensor& out, OpArgs args) {
  const bool found = ((op == OPS && (unary_typed<OPS>(x, out, args), true)) || ...);
  LUCID_CHECK(found, "cuda::unary: op ", static_cast<int>(op),
              " has no CUDA kernel (add it to the table in kernels/cuda/elementwise.cu)");
}
template <BinaryOp... OPS>
void binary_table(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, OpArgs args) {
  const bool found = ((op == OPS && (binary_typed<OPS>(a, b, out, args), true)) || ...);
  LUCID_CHECK(found, "cuda::binary: op ", static_cast<int>(op),
              " has no CUDA kernel (add it to the table in kernels/cuda/elementwise.cu)");
}

}  // namespace

void unary(UnaryOp op, const Tensor& x, const Tensor& out, OpArgs args) {
  if (out.numel() == 0) return;
  using enum UnaryOp;
  unary_table<Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Relu, LeakyRelu, Gelu, GeluTanh, Silu,
              Sigmoid, Tanh, Softplus, Clamp, Square, Reciprocal, PowScalar>(op, x, out, args);
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, OpArgs args) {
  if (out.numel() == 0) return;
  using enum BinaryOp;
  binary_table<Add, Sub, AddScaled, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, ReluBackward,
               LeakyReluBackward, GeluBackward, GeluTanhBackward, SiluBackward, SigmoidBackward,
               TanhBackward, SoftplusBackward, ClampBackward>(op, a, b, out, args);
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const auto launch = [&](auto word) {
    using W = decltype(word);
    constexpr int V = kVec<W>;
    W* o = static_cast<W*>(out.raw_data());
    const bool* cp = static_cast<const bool*>(cond.raw_data());
    const W* ap = static_cast<const W*>(a.raw_data());
    const W* bp = static_cast<const W*>(b.raw_data());
    const bool a_one = a.numel() == 1, b_one = b.numel() == 1;
    const auto flat_input = [&](const Tensor& t, const W* p, bool one) {
      return one || (flat_like(t, out) && aligned(p, 16));
    };
    if (out.is_contiguous() && aligned(o, 16) && flat_like(cond, out) && aligned(cp, V) &&
        flat_input(a, ap, a_one) && flat_input(b, bp, b_one)) {
      where_flat<W><<<blocks_for((n + V - 1) / V), kThreads, 0, stream()>>>(o, cp, ap, bp, a_one, b_one, n);
      LUCID_CUDA_CHECK_LAUNCH("where_flat");
      return;
    }
    const Tensor* ops[4] = {&out, &cond, &a, &b};
    const StridedIndexer<4> ix = collapse(make_indexer("where", out.sizes(), ops));
    where_strided<W><<<blocks_for(n), kThreads, 0, stream()>>>(o, cp, ap, bp, n, ix);
    LUCID_CUDA_CHECK_LAUNCH("where_strided");
  };
  switch (out.element_size()) {
    case 1: launch(uint8_t{}); return;
    case 2: launch(uint16_t{}); return;
    case 4: launch(uint32_t{}); return;
    case 8: launch(uint64_t{}); return;
    default: throw Error("where: unexpected element size " + std::to_string(out.element_size()));
  }
}

}  // namespace lucid::cuda
