// View ops: new sizes/strides over the same storage, no data copied.
// Each one is recorded so gradients flow; its backward undoes the view.
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/reduce.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/cpu/copy.h>
#include <lucid/kernels/cuda/copy.h>
#include <lucid/kernels/cuda/runtime.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/factory.h>

#include <numeric>
#include <optional>

namespace lucid {

namespace {

Tensor make_view(const Tensor& base, Shape sizes, Strides strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

// Records `out` as a view of `in` whose gradient is backward(g).
void record_view(const char* name, const Tensor& in, Tensor& out,
                 std::function<Tensor(const Tensor&, const Shape&)> backward) {
  if (!autograd::needs_grad({&in})) return;
  autograd::record(name, {in}, {&out}, {},
                   [backward](const autograd::Context& ctx, const std::vector<Tensor>& g) {
                     return std::vector<Tensor>{backward(g[0], ctx.input_sizes(0))};
                   });
}

// Replaces one -1 in `shape` by the size that keeps numel.
Shape infer_size(Shape shape, int64_t numel, const char* op) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      LUCID_CHECK(infer < 0, op, ": only one dimension can be inferred in shape ", shape);
      infer = static_cast<int64_t>(i);
    } else {
      LUCID_CHECK(shape[i] >= 0, op, ": invalid shape dimension ", shape[i], " in ", shape);
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    LUCID_CHECK(known != 0 && numel % known == 0, op, ": shape ", shape,
                " is invalid for input of size ", numel);
    shape[infer] = numel / known;
  }
  LUCID_CHECK(numel_of(shape) == numel, op, ": shape ", shape, " is invalid for input of size ",
              numel);
  return shape;
}

// Strides that view (sizes, strides) as `shape` without copying, if any exist
// (PyTorch's computeStride: dims are grouped into chunks that are contiguous
// with each other; each chunk may be re-split freely).
std::optional<Strides> view_strides(const Shape& sizes, const Strides& strides, const Shape& shape) {
  if (sizes.empty()) return Strides(shape.size(), 1);
  if (numel_of(sizes) == 0) return contiguous_strides(shape);
  Strides out(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_numel = 1;
  int64_t chunk_base_stride = strides.back();
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    chunk_numel *= sizes[d];
    if (d == 0 || (sizes[d - 1] != 1 && strides[d - 1] != chunk_numel * chunk_base_stride)) {
      int64_t view_numel = 1;
      while (view_d >= 0 && (view_numel < chunk_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != chunk_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = strides[d - 1];
        chunk_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

}  // namespace

Tensor Tensor::view(Shape shape) const {
  shape = infer_size(std::move(shape), numel(), "view");
  auto st = view_strides(sizes(), strides(), shape);
  LUCID_CHECK(st.has_value(), "view: size ", shape, " is not compatible with input of size ",
              sizes(), " and strides ", strides(),
              " (at least one dimension spans two contiguous subspaces); use reshape() instead");
  Tensor out = make_view(*this, shape, *st, storage_offset());
  // d/dx view(x) = g viewed back
  record_view("view", *this, out, [](const Tensor& g, const Shape& in) { return g.reshape(in); });
  return out;
}

Tensor Tensor::reshape(Shape shape) const {
  shape = infer_size(std::move(shape), numel(), "reshape");
  if (view_strides(sizes(), strides(), shape)) return view(shape);
  return contiguous().view(shape);
}

Tensor Tensor::permute(Shape dims) const {
  LUCID_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: number of dims ", dims.size(),
              " don't match tensor with ", dim(), " dims (shape ", sizes(), ")");
  Shape sz(dim()), inverse(dim());
  Strides st(dim());
  std::vector<bool> seen(dim(), false);
  for (int64_t i = 0; i < dim(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    LUCID_CHECK(!seen[d], "permute: repeated dim ", dims[i], " in ", dims);
    seen[d] = true;
    sz[i] = sizes()[d];
    st[i] = strides()[d];
    inverse[d] = i;
  }
  Tensor out = make_view(*this, sz, st, storage_offset());
  // d/dx permute(x, p) = permute(g, p^-1)
  record_view("permute", *this, out,
              [inverse](const Tensor& g, const Shape&) { return g.permute(inverse); });
  return out;
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  if (dim() == 0) return view({});
  Shape p(dim());
  std::iota(p.begin(), p.end(), 0);
  std::swap(p[wrap_dim(d0, dim(), "transpose")], p[wrap_dim(d1, dim(), "transpose")]);
  return permute(p);
}

Tensor Tensor::t() const {
  LUCID_CHECK(dim() <= 2, "t: expects a tensor with <= 2 dimensions, but got shape ", sizes());
  return dim() < 2 ? view(sizes()) : transpose(0, 1);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  LUCID_CHECK(dim() > 0, "slice: cannot slice a 0-d tensor");
  d = wrap_dim(d, dim(), "slice");
  LUCID_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = sizes()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape sz = sizes();
  Strides st = strides();
  sz[d] = (end - start + step - 1) / step;
  st[d] *= step;
  Tensor out = make_view(*this, sz, st, storage_offset() + start * strides()[d]);
  // d/dx x[start:end:step] = zeros with g scattered into that slice
  record_view("slice", *this, out, [d, start, end, step](const Tensor& g, const Shape& in) {
    Tensor gx = zeros(in, g.options());
    gx.slice(d, start, end, step).copy_(g);
    return gx;
  });
  return out;
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  LUCID_CHECK(dim() > 0, "narrow: cannot narrow a 0-d tensor");
  int64_t dd = wrap_dim(d, dim(), "narrow");
  if (start < 0) start += sizes()[dd];
  LUCID_CHECK(start >= 0 && length >= 0 && start + length <= sizes()[dd], "narrow: start ", start,
              " + length ", length, " exceeds dimension size ", sizes()[dd], " (shape ", sizes(), ")");
  return slice(dd, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  LUCID_CHECK(dim() > 0, "select: cannot select on a 0-d tensor");
  d = wrap_dim(d, dim(), "select");
  const int64_t n = sizes()[d];
  LUCID_CHECK(index >= -n && index < n, "select: index ", index, " is out of bounds for dim ", d,
              " with size ", n);
  if (index < 0) index += n;
  Shape sz = sizes();
  Strides st = strides();
  sz.erase(sz.begin() + d);
  st.erase(st.begin() + d);
  Tensor out = make_view(*this, sz, st, storage_offset() + index * strides()[d]);
  record_view("select", *this, out, [d, index](const Tensor& g, const Shape& in) {
    Tensor gx = zeros(in, g.options());
    gx.select(d, index).copy_(g);
    return gx;
  });
  return out;
}

Tensor Tensor::expand(Shape target) const {
  LUCID_CHECK(static_cast<int64_t>(target.size()) >= dim(), "expand: the number of sizes provided (",
              target.size(), ") must be greater or equal to the number of dimensions (", dim(), ")");
  const size_t off = target.size() - dim();
  Strides st(target.size(), 0);
  for (size_t i = 0; i < target.size(); ++i) {
    if (i < off) {
      LUCID_CHECK(target[i] >= 0, "expand: -1 not allowed for new leading dim ", i, " in ", target);
      continue;
    }
    int64_t have = sizes()[i - off];
    if (target[i] == -1) target[i] = have;
    LUCID_CHECK(target[i] >= 0, "expand: invalid size ", target[i], " at dim ", i, " in ", target);
    LUCID_CHECK(have == target[i] || have == 1, "expand: the expanded size of the tensor (",
                target[i], ") must match the existing size (", have, ") at dim ", i,
                " (shape ", sizes(), " to ", target, ")");
    st[i] = have == target[i] ? strides()[i - off] : 0;
  }
  Tensor out = make_view(*this, target, st, storage_offset());
  // d/dx expand(x) = sum of g over the broadcast dims
  record_view("expand", *this, out, [](const Tensor& g, const Shape& in) { return sum_to(g, in); });
  return out;
}

Tensor Tensor::squeeze() const {
  Shape s;
  for (int64_t d : sizes())
    if (d != 1) s.push_back(d);
  return view(s);
}

Tensor Tensor::squeeze(int64_t d) const {
  if (dim() == 0) return view({});
  d = wrap_dim(d, dim(), "squeeze");
  if (sizes()[d] != 1) return view(sizes());
  Shape s = sizes();
  s.erase(s.begin() + d);
  return view(s);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape s = sizes();
  s.insert(s.begin() + d, 1);
  Strides st = strides();
  st.insert(st.begin() + d, d < dim() ? sizes()[d] * strides()[d] : 1);
  Tensor out = make_view(*this, s, st, storage_offset());
  record_view("unsqueeze", *this, out, [](const Tensor& g, const Shape& in) { return g.reshape(in); });
  return out;
}

Tensor Tensor::flatten(int64_t start, int64_t end) const {
  if (dim() == 0) return reshape({1});
  start = wrap_dim(start, dim(), "flatten");
  end = wrap_dim(end, dim(), "flatten");
  LUCID_CHECK(start <= end, "flatten: start_dim ", start, " cannot come after end_dim ", end);
  Shape s(sizes().begin(), sizes().begin() + start);
  int64_t m = 1;
  for (int64_t d = start; d <= end; ++d) m *= sizes()[d];
  s.push_back(m);
  s.insert(s.end(), sizes().begin() + end + 1, sizes().end());
  return reshape(s);
}

// ---- copies ----------------------------------------------------------------------
Tensor Tensor::clone() const {
  Tensor out = empty(sizes(), options());
  dispatch("clone", device(), [&] { cpu::copy(out, *this); }, [&] { cuda::copy(out, *this); });
  // d/dx clone(x) = g
  record_view("clone", *this, out, [](const Tensor& g, const Shape&) { return g; });
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::to(ScalarType t) const {
  if (t == dtype()) return *this;
  Tensor out = empty(sizes(), options().dtype(t));
  dispatch("to", device(), [&] { cpu::copy(out, *this); }, [&] { cuda::copy(out, *this); });
  if (lucid::is_floating_point(t)) {
    // d/dx x.to(t) = g.to(x's dtype)
    const ScalarType from = dtype();
    record_view("to", *this, out, [from](const Tensor& g, const Shape&) { return g.to(from); });
  }
  return out;
}

Tensor Tensor::to(Device d, bool non_blocking) const {
  if (d == device()) return *this;
  const std::string op = "to: copying from " + device().str() + " to " + d.str();
  cuda::check_device(op.c_str(), d);
  Tensor out = empty(sizes(), TensorOptions(dtype()).device(d));
  {
    NoGradGuard ng;
    out.copy_(*this, non_blocking);
  }
  // d/dx x.to(device) = g.to(x's device)
  const Device from = device();
  record_view("to", *this, out, [from](const Tensor& g, const Shape&) { return g.to(from); });
  return out;
}

Tensor Tensor::cuda() const { return to(Device(kCUDA, cuda::current_device())); }

Tensor Tensor::pin_memory() const {
  LUCID_CHECK(is_cpu(), "pin_memory: only CPU tensors can be pinned, this one is on ", device().str());
  if (is_pinned()) return *this;
  Tensor out = empty(sizes(), options().pinned_memory(true));
  {
    NoGradGuard ng;
    out.copy_(*this);
  }
  record_view("pin_memory", *this, out, [](const Tensor& g, const Shape&) { return g; });
  return out;
}

bool Tensor::is_pinned() const { return storage()->is_pinned(); }

// ---- autograd handles -----------------------------------------------------------
Tensor Tensor::detach() const { return make_view(*this, sizes(), strides(), storage_offset()); }

Tensor& Tensor::requires_grad_(bool r) {
  LUCID_CHECK(is_leaf() || r, "requires_grad_: you can only change requires_grad flags of leaf "
              "tensors; use detach() to get a tensor without history");
  LUCID_CHECK(!r || lucid::is_floating_point(dtype()), "requires_grad_: only floating point "
              "tensors can require gradients, got ", dtype_name(dtype()));
  impl().requires_grad = r;
  return *this;
}

Tensor Tensor::grad() const {
  std::lock_guard<std::mutex> lock(impl().grad_mutex);  // another thread's backward may be writing it
  return impl().grad ? Tensor(impl().grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined())
    LUCID_CHECK(g.sizes() == sizes(), "set_grad: gradient of shape ", g.sizes(),
                " does not match tensor of shape ", sizes());
  std::lock_guard<std::mutex> lock(impl().grad_mutex);
  impl().grad = g.defined() ? g.impl_ptr() : nullptr;
}

void Tensor::retain_grad() const {
  LUCID_CHECK(requires_grad(), "retain_grad: can't retain_grad on a tensor that doesn't require grad");
  if (!is_leaf()) impl().retains_grad = true;
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  autograd::run_backward(*this, gradient, retain_graph);
}

}  // namespace lucid
