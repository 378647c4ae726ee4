// In-place ops: write into an existing tensor and bump its storage version.
//
// lucid does not record in-place ops on the tape. Writing in place into a
// tensor that requires grad while grad mode is on is an error (as PyTorch does
// for leaves); optimizers and initializers run under NoGradGuard. If a tensor
// saved for backward is changed in place, the version check in backward()
// reports it.
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/cpu/copy.h>
#include <lucid/kernels/cpu/elementwise.h>
#include <lucid/kernels/cuda/copy.h>
#include <lucid/kernels/cuda/elementwise.h>
#include <lucid/kernels/dispatch.h>
#include <lucid/kernels/factory.h>
#include <lucid/kernels/philox.h>

#include <cmath>
#include <limits>

namespace lucid {

namespace {

// `source` (optional) is the tensor written into self: if it requires grad,
// the write would silently cut the graph, so that is refused too.
void check_writable(const char* op, const Tensor& self, const Tensor& source = Tensor()) {
  LUCID_CHECK(self.defined(), op, ": undefined tensor");
  LUCID_CHECK(!(GradMode::is_enabled() && self.requires_grad()), op,
              ": a tensor that requires grad (shape ", self.sizes(),
              ") is used in an in-place operation; wrap it in NoGradGuard, or use the "
              "out-of-place op");
  LUCID_CHECK(!(GradMode::is_enabled() && source.defined() && source.requires_grad()), op,
              ": the source tensor (shape ", source.sizes(), ") requires grad, and lucid does "
              "not record in-place ops, so its gradient would be lost; use the out-of-place op "
              "or detach() the source");
  // An expanded view maps several elements to one address: writing it is a race.
  for (int64_t d = 0; d < self.dim(); ++d)
    LUCID_CHECK(self.stride(d) != 0 || self.size(d) <= 1, op, ": more than one element of the "
                "written-to tensor (shape ", self.sizes(), ", strides ", self.strides(),
                ") refers to a single memory location; clone() it first");
}

// self = op(self, other), other broadcast to self's shape.
Tensor& binary_inplace(cpu::BinaryOp op, const char* name, Tensor& self, const Tensor& other,
                       cpu::OpArgs args = {}) {
  check_writable(name, self, other);
  if (self.dtype() == kFloat16 || self.dtype() == kBFloat16) check_float_math(name, self.dtype());
  LUCID_CHECK(other.device() == self.device(), name, ": expected both tensors on the same device, got ",
              self.device().str(), " and ", other.device().str());
  // As PyTorch: a float result cannot be stored in an integer tensor in place
  // (x.mul_(0.5) on int64 would silently truncate to zeros).
  LUCID_CHECK(lucid::is_floating_point(self.dtype()) || !lucid::is_floating_point(other.dtype()), name,
              ": result type ", other.dtype(), " can't be cast to the desired output type ", self.dtype(),
              " in place");
  LUCID_CHECK(lucid::is_floating_point(self.dtype()) || args.a == std::floor(args.a), name, ": alpha ",
              args.a, " is not an integer, and ", self.dtype(), " tensors are updated in place");
  Shape b = broadcast_shapes(self.sizes(), other.sizes(), name);
  LUCID_CHECK(b == self.sizes(), name, ": output with shape ", self.sizes(),
              " doesn't match the broadcast shape ", b);
  Tensor o = other.dtype() == self.dtype() ? other : other.detach().to(self.dtype());
  // An operand that overlaps self in another layout (x.add_(x.t())) would be
  // read after some of its elements were written: read a private copy instead.
  const bool same_view = o.storage_offset() == self.storage_offset() && o.sizes() == self.sizes() &&
                         o.strides() == self.strides();
  if (o.storage() == self.storage() && !same_view) o = o.detach().clone();
  dispatch(name, self.device(), [&] { cpu::binary(op, self, o, self, args); },
           [&] { cuda::binary(op, self, o, self, args); });
  self.storage()->bump_version();
  return self;
}

}  // namespace

Tensor& Tensor::copy_(const Tensor& src, bool non_blocking) {
  check_writable("copy_", *this, src);
  LUCID_CHECK(src.defined(), "copy_: undefined source tensor");
  Shape b = broadcast_shapes(sizes(), src.sizes(), "copy_");
  LUCID_CHECK(b == sizes(), "copy_: source of shape ", src.sizes(),
              " cannot be broadcast to destination of shape ", sizes());
  if (src.device() != device()) {  // across devices: kernels/cuda/transfer.cpp
    cuda::check_device("copy_", src.device());
    cuda::check_device("copy_", device());
    Tensor s = src.detach().expand(sizes());
    if (s.dtype() != dtype() || !s.is_contiguous()) s = s.to(dtype()).contiguous();
    cuda::detail::copy_between_devices(*this, s, non_blocking);
    storage()->bump_version();
    return *this;
  }
  // An overlapping source (copying a tensor into a view of itself) is read
  // from a private copy first.
  Tensor s = src.storage() == storage() ? src.detach().clone() : src;
  dispatch("copy_", device(), [&] { cpu::copy(*this, s); }, [&] { cuda::copy(*this, s); });
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::fill_(double value) {
  check_writable("fill_", *this);
  dispatch("fill_", device(), [&] { cpu::fill(*this, value); }, [&] { cuda::fill(*this, value); });
  storage()->bump_version();
  return *this;
}

Tensor& Tensor::add_(const Tensor& o, double alpha) {
  if (alpha == 1.0) return binary_inplace(cpu::BinaryOp::Add, "add_", *this, o);
  return binary_inplace(cpu::BinaryOp::AddScaled, "add_", *this, o, {alpha, 0.0});
}
Tensor& Tensor::add_(double s) { return binary_inplace(cpu::BinaryOp::Add, "add_", *this, scalar_like(s, *this)); }
Tensor& Tensor::mul_(const Tensor& o) { return binary_inplace(cpu::BinaryOp::Mul, "mul_", *this, o); }
Tensor& Tensor::mul_(double s) { return binary_inplace(cpu::BinaryOp::Mul, "mul_", *this, scalar_like(s, *this)); }
// Division of integers in place is refused, as in PyTorch (the quotient is a
// float): it would also make x / 0 undefined behaviour.
Tensor& Tensor::div_(const Tensor& o) {
  LUCID_CHECK(!defined() || lucid::is_floating_point(dtype()), "div_: the quotient of ", dtype(),
              " tensors is a float and cannot be stored in place; use div() or convert with .to(kFloat32)");
  return binary_inplace(cpu::BinaryOp::Div, "div_", *this, o);
}
Tensor& Tensor::div_(double s) { return div_(scalar_like(s, *this)); }

Tensor& Tensor::clamp_(std::optional<double> min, std::optional<double> max) {
  check_writable("clamp_", *this);
  check_float_math("clamp_", dtype());
  const double lo = min.value_or(-std::numeric_limits<double>::infinity());
  const double hi = max.value_or(std::numeric_limits<double>::infinity());
  const cpu::OpArgs bounds{lo, hi};
  dispatch("clamp_", device(), [&] { cpu::unary(cpu::UnaryOp::Clamp, *this, *this, bounds); },
           [&] { cuda::unary(cpu::UnaryOp::Clamp, *this, *this, bounds); });
  storage()->bump_version();
  return *this;
}

// Random fills draw float64 (or float32) values from the default generator in
// element order of the packed shape, then convert into this view. The draw is
// always on the CPU, also for a CUDA tensor (copy_ then moves it to the GPU):
// one generator, one stream of numbers, so a seeded program draws the same
// values on either device. rand/randn/randint (kernels/factory.cpp) go through
// here or draw the same way.
Tensor& Tensor::uniform_(double from, double to) {
  check_writable("uniform_", *this);
  LUCID_CHECK(from <= to, "uniform_: expected from <= to, got from=", from, " to=", to);
  Tensor tmp = empty(sizes(), dtype() == kFloat64 ? kFloat64 : kFloat32);
  if (tmp.dtype() == kFloat64)
    default_generator().fill_uniform(tmp.data_ptr<double>(), tmp.numel(), from, to);
  else
    default_generator().fill_uniform(tmp.data_ptr<float>(), tmp.numel(), static_cast<float>(from),
                                     static_cast<float>(to));
  return copy_(tmp);
}

Tensor& Tensor::normal_(double mean, double std) {
  check_writable("normal_", *this);
  LUCID_CHECK(std >= 0, "normal_: expected std >= 0, got ", std);
  Tensor tmp = empty(sizes(), dtype() == kFloat64 ? kFloat64 : kFloat32);
  if (tmp.dtype() == kFloat64)
    default_generator().fill_normal(tmp.data_ptr<double>(), tmp.numel(), mean, std);
  else
    default_generator().fill_normal(tmp.data_ptr<float>(), tmp.numel(), static_cast<float>(mean),
                                    static_cast<float>(std));
  return copy_(tmp);
}

Tensor& operator+=(Tensor& a, const Tensor& b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, const Tensor& b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, const Tensor& b) { return a.mul_(b); }
Tensor& operator*=(Tensor& a, double b) { return a.mul_(b); }

}  // namespace lucid
