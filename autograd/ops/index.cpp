// Joining, splitting and indexing ops, embedding and dropout: validate, run the
// kernel (kernels/cpu/index.cpp), record the backward.
#include <lucid/autograd/ops/index.h>

#include <lucid/autograd/ops/device_check.h>
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/cpu/index.h>
#include <lucid/kernels/cuda/index.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/factory.h>

namespace lucid {

using autograd::Context;
using Grads = std::vector<Tensor>;

namespace {

// A 1-D legacy empty tensor ([0]) is skipped by cat, as in PyTorch.
bool skipped_by_cat(const Tensor& t) { return t.dim() == 1 && t.numel() == 0; }

// Every index in [0, n), else an error naming the op, the first bad value and
// the range. On a GPU a kernel finds the first bad entry and the host reads back
// one int64 (the op waits for the indices to be ready: the price of a clear error).
void check_index_range(const char* op, const Tensor& index, int64_t n, const char* what) {
  auto fail = [&](int64_t bad) {
    throw Error(detail::str_cat(op, ": index ", bad, " is out of range for ", what, " of size ", n));
  };
  dispatch(
      op, index.device(),
      [&] {
        const int64_t* idx = index.data_ptr<int64_t>();
        for (int64_t i = 0; i < index.numel(); ++i)
          if (idx[i] < 0 || idx[i] >= n) fail(idx[i]);
      },
      [&] {
        int64_t bad = 0;
        if (cuda::find_index_out_of_range(index, n, &bad)) fail(bad);
      });
}

void check_index_tensor(const char* op, const Tensor& index) {
  LUCID_CHECK(index.defined(), op, ": undefined index tensor");
  LUCID_CHECK(index.dtype() == kInt64, op, ": index must be int64, got ", index.dtype());
}

}  // namespace

// ---- cat / stack ---------------------------------------------------------------------
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  LUCID_CHECK(!tensors.empty(), "cat: expected a non-empty list of tensors");
  const Tensor* ref = nullptr;  // the first tensor that takes part
  for (const Tensor& t : tensors) {
    LUCID_CHECK(t.defined(), "cat: undefined tensor in the list");
    if (!ref && !skipped_by_cat(t)) ref = &t;
  }
  if (!ref) ref = &tensors[0];
  LUCID_CHECK(ref->dim() > 0, "cat: zero-dimensional tensor cannot be concatenated");
  const int64_t d = wrap_dim(dim, ref->dim(), "cat");
  Shape out_shape = ref->sizes();
  out_shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (skipped_by_cat(t) && ref->dim() != 1) continue;
    LUCID_CHECK(t.dtype() == ref->dtype(), "cat: expected all tensors to have dtype ", ref->dtype(),
                ", but tensor ", i, " has dtype ", t.dtype());
    LUCID_CHECK(t.device() == ref->device(), "cat: expected all tensors on ", ref->device().str(),
                ", but tensor ", i, " is on ", t.device().str());
    bool ok = t.dim() == ref->dim();
    for (int64_t k = 0; ok && k < t.dim(); ++k) ok = k == d || t.size(k) == ref->size(k);
    LUCID_CHECK(ok, "cat: shapes ", ref->sizes(), " and ", t.sizes(), " (tensor ", i,
                ") must match except in dim ", d);
    out_shape[d] += t.size(d);
  }
  Tensor out = empty(out_shape, ref->options());
  dispatch(
      "cat", out.device(), [&] { cpu::cat(tensors, d, out); }, [&] { cuda::cat(tensors, d, out); });
  if (autograd::needs_grad(tensors)) {
    std::vector<int64_t> starts, lengths;
    int64_t at = 0;
    for (const Tensor& t : tensors) {
      const bool skip = skipped_by_cat(t) && ref->dim() != 1;
      starts.push_back(at);
      lengths.push_back(skip ? -1 : t.size(d));
      at += skip ? 0 : t.size(d);
    }
    // d cat(x_0, x_1, ...) = (g[.., s_0:s_0+n_0, ..], g[.., s_1:s_1+n_1, ..], ...)
    autograd::record("cat", tensors, {&out}, {},
                     [d, starts, lengths](const Context& c, const Grads& g) {
                       Grads gx(starts.size());
                       for (size_t i = 0; i < starts.size(); ++i) {
                         if (!c.needs_input_grad(i)) continue;
                         gx[i] = lengths[i] < 0 ? zeros(c.input_sizes(i), g[0].options())
                                                : g[0].narrow(d, starts[i], lengths[i]);
                       }
                       return gx;
                     });
  }
  return out;
}

