// Tensor metadata, raw access and printing. Views and ops that autograd
// records live in autograd/ops/.
#include <lucid/kernels/tensor.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <cstring>
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
// Follows torch/_tensor_str.py (torch 1.13, default print options: precision 4,
// threshold 1000, edgeitems 3, linewidth 80): one formatter for the printed
// elements (integer-valued floats as "1.", otherwise "%.4f", or "%.4e" when the
// nonzero finite magnitudes span more than 1000x, exceed 1e8 or go below 1e-4),
// every element right-aligned to the widest, rows wrapped at 80 columns, and
// "..." past 1000 elements. Where lucid differs on purpose:
//   dtype=float64  (PyTorch: dtype=torch.float64; lucid has no torch namespace)
//   grad_fn=<AddBackward0>  is built from lucid's op name ("add", "log_softmax"
//                  -> LogSoftmaxBackward0), so it matches PyTorch only where the
//                  op names agree (matmul prints MatmulBackward0, PyTorch MmBackward0)
namespace {

constexpr int64_t kThreshold = 1000, kEdgeItems = 3, kLineWidth = 80;

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

// Calls fn(storage offset) for every element that gets printed, in order
// (only the edge items of long dims when summarizing).
template <class Fn>
void for_each_printed(const Tensor& t, bool summarize, int64_t d, int64_t off, Fn&& fn) {
  if (d == t.dim()) { fn(off); return; }
  const int64_t n = t.size(d);
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) i = n - kEdgeItems;
    for_each_printed(t, summarize, d + 1, off + i * t.stride(d), fn);
  }
}

// PyTorch's _Formatter: decides the mode and width from the printed values.
struct Formatter {
  ScalarType dtype;
  bool floating = false, int_mode = true, sci_mode = false;
  int width = 1;

  Formatter(const Tensor& t, bool summarize) : dtype(t.dtype()), floating(t.is_floating_point()) {
    std::vector<double> vals;
    for_each_printed(t, summarize, 0, t.storage_offset(),
                     [&](int64_t off) { vals.push_back(element_as_double(t, off)); });
    if (!floating) {
      for (double v : vals) width = std::max<int>(width, static_cast<int>(raw(v).size()));
      return;
    }
    double lo = INFINITY, hi = 0;
    std::vector<double> nz;  // nonzero finite values: the only ones that set the format
    for (double v : vals)
      if (std::isfinite(v) && v != 0) {
        nz.push_back(v);
        lo = std::min(lo, std::fabs(v));
        hi = std::max(hi, std::fabs(v));
        int_mode = int_mode && v == std::ceil(v);
      }
    if (nz.empty()) return;
    sci_mode = hi / lo > 1000.0 || hi > 1e8 || (!int_mode && lo < 1e-4);
    for (double v : nz) {
      int w = static_cast<int>(raw(v).size());
      width = std::max(width, w);
    }
  }

  // The value without padding.
  std::string raw(double v) const {
    char buf[64];
    if (dtype == kBool) return v != 0 ? "True" : "False";
    if (!floating) { std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v)); return buf; }
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (sci_mode) std::snprintf(buf, sizeof buf, "%.4e", v);
    else if (int_mode) std::snprintf(buf, sizeof buf, "%.0f.", v);
    else std::snprintf(buf, sizeof buf, "%.4f", v);
    return buf;
  }
  std::string operator()(double v) const {
    std::string s = raw(v);
    return std::string(std::max<int>(0, width - static_cast<int>(s.size())), ' ') + s;
  }
};

// _tensor_str_with_formatter: nested brackets; rows of a 1-D slice wrap at the line width.
std::string format_dims(const Tensor& t, const Formatter& f, bool summarize, int64_t d,
                        int64_t off, int64_t indent) {
  if (t.dim() == 0) return f(element_as_double(t, off));
  const int64_t n = t.size(d);
  const bool cut = summarize && n > 2 * kEdgeItems;
  std::vector<std::string> items;
  for (int64_t i = 0; i < n; ++i) {
    if (cut && i == kEdgeItems) {
      items.push_back(d + 1 == t.dim() ? " ..." : "...");
      i = n - kEdgeItems;
    }
    const int64_t o = off + i * t.stride(d);
    items.push_back(d + 1 == t.dim() ? f(element_as_double(t, o))
                                     : format_dims(t, f, summarize, d + 1, o, indent + 1));
  }
  std::string out = "[";
  if (d + 1 == t.dim()) {
    const int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / (f.width + 2));
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += i % per_line ? ", " : ",\n" + std::string(indent + 1, ' ');
      out += items[i];
    }
  } else {
    const std::string sep = "," + std::string(t.dim() - d - 1, '\n') + std::string(indent + 1, ' ');
    for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  }
  return out + "]";
}

// "log_softmax" -> "LogSoftmaxBackward0", as PyTorch names its backward nodes.
std::string backward_node_name(const char* op) {
  std::string s;
  bool up = true;
  for (const char* c = op; *c; ++c) {
    if (*c == '_') { up = true; continue; }
    s += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(*c))) : *c;
    up = false;
  }
  return s + "Backward0";
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  const Tensor c = is_cpu() ? *this : cpu();
  const std::string prefix = "tensor(";
  const int64_t indent = static_cast<int64_t>(prefix.size());
  std::vector<std::string> suffixes;
  if (!is_cpu()) suffixes.push_back("device='" + device().str() + "'");
  std::string body;
  if (numel() == 0) {
    body = "[]";
    if (dim() != 1) {  // size=(0, 3), as a Python tuple
      std::string sz = "size=(";
      for (int64_t d = 0; d < dim(); ++d) sz += (d ? ", " : "") + std::to_string(size(d));
      suffixes.push_back(sz + ")");
    }
    if (dtype() != kFloat32) suffixes.push_back(std::string("dtype=") + dtype_name(dtype()));
  } else {
    if (dtype() != kFloat32 && dtype() != kInt64 && dtype() != kBool)
      suffixes.push_back(std::string("dtype=") + dtype_name(dtype()));
    const bool summarize = numel() > kThreshold;
    body = format_dims(c, Formatter(c, summarize), summarize, 0, c.storage_offset(), indent);
  }
  if (grad_fn_name()) suffixes.push_back("grad_fn=<" + backward_node_name(grad_fn_name()) + ">");
  else if (requires_grad()) suffixes.push_back("requires_grad=True");

  // _add_suffixes: a suffix that would pass the line width starts a new line
  std::string out = prefix + body;
  const size_t nl = out.rfind('\n');
  int64_t last_line = static_cast<int64_t>(out.size()) -
                      (nl == std::string::npos ? -1 : static_cast<int64_t>(nl)) + 1;
  for (const std::string& s : suffixes) {
    const int64_t len = static_cast<int64_t>(s.size());
    if (last_line + len + 2 > kLineWidth) {
      out += ",\n" + std::string(indent, ' ') + s;
      last_line = indent + len;
    } else {
      out += ", " + s;
      last_line += len + 2;
    }
  }
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace lucid
