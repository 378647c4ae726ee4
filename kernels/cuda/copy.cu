// Copy and fill kernels (the CPU reference: kernels/cpu/copy.cpp).
//
// copy: one thread per output element in a grid-stride loop; a contiguous
// same-dtype copy is a cudaMemcpyAsync instead.
//   geometry: blocks_for(n) x 256 threads
//   bytes:    sizeof(src) + sizeof(dst) per element; no FLOPs
// fill: the same loop, sizeof(dst) bytes per element.
#include <lucid/kernels/cuda/copy.h>
#include <lucid/kernels/cuda/launch.cuh>

namespace lucid::cuda {

namespace {

template <class D, class S>
__global__ void copy_kernel(D* dst, const S* src, int64_t n, StridedIndexer<2> ix) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    ix.offsets(i, off);
    dst[off[0]] = convert<D>(src[off[1]]);
  }
}

template <class D>
__global__ void fill_kernel(D* dst, D value, int64_t n, StridedIndexer<1> ix) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[1];
    ix.offsets(i, off);
    dst[off[0]] = value;
  }
}

}  // namespace

void copy(const Tensor& dst, const Tensor& src) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous() && src.sizes() == dst.sizes()) {
    LUCID_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), n * dst.element_size(),
                                     cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  const Tensor* ops[2] = {&dst, &src};
  const StridedIndexer<2> ix = make_indexer("copy", dst.sizes(), ops);
  visit_device_dtype(dst.dtype(), [&](auto d) {
    using D = decltype(d);
    visit_device_dtype(src.dtype(), [&](auto s) {
      using S = decltype(s);
      copy_kernel<D, S><<<blocks_for(n), kThreads, 0, stream()>>>(
          static_cast<D*>(dst.raw_data()), static_cast<const S*>(src.raw_data()), n, ix);
      LUCID_CUDA_CHECK_LAUNCH("copy_kernel");
    });
  });
}

void fill(const Tensor& dst, double value) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  const Tensor* ops[1] = {&dst};
  const StridedIndexer<1> ix = make_indexer("fill", dst.sizes(), ops);
  visit_device_dtype(dst.dtype(), [&](auto d) {
    using D = decltype(d);
    fill_kernel<D><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<D*>(dst.raw_data()),
                                                            convert<D>(value), n, ix);
    LUCID_CUDA_CHECK_LAUNCH("fill_kernel");
  });
}

}  // namespace lucid::cuda
