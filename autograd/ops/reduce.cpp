// Reductions: move the reduced dims last, reduce contiguous rows, record the backward.
#include <lucid/autograd/ops/reduce.h>

#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/cpu/reduce.h>
#include <lucid/kernels/cuda/reduce.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/factory.h>

#include <algorithm>
#include <cmath>

namespace lucid {

using autograd::Context;
using cpu::ReduceOp;
using Grads = std::vector<Tensor>;

namespace {

// The reduction plan: which dims go, and the shapes before and after.
struct Plan {
  std::vector<bool> reduced;  // per input dim
  Shape out_sizes;            // without keepdim
  Shape keep_sizes;           // with keepdim (1 in each reduced dim)
  int64_t rows = 1, K = 1;
};

Plan make_plan(const Tensor& x, Shape dims, const char* op) {
  Plan p;
  p.reduced.assign(x.dim(), dims.empty());
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, x.dim(), op);
    LUCID_CHECK(!p.reduced[w] || dims.empty(), op, ": dim ", d, " appears multiple times in ", dims);
    p.reduced[w] = true;
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (p.reduced[d]) {
      p.K *= x.size(d);
      p.keep_sizes.push_back(1);
    } else {
      p.rows *= x.size(d);
      p.out_sizes.push_back(x.size(d));
      p.keep_sizes.push_back(x.size(d));
    }
  }
  return p;
}

// x with kept dims first and reduced dims last, packed: a [rows, K] buffer.
Tensor as_rows(const Tensor& x, const Plan& p) {
  Shape perm;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!p.reduced[d]) perm.push_back(d);
  for (int64_t d = 0; d < x.dim(); ++d)
    if (p.reduced[d]) perm.push_back(d);
  NoGradGuard ng;
  return x.permute(perm).contiguous();
}

// Runs a row reduction on float32/float64 (other dtypes go through float64).
Tensor run_reduce(ReduceOp op, const char* name, const Tensor& x, const Plan& p, bool keepdim,
                  Tensor* indices = nullptr) {
  LUCID_CHECK(p.K > 0 || op == ReduceOp::Sum, name, ": cannot reduce over a zero-size dim (shape ",
              x.sizes(), ")");
  const ScalarType in_t = x.dtype();
  const bool native = in_t == kFloat32 || in_t == kFloat64;
  Tensor xr;
  {
    NoGradGuard ng;
    xr = as_rows(native ? x : x.to(kFloat64), p);
  }
  Tensor out = empty(keepdim ? p.keep_sizes : p.out_sizes, xr.options());
  Tensor idx;
  if (indices) idx = empty(out.sizes(), TensorOptions(kInt64).device(x.device()));
  dispatch(
      name, x.device(),
      [&] {
        if (p.K == 0) {  // empty sum
          out.fill_(0.0);
          return;
        }
        if (xr.dtype() == kFloat32)
          cpu::reduce_rows(op, xr.data_ptr<float>(), p.rows, p.K, out.data_ptr<float>(),
                           indices ? idx.data_ptr<int64_t>() : nullptr);
        else
          cpu::reduce_rows(op, xr.data_ptr<double>(), p.rows, p.K, out.data_ptr<double>(),
                           indices ? idx.data_ptr<int64_t>() : nullptr);
      },
      [&] { cuda::reduce_rows(op, xr, p.rows, p.K, out, idx); });
  if (indices) *indices = idx;
  if (native) return out;
  NoGradGuard ng;
  // integer sums are int64, as in PyTorch; max/min keep the dtype
  return out.to(op == ReduceOp::Sum && !is_floating_point(in_t) ? kInt64 : in_t);
}

// g (reduced shape) back to x's shape: re-insert the reduced dims, broadcast.
Tensor expand_back(const Tensor& g, const Shape& keep_sizes, const Shape& in_sizes) {
  return g.reshape(keep_sizes).expand(in_sizes);
}

}  // namespace

Tensor sum(const Tensor& x, Shape dims, bool keepdim) {
  Plan p = make_plan(x, dims, "sum");
  Tensor out = run_reduce(ReduceOp::Sum, "sum", x, p, keepdim);
  if (autograd::needs_grad({&x}))
    // d sum(x) = g broadcast back over the reduced dims
    autograd::record("sum", {x}, {&out}, {}, [p](const Context& c, const Grads& g) {
      return Grads{expand_back(g[0], p.keep_sizes, c.input_sizes(0))};
    });
  return out;
}
Tensor sum(const Tensor& x) { return sum(x, {}, false); }

