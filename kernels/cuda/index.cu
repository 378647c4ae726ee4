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
// index_add and scatter_add (the backward of index_select / embedding and of
// gather) add many source rows into few targets. Both have two paths:
//
// Sorted path ("runs"), for long walks:
//   1. keys: index_add sorts index itself (m = k entries, values in [0, n));
//      scatter_add first writes key[p] = the flat dst position that entry p adds
//      into (scatter_targets_kernel: one thread per index element, like gather;
//      8 bytes in, 8 out), so m = numel(index).
//   2. iota_kernel: pos[p] = p.                       blocks_for(m) x 256, 8 bytes out
//   3. cub::DeviceRadixSort::SortPairs(key, pos) on the low key_bits(max key)
//      bits only (keys are >= 0): ceil(bits / 8) passes of ~32 bytes per entry.
//      The sort is stable, so equal keys keep increasing p.
//   4. run_heads_kernel: ids[p] = 1 where a run of equal sorted keys starts.
//      cub::DeviceScan::InclusiveSum(ids) in place numbers the runs 1, 2, ...
//      run_starts_kernel: starts[r] = first position of run r, starts[count] = m,
//      count = the number of runs, left on the device (the host never waits).
//      Each blocks_for(m) x 256, 8-24 bytes per entry, no FLOPs.
//      Scratch (all lucid int64 tensors, CUB's temporary storage a uint8 one,
//      which holds spare key and value buffers): about 56 bytes per entry (64 for
//      scatter_add); above kSortMaxEntries entries the owner walk is used.
//   5a. index_add_runs_kernel: one warp per (run, tile of 32 columns (o, i)),
//      blocks_for(32 * m * tiles) x 256 (an upper bound: warps past count * tiles
//      exit at once). Lane l owns column tile * 32 + l of the run's dst row t:
//      acc = dst[o, t, i]; acc += src[o, j, i] for the run's j in sorted order;
//      one store. The warp loads 32 positions at once and hands them round with
//      shuffles; each lane issues 8 independent src loads, then adds them in
//      order. A run whose row is the skipped one (padding_idx) is skipped whole.
//      Per (j, column): one src read, 1 FLOP; per (run, column): one dst read +
//      write; 8 bytes of pos per j. A run's length is its warp's sequential work: a
//      row hit r times costs r dependent adds (the price of the CPU's order).
//   5b. scatter_add_runs_kernel: one thread per run (one dst element),
//      blocks_for(m) x 256 (bound as above): acc = dst[q]; acc += src[pos[p]]
//      over the run; one store. Per entry: 8 + 8 bytes of key/pos, src read, 1 FLOP.
//
// Owner-computes path (the original kernels), for short walks:
//   index_add_kernel: one thread per column (o, i) of dst outside the indexed
//     dim: blocks_for(outer * inner) x 256; it walks j = 0..k-1 in order and
//     does dst[o, index[j], i] += src[o, j, i]. Per (j, column): 8 bytes of index
//     (broadcast), src read, dst read + write; 1 FLOP.
//   scatter_add_kernel: one thread per column of `index` outside dim (all
//     positions p that share every coordinate but dim's): blocks_for(numel(index)
//     / k) x 256; it walks the column in order (k = index.size(dim)) and adds
//     src[p] into its target. Per element: index + src read, dst read + write.
//   Two threads never share a target (the target keeps the thread's (o, i), or
//   its coordinates outside dim), so again no races and no atomics. Its
//   parallelism is only the number of columns, and each thread runs k
//   dependent steps (the store into dst keeps the next step's loads from
//   starting early): ~0.5 us a step, whatever the GPU's size.
//
// The switch (a cost model, not yet measured on a GPU):
//   index_add: sorted when k > kOwnerMaxSteps = 32. The sort is over k entries
//     only, so its cost (~8 launches, ~30 us) is small next to the k-step walk
//     it replaces; with k <= 32 the walk is at most ~16 us and needs 1 launch.
//     Embedding backward (outer = 1, inner = embedding dim, k = tokens) is the
//     case that needs it: 10^6 tokens with dim 64 were 64 threads x 10^6 steps.
//     Not sorted either when inner < 32 and columns >= 65536 (the owner path is
//     parallel there and reads rows contiguously; a warp would read 32 rows k
//     apart) or when k > kSortMaxEntries (the sort's scratch would be too big).
//   scatter_add: sorted when k >= kScatterSortMinSteps = 128 and columns <=
//     kScatterSortMaxColumns = 512. Here the sort is over all m = columns * k
//     entries, so it pays only when the owner path is latency-bound with few
//     threads (gather along a long dim of a thin tensor: [64, 10^4] with index
//     [64, 2049] was 64 threads x 2049 steps); with many columns the owner path
//     is already parallel and streams each element once, which beats sorting it.
//     Never above kSortMaxEntries entries.
//
// Determinism and bit-identity with the CPU, both paths: the CPU adds into each
// dst element in increasing j (index_add) or increasing row-major p
// (scatter_add); every entry that adds into one dst element shares its key (the
// dst row t, or the flat dst position q), and a stable sort keeps equal keys in
// increasing j / p. So each dst element is summed by exactly one lane, from its
// old value, over the same addends in the same order as on the CPU: the same
// float additions, rounded the same way (no FMA, no reassociation, no atomics),
// the same bits on every run. Different lanes write different dst elements
// (different runs have different keys; within a run, different columns).
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

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include <algorithm>

