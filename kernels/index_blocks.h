// What the CPU and CUDA index kernels (kernels/cpu/index.cpp,
// kernels/cuda/index.cu) share: a shape split around one dim, a plain slab
// view, and cat as one strided copy per input.
#pragma once
#include <memory>
#include <vector>

#include <lucid/kernels/tensor.h>

namespace lucid::detail {

// The [outer, n, inner] split of a shape around `dim`.
struct Blocks {
  int64_t outer = 1, n = 1, inner = 1;
};
inline Blocks blocks(const Shape& s, int64_t dim) {
  Blocks b;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < dim) b.outer *= s[d];
    else if (d == dim) b.n = s[d];
    else b.inner *= s[d];
  }
  return b;
}

// out[.., at:at+len, ..] along dim, as a plain view (no autograd: kernels sit below it).
inline Tensor slab(const Tensor& out, int64_t dim, int64_t at, int64_t len) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = out.storage();
  impl->sizes = out.sizes();
  impl->sizes[dim] = len;
  impl->strides = out.strides();
  impl->offset = out.storage_offset() + at * out.stride(dim);
  impl->dtype = out.dtype();
  return Tensor(std::move(impl));
}

// cat: each input copied into its slab of `out` by the backend's strided copy.
template <class Copy>
void cat_into(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out, Copy&& copy) {
  int64_t at = 0;
  for (const Tensor& t : inputs) {
    if (t.dim() == 1 && t.numel() == 0 && out.dim() != 1) continue;  // legacy empty input
    const int64_t len = t.size(dim);
    if (len > 0) copy(slab(out, dim, at, len), t);
    at += len;
  }
}

}  // namespace lucid::detail
