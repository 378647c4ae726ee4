#include <lucid/kernels/factory.h>

#include <cmath>
#include <cstring>

#include <lucid/kernels/cpu/copy.h>
#include <lucid/kernels/cuda/copy.h>
#include <lucid/kernels/cuda/runtime.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/philox.h>

namespace lucid {

namespace {

Tensor make(const Shape& size, const TensorOptions& opt) {
  for (int64_t d : size)
    LUCID_CHECK(d >= 0, "empty: negative dimension ", d, " in size ", size);
  cuda::check_device("empty", opt.device_);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(numel_of(size) * lucid::element_size(opt.dtype_), opt.device_,
                                            opt.pinned_memory_);
  impl->sizes = size;
  impl->strides = contiguous_strides(size);
  impl->dtype = opt.dtype_;
  impl->requires_grad = opt.requires_grad_;
  if (opt.requires_grad_)
    LUCID_CHECK(is_floating_point(opt.dtype_), "requires_grad: only floating point tensors can "
                "require gradients, got ", dtype_name(opt.dtype_));
  return Tensor(std::move(impl));
}

// Builds on the CPU in float64, then converts to the requested dtype/device.
Tensor from_doubles(const std::vector<double>& v, const Shape& size, const TensorOptions& opt) {
  Tensor tmp = from_blob(const_cast<double*>(v.data()), size, kFloat64);
  Tensor out = make(size, opt.requires_grad(false));
  out.copy_(tmp);  // to any device
  out.requires_grad_(opt.requires_grad_);
  return out;
}

}  // namespace

Tensor empty(const Shape& size, TensorOptions opt) { return make(size, opt); }

Tensor full(const Shape& size, double value, TensorOptions opt) {
  Tensor t = make(size, opt);
  dispatch("full", t.device(), [&] { cpu::fill(t, value); }, [&] { cuda::fill(t, value); });
  return t;
}
Tensor zeros(const Shape& size, TensorOptions opt) { return full(size, 0.0, opt); }
Tensor ones(const Shape& size, TensorOptions opt) { return full(size, 1.0, opt); }

Tensor arange(double end, TensorOptions opt) { return arange(0, end, 1, opt); }
Tensor arange(double start, double end, double step, TensorOptions opt) {
  LUCID_CHECK(step != 0, "arange: step must be nonzero");
  LUCID_CHECK((end - start) / step >= 0, "arange: upper bound ", end, " and lower bound ", start,
              " inconsistent with step sign ", step);
  int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + i * step;
  return from_doubles(v, {n}, opt);
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions opt) {
  LUCID_CHECK(steps >= 0, "linspace: number of steps must be non-negative, got ", steps);
  std::vector<double> v(steps);
  for (int64_t i = 0; i < steps; ++i)
    v[i] = steps == 1 ? start : start + (end - start) * static_cast<double>(i) / (steps - 1);
  return from_doubles(v, {steps}, opt);
}

Tensor eye(int64_t n, TensorOptions opt) {
  std::vector<double> v(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) v[i * n + i] = 1.0;
  return from_doubles(v, {n, n}, opt);
}

// ---- random ---------------------------------------------------------------------
Tensor rand(const Shape& size, TensorOptions opt) {
  return empty(size, opt.requires_grad(false)).uniform_(0.0, 1.0).requires_grad_(opt.requires_grad_);
}
Tensor randn(const Shape& size, TensorOptions opt) {
  return empty(size, opt.requires_grad(false)).normal_(0.0, 1.0).requires_grad_(opt.requires_grad_);
}
Tensor randint(int64_t low, int64_t high, const Shape& size, TensorOptions opt) {
  LUCID_CHECK(low < high, "randint: expected low < high, got low=", low, " high=", high);
  Tensor tmp = empty(size, kInt64);
  default_generator().fill_randint(tmp.data_ptr<int64_t>(), tmp.numel(), low, high);
  return opt.dtype_ == kInt64 && opt.device_.is_cpu() ? tmp : tmp.to(opt.dtype_).to(opt.device_);
}
Tensor randperm(int64_t n, TensorOptions opt) {
  LUCID_CHECK(n >= 0, "randperm: n must be non-negative, got ", n);
  // Fisher-Yates driven by one uniform draw u_i in [0, 1) per position: swap i with
  // j = min(i, floor(u_i (i + 1))).
  std::vector<int64_t> perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  Tensor u = empty({n}, kFloat64);
  default_generator().fill_uniform(u.data_ptr<double>(), n, 0.0, 1.0);
  const double* up = u.data_ptr<double>();
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = std::min<int64_t>(i, static_cast<int64_t>(up[i] * (i + 1)));
    std::swap(perm[i], perm[j]);
  }
  return tensor(perm, opt);
}

