// Copy kernel: one strided loop per (src dtype, dst dtype) pair.
// Bytes moved per element: sizeof(src) + sizeof(dst); no FLOPs.
#include <lucid/kernels/cpu/copy.h>
#include <lucid/kernels/cpu/loops.h>

#include <limits>

namespace lucid::cpu {

namespace {
template <class D, class S>
D convert(S s) {
  if constexpr (std::is_same_v<D, S>) {
    return s;
  } else if constexpr (std::is_same_v<S, BFloat16> || std::is_same_v<S, Half>) {
    return convert<D>(static_cast<float>(s));
  } else if constexpr (std::is_same_v<D, BFloat16> || std::is_same_v<D, Half>) {
    return D(static_cast<float>(s));
  } else if constexpr (std::is_same_v<D, bool>) {
    return s != S(0);
  } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
    // float -> int: C++ leaves NaN and out-of-range values undefined; lucid
    // truncates toward zero, saturates at the type's range and maps NaN to 0.
    if (s != s) return D(0);
    if (s <= static_cast<S>(std::numeric_limits<D>::min())) return std::numeric_limits<D>::min();
    if (s >= static_cast<S>(std::numeric_limits<D>::max())) return std::numeric_limits<D>::max();
    return static_cast<D>(s);
  } else {
    return static_cast<D>(s);
  }
}
}  // namespace

void copy(const Tensor& dst, const Tensor& src) {
  Strides sst = broadcast_strides(src.sizes(), src.strides(), dst.sizes());
  Operands<2> ops{{static_cast<char*>(dst.raw_data()), static_cast<char*>(src.raw_data())},
                  {&dst.strides(), &sst},
                  {static_cast<int64_t>(dst.element_size()), static_cast<int64_t>(src.element_size())}};
  visit_dtype(dst.dtype(), [&](auto d) {
    using D = decltype(d);
    visit_dtype(src.dtype(), [&](auto s) {
      using S = decltype(s);
      for_each_row(dst.sizes(), ops, [](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> st) {
        D* out = reinterpret_cast<D*>(p[0]);
        const S* in = reinterpret_cast<const S*>(p[1]);
        if (st[0] == 1 && st[1] == 1) {
          for (int64_t i = 0; i < n; ++i) out[i] = convert<D>(in[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) out[i * st[0]] = convert<D>(in[i * st[1]]);
        }
      });
    });
  });
}

void fill(const Tensor& dst, double value) {
  Operands<1> ops{{static_cast<char*>(dst.raw_data())}, {&dst.strides()},
                  {static_cast<int64_t>(dst.element_size())}};
  visit_dtype(dst.dtype(), [&](auto d) {
    using D = decltype(d);
    const D v = convert<D>(value);
    for_each_row(dst.sizes(), ops, [v](std::array<char*, 1> p, int64_t n, std::array<int64_t, 1> st) {
      D* out = reinterpret_cast<D*>(p[0]);
      for (int64_t i = 0; i < n; ++i) out[i * st[0]] = v;
    });
  });
}

}  // namespace lucid::cpu