Tensor mean(const Tensor& x, Shape dims, bool keepdim) {
  check_float_math("mean", x.dtype());
  Plan p = make_plan(x, dims, "mean");
  return sum(x, dims, keepdim) / static_cast<double>(p.K);  // 0 / 0 = nan for empty dims
}
Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor var(const Tensor& x, Shape dims, int64_t correction, bool keepdim) {
  check_float_math("var", x.dtype());
  Plan p = make_plan(x, dims, "var");
  // var = sum (x - mean)^2 / (N - correction); built from recorded ops, so its
  // gradient 2 (x - mean) g / (N - correction) comes from theirs.
  Tensor d = x - mean(x, dims, /*keepdim=*/true);
  return sum(d * d, dims, keepdim) / static_cast<double>(std::max<int64_t>(p.K - correction, 0));
}

Tensor std(const Tensor& x, Shape dims, int64_t correction, bool keepdim) {
  return sqrt(var(x, dims, correction, keepdim));
}

static std::tuple<Tensor, Tensor> max_min_dim(ReduceOp op, const char* name, const Tensor& x,
                                              int64_t dim, bool keepdim) {
  LUCID_CHECK(x.dim() > 0 || dim == 0 || dim == -1, name, ": dim ", dim, " out of range for a 0-d tensor");
  Plan p = x.dim() == 0 ? make_plan(x, {}, name) : make_plan(x, {dim}, name);
  Tensor idx;
  Tensor values = run_reduce(op, name, x, p, keepdim, &idx);
  if (autograd::needs_grad({&x})) {
    const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), name);
    // d max(x, dim) = g routed to the position of the max: g * [k == argmax]
    autograd::record(name, {x}, {&values}, {idx}, [p, d](const Context& c, const Grads& g) {
      const Shape& in = c.input_sizes(0);
      if (in.empty()) return Grads{g[0].reshape({})};
      Shape iota_shape(in.size(), 1);
      iota_shape[d] = in[d];
      Tensor iota = arange(static_cast<double>(in[d]), TensorOptions(kInt64).device(g[0].device()))
                         .reshape(iota_shape);
      Tensor onehot = eq(iota, c.saved(0).reshape(p.keep_sizes)).to(g[0].dtype());
      return Grads{g[0].reshape(p.keep_sizes) * onehot};
    });
  }
  return {values, idx};
}

std::tuple<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return max_min_dim(ReduceOp::Max, "max", x, dim, keepdim);
}
std::tuple<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return max_min_dim(ReduceOp::Min, "min", x, dim, keepdim);
}

// Full max/min: the gradient is shared evenly among tied elements (PyTorch's rule).
static Tensor max_min_all(ReduceOp op, const char* name, const Tensor& x) {
  LUCID_CHECK(x.numel() > 0, name, ": expected a non-empty tensor, got shape ", x.sizes());
  Plan p = make_plan(x, {}, name);
  Tensor out = run_reduce(op, name, x, p, false);
  if (autograd::needs_grad({&x}))
    // d max(x) = g [x == max] / count(x == max)
    autograd::record(name, {x}, {&out}, {x, out}, [](const Context& c, const Grads& g) {
      Tensor mask = eq(c.saved(0), c.saved(1)).to(g[0].dtype());
      return Grads{mask * (g[0] / sum(mask))};
    });
  return out;
}
Tensor max(const Tensor& x) { return max_min_all(ReduceOp::Max, "max", x); }
Tensor min(const Tensor& x) { return max_min_all(ReduceOp::Min, "min", x); }

Tensor amax(const Tensor& x, Shape dims, bool keepdim) {
  Plan p = make_plan(x, dims, "amax");
  Tensor out = run_reduce(ReduceOp::Max, "amax", x, p, keepdim);
  if (autograd::needs_grad({&x}))
    // d amax = g spread evenly over the tied maxima of each reduced group
    autograd::record("amax", {x}, {&out}, {x, out}, [p, dims](const Context& c, const Grads& g) {
      Tensor mask = eq(c.saved(0), c.saved(1).reshape(p.keep_sizes)).to(g[0].dtype());
      Tensor count = sum(mask, dims, /*keepdim=*/true);
      return Grads{mask * g[0].reshape(p.keep_sizes) / count};
    });
  return out;
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) { return std::get<1>(max(x.detach(), dim, keepdim)); }
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) { return std::get<1>(min(x.detach(), dim, keepdim)); }