// ---- wrapping and literals -----------------------------------------------------------
Tensor from_blob(void* data, const Shape& size, const Strides& strides, TensorOptions opt) {
  LUCID_CHECK(size.size() == strides.size(), "from_blob: size ", size, " and strides ", strides,
              " have different lengths");
  int64_t extent = 1;  // elements reachable from data
  for (size_t d = 0; d < size.size(); ++d) {
    LUCID_CHECK(size[d] >= 0 && strides[d] >= 0, "from_blob: negative size or stride in ", size,
                " / ", strides);
    if (size[d] == 0) extent = 0;
    if (extent) extent += (size[d] - 1) * strides[d];
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(data, extent * lucid::element_size(opt.dtype_),
                                            opt.device_, nullptr);
  impl->sizes = size;
  impl->strides = strides;
  impl->dtype = opt.dtype_;
  Tensor t(std::move(impl));
  if (opt.requires_grad_) t.requires_grad_(true);
  return t;
}
Tensor from_blob(void* data, const Shape& size, TensorOptions opt) {
  return from_blob(data, size, contiguous_strides(size), opt);
}
Tensor from_blob(void* data, const Shape& size, std::function<void(void*)> deleter,
                 TensorOptions opt) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(data, numel_of(size) * lucid::element_size(opt.dtype_),
                                            opt.device_, std::move(deleter));
  impl->sizes = size;
  impl->strides = contiguous_strides(size);
  impl->dtype = opt.dtype_;
  Tensor t(std::move(impl));
  if (opt.requires_grad_) t.requires_grad_(true);
  return t;
}

Tensor tensor(std::initializer_list<double> values, TensorOptions opt) {
  return from_doubles(std::vector<double>(values), {static_cast<int64_t>(values.size())}, opt);
}
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows, TensorOptions opt) {
  std::vector<double> v;
  const int64_t cols = rows.size() ? static_cast<int64_t>(rows.begin()->size()) : 0;
  for (const auto& r : rows) {
    LUCID_CHECK(static_cast<int64_t>(r.size()) == cols, "tensor: rows have different lengths (",
                cols, " and ", r.size(), ")");
    v.insert(v.end(), r.begin(), r.end());
  }
  return from_doubles(v, {static_cast<int64_t>(rows.size()), cols}, opt);
}
Tensor tensor(const std::vector<double>& values, TensorOptions opt) {
  return from_doubles(values, {static_cast<int64_t>(values.size())}, opt);
}
Tensor tensor(const std::vector<float>& values, TensorOptions opt) {
  return from_doubles(std::vector<double>(values.begin(), values.end()),
                      {static_cast<int64_t>(values.size())}, opt);
}
Tensor tensor(const std::vector<int64_t>& values, TensorOptions opt) {
  // through int64 directly: doubles cannot hold every int64
  Tensor tmp = from_blob(const_cast<int64_t*>(values.data()), {static_cast<int64_t>(values.size())}, kInt64);
  Tensor out = make(tmp.sizes(), opt.requires_grad(false));
  out.copy_(tmp);  // to any device
  return out;
}
Tensor scalar_tensor(double value, TensorOptions opt) { return full({}, value, opt); }

Tensor empty_like(const Tensor& t) { return empty(t.sizes(), t.options()); }
Tensor empty_like(const Tensor& t, TensorOptions opt) { return empty(t.sizes(), opt); }
Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), t.options()); }
Tensor zeros_like(const Tensor& t, TensorOptions opt) { return zeros(t.sizes(), opt); }
Tensor ones_like(const Tensor& t) { return ones(t.sizes(), t.options()); }
Tensor full_like(const Tensor& t, double value) { return full(t.sizes(), value, t.options()); }
Tensor rand_like(const Tensor& t) { return rand(t.sizes(), t.options()); }
Tensor randn_like(const Tensor& t) { return randn(t.sizes(), t.options()); }

}  // namespace lucid