// stack = cat of the inputs each unsqueezed at dim; the views carry the gradient.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  LUCID_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  const int64_t d = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    LUCID_CHECK(tensors[i].defined(), "stack: undefined tensor in the list");
    LUCID_CHECK(tensors[i].device() == tensors[0].device(), "stack: expected all tensors on ",
                tensors[0].device().str(), ", but tensor ", i, " is on ", tensors[i].device().str());
    LUCID_CHECK(tensors[i].sizes() == tensors[0].sizes(), "stack: expects each tensor to be equal "
                "size, but got ", tensors[0].sizes(), " at entry 0 and ", tensors[i].sizes(),
                " at entry ", i);
    parts.push_back(tensors[i].unsqueeze(d));
  }
  return cat(parts, d);
}

// ---- split / chunk (views) --------------------------------------------------------------
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  LUCID_CHECK(x.dim() > 0, "split: cannot split a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  const int64_t n = x.size(d);
  LUCID_CHECK(split_size > 0 || (split_size == 0 && n == 0), "split: split_size must be positive "
              "(or 0 for an empty dim), got ", split_size, " for dim ", d, " of shape ", x.sizes());
  if (n == 0) return {x.narrow(d, 0, 0)};
  std::vector<Tensor> parts;
  for (int64_t at = 0; at < n; at += split_size) parts.push_back(x.narrow(d, at, std::min(split_size, n - at)));
  return parts;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  LUCID_CHECK(x.dim() > 0, "split: cannot split a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    LUCID_CHECK(s >= 0, "split: split sizes must be non-negative, got ", Shape(sizes));
    total += s;
  }
  LUCID_CHECK(total == x.size(d), "split: split sizes ", Shape(sizes), " sum to ", total,
              " but dim ", d, " of shape ", x.sizes(), " has size ", x.size(d));
  std::vector<Tensor> parts;
  int64_t at = 0;
  for (int64_t s : sizes) {
    parts.push_back(x.narrow(d, at, s));
    at += s;
  }
  return parts;
}

// PyTorch's rule: pieces of ceil(n / chunks), so there may be fewer than `chunks`.
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  LUCID_CHECK(chunks > 0, "chunk: number of chunks must be positive, got ", chunks);
  LUCID_CHECK(x.dim() > 0, "chunk: cannot chunk a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "chunk");
  const int64_t n = x.size(d);
  if (n == 0) return std::vector<Tensor>(chunks, x.narrow(d, 0, 0));
  return split(x, (n + chunks - 1) / chunks, d);
}

// ---- index_select / gather ------------------------------------------------------------
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  LUCID_CHECK(x.defined(), "index_select: undefined input");
  check_index_tensor("index_select", index);
  check_same_device("index_select", "index", index, x);
  LUCID_CHECK(index.dim() <= 1, "index_select: index must be 1-D, got shape ", index.sizes());
  LUCID_CHECK(x.dim() > 0, "index_select: input must have at least 1 dim, got a 0-d tensor");
  const int64_t d = wrap_dim(dim, x.dim(), "index_select");
  Tensor idx = index.contiguous();
  check_index_range("index_select", idx, x.size(d), "dim of input");
  Shape shape = x.sizes();
  shape[d] = idx.numel();
  Tensor out = empty(shape, x.options());
  Tensor xc;
  {
    NoGradGuard ng;
    xc = x.contiguous();
  }
  dispatch(
      "index_select", x.device(), [&] { cpu::index_select(xc, d, idx, out); },
      [&] { cuda::index_select(xc, d, idx, out); });
  if (autograd::needs_grad({&x}))
    // d index_select(x, d, idx) = zeros with g[.., j, ..] added at x[.., idx[j], ..]
    autograd::record("index_select", {x}, {&out}, {idx}, [d](const Context& c, const Grads& g) {
      Tensor gx = zeros(c.input_sizes(0), g[0].options());
      Tensor gc = g[0].contiguous();
      dispatch(
          "index_select_backward", gx.device(), [&] { cpu::index_add(gx, d, c.saved(0), gc); },
          [&] { cuda::index_add(gx, d, c.saved(0), gc); });
      return Grads{gx};
    });
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  LUCID_CHECK(x.defined(), "gather: undefined input");
  check_index_tensor("gather", index);
  check_same_device("gather", "index", index, x);
  LUCID_CHECK(index.dim() == x.dim(), "gather: index ", index.sizes(), " and input ", x.sizes(),
              " must have the same number of dims");
  const int64_t d = x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), "gather");
  for (int64_t k = 0; k < x.dim(); ++k)
    LUCID_CHECK(k == d || index.size(k) <= x.size(k), "gather: index ", index.sizes(),
                " is larger than input ", x.sizes(), " in dim ", k);
  Tensor idx = index.contiguous();
  check_index_range("gather", idx, x.dim() == 0 ? 1 : x.size(d), "dim of input");
  Tensor out = empty(index.sizes(), x.options());
  Tensor xc;
  {
    NoGradGuard ng;
    xc = x.contiguous();
  }
  dispatch(
      "gather", x.device(), [&] { cpu::gather(xc, d, idx, out); },
      [&] { cuda::gather(xc, d, idx, out); });
  if (autograd::needs_grad({&x}))
    // d gather(x, d, idx) = zeros with g[p] added at x[p with coordinate d = idx[p]]
    autograd::record("gather", {x}, {&out}, {idx}, [d](const Context& c, const Grads& g) {
      Tensor gx = zeros(c.input_sizes(0), g[0].options());
      Tensor gc = g[0].contiguous();
      dispatch(
          "gather_backward", gx.device(), [&] { cpu::scatter_add(gx, d, c.saved(0), gc); },
          [&] { cuda::scatter_add(gx, d, c.saved(0), gc); });
      return Grads{gx};
    });
  return out;
}