Tensor logsumexp(const Tensor& x, Shape dims, bool keepdim) {
  check_float_math("logsumexp", x.dtype());
  Plan p = make_plan(x, dims, "logsumexp");
  Tensor out = run_reduce(ReduceOp::LogSumExp, "logsumexp", x, p, keepdim);
  if (autograd::needs_grad({&x}))
    // d logsumexp(x) = g softmax(x) = g exp(x - out)
    autograd::record("logsumexp", {x}, {&out}, {x, out}, [p](const Context& c, const Grads& g) {
      return Grads{g[0].reshape(p.keep_sizes) * exp(c.saved(0) - c.saved(1).reshape(p.keep_sizes))};
    });
  return out;
}

// ---- softmax ------------------------------------------------------------------------
static Tensor softmax_impl(cpu::SoftmaxKind kind, const char* name, const Tensor& x, int64_t dim) {
  check_float_math(name, x.dtype());
  const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), name);
  Tensor xt;
  {
    NoGradGuard ng;
    xt = (x.dim() == 0 ? x.reshape({1}) : x.transpose(d, -1)).contiguous();
  }
  Tensor yt = empty(xt.sizes(), xt.options());
  const int64_t K = xt.dim() ? xt.size(-1) : 1;
  const int64_t rows = K ? xt.numel() / K : 0;
  dispatch(
      name, x.device(),
      [&] {
        if (xt.dtype() == kFloat32)
          cpu::softmax_rows(kind, xt.data_ptr<float>(), rows, K, yt.data_ptr<float>());
        else
          cpu::softmax_rows(kind, xt.data_ptr<double>(), rows, K, yt.data_ptr<double>());
      },
      [&] { cuda::softmax_rows(kind, xt, rows, K, yt); });
  Tensor out = x.dim() == 0 ? yt.reshape({}) : yt.transpose(d, -1);
  if (autograd::needs_grad({&x})) {
    const bool is_log = kind == cpu::SoftmaxKind::LogSoftmax;
    // softmax:     dx = y (g - sum(g y))
    // log_softmax: dx = g - exp(y) sum(g)
    autograd::record(name, {x}, {&out}, {out}, [d, is_log](const Context& c, const Grads& g) {
      const Tensor& y = c.saved(0);
      if (y.dim() == 0) return Grads{zeros_like(g[0])};
      if (is_log) return Grads{g[0] - exp(y) * sum(g[0], {d}, true)};
      return Grads{y * (g[0] - sum(g[0] * y, {d}, true))};
    });
  }
  return out;
}
Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(cpu::SoftmaxKind::Softmax, "softmax", x, dim); }
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(cpu::SoftmaxKind::LogSoftmax, "log_softmax", x, dim);
}

// ---- methods --------------------------------------------------------------------------
Tensor Tensor::sum() const { return lucid::sum(*this); }
Tensor Tensor::sum(Shape dims, bool keepdim) const { return lucid::sum(*this, dims, keepdim); }
Tensor Tensor::mean() const { return lucid::mean(*this); }
Tensor Tensor::mean(Shape dims, bool keepdim) const { return lucid::mean(*this, dims, keepdim); }
Tensor Tensor::var(Shape dims, int64_t correction, bool keepdim) const {
  return lucid::var(*this, dims, correction, keepdim);
}
Tensor Tensor::std(Shape dims, int64_t correction, bool keepdim) const {
  return lucid::std(*this, dims, correction, keepdim);
}
std::tuple<Tensor, Tensor> Tensor::max(int64_t dim, bool keepdim) const { return lucid::max(*this, dim, keepdim); }
std::tuple<Tensor, Tensor> Tensor::min(int64_t dim, bool keepdim) const { return lucid::min(*this, dim, keepdim); }
Tensor Tensor::max() const { return lucid::max(*this); }
Tensor Tensor::min() const { return lucid::min(*this); }
Tensor Tensor::argmax(int64_t dim, bool keepdim) const { return lucid::argmax(*this, dim, keepdim); }
Tensor Tensor::logsumexp(Shape dims, bool keepdim) const { return lucid::logsumexp(*this, dims, keepdim); }
Tensor Tensor::softmax(int64_t dim) const { return lucid::softmax(*this, dim); }
Tensor Tensor::log_softmax(int64_t dim) const { return lucid::log_softmax(*this, dim); }

}  // namespace lucid
