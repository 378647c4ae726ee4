// Index and dropout kernels on a GPU (the CPU reference: kernels/cpu/index.cpp).
// All loops are grid-stride loops with int64 positions; an empty launch is skipped.
//
// cat: one cuda::copy per input into its slab of the output (a narrow view),
//   as cpu::cat does. One launch per non-empty input; sizeof(T) read + written
//   per element. (One fused kernel would save launches for many tiny inputs;
//   the copy kernel already handles any input strides.)
// index_select: one thread per output element.   blocks_for(numel(out)) x 256
//   Reads the int64 index (cached: all threads of a row read the same one),
//   one element read, one written; no FLOPs. Elements move as raw 1/2/4/8-byte
//   words, so one kernel serves every dtype of that width.
// gather: one thread per output (= index) element.   blocks_for(numel(index)) x 256
//   8 bytes of index + one element read + one written; no FLOPs.
// index_add: one thread per column (o, i) of dst outside the indexed dim:
//   blocks_for(outer * inner) x 256. The thread walks j = 0..k-1 in order and
//   does dst[o, index[j], i] += src[o, j, i].
//   Per (j, column): 8 bytes of index (broadcast), src read, dst read + write; 1 FLOP.
// scatter_add: one thread per column of `index` outside dim (all positions p
//   that share every coordinate but dim's): blocks_for(numel(index) / k) x 256;
//   it walks the column in order (k = index.size(dim)) and adds src[p] into
//   its target. Per element: index + src read, dst read + write; 1 FLOP.
//
// Why "owner computes" for the two accumulations: all additions into one dst
// element come from one thread, in the CPU kernel's order (index order), so
// there are no races, no float atomics, and the sums are bitwise the CPU's on
// every run. Two threads never share a target: index_add's threads differ in
// (o, i), which the target keeps; scatter_add's threads differ in a coordinate
// outside dim, which the target keeps too. The cost: the parallelism is only
// the number of columns (outer * inner, or numel(index) / k), and each thread
// runs k dependent steps. Embedding backward (outer = 1, inner = embedding dim)
// runs `dim` threads over all k tokens: fine for dims in the hundreds and up,
// slow for a tiny dim with a huge batch. A sort-by-index segmented sum would be
// parallel in k too, but needs a device sort and scratch; this is the simple,
// exact version. Reads and writes stay coalesced: neighbouring threads have
// neighbouring i.
//
// find_index_out_of_range: one thread per index, blocks_for(numel) x 256;
//   an out-of-range entry does an integer atomicMin of its position (integer
//   min is order-independent, so the answer is always the first bad entry).
//   Then one 8-byte read-back; a second one for the bad value on error only.
// dropout: one thread per Philox block = 4 elements: blocks_for(ceil(n / 4)) x 256.
//   ~40 integer ops per block (kernels/cuda/philox.cuh); per element x read,
//   mask and out written (3 sizeof(T)), 1 FLOP. Words map to elements exactly as
//   on the CPU: element i reads word i % 4 of block offset + i / 4.
#include <lucid/kernels/cuda/index.h>

#include <lucid/kernels/cuda/copy.h>
#include <lucid/kernels/cuda/launch.cuh>
#include <lucid/kernels/cuda/philox.cuh>
#include <lucid/kernels/factory.h>

namespace lucid::cuda {

namespace {

// ---- host helpers ------------------------------------------------------------------

// The [outer, n, inner] split of a shape around `dim`.
struct Blocks {
  int64_t outer = 1, n = 1, inner = 1;
};
Blocks blocks(const Shape& s, int64_t dim) {
  Blocks b;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < dim) b.outer *= s[d];
    else if (d == dim) b.n = s[d];
    else b.inner *= s[d];
  }
  return b;
}

// out[.., at:at+len, ..] along dim, as a plain view (no autograd: kernels sit below it).
Tensor slab(const Tensor& out, int64_t dim, int64_t at, int64_t len) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = out.storage();
  impl->sizes = out.sizes();
  impl->sizes[dim] = len;
  impl->strides = out.strides();
  impl->offset = out.storage_offset() + at * out.stride(dim);
  impl->dtype = out.dtype();
  return Tensor(std::move(impl));
}

// fn(W{}) with W an unsigned integer as wide as one element: index_select and
// gather move bits, not values, so 4 instantiations cover all 8 dtypes.
template <class Fn>
void visit_word(size_t element_size, Fn&& fn) {
  switch (element_size) {
    case 1: fn(uint8_t{}); return;
    case 2: fn(uint16_t{}); return;
    case 4: fn(uint32_t{}); return;
    default: fn(static_cast<unsigned long long>(0)); return;  // 8 bytes
  }
}