#include <lucid/kernels/cuda/copy.h>
#include <lucid/kernels/cuda/launch.cuh>
#include <lucid/kernels/cuda/philox.cuh>
#include <lucid/kernels/factory.h>
#include <lucid/kernels/index_blocks.h>

namespace lucid::cuda {

namespace {

// ---- host helpers ------------------------------------------------------------------

using lucid::detail::Blocks;  // kernels/index_blocks.h, shared with the other backend
using lucid::detail::blocks;

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

// When the sorted path replaces the owner-computes walk (the cost model is in
// the header comment above).
inline constexpr int64_t kOwnerMaxSteps = 32;
inline constexpr int64_t kScatterSortMinSteps = 128;
inline constexpr int64_t kScatterSortMaxColumns = 512;
// At most 2^26 entries sorted (about 4 GiB of scratch at ~64 bytes each).
inline constexpr int64_t kSortMaxEntries = int64_t{1} << 26;

// Bits that hold every key in [0, max_key] (at least 1): the radix sort skips the rest.
int key_bits(int64_t max_key) {
  int bits = 1;
  while (bits < 63 && (max_key >> bits) != 0) ++bits;
  return bits;
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

// The flat position in x (gather) or dst (scatter_add) that entry p of the
// index addresses: p's coordinates, with coordinate `dim` replaced by idx[p].
__device__ inline int64_t target_of(int64_t p, const int64_t* idx, const IndexedGeometry& g) {
  int64_t r = p, q = 0;
  for (int d = g.dims - 1; d >= 0; --d) {
    const int64_t c = r % g.sizes[d];
    r /= g.sizes[d];
    q += (d == g.dim ? idx[p] : c) * g.tstrides[d];
  }
  return q;
}

template <class W>
__global__ void gather_kernel(W* out, const W* x, const int64_t* idx, int64_t total,
                              IndexedGeometry g) {
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < total;
       p += int64_t(gridDim.x) * blockDim.x) {
    out[p] = x[target_of(p, idx, g)];
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

// ---- sorted runs (the fast path of index_add / scatter_add) ----------------------

__global__ void iota_kernel(int64_t* pos, int64_t m) {
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < m;
       p += int64_t(gridDim.x) * blockDim.x)
    pos[p] = p;
}

// ids[p] = 1 where sorted key p starts a run of equal keys, else 0; an
// inclusive sum then turns ids[p] into the (1-based) number of p's run.
__global__ void run_heads_kernel(const int64_t* keys, int64_t* ids, int64_t m) {
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < m;
       p += int64_t(gridDim.x) * blockDim.x)
    ids[p] = (p == 0 || keys[p] != keys[p - 1]) ? 1 : 0;
}

// starts[r] = the first sorted position of run r; the last position also
// writes the end sentinel starts[count] = m and the number of runs.
__global__ void run_starts_kernel(const int64_t* ids, int64_t m, int64_t* starts,
                                  int64_t* count) {
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < m;
       p += int64_t(gridDim.x) * blockDim.x) {
    const int64_t id = ids[p];
    if (p == 0 || ids[p - 1] != id) starts[id - 1] = p;
    if (p == m - 1) {
      starts[id] = m;
      *count = id;
    }
  }
}

// key[p] = the flat position in (packed) dst that scatter_add adds src[p] into.
__global__ void scatter_targets_kernel(int64_t* key, const int64_t* idx, int64_t total,
                                       IndexedGeometry g) {
  for (int64_t p = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; p < total;
       p += int64_t(gridDim.x) * blockDim.x) {
    key[p] = target_of(p, idx, g);
  }
}

// One warp per (run, tile of 32 columns): lane l sums column tile * 32 + l of
// the run's dst row t over the run's j, in sorted (= increasing j) order. All
// loop bounds are the same for the whole warp, so every lane reaches every
// shuffle. Lanes past the last column work on the last column (valid
// addresses, no branches in the loop) and store nothing.
template <class T>
__global__ void index_add_runs_kernel(T* dst, const T* src, const int64_t* keys,
                                      const int64_t* pos, const int64_t* starts,
                                      const int64_t* count, int64_t columns, int64_t k,
                                      int64_t n, int64_t inner, int64_t skip) {
  constexpr int kBatch = 8;  // src loads in flight before their adds
  const int lane = threadIdx.x % 32;
  const int64_t tiles = (columns + 31) / 32;
  const int64_t work = *count * tiles;
  const int64_t warps = int64_t(gridDim.x) * blockDim.x / 32;
  for (int64_t w = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32; w < work;
       w += warps) {
    const int64_t run = w / tiles;
    const int64_t begin = starts[run], end = starts[run + 1];
    const int64_t t = keys[begin];  // the dst row every entry of this run adds into
    if (t == skip) continue;       // padding_idx: the whole run is skipped, as on the CPU
    const int64_t c = (w % tiles) * 32 + lane;
    const bool active = c < columns;
    const int64_t col = active ? c : columns - 1;
    const int64_t o = col / inner, i = col % inner;
    const int64_t at = (o * n + t) * inner + i;  // dst[o, t, i]
    const T* s = src + o * k * inner + i;       // src[o, 0, i]
    T acc = dst[at];
    for (int64_t base = begin; base < end; base += 32) {
      // 32 positions in one coalesced load, handed round by shuffles (lanes
      // past the run's end hold 0: a valid row whose value is never added).
      const long long mine = base + lane < end ? pos[base + lane] : 0;
      const int len = end - base < 32 ? static_cast<int>(end - base) : 32;
      for (int r0 = 0; r0 < len; r0 += kBatch) {
        T v[kBatch];
#pragma unroll
        for (int u = 0; u < kBatch; ++u) {
          const long long j = __shfl_sync(0xffffffffu, mine, (r0 + u) % 32);
          v[u] = r0 + u < len ? s[j * inner] : T(0);  // no load past the run (len: warp-uniform)
        }
#pragma unroll
        for (int u = 0; u < kBatch; ++u)  // in sorted order: the CPU's order of j
          if (r0 + u < len) acc += v[u];  // (not += 0 past the end: -0 + 0 is +0)
      }
    }
    if (active) dst[at] = acc;
  }
}

// One thread per run: the run's entries all add into dst[q]; they are summed in
// sorted (= increasing p, the CPU's row-major) order.
template <class T>
__global__ void scatter_add_runs_kernel(T* dst, const T* src, const int64_t* keys,
                                        const int64_t* pos, const int64_t* starts,
                                        const int64_t* count) {
  const int64_t runs = *count;
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r < runs;
       r += int64_t(gridDim.x) * blockDim.x) {
    const int64_t begin = starts[r], end = starts[r + 1];
    const int64_t q = keys[begin];
    T acc = dst[q];
#pragma unroll 4
    for (int64_t p = begin; p < end; ++p) acc += src[pos[p]];
    dst[q] = acc;
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

// ---- sorted runs: host side ---------------------------------------------------------

// m int64 keys in [0, max_key], stably sorted and cut into runs of equal keys.
// All device tensors; nothing is read back (the run count stays on the device).
struct Runs {
  Tensor keys;    // [m] the keys in increasing order
  Tensor pos;     // [m] each sorted key's input position; increasing within a run
  Tensor starts;  // [m + 1] run r is sorted entries starts[r] .. starts[r + 1] - 1
  Tensor count;   // [1] the number of runs (starts[0 .. count] are set)
};

Runs sort_into_runs(const int64_t* keys, int64_t m, int64_t max_key, Device device) {
  const TensorOptions i64 = TensorOptions(kInt64).device(device);
  Runs r{empty({m}, i64), empty({m}, i64), empty({m + 1}, i64), empty({1}, i64)};
  Tensor pos_in = empty({m}, i64);
  Tensor ids = empty({m}, i64);
  int64_t* sorted_keys = r.keys.data_ptr<int64_t>();
  int64_t* sorted_pos = r.pos.data_ptr<int64_t>();
  int64_t* in_pos = pos_in.data_ptr<int64_t>();
  int64_t* run_ids = ids.data_ptr<int64_t>();
  const int bits = key_bits(max_key);

  // CUB's temporary storage: one lucid buffer, big enough for both calls
  // (a null pointer first asks for the size; at least 1 byte so the real
  // calls never pass null, which would be read as another size query).
  size_t sort_bytes = 0, scan_bytes = 0;
  LUCID_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, sort_bytes, keys, sorted_keys, in_pos,
                                                   sorted_pos, m, 0, bits, stream()));
  LUCID_CUDA_CHECK(
      cub::DeviceScan::InclusiveSum(nullptr, scan_bytes, run_ids, run_ids, m, stream()));
  const size_t temp_bytes = std::max<size_t>({sort_bytes, scan_bytes, 1});
  Tensor temp = empty({static_cast<int64_t>(temp_bytes)}, TensorOptions(kUInt8).device(device));
  void* temp_ptr = temp.raw_data();