namespace nn::functional {

// ---- embedding -----------------------------------------------------------------------
Tensor embedding(const Tensor& input, const Tensor& weight, int64_t padding_idx) {
  LUCID_CHECK(input.defined() && weight.defined(), "embedding: undefined tensor argument");
  check_index_tensor("embedding", input);
  LUCID_CHECK(weight.device() == input.device(), "embedding: weight is on ", weight.device().str(),
              " but input (the indices) is on ", input.device().str());
  LUCID_CHECK(weight.dim() == 2, "embedding: weight must be 2-D [num_embeddings, dim], got shape ",
              weight.sizes());
  LUCID_CHECK(padding_idx < weight.size(0), "embedding: padding_idx ", padding_idx,
              " must be below num_embeddings ", weight.size(0));
  Tensor idx = input.contiguous().reshape({-1});
  check_index_range("embedding", idx, weight.size(0), "num_embeddings");
  Tensor rows = empty({idx.numel(), weight.size(1)}, weight.options());
  Tensor wc;
  {
    NoGradGuard ng;
    wc = weight.contiguous();
  }
  dispatch(
      "embedding", weight.device(), [&] { cpu::index_select(wc, 0, idx, rows); },
      [&] { cuda::index_select(wc, 0, idx, rows); });
  Shape shape = input.sizes();
  shape.push_back(weight.size(1));
  Tensor out;
  {
    NoGradGuard ng;
    out = rows.view(shape);
  }
  if (autograd::needs_grad({&weight}))
    // d embedding = rows of g summed into gw[idx[j]] in the order of j; none at padding_idx
    autograd::record("embedding", {weight}, {&out}, {idx},
                     [padding_idx](const Context& c, const Grads& g) {
                       Tensor gw = zeros(c.input_sizes(0), g[0].options());
                       Tensor gc = g[0].contiguous();
                       const int64_t skip = padding_idx < 0 ? -1 : padding_idx;
                       dispatch(
                           "embedding_backward", gw.device(),
                           [&] { cpu::index_add(gw, 0, c.saved(0), gc, skip); },
                           [&] { cuda::index_add(gw, 0, c.saved(0), gc, skip); });
                       return Grads{gw};
                     });
  return out;
}

// ---- dropout ---------------------------------------------------------------------------
// The mask rule, the same bits on the CPU and on a GPU (kernels/cuda/philox.cuh):
// the draw reserves ceil(numel / 4) Philox blocks from the default generator;
// element i of the output in row-major order takes word i of that stream,
// u = (word >> 8) * 2^-24, and is kept iff double(u) >= p.
// p = 0 or training == false returns `input` itself and draws nothing;
// p = 1 returns zeros (gradient zeros) and draws nothing.
Tensor dropout(const Tensor& input, double p, bool training) {
  LUCID_CHECK(input.defined(), "dropout: undefined input");
  LUCID_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability has to be between 0 and 1, but got ", p);
  if (!training || p == 0.0) return input;
  check_float_math("dropout", input.dtype());
  if (p == 1.0) return input * 0.0;
  const double scale = 1.0 / (1.0 - p);
  Tensor xc;
  {
    NoGradGuard ng;
    xc = input.contiguous();
  }
  Tensor mask = empty(input.sizes(), input.options());
  Tensor out = empty(input.sizes(), input.options());
  const GeneratorState at =
      default_generator().reserve(philox_blocks_for_words(static_cast<uint64_t>(input.numel())));
  dispatch(
      "dropout", input.device(), [&] { cpu::dropout(xc, p, scale, at, mask, out); },
      [&] { cuda::dropout(xc, p, scale, at, mask, out); });
  if (autograd::needs_grad({&input}))
    // d dropout(x) = g mask / (1 - p)
    autograd::record("dropout", {input}, {&out}, {mask}, [scale](const Context& c, const Grads& g) {
      return Grads{g[0] * c.saved(0) * scale};
    });
  return out;
}

}  // namespace nn::functional
}  // namespace lucid
