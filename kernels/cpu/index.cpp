// Index kernels: row copies for cat / index_select, element loops for gather,
// and the single-threaded accumulations that make the backwards deterministic.
// Bytes per element: one read and one write (plus an int64 index read); no FLOPs
// except the adds of index_add / scatter_add and the multiply of dropout.
#include <lucid/kernels/cpu/index.h>

#include <lucid/kernels/cpu/copy.h>
#include <lucid/kernels/cpu/float_dispatch.h>
#include <lucid/kernels/index_blocks.h>

#include <cstring>
#include <vector>

namespace lucid::cpu {

namespace {

using lucid::detail::Blocks;  // kernels/index_blocks.h, shared with the other backend
using lucid::detail::blocks;

}  // namespace

void cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out) {
  lucid::detail::cat_into(inputs, dim, out, [](const Tensor& dst, const Tensor& src) { copy(dst, src); });
}

void index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  const Blocks b = blocks(x.sizes(), dim);
  const int64_t k = index.numel();
  const int64_t row = b.inner * static_cast<int64_t>(x.element_size());  // bytes per row
  if (row == 0 || k == 0) return;  // nothing to move (and no null pointers to memcpy)
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  const int64_t* idx = index.data_ptr<int64_t>();
  for (int64_t o = 0; o < b.outer; ++o)
    for (int64_t j = 0; j < k; ++j)
      std::memcpy(dst + (o * k + j) * row, src + (o * b.n + idx[j]) * row, row);
}

void index_add(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src,
               int64_t skip) {
  const Blocks b = blocks(dst.sizes(), dim);
  const int64_t k = index.numel();
  const int64_t* idx = index.data_ptr<int64_t>();
  visit_float(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* d = dst.data_ptr<T>();
    const T* s = src.data_ptr<T>();
    for (int64_t o = 0; o < b.outer; ++o)
      for (int64_t j = 0; j < k; ++j) {  // in index order: deterministic sums
        if (idx[j] == skip) continue;
        T* drow = d + (o * b.n + idx[j]) * b.inner;
        const T* srow = s + (o * k + j) * b.inner;
        for (int64_t i = 0; i < b.inner; ++i) drow[i] += srow[i];
      }
  });
}

// Walks the index tensor in row-major order and calls fn(p, q): p the flat
// position in index/src, q the flat position in a packed tensor of `target` shape
// with coordinate `dim` replaced by index[p].
template <class Fn>
static void for_each_indexed(const Shape& index_shape, const Shape& target, int64_t dim,
                             const int64_t* idx, Fn&& fn) {
  const int64_t nd = static_cast<int64_t>(index_shape.size());
  const Strides ts = contiguous_strides(target);
  std::vector<int64_t> coord(nd, 0);
  const int64_t total = numel_of(index_shape);
  for (int64_t p = 0; p < total; ++p) {
    int64_t q = 0;
    for (int64_t d = 0; d < nd; ++d) q += (d == dim ? idx[p] : coord[d]) * ts[d];
    fn(p, q);
    for (int64_t d = nd - 1; d >= 0; --d) {  // odometer
      if (++coord[d] < index_shape[d]) break;
      coord[d] = 0;
    }
  }
}

void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  const int64_t es = static_cast<int64_t>(x.element_size());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for_each_indexed(index.sizes(), x.sizes(), dim, index.data_ptr<int64_t>(),
                   [&](int64_t p, int64_t q) { std::memcpy(dst + p * es, src + q * es, es); });
}

void scatter_add(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src) {
  visit_float(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* d = dst.data_ptr<T>();
    const T* s = src.data_ptr<T>();
    for_each_indexed(index.sizes(), dst.sizes(), dim, index.data_ptr<int64_t>(),
                     [&](int64_t p, int64_t q) { d[q] += s[p]; });
  });
}

void dropout(const Tensor& x, double p, double scale, GeneratorState at, const Tensor& mask,
             const Tensor& out) {
  const int64_t n = x.numel();
  std::vector<float> u(n);
  philox_uniform(u.data(), n, at, 0.f, 1.f);
  visit_float(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* xs = x.data_ptr<T>();
    T* m = mask.data_ptr<T>();
    T* o = out.data_ptr<T>();
    const T s = static_cast<T>(scale);
    for (int64_t i = 0; i < n; ++i) {
      const bool keep = static_cast<double>(u[i]) >= p;
      m[i] = keep ? T(1) : T(0);
      o[i] = keep ? xs[i] * s : T(0);
    }
  });
}

}  // namespace lucid::cpu
