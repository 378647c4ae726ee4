// lucid::Tensor: a strided view of a Storage, plus the autograd fields.
//
// Table of contents
//   TensorOptions       dtype / device / requires_grad for factories
//   TensorImpl          the plain data behind a Tensor handle
//   Tensor              the handle: metadata, views, conversion, autograd,
//                       and method spellings of the ops (x.sum(1, true), ...)
//   operators           a + b, a * 2.0, -a, a == b, ...
// Factories (zeros, randn, ...) are in kernels/factory.h; ops in autograd/ops/*.h.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include <lucid/kernels/device.h>
#include <lucid/kernels/dtype.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/shape.h>
#include <lucid/kernels/storage.h>

namespace lucid {

class Tensor;

// ---- TensorOptions ----------------------------------------------------------
// lucid::zeros({2, 3}, lucid::dtype(kFloat64).requires_grad(true))
struct TensorOptions {
  ScalarType dtype_ = kFloat32;
  Device device_ = Device();
  bool requires_grad_ = false;
  bool pinned_memory_ = false;  // page-locked CPU memory (needs CUDA): fast async copies to a GPU

  TensorOptions() = default;
  TensorOptions(ScalarType t) : dtype_(t) {}  // NOLINT: zeros({2}, kInt64)
  TensorOptions(Device d) : device_(d) {}     // NOLINT
  TensorOptions(DeviceType d) : device_(d) {} // NOLINT
  TensorOptions dtype(ScalarType t) const { auto o = *this; o.dtype_ = t; return o; }
  TensorOptions device(Device d) const { auto o = *this; o.device_ = d; return o; }
  TensorOptions requires_grad(bool r = true) const { auto o = *this; o.requires_grad_ = r; return o; }
  TensorOptions pinned_memory(bool p = true) const { auto o = *this; o.pinned_memory_ = p; return o; }
};
inline TensorOptions dtype(ScalarType t) { return TensorOptions().dtype(t); }
inline TensorOptions device(Device d) { return TensorOptions().device(d); }
inline TensorOptions requires_grad(bool r = true) { return TensorOptions().requires_grad(r); }

// ---- TensorImpl -------------------------------------------------------------
// Plain data. Element (i0, i1, ...) lives at
//   storage->data() + (offset + i0*strides[0] + i1*strides[1] + ...) * element_size(dtype)
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape sizes;
  Strides strides;
  int64_t offset = 0;
  ScalarType dtype = kFloat32;

  // autograd (see autograd/tape.h)
  uint64_t id;                       // unique; how the tape names this tensor
  bool requires_grad = false;
  bool is_leaf = true;               // false for outputs of recorded ops
  bool retains_grad = false;         // a non-leaf that keeps its .grad (retain_grad())
  const char* grad_fn = nullptr;     // name of the recorded op that produced it
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient (leaves, or retains_grad)
  std::mutex grad_mutex;             // guards `grad` when two threads accumulate

  TensorImpl();
};

// ---- Tensor -----------------------------------------------------------------
class Tensor {
 public:
  Tensor() = default;  // undefined: defined() == false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // metadata
  bool defined() const { return impl_ != nullptr; }
  const Shape& sizes() const { return impl().sizes; }
  const Shape& shape() const { return impl().sizes; }
  int64_t size(int64_t dim) const;
  const Strides& strides() const { return impl().strides; }
  int64_t stride(int64_t dim) const;
  int64_t storage_offset() const { return impl().offset; }
  int64_t dim() const { return static_cast<int64_t>(impl().sizes.size()); }
  int64_t numel() const { return numel_of(impl().sizes); }
  ScalarType dtype() const { return impl().dtype; }
  ScalarType scalar_type() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_cpu() const { return device().is_cpu(); }
  bool is_cuda() const { return device().is_cuda(); }
  bool is_floating_point() const { return lucid::is_floating_point(dtype()); }
  TensorOptions options() const { return TensorOptions().dtype(dtype()).device(device()); }
  bool is_contiguous() const;
  size_t element_size() const { return lucid::element_size(dtype()); }
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  TensorImpl* unsafe_impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // raw data: pointer to element 0 of this view (dtype checked)
  template <class T> T* data_ptr() const;
  void* raw_data() const;
  // single value of a one-element tensor, converted to T (CPU only)
  template <class T> T item() const;

