// Copy and fill kernels (the CPU reference: kernels/cpu/copy.cpp).
//
// copy, three ways (all grid-stride loops with int64 indices):
//   contiguous, same shape, same dtype: one cudaMemcpyAsync.
//   contiguous, same shape, another dtype, aligned (copy_flat): each step a
//     thread converts V = 16 / max(sizeof(src), sizeof(dst)) elements, loaded
//     and stored as single accesses (16 bytes on the wider side); the last
//     n % V elements are a scalar tail.
//     geometry: blocks_for(ceil(n / V)) x 256 threads
//   anything else (copy_strided): one element per step, at offsets from a
//     StridedIndexer whose dims are collapsed first (a contiguous operand then
//     costs one division).
//     geometry: blocks_for(n) x 256 threads
//   bytes: sizeof(src) + sizeof(dst) per element; no FLOPs
// fill: the same two ways (fill_flat: 16-byte stores when dst is contiguous and
//   aligned), sizeof(dst) bytes per element.
#include <lucid/kernels/cuda/copy.h>
#include <lucid/kernels/cuda/launch.cuh>

namespace lucid::cuda {

namespace {

template <class D, class S>
inline constexpr int kCopyVec = 16 / (sizeof(D) > sizeof(S) ? sizeof(D) : sizeof(S));

template <class D, class S>
__global__ void copy_flat(D* dst, const S* src, int64_t n) {
  constexpr int V = kCopyVec<D, S>;
  const int64_t start = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  const int64_t nv = n / V;
  for (int64_t i = start; i < nv; i += step) {
    const Pack<S, V> s = reinterpret_cast<const Pack<S, V>*>(src)[i];
    Pack<D, V> d;
#pragma unroll
    for (int k = 0; k < V; ++k) d.v[k] = convert<D>(s.v[k]);
    reinterpret_cast<Pack<D, V>*>(dst)[i] = d;
  }
  for (int64_t i = nv * V + start; i < n; i += step) dst[i] = convert<D>(src[i]);  // tail
}

template <class D, class S>
__global__ void copy_strided(D* dst, const S* src, int64_t n, StridedIndexer<2> ix) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[2];
    ix.offsets(i, off);
    dst[off[0]] = convert<D>(src[off[1]]);
  }
}

template <class D>
__global__ void fill_flat(D* dst, D value, int64_t n) {
  constexpr int V = kVec<D>;
  const int64_t start = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  const int64_t nv = n / V;
  Pack<D, V> p;
#pragma unroll
  for (int k = 0; k < V; ++k) p.v[k] = value;
  for (int64_t i = start; i < nv; i += step) reinterpret_cast<Pack<D, V>*>(dst)[i] = p;
  for (int64_t i = nv * V + start; i < n; i += step) dst[i] = value;  // tail
}

template <class D>
__global__ void fill_strided(D* dst, D value, int64_t n, StridedIndexer<1> ix) {
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
  const bool flat = dst.is_contiguous() && src.is_contiguous() && src.sizes() == dst.sizes();
  if (flat && dst.dtype() == src.dtype()) {
    LUCID_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), n * dst.element_size(),
                                     cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  const Tensor* ops[2] = {&dst, &src};
  visit_device_dtype(dst.dtype(), [&](auto d) {
    using D = decltype(d);
    visit_device_dtype(src.dtype(), [&](auto s) {
      using S = decltype(s);
      D* dp = static_cast<D*>(dst.raw_data());
      const S* sp = static_cast<const S*>(src.raw_data());
      constexpr int V = kCopyVec<D, S>;
      if (flat && aligned(dp, sizeof(D) * V) && aligned(sp, sizeof(S) * V)) {
        copy_flat<D, S><<<blocks_for((n + V - 1) / V), kThreads, 0, stream()>>>(dp, sp, n);
        LUCID_CUDA_CHECK_LAUNCH("copy_flat");
        return;
      }
      const StridedIndexer<2> ix = collapse(make_indexer("copy", dst.sizes(), ops));
      copy_strided<D, S><<<blocks_for(n), kThreads, 0, stream()>>>(dp, sp, n, ix);
      LUCID_CUDA_CHECK_LAUNCH("copy_strided");
    });
  });
}

void fill(const Tensor& dst, double value) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  visit_device_dtype(dst.dtype(), [&](auto d) {
    using D = decltype(d);
    D* dp = static_cast<D*>(dst.raw_data());
    constexpr int V = kVec<D>;
    if (dst.is_contiguous() && aligned(dp, 16)) {
      fill_flat<D><<<blocks_for((n + V - 1) / V), kThreads, 0, stream()>>>(dp, convert<D>(value), n);
      LUCID_CUDA_CHECK_LAUNCH("fill_flat");
      return;
    }
    const Tensor* ops[1] = {&dst};
    const StridedIndexer<1> ix = collapse(make_indexer("fill", dst.sizes(), ops));
    fill_strided<D><<<blocks_for(n), kThreads, 0, stream()>>>(dp, convert<D>(value), n, ix);
    LUCID_CUDA_CHECK_LAUNCH("fill_strided");
  });
}

}  // namespace lucid::cuda
