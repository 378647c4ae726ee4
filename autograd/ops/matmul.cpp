// Matrix products: validate, reach the GEMM (kernels/cpu/gemm.cpp on the CPU,
// cuBLAS through kernels/cuda/gemm.cpp on a GPU), record the backward.
//
// Every product here ends in batched_gemm(), which multiplies [batch..., M, K] by
// [batch..., K, N]. It passes strided operands to the GEMM as they are whenever
// their last two dims are a row-major matrix or the transpose of one (a [M, K]
// view with strides (1, M), say), and broadcast batch dims as stride-0 offsets:
// only operands with other layouts are copied (.contiguous()). The CPU and the
// CUDA GEMM read operands the same way (cuBLAS gets transposes as op flags).
#include <lucid/autograd/ops/matmul.h>

#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/reduce.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/cpu/gemm.h>
#include <lucid/kernels/cuda/gemm.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/factory.h>

#include <algorithm>
#include <optional>

namespace lucid {

using autograd::Context;
using cpu::Transpose;
using Grads = std::vector<Tensor>;

namespace {

// How the GEMM reads a [rows, cols] matrix with strides (rs, cs): as stored
// (element (i, j) at i*ld + j) or as the transpose of a stored matrix (at j*ld + i).
struct GemmOperand {
  Transpose trans;
  int64_t ld;
};

std::optional<GemmOperand> gemm_operand(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  // A size-1 dim may carry any stride: it is never stepped over.
  if ((cs == 1 || cols == 1) && (rows == 1 || rs >= std::max<int64_t>(1, cols)))
    return GemmOperand{Transpose::No, rows == 1 ? std::max<int64_t>(1, cols) : rs};
  if ((rs == 1 || rows == 1) && (cols == 1 || cs >= std::max<int64_t>(1, rows)))
    return GemmOperand{Transpose::Yes, cols == 1 ? std::max<int64_t>(1, rows) : cs};
  return std::nullopt;
}

// x itself when the GEMM can read its last two dims, else a packed copy.
Tensor gemm_readable(const Tensor& x) {
  const int64_t d = x.dim();
  if (gemm_operand(x.size(d - 2), x.size(d - 1), x.stride(d - 2), x.stride(d - 1))) return x;
  return x.contiguous();
}

template <class T>
void batched_gemm_kernel(const GemmOperand& oa, const Tensor& a, const GemmOperand& ob, const Tensor& b,
                         Tensor& out, const Shape& batch) {
  const int64_t nd = static_cast<int64_t>(batch.size());
  const int64_t M = a.size(nd), K = a.size(nd + 1), N = b.size(nd + 1);
  const T* pa = a.data_ptr<T>();
  const T* pb = b.data_ptr<T>();
  T* pc = out.data_ptr<T>();
  const int64_t count = numel_of(batch);
  for (int64_t i = 0; i < count; ++i) {
    // Offsets of batch element i in a and b (expanded dims have stride 0).
    int64_t off_a = 0, off_b = 0;
    for (int64_t d = nd - 1, rest = i; d >= 0; --d) {
      const int64_t idx = rest % batch[d];
      rest /= batch[d];
      off_a += idx * a.stride(d);
      off_b += idx * b.stride(d);
    }
    cpu::gemm(oa.trans, ob.trans, M, N, K, T(1), pa + off_a, oa.ld, pb + off_b, ob.ld, T(0),
              pc + i * M * N, std::max<int64_t>(1, N));
  }
}

// out [batch..., M, N] = a [a_batch..., M, K] @ b [b_batch..., K, N] with the batch
// dims broadcast. Both at least 2-D, same float dtype, shapes already checked.
// Not recorded: callers record one entry for the whole op.
Tensor batched_gemm(const char* name, const Tensor& a_in, const Tensor& b_in) {
  NoGradGuard ng;
  const Shape a_batch(a_in.sizes().begin(), a_in.sizes().end() - 2);
  const Shape b_batch(b_in.sizes().begin(), b_in.sizes().end() - 2);
  const Shape batch = broadcast_shapes(a_batch, b_batch, name);
  const int64_t M = a_in.size(-2), K = a_in.size(-1), N = b_in.size(-1);
  Shape a_shape = batch, b_shape = batch, out_shape = batch;
  a_shape.insert(a_shape.end(), {M, K});
  b_shape.insert(b_shape.end(), {K, N});
  out_shape.insert(out_shape.end(), {M, N});
  Tensor out = empty(out_shape, a_in.options());
  if (out.numel() == 0) return out;
  if (K == 0) return out.zero_();  // an empty sum
  const Tensor a = gemm_readable(a_in).expand(a_shape);
  const Tensor b = gemm_readable(b_in).expand(b_shape);
  const int64_t nd = static_cast<int64_t>(batch.size());
  const GemmOperand oa = *gemm_operand(M, K, a.stride(nd), a.stride(nd + 1));
  const GemmOperand ob = *gemm_operand(K, N, b.stride(nd), b.stride(nd + 1));
  dispatch(
      name, a.device(),
      [&] {
        if (a.dtype() == kFloat32)
          batched_gemm_kernel<float>(oa, a, ob, b, out, batch);
        else
          batched_gemm_kernel<double>(oa, a, ob, b, out, batch);
      },
      [&] { cuda::batched_gemm(oa.trans, oa.ld, a, ob.trans, ob.ld, b, out); });
  return out;
}

Tensor transpose_last(const Tensor& x) { return x.transpose(-1, -2); }

void check_operands(const char* name, const Tensor& a, const Tensor& b) {
  LUCID_CHECK(a.defined() && b.defined(), name, ": undefined tensor argument");
  LUCID_CHECK(a.device() == b.device(), name, ": expected both tensors on the same device, got ",
              a.device().str(), " and ", b.device().str());
  LUCID_CHECK(a.dtype() == b.dtype(), name, ": expected both operands to have the same dtype, got ",
              a.dtype(), " and ", b.dtype());
  check_float_math(name, a.dtype());
}

// The matmul family: promote 1-D operands to matrices, multiply, drop the
// promoted dims again; one tape entry for the whole product.
Tensor product(const char* name, const Tensor& a, const Tensor& b) {
  LUCID_CHECK(a.dim() >= 1 && b.dim() >= 1, name, ": both arguments need at least 1 dim, got shapes ",
              a.sizes(), " and ", b.sizes());
  const int64_t k_a = a.size(-1), k_b = b.size(b.dim() == 1 ? 0 : -2);
  LUCID_CHECK(k_a == k_b, name, ": shapes ", a.sizes(), " and ", b.sizes(),
              " cannot be multiplied (", k_a, " != ", k_b, ")");
  const Shape a_batch(a.sizes().begin(), a.sizes().end() - std::min<int64_t>(a.dim(), 2));
  const Shape b_batch(b.sizes().begin(), b.sizes().end() - std::min<int64_t>(b.dim(), 2));
  for (size_t i = 1; i <= std::min(a_batch.size(), b_batch.size()); ++i) {
    const int64_t x = a_batch[a_batch.size() - i], y = b_batch[b_batch.size() - i];
    LUCID_CHECK(x == y || x == 1 || y == 1, name, ": batch dims of shapes ", a.sizes(), " and ",
                b.sizes(), " cannot be broadcast (", x, " vs ", y, ")");
  }

  // a [M] is read as [1, M] and b [K] as [K, 1]; the result drops those dims.
  auto as_matrices = [](const Tensor& a, const Tensor& b) {
    NoGradGuard ng;
    return std::make_pair(a.dim() == 1 ? a.unsqueeze(0) : a, b.dim() == 1 ? b.unsqueeze(1) : b);
  };
  auto [a2, b2] = as_matrices(a, b);
  Tensor out = batched_gemm(name, a2, b2);
  Shape out_shape(out.sizes().begin(), out.sizes().end() - 2);
  if (a.dim() > 1) out_shape.push_back(out.size(-2));
  if (b.dim() > 1) out_shape.push_back(out.size(-1));
  {
    NoGradGuard ng;
    out = out.view(out_shape);
  }

  if (autograd::needs_grad({&a, &b}))
    // d(A B) = (g B^T, A^T g), each summed over the batch dims it was broadcast along
    autograd::record(name, {a, b}, {&out}, {a, b}, [name, as_matrices](const Context& c, const Grads& g) {
      auto [a2, b2] = as_matrices(c.saved(0), c.saved(1));
      Shape g_shape(g[0].sizes().begin(), g[0].sizes().end() - (c.saved(0).dim() > 1) - (c.saved(1).dim() > 1));
      g_shape.insert(g_shape.end(), {a2.size(-2), b2.size(-1)});
      const Tensor g2 = g[0].reshape(g_shape);
      Tensor ga, gb;
      if (c.needs_input_grad(0))
        ga = sum_to(batched_gemm(name, g2, transpose_last(b2)), a2.sizes()).reshape(c.input_sizes(0));
      if (c.needs_input_grad(1))
        gb = sum_to(batched_gemm(name, transpose_last(a2), g2), b2.sizes()).reshape(c.input_sizes(1));
      return Grads{ga, gb};
    });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_operands("matmul", a, b);
  return product("matmul", a, b);
}

Tensor mm(const Tensor& a, const Tensor& b) {
  check_operands("mm", a, b);
  LUCID_CHECK(a.dim() == 2 && b.dim() == 2, "mm: expected 2-D tensors, got shapes ", a.sizes(),
              " and ", b.sizes());
  return product("mm", a, b);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_operands("bmm", a, b);
  LUCID_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: expected 3-D tensors, got shapes ", a.sizes(),
              " and ", b.sizes());
  LUCID_CHECK(a.size(0) == b.size(0), "bmm: shapes ", a.sizes(), " and ", b.sizes(),
              " have different batch sizes (", a.size(0), " != ", b.size(0), ")");
  return product("bmm", a, b);
}

Tensor Tensor::matmul(const Tensor& o) const { return lucid::matmul(*this, o); }

namespace nn::functional {

// One fused op: out [rows, out] = x [rows, in] W^T + b, with x's leading dims flattened into rows.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  LUCID_CHECK(input.defined() && weight.defined(), "linear: undefined input or weight");
  check_operands("linear", input, weight);
  LUCID_CHECK(input.dim() >= 1 && weight.dim() == 2, "linear: expected input [*, in_features] and weight "
              "[out_features, in_features], got ", input.sizes(), " and ", weight.sizes());
  LUCID_CHECK(input.size(-1) == weight.size(1), "linear: input ", input.sizes(), " and weight ",
              weight.sizes(), " do not match (in_features ", input.size(-1), " != ", weight.size(1), ")");
  if (bias.defined()) {
    check_operands("linear", input, bias);
    LUCID_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear: bias ", bias.sizes(),
                " does not match weight ", weight.sizes(), " (expected [", weight.size(0), "])");
  }
  const int64_t in_f = weight.size(1), out_f = weight.size(0);
  Shape out_shape(input.sizes().begin(), input.sizes().end() - 1);
  const int64_t rows = numel_of(out_shape);
  out_shape.push_back(out_f);
  Tensor out;
  {
    NoGradGuard ng;
    const Tensor x2 = input.reshape({rows, in_f});
    out = batched_gemm("linear", x2, transpose_last(weight));
    if (bias.defined()) out.add_(bias);
    out = out.view(out_shape);
  }
  if (autograd::needs_grad({&input, &weight, &bias}))
    // d(x W^T + b) = (g W, g^T x, sum of g over rows), with x, g as [rows, *] matrices
    autograd::record("linear", {input, weight, bias}, {&out}, {input, weight},
                     [rows, in_f, out_f](const Context& c, const Grads& g) {
                       const Tensor g2 = g[0].reshape({rows, out_f});
                       Tensor gx, gw, gb;
                       if (c.needs_input_grad(0))
                         gx = batched_gemm("linear", g2, c.saved(1)).reshape(c.input_sizes(0));
                       if (c.needs_input_grad(1))
                         gw = batched_gemm("linear", transpose_last(g2), c.saved(0).reshape({rows, in_f}));
                       if (c.needs_input_grad(2)) gb = g2.sum(0);
                       return Grads{gx, gw, gb};
                     });
  return out;
}

}  // namespace nn::functional

}  // namespace lucid
