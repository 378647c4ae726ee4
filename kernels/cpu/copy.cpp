// Copy kernel: one strided loop per (src dtype, dst dtype) pair.
// Bytes moved per element: sizeof(src) + sizeof(dst); no FLOPs.
#include <lucid/kernels/cpu/copy.h>
#include <lucid/kernels/convert.h>
#include <lucid/kernels/cpu/loops.h>

namespace lucid::cpu {

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