  iota_kernel<<<blocks_for(m), kThreads, 0, stream()>>>(in_pos, m);
  LUCID_CUDA_CHECK_LAUNCH("iota_kernel");
  // Stable: equal keys keep their input order, which is the CPU's order of adds.
  LUCID_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp_ptr, sort_bytes, keys, sorted_keys, in_pos,
                                                   sorted_pos, m, 0, bits, stream()));
  run_heads_kernel<<<blocks_for(m), kThreads, 0, stream()>>>(sorted_keys, run_ids, m);
  LUCID_CUDA_CHECK_LAUNCH("run_heads_kernel");
  LUCID_CUDA_CHECK(
      cub::DeviceScan::InclusiveSum(temp_ptr, scan_bytes, run_ids, run_ids, m, stream()));
  run_starts_kernel<<<blocks_for(m), kThreads, 0, stream()>>>(
      run_ids, m, r.starts.data_ptr<int64_t>(), r.count.data_ptr<int64_t>());
  LUCID_CUDA_CHECK_LAUNCH("run_starts_kernel");
  return r;
}

}  // namespace

// ---- launchers ---------------------------------------------------------------------

void cat(const std::vector<Tensor>& inputs, int64_t dim, const Tensor& out) {
  lucid::detail::cat_into(inputs, dim, out, [](const Tensor& dst, const Tensor& src) { cuda::copy(dst, src); });
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
  const int64_t* idx = index.data_ptr<int64_t>();
  visit_float_dtype("index_add", dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    // A short walk: one launch beats the sort's ~8. Too many entries for the
    // sort's scratch (about 56 bytes each): the owner walk needs none. Narrow
    // rows (inner < 32) with many columns: the owner threads already fill the
    // GPU and walk their rows contiguously, while a warp would read 32 rows
    // k apart, 4 bytes per 32-byte sector.
    if (k <= kOwnerMaxSteps || k > kSortMaxEntries || (b.inner < 32 && columns >= 65536)) {
      index_add_kernel<T><<<blocks_for(columns), kThreads, 0, stream()>>>(
          dst.data_ptr<T>(), src.data_ptr<T>(), idx, columns, k, b.n, b.inner, skip);
      LUCID_CUDA_CHECK_LAUNCH("index_add_kernel");
      return;
    }
    // k > 0 entries in range, so n >= 1 and the keys lie in [0, n - 1].
    const Runs runs = sort_into_runs(idx, k, b.n - 1, index.device());
    const int64_t tiles = (columns + 31) / 32;
    index_add_runs_kernel<T><<<blocks_for(32 * k * tiles), kThreads, 0, stream()>>>(
        dst.data_ptr<T>(), src.data_ptr<T>(), runs.keys.data_ptr<int64_t>(),
        runs.pos.data_ptr<int64_t>(), runs.starts.data_ptr<int64_t>(),
        runs.count.data_ptr<int64_t>(), columns, k, b.n, b.inner, skip);
    LUCID_CUDA_CHECK_LAUNCH("index_add_runs_kernel");
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
  const int64_t* idx = index.data_ptr<int64_t>();
  visit_float_dtype("scatter_add", dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (k < kScatterSortMinSteps || columns > kScatterSortMaxColumns || total > kSortMaxEntries) {
      scatter_add_kernel<T><<<blocks_for(columns), kThreads, 0, stream()>>>(
          dst.data_ptr<T>(), src.data_ptr<T>(), idx, columns, k, g);
      LUCID_CUDA_CHECK_LAUNCH("scatter_add_kernel");
      return;
    }
    // Key = the flat dst position each entry adds into, in [0, numel(dst) - 1].
    Tensor targets = empty({total}, TensorOptions(kInt64).device(index.device()));
    scatter_targets_kernel<<<blocks_for(total), kThreads, 0, stream()>>>(
        targets.data_ptr<int64_t>(), idx, total, g);
    LUCID_CUDA_CHECK_LAUNCH("scatter_targets_kernel");
    const Runs runs =
        sort_into_runs(targets.data_ptr<int64_t>(), total, dst.numel() - 1, index.device());
    scatter_add_runs_kernel<T><<<blocks_for(total), kThreads, 0, stream()>>>(
        dst.data_ptr<T>(), src.data_ptr<T>(), runs.keys.data_ptr<int64_t>(),
        runs.pos.data_ptr<int64_t>(), runs.starts.data_ptr<int64_t>(),
        runs.count.data_ptr<int64_t>());
    LUCID_CUDA_CHECK_LAUNCH("scatter_add_runs_kernel");
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