// Geometry of gather / scatter_add: `sizes` is index's shape (index and src
// packed: `istrides`), `tstrides` the packed strides of the target (x for
// gather, dst for scatter_add), `dim` the indexed dim (dims == 0: a 0-d tensor).
struct IndexedGeometry {
  int dims = 0;
  int dim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t istrides[kMaxDims] = {};
  int64_t tstrides[kMaxDims] = {};
};

IndexedGeometry make_geometry(const char* op, const Shape& index_shape, const Shape& target,
                              int64_t dim) {
  LUCID_CHECK(static_cast<int>(index_shape.size()) <= kMaxDims, op, ": CUDA kernels take at most ",
              kMaxDims, " dims, got shape ", index_shape);
  IndexedGeometry g;
  g.dims = static_cast<int>(index_shape.size());
  g.dim = static_cast<int>(dim);
  const Strides is = contiguous_strides(index_shape);
  const Strides ts = contiguous_strides(target);
  for (int d = 0; d < g.dims; ++d) {
    g.sizes[d] = index_shape[d];
    g.istrides[d] = is[d];
    g.tstrides[d] = ts[d];
  }
  return g;
}

// ---- kernels -----------------------------------------------------------------------

template <class W>
__global__ void index_select_kernel(W* out, const W* x, const int64_t* idx, int64_t total,
                                    int64_t k, int64_t n, int64_t inner) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = e % inner;
    const int64_t r = e / inner;
    const int64_t j = r % k;
    const int64_t o = r / k;
    out[e] = x[(o * n + idx[j]) * inner + i];
  }
}

template <class T>
__global__ void index_add_kernel(T* dst, const T* src, const int64_t* idx, int64_t columns,
                                 int64_t k, int64_t n, int64_t inner, int64_t skip) {
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < columns;
       c += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = c / inner;
    const int64_t i = c % inner;
    T* d = dst + o * n * inner + i;
    const T* s = src + o * k * inner + i;
    for (int64_t j = 0; j < k; ++j) {  // in index order: this thread owns column (o, i)
      const int64_t t = idx[j];
      if (t == skip) continue;
      d[t * inner] += s[j * inner];
    }
  }
}

template <class W>
__global__ void gather_kernel(W* out, const W* x, const int64_t* idx, int64_t total,
                              IndexedGeometry g) {
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < total;
       p += int64_t(gridDim.x) * blockDim.x) {
    int64_t r = p, q = 0;
    for (int d = g.dims - 1; d >= 0; --d) {
      const int64_t c = r % g.sizes[d];
      r /= g.sizes[d];
      q += (d == g.dim ? idx[p] : c) * g.tstrides[d];
    }
    out[p] = x[q];
  }
}

template <class T>
__global__ void scatter_add_kernel(T* dst, const T* src, const int64_t* idx, int64_t columns,
                                   int64_t k, IndexedGeometry g) {
  const int64_t istride_k = g.dims > 0 ? g.istrides[g.dim] : 0;
  const int64_t tstride_k = g.dims > 0 ? g.tstrides[g.dim] : 0;
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < columns;
       c += int64_t(gridDim.x) * blockDim.x) {
    // The column's first position in index/src (p0) and in dst (q0), from
    // its coordinates outside dim (c enumerates them in row-major order).
    int64_t r = c, p0 = 0, q0 = 0;
    for (int d = g.dims - 1; d >= 0; --d) {
      if (d == g.dim) continue;
      const int64_t cd = r % g.sizes[d];
      r /= g.sizes[d];
      p0 += cd * g.istrides[d];
      q0 += cd * g.tstrides[d];
    }
    for (int64_t j = 0; j < k; ++j) {  // in row-major order within the column
      const int64_t p = p0 + j * istride_k;
      dst[q0 + idx[p] * tstride_k] += src[p];
    }
  }
}

__global__ void first_out_of_range_kernel(const int64_t* idx, int64_t numel, int64_t n,
                                          unsigned long long* first) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < numel;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t v = idx[i];
    if (v < 0 || v >= n) atomicMin(first, static_cast<unsigned long long>(i));
  }
}

template <class T>
__global__ void dropout_kernel(const T* x, T* mask, T* out, int64_t n, double p, T scale,
                               uint64_t seed, uint64_t offset) {
  const int64_t nblocks = (n + 3) / 4;
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < nblocks;
       b += int64_t(gridDim.x) * blockDim.x) {
    const PhiloxBlock words = philox_block(offset + static_cast<uint64_t>(b), seed);
#pragma unroll
    for (int w = 0; w < 4; ++w) {
      const int64_t i = 4 * b + w;
      if (i >= n) break;  // the unused words of the last block are skipped, as on the CPU
      const bool keep = static_cast<double>(philox_unit_float(words.w[w])) >= p;
      mask[i] = keep ? T(1) : T(0);
      out[i] = keep ? x[i] * scale : T(0);
    }
  }
}

}  // namespace

// ---- launchers ---------------------------------------------------------------------

void cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out) {
  int64_t at = 0;
  for (const Tensor& t : inputs) {
    if (t.dim() == 1 && t.numel() == 0 && out.dim() != 1) continue;  // legacy empty input
    const int64_t len = t.size(dim);
    if (len > 0) cuda::copy(slab(out, dim, at, len), t);
    at += len;
  }
}

void index_select(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  const Blocks b = blocks(x.sizes(), dim);
  const int64_t k = index.numel();
  const int64_t total = b.outer * k * b.inner;
  if (total == 0) return;
  visit_word(x.element_size(), [&](auto w) {
    using W = decltype(w);
    index_select_kernel<W><<<blocks_for(total), kThreads, 0, stream()>>>(
        static_cast<W*>(out.raw_data()), static_cast<const W*>(x.raw_data()),
        index.data_ptr<int64_t>(), total, k, b.n, b.inner);
    LUCID_CUDA_CHECK_LAUNCH("index_select_kernel");
  });
}

void index_add(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src,
               int64_t skip) {
  const Blocks b = blocks(dst.sizes(), dim);
  const int64_t k = index.numel();
  const int64_t columns = b.outer * b.inner;
  if (columns == 0 || k == 0) return;
  visit_float_dtype("index_add", dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    index_add_kernel<T><<<blocks_for(columns), kThreads, 0, stream()>>>(
        dst.data_ptr<T>(), src.data_ptr<T>(), index.data_ptr<int64_t>(), columns, k, b.n, b.inner,
        skip);
    LUCID_CUDA_CHECK_LAUNCH("index_add_kernel");
  });
}

void gather(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  const int64_t total = index.numel();
  if (total == 0) return;
  const IndexedGeometry g = make_geometry("gather", index.sizes(), x.sizes(), dim);
  visit_word(x.element_size(), [&](auto w) {
    using W = decltype(w);
    gather_kernel<W><<<blocks_for(total), kThreads, 0, stream()>>>(
        static_cast<W*>(out.raw_data()), static_cast<const W*>(x.raw_data()),
        index.data_ptr<int64_t>(), total, g);
    LUCID_CUDA_CHECK_LAUNCH("gather_kernel");
  });
}

void scatter_add(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t total = index.numel();
  if (total == 0) return;
  const IndexedGeometry g = make_geometry("scatter_add", index.sizes(), dst.sizes(), dim);
  const int64_t k = g.dims > 0 ? g.sizes[g.dim] : 1;  // total > 0, so k > 0
  const int64_t columns = total / k;
  visit_float_dtype("scatter_add", dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    scatter_add_kernel<T><<<blocks_for(columns), kThreads, 0, stream()>>>(
        dst.data_ptr<T>(), src.data_ptr<T>(), index.data_ptr<int64_t>(), columns, k, g);
    LUCID_CUDA_CHECK_LAUNCH("scatter_add_kernel");
  });
}

bool find_index_out_of_range(const Tensor& index_in, int64_t n, int64_t* bad_value) {
  const int64_t numel = index_in.numel();
  if (numel == 0) return false;
  const Tensor index = index_in.contiguous();
  const int64_t* idx = index.data_ptr<int64_t>();
  // Scratch on the index's device (the caching allocator's), starting at numel = "none".
  Tensor first = empty({1}, TensorOptions(kInt64).device(index.device()));
  cuda::fill(first, static_cast<double>(numel));
  first_out_of_range_kernel<<<blocks_for(numel), kThreads, 0, stream()>>>(
      idx, numel, n, static_cast<unsigned long long*>(first.raw_data()));
  LUCID_CUDA_CHECK_LAUNCH("first_out_of_range_kernel");
  int64_t pos = numel;
  LUCID_CUDA_CHECK(cudaMemcpyAsync(&pos, first.raw_data(), sizeof(pos), cudaMemcpyDeviceToHost, stream()));
  LUCID_CUDA_CHECK(cudaStreamSynchronize(stream()));
  if (pos >= numel) return false;
  LUCID_CUDA_CHECK(cudaMemcpyAsync(bad_value, idx + pos, sizeof(int64_t), cudaMemcpyDeviceToHost, stream()));
  LUCID_CUDA_CHECK(cudaStreamSynchronize(stream()));
  return true;
}

void dropout(const Tensor& x, double p, double scale, GeneratorState at, const Tensor& mask,
             const Tensor& out) {
  const int64_t n = x.numel();
  if (n == 0) return;
  visit_float_dtype("dropout", x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    dropout_kernel<T><<<blocks_for((n + 3) / 4), kThreads, 0, stream()>>>(
        x.data_ptr<T>(), mask.data_ptr<T>(), out.data_ptr<T>(), n, p, static_cast<T>(scale),
        at.seed, at.offset);
    LUCID_CUDA_CHECK_LAUNCH("dropout_kernel");
  });
}

}  // namespace lucid::cuda
