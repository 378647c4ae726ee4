// Tensor metadata, raw access and printing. Views and ops that autograd
// records live in autograd/ops/.
#include <lucid/kernels/tensor.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <lucid/kernels/dispatch.h>

namespace lucid {

namespace {
std::atomic<uint64_t> g_next_id{1};
}

TensorImpl::TensorImpl() : id(g_next_id.fetch_add(1, std::memory_order_relaxed)) {}

TensorImpl& Tensor::impl() const {
  LUCID_CHECK(impl_ != nullptr, "Tensor: operation on an undefined tensor");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const { return sizes()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (sizes()[d] == 1) continue;
    if (strides()[d] != expected) return false;
    expected *= sizes()[d];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data()) + impl().offset * element_size();
}

void check_float_math(const char* op, ScalarType t) {
  LUCID_CHECK(t == kFloat32 || t == kFloat64, op, ": expected a float32 or float64 tensor, got ",
              dtype_name(t),
              (t == kFloat16 || t == kBFloat16 ? " (16-bit floats only convert and store on the "
                                                 "CPU; use .to(kFloat32))"
                                               : ""));
}

// ---- printing, as PyTorch's Python repr -------------------------------------
namespace {

double element_as_double(const Tensor& t, int64_t offset_elems) {
  const char* base = static_cast<const char*>(t.storage()->data());
  return visit_dtype(t.dtype(), [&](auto tag) -> double {
    using T = decltype(tag);
    T v;
    std::memcpy(&v, base + offset_elems * sizeof(T), sizeof(T));
    if constexpr (std::is_same_v<T, BFloat16> || std::is_same_v<T, Half>)
      return static_cast<float>(v);
    else
      return static_cast<double>(v);
  });
}

struct Printer {
  const Tensor& t;
  bool floating;
  bool sci = false;
  int width = 1;
  std::string fmt(double v) const {
    char buf[64];
    if (t.dtype() == kBool) return v != 0 ? "True" : "False";
    if (!floating) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    else if (std::isnan(v)) std::snprintf(buf, sizeof buf, "nan");
    else if (std::isinf(v)) std::snprintf(buf, sizeof buf, v > 0 ? "inf" : "-inf");
    else if (sci) std::snprintf(buf, sizeof buf, "%.4e", v);
    else std::snprintf(buf, sizeof buf, "%.4f", v);
    return buf;
  }
  void print(std::ostream& os, int64_t d, int64_t off, int indent) const {
    if (t.dim() == 0) { os << fmt(element_as_double(t, off)); return; }
    os << '[';
    const int64_t n = t.size(d);
    const bool summarize = t.numel() > 1000 && n > 6;
    for (int64_t i = 0; i < n; ++i) {
      if (summarize && i == 3) {
        os << (d + 1 == t.dim() ? "..., " : "...,\n" + std::string(indent + 1, ' '));
        i = n - 3;
      }
      int64_t o = off + i * t.stride(d);
      if (d + 1 == t.dim()) {
        std::string s = fmt(element_as_double(t, o));
        os << std::string(std::max<int>(0, width - static_cast<int>(s.size())), ' ') << s;
      } else {
        print(os, d + 1, o, indent + 1);
      }
      if (i + 1 < n)
        os << (d + 1 == t.dim() ? ", " : "," + std::string(t.dim() - d - 1, '\n') + std::string(indent + 1, ' '));
    }
    os << ']';
  }
};

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  Tensor c = is_cpu() ? *this : cpu();
  Printer p{c, c.is_floating_point()};
  // column width and format from the values, like PyTorch's formatter
  double max_abs = 0, min_abs = INFINITY;
  bool all_int = true;
  int64_t n = c.numel();
  std::vector<int64_t> idx(c.dim(), 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t off = c.storage_offset();
    for (int64_t d = 0; d < c.dim(); ++d) off += idx[d] * c.stride(d);
    double v = element_as_double(c, off);
    if (std::isfinite(v)) {
      max_abs = std::max(max_abs, std::fabs(v));
      if (v != 0) min_abs = std::min(min_abs, std::fabs(v));
      all_int = all_int && v == std::floor(v);
    }
    for (int64_t d = c.dim() - 1; d >= 0; --d) {
      if (++idx[d] < c.size(d)) break;
      idx[d] = 0;
    }
  }
  if (p.floating && (max_abs >= 1e8 || (min_abs < 1e-4 && min_abs != INFINITY))) p.sci = true;
  std::vector<int64_t> idx2(c.dim(), 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t off = c.storage_offset();
    for (int64_t d = 0; d < c.dim(); ++d) off += idx2[d] * c.stride(d);
    p.width = std::max<int>(p.width, static_cast<int>(p.fmt(element_as_double(c, off)).size()));
    for (int64_t d = c.dim() - 1; d >= 0; --d) {
      if (++idx2[d] < c.size(d)) break;
      idx2[d] = 0;
    }
  }
  os << "tensor(";
  p.print(os, 0, c.storage_offset(), 7);
  if (dtype() != kFloat32 && dtype() != kInt64 && dtype() != kBool) os << ", dtype=" << dtype();
  if (numel() == 0) os << ", size=" << sizes();
  if (!is_cpu()) os << ", device='" << device().str() << "'";
  if (grad_fn_name()) os << ", grad_fn=<" << grad_fn_name() << "Backward>";
  else if (requires_grad()) os << ", requires_grad=True";
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace lucid