  // views: share storage, no copy (recorded by autograd, so gradients flow)
  Tensor view(Shape shape) const;      // needs compatible strides; -1 infers one dim
  Tensor reshape(Shape shape) const;   // view when possible, else a copy
  Tensor permute(Shape dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;                    // 2-D transpose (or no-op for < 2 dims)
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor expand(Shape sizes) const;    // -1 keeps a dim; size-1 dims broadcast with stride 0
  Tensor expand_as(const Tensor& other) const { return expand(other.sizes()); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor contiguous() const;           // this tensor if contiguous, else a packed copy

  // conversion and copies
  Tensor to(ScalarType dtype) const;   // copy unless already that dtype
  // copy unless already there; non_blocking: do not wait for a copy between a
  // GPU and pinned CPU memory (synchronize before reading the result on the host)
  Tensor to(Device device, bool non_blocking = false) const;
  Tensor cpu() const { return to(Device()); }
  Tensor cuda() const;                 // to the current CUDA device
  Tensor pin_memory() const;           // a copy in page-locked CPU memory
  bool is_pinned() const;
  Tensor clone() const;                // packed copy, recorded by autograd
  // in place, with broadcasting and dtype conversion; across devices too
  Tensor& copy_(const Tensor& src, bool non_blocking = false);
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }

  // autograd
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& requires_grad_(bool r = true);
  Tensor& set_requires_grad(bool r) { return requires_grad_(r); }
  bool is_leaf() const { return impl().is_leaf; }
  const char* grad_fn_name() const { return impl().grad_fn; }  // nullptr for leaves
  Tensor grad() const;                 // undefined until a backward reaches this leaf
  void set_grad(const Tensor& g) const;    // replace (or clear with an undefined tensor)
  void retain_grad() const;
  Tensor detach() const;               // same storage, no history, requires_grad false
  // Accumulates d(this)/d(leaf) into every leaf's grad(). `gradient` is needed
  // unless this is a one-element tensor. The tape entries used are freed unless
  // retain_graph is true.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;

  // op methods (each forwards to the free function of the same name)
  Tensor add(const Tensor& o) const;
  Tensor sub(const Tensor& o) const;
  Tensor mul(const Tensor& o) const;
  Tensor div(const Tensor& o) const;
  Tensor pow(const Tensor& e) const;
  Tensor pow(double e) const;
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor rsqrt() const;
  Tensor abs() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor clamp(std::optional<double> min, std::optional<double> max) const;
  Tensor eq(const Tensor& o) const;
  Tensor ne(const Tensor& o) const;
  Tensor lt(const Tensor& o) const;
  Tensor le(const Tensor& o) const;
  Tensor gt(const Tensor& o) const;
  Tensor ge(const Tensor& o) const;
  Tensor sum() const;
  Tensor sum(Shape dims, bool keepdim = false) const;
  Tensor sum(int64_t dim, bool keepdim = false) const { return sum(Shape{dim}, keepdim); }
  Tensor mean() const;
  Tensor mean(Shape dims, bool keepdim = false) const;
  Tensor mean(int64_t dim, bool keepdim = false) const { return mean(Shape{dim}, keepdim); }
  Tensor var(Shape dims, int64_t correction = 1, bool keepdim = false) const;
  Tensor std(Shape dims, int64_t correction = 1, bool keepdim = false) const;
  std::tuple<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const;
  std::tuple<Tensor, Tensor> min(int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor logsumexp(Shape dims, bool keepdim = false) const;
  Tensor matmul(const Tensor& o) const;
  Tensor mm(const Tensor& o) const { return matmul(o); }
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  // in-place arithmetic (not recorded: raises if autograd would need it)
  Tensor& add_(const Tensor& o, double alpha = 1.0);
  Tensor& sub_(const Tensor& o, double alpha = 1.0) { return add_(o, -alpha); }
  Tensor& mul_(const Tensor& o);
  Tensor& mul_(double s);
  Tensor& div_(const Tensor& o);
  Tensor& div_(double s);
  Tensor& add_(double s);
  Tensor& clamp_(std::optional<double> min, std::optional<double> max);
  Tensor& uniform_(double from = 0.0, double to = 1.0);
  Tensor& normal_(double mean = 0.0, double std = 1.0);

  std::string str() const;  // PyTorch-like printing

 private:
  TensorImpl& impl() const;
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- operators ----------------------------------------------------------------
// A double operand becomes a 0-d tensor of the other operand's dtype (an
// integer tensor with a fractional scalar gives float32, as in PyTorch).
Tensor scalar_like(double v, const Tensor& like);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor& operator+=(Tensor& a, const Tensor& b);
Tensor& operator-=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, double b);

// ---- template definitions -------------------------------------------------------
template <class T>
T* Tensor::data_ptr() const {
  LUCID_CHECK(scalar_type_of<T>() == dtype(), "data_ptr: tensor has dtype ", dtype(),
              " but ", dtype_name(scalar_type_of<T>()), " was asked for");
  return static_cast<T*>(raw_data());
}

template <class T>
T Tensor::item() const {
  LUCID_CHECK(numel() == 1, "item: a tensor with ", numel(), " elements (shape ", sizes(),
              ") cannot be converted to a scalar");
  if (!is_cpu()) return cpu().item<T>();  // waits for the GPU
  return visit_dtype(dtype(), [&](auto x) -> T {
    using S = decltype(x);
    S v = *static_cast<const S*>(raw_data());
    if constexpr (std::is_same_v<S, BFloat16> || std::is_same_v<S, Half>)
      return static_cast<T>(static_cast<float>(v));
    else
      return static_cast<T>(v);
  });
}

}  // namespace lucid
