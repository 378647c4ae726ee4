// Fused scaled dot-product attention kernels (the reference: the composed op in
// autograd/ops/attention.cpp). FlashAttention's idea written plainly, with no
// tensor cores: the [L, S] scores are computed tile by tile and never stored.
//
// Layout: q [B, L, E], k [B, S, E], v [B, S, Ev], out/grad_out [B, L, Ev], lse [B, L],
// all packed. Every kernel: 256 threads = 8 warps, one warp per row (query row in
// forward and dq, key row in dkdv), grid = B * ceil(rows / 8) blocks (1-D).
// A block walks the other side in 32-row tiles staged in shared memory; within a
// tile, lane t of a warp owns the t-th row of the tile (its dot products), and for
// the accumulations lane t owns output dims t, t + 32, ... (<= 4 of them, so
// E, Ev <= 128; attention_fits() in the header also caps shared memory at 48 KB).
//
// forward: per query row i, over key tiles: s_j = scale q_i.k_j + mask, then the
//   online softmax: m' = max(m, max_j s_j), l = l e^(m - m') + sum_j e^(s_j - m'),
//   acc = acc e^(m - m') + sum_j e^(s_j - m') v_j; finally out_i = acc / l and
//   lse_i = m + log l. Shared: 8 q rows + a k tile [32][E+1] + a v tile [32][Ev].
//   Per (i, j): 2E + 2Ev FLOPs + 1 exp; global traffic per block: q rows, out rows,
//   and each k/v row once per 8 query rows (sizeof(T) (E + Ev) S / 8 per query).
// backward (recompute P_ij = exp(s_ij - lse_i), no stored probabilities):
//   dq kernel, per query row i: D_i = dO_i.O_i (written for dkdv), then over key
//     tiles dS_ij = P_ij (dO_i.v_j - D_i), dq_i = scale sum_j dS_ij k_j.
//     Shared: 8 q and dO rows + k [32][E+1] and v [32][Ev+1] tiles.
//     Per (i, j): 3E + 2Ev FLOPs + 1 exp.
//   dkdv kernel, per key row j, over query tiles in order i = 0, 1, ...:
//     dv_j = sum_i P_ij dO_i, dk_j = scale sum_i dS_ij q_i.
//     Shared: 8 k and v rows + q [32][E+1] and dO [32][Ev+1] tiles + 32 lse, 32 D.
//     Per (i, j): 3E + 3Ev FLOPs + 1 exp.
//   Each output row is owned by one warp and summed in a fixed order: no atomics,
//   same bits on every run. (The score dot products are the same sums in all
//   three kernels, so the backward's P is exactly the forward's.)
// is_causal: the forward and dq loops stop after key i_max of the block, dkdv
// starts at query j_min of the block. Tiles are padded by one element where a lane
// reads a whole row (its dot product), so the 32 lanes hit 32 different banks.
#include <lucid/kernels/cuda/attention.h>

#include <lucid/kernels/cuda/launch.cuh>
#include <lucid/kernels/factory.h>

namespace lucid::cuda {

namespace {

constexpr int kRows = static_cast<int>(kAttentionRowsPerBlock);  // warps per block
constexpr int kTile = kAttentionTile;                             // = warp size
constexpr int kPerLane = static_cast<int>(kAttentionMaxHeadDim / 32);
constexpr int kBlockThreads = 32 * kRows;
constexpr unsigned kFullMask = 0xffffffffu;
static_assert(kAttentionMaxBatchDims <= kMaxDims, "a mask's batch dims fit a StridedIndexer");

enum class MaskKind { None, Causal, Bool, Add };

// Where entry (b, i, j) of the mask lives: batch offset from the flattened batch
// index b (0 strides where broadcast), then i * stride_l + j * stride_s.
struct MaskView {
  MaskKind kind = MaskKind::None;
  const void* data = nullptr;
  StridedIndexer<1> batch;
  int64_t stride_l = 0, stride_s = 0;

  __device__ int64_t batch_offset(int64_t b) const {
    int64_t off[1];
    batch.offsets(b, off);
    return off[0];
  }
  // Whether key j takes part in query i's softmax (bool mask, causal).
  __device__ bool takes_part(int64_t base, int64_t i, int64_t j) const {
    if (kind == MaskKind::Causal) return j <= i;
    if (kind == MaskKind::Bool) return static_cast<const bool*>(data)[base + i * stride_l + j * stride_s];
    return true;
  }
  // What a float mask adds to the score (i, j).
  template <class T>
  __device__ T added(int64_t base, int64_t i, int64_t j) const {
    return kind == MaskKind::Add ? static_cast<const T*>(data)[base + i * stride_l + j * stride_s] : T(0);
  }
};

__device__ inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Butterfly reductions: every lane ends with the same bits (a + b == b + a).
template <class T>
__device__ inline T warp_sum(T v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(kFullMask, v, o);
  return v;
}
// fmax ignores NaN, so all lanes agree; a NaN score still poisons the row through exp.
template <class T>
__device__ inline T warp_max(T v) {
  for (int o = 16; o > 0; o /= 2) v = fmax(v, __shfl_xor_sync(kFullMask, v, o));
  return v;
}

// rows [r0, r0 + n) of a packed [*, width] matrix into shared [n][pitch].
template <class T>
__device__ inline void load_rows(T* dst, int pitch, const T* src, int64_t r0, int n, int width) {
  for (int t = threadIdx.x; t < n * width; t += blockDim.x)
    dst[(t / width) * pitch + t % width] = src[r0 * width + t];
}

// q_i.k_j in e order: the same sum in all three kernels.
template <class T>
__device__ inline T dot(const T* a, const T* b, int n) {
  T s = 0;
  for (int e = 0; e < n; ++e) s += a[e] * b[e];
  return s;
}

template <class T>
__global__ void __launch_bounds__(kBlockThreads)
    attention_forward_kernel(const T* q, const T* k, const T* v, T* out, T* lse, int64_t L, int64_t S,
                             int E, int Ev, int64_t row_tiles, T scale, MaskView mask) {
  extern __shared__ double attention_smem[];
  T* q_rows = reinterpret_cast<T*>(attention_smem);  // [kRows][E]
  T* k_tile = q_rows + kRows * E;                    // [kTile][E + 1]
  T* v_tile = k_tile + kTile * (E + 1);              // [kTile][Ev]
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.x / row_tiles, i0 = (blockIdx.x % row_tiles) * kRows;
  const int rows = static_cast<int>(min64(L - i0, kRows));
  const int64_t i = i0 + warp;
  const bool active = warp < rows;  // warp-uniform; idle warps still help load tiles
  const int64_t base = mask.batch_offset(b);
  load_rows(q_rows, E, q + b * L * E, i0, rows, E);
  const int64_t s_end = mask.kind == MaskKind::Causal ? min64(S, i0 + rows) : S;

  T m = -INFINITY, l = 0, acc[kPerLane] = {};
  for (int64_t j0 = 0; j0 < s_end; j0 += kTile) {
    const int n = static_cast<int>(min64(s_end - j0, kTile));
    __syncthreads();  // the previous tile is consumed
    load_rows(k_tile, E + 1, k + b * S * E, j0, n, E);
    load_rows(v_tile, Ev, v + b * S * Ev, j0, n, Ev);
    __syncthreads();
    if (!active) continue;
    const int64_t j = j0 + lane;  // this lane's key
    T s = -INFINITY;
    if (lane < n && mask.takes_part(base, i, j))
      s = dot(q_rows + warp * E, k_tile + lane * (E + 1), E) * scale + mask.added<T>(base, i, j);
    const T m_new = fmax(m, warp_max(s));
    // No key taking part yet: m = -inf, l = 0 stay. A NaN score must not be
    // skipped (warp_max drops NaN): it goes on and makes the row NaN, as the
    // composed op does.
    if (m_new == -INFINITY && !__any_sync(kFullMask, s != s)) continue;
    const T alpha = exp(m - m_new);    // rescales what was summed under the old max
    const T p = exp(s - m_new);
    l = l * alpha + warp_sum(p);
    for (int t = 0; t < kPerLane; ++t) acc[t] *= alpha;
    for (int jj = 0; jj < n; ++jj) {
      const T pj = __shfl_sync(kFullMask, p, jj);
      for (int t = 0; t < kPerLane; ++t) {
        const int d = lane + 32 * t;
        if (d < Ev) acc[t] += pj * v_tile[jj * Ev + d];
      }
    }
    m = m_new;
  }
  if (!active) return;
  // Every key masked: l = 0, out = 0 / 0 = NaN and lse = -inf, as the composed softmax.
  for (int t = 0; t < kPerLane; ++t) {
    const int d = lane + 32 * t;
    if (d < Ev) out[(b * L + i) * Ev + d] = acc[t] / l;
  }
  if (lane == 0) lse[b * L + i] = m + log(l);
}

template <class T>
__global__ void __launch_bounds__(kBlockThreads)
    attention_dq_kernel(const T* q, const T* k, const T* v, const T* out, const T* lse, const T* gout,
                        T* D, T* gq, int64_t L, int64_t S, int E, int Ev, int64_t row_tiles, T scale,
                        MaskView mask) {
  extern __shared__ double attention_smem[];
  T* q_rows = reinterpret_cast<T*>(attention_smem);  // [kRows][E]
  T* go_rows = q_rows + kRows * E;                   // [kRows][Ev]
  T* k_tile = go_rows + kRows * Ev;                  // [kTile][E + 1]
  T* v_tile = k_tile + kTile * (E + 1);              // [kTile][Ev + 1]
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.x / row_tiles, i0 = (blockIdx.x % row_tiles) * kRows;
  const int rows = static_cast<int>(min64(L - i0, kRows));
  const int64_t i = i0 + warp;
  const bool active = warp < rows;
  const int64_t base = mask.batch_offset(b);
  load_rows(q_rows, E, q + b * L * E, i0, rows, E);
  load_rows(go_rows, Ev, gout + b * L * Ev, i0, rows, Ev);
  const int64_t s_end = mask.kind == MaskKind::Causal ? min64(S, i0 + rows) : S;
  __syncthreads();

  T Di = 0, lse_i = 0;
  if (active) {
    T part = 0;  // D_i = dO_i . O_i: lane-strided partial sums, then the butterfly
    for (int d = lane; d < Ev; d += 32) part += go_rows[warp * Ev + d] * out[(b * L + i) * Ev + d];
    Di = warp_sum(part);
    if (lane == 0) D[b * L + i] = Di;
    lse_i = lse[b * L + i];
  }
  T dq[kPerLane] = {};
  for (int64_t j0 = 0; j0 < s_end; j0 += kTile) {
    const int n = static_cast<int>(min64(s_end - j0, kTile));
    __syncthreads();
    load_rows(k_tile, E + 1, k + b * S * E, j0, n, E);
    load_rows(v_tile, Ev + 1, v + b * S * Ev, j0, n, Ev);
    __syncthreads();
    if (!active) continue;
    const int64_t j = j0 + lane;
    T ds = 0;  // dS_ij = P_ij (dO_i . v_j - D_i); 0 where j does not take part
    if (lane < n && mask.takes_part(base, i, j)) {
      const T s = dot(q_rows + warp * E, k_tile + lane * (E + 1), E) * scale + mask.added<T>(base, i, j);
      const T p = exp(s - lse_i);
      ds = p * (dot(go_rows + warp * Ev, v_tile + lane * (Ev + 1), Ev) - Di);
    }
    for (int jj = 0; jj < n; ++jj) {
      const T dsj = __shfl_sync(kFullMask, ds, jj);
      for (int t = 0; t < kPerLane; ++t) {
        const int e = lane + 32 * t;
        if (e < E) dq[t] += dsj * k_tile[jj * (E + 1) + e];
      }
    }
  }
  if (!active) return;
  for (int t = 0; t < kPerLane; ++t) {
    const int e = lane + 32 * t;
    if (e < E) gq[(b * L + i) * E + e] = dq[t] * scale;
  }
}

template <class T>
__global__ void __launch_bounds__(kBlockThreads)
    attention_dkdv_kernel(const T* q, const T* k, const T* v, const T* lse, const T* gout, const T* D,
                          T* gk, T* gv, int64_t L, int64_t S, int E, int Ev, int64_t row_tiles, T scale,
                          MaskView mask) {
  extern __shared__ double attention_smem[];
  T* k_rows = reinterpret_cast<T*>(attention_smem);  // [kRows][E]
  T* v_rows = k_rows + kRows * E;                    // [kRows][Ev]
  T* q_tile = v_rows + kRows * Ev;                   // [kTile][E + 1]
  T* go_tile = q_tile + kTile * (E + 1);             // [kTile][Ev + 1]
  T* lse_tile = go_tile + kTile * (Ev + 1);          // [kTile]
  T* d_tile = lse_tile + kTile;                      // [kTile]
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.x / row_tiles, j0 = (blockIdx.x % row_tiles) * kRows;
  const int rows = static_cast<int>(min64(S - j0, kRows));
  const int64_t j = j0 + warp;  // this warp's key
  const bool active = warp < rows;
  const int64_t base = mask.batch_offset(b);
  load_rows(k_rows, E, k + b * S * E, j0, rows, E);
  load_rows(v_rows, Ev, v + b * S * Ev, j0, rows, Ev);
  // causal: queries i < j0 see none of this block's keys
  const int64_t i_begin = mask.kind == MaskKind::Causal ? min64(j0, L) : 0;

  T dk[kPerLane] = {}, dv[kPerLane] = {};
  for (int64_t i0 = i_begin; i0 < L; i0 += kTile) {  // queries in order: a fixed summation order
    const int n = static_cast<int>(min64(L - i0, kTile));
    __syncthreads();
    load_rows(q_tile, E + 1, q + b * L * E, i0, n, E);
    load_rows(go_tile, Ev + 1, gout + b * L * Ev, i0, n, Ev);
    if (static_cast<int>(threadIdx.x) < n) {
      lse_tile[threadIdx.x] = lse[b * L + i0 + threadIdx.x];
      d_tile[threadIdx.x] = D[b * L + i0 + threadIdx.x];
    }
    __syncthreads();
    if (!active) continue;
    const int64_t i = i0 + lane;  // this lane's query
    T p = 0, ds = 0;
    if (lane < n) {
      // A key that does not take part has s = -inf: P = 0, or NaN in a fully masked
      // row (lse = -inf), whose NaN probabilities reach dv as in the composed op;
      // its dS is 0 (where() passes no gradient to masked scores).
      const bool part = mask.takes_part(base, i, j);
      const T s = part ? dot(q_tile + lane * (E + 1), k_rows + warp * E, E) * scale +
                             mask.added<T>(base, i, j)
                       : T(-INFINITY);
      p = exp(s - lse_tile[lane]);
      if (part) ds = p * (dot(go_tile + lane * (Ev + 1), v_rows + warp * Ev, Ev) - d_tile[lane]);
    }
    for (int ii = 0; ii < n; ++ii) {
      const T pi = __shfl_sync(kFullMask, p, ii);
      const T dsi = __shfl_sync(kFullMask, ds, ii);
      for (int t = 0; t < kPerLane; ++t) {
        const int d = lane + 32 * t;
        if (d < Ev) dv[t] += pi * go_tile[ii * (Ev + 1) + d];
        if (d < E) dk[t] += dsi * q_tile[ii * (E + 1) + d];
      }
    }
  }
  if (!active) return;
  for (int t = 0; t < kPerLane; ++t) {
    const int d = lane + 32 * t;
    if (d < Ev) gv[(b * S + j) * Ev + d] = dv[t];
    if (d < E) gk[(b * S + j) * E + d] = dk[t] * scale;
  }
}

// ---- host helpers ------------------------------------------------------------------

struct Dims {
  int64_t B = 0, L = 0, S = 0;
  int E = 0, Ev = 0;
};

Dims dims_of(const Tensor& q, const Tensor& k, const Tensor& v) {
  Dims d;
  d.L = q.size(-2);
  d.S = k.size(-2);
  d.B = 1;  // the flattened batch dims (q.numel() / (L E) fails for E = 0)
  for (int64_t i = 0; i + 2 < q.dim(); ++i) d.B *= q.size(i);
  LUCID_CHECK(q.size(-1) <= kAttentionMaxHeadDim && v.size(-1) <= kAttentionMaxHeadDim,
              "attention: CUDA kernel takes E, Ev <= ", kAttentionMaxHeadDim, ", got q ", q.sizes(),
              ", v ", v.sizes());
  d.E = static_cast<int>(q.size(-1));
  d.Ev = static_cast<int>(v.size(-1));
  return d;
}

MaskView mask_view(const char* op, const Tensor& mask, bool is_causal) {
  MaskView m;
  if (is_causal) {
    m.kind = MaskKind::Causal;
    return m;
  }
  if (!mask.defined()) return m;
  m.kind = mask.dtype() == kBool ? MaskKind::Bool : MaskKind::Add;
  m.data = mask.raw_data();
  const int nb = static_cast<int>(mask.dim()) - 2;  // mask is [*, L, S]: batch dims first
  LUCID_CHECK(nb <= kAttentionMaxBatchDims, op, ": CUDA kernel takes at most ", kAttentionMaxBatchDims,
              " batch dims, got mask ",
              mask.sizes());
  m.batch.dims = nb;
  for (int d = 0; d < nb; ++d) {
    m.batch.sizes[d] = mask.size(d);
    m.batch.strides[0][d] = mask.sizes()[d] == 1 ? 0 : mask.strides()[d];
  }
  m.stride_l = mask.strides()[nb];
  m.stride_s = mask.strides()[nb + 1];
  return m;
}

unsigned grid_for(const char* op, int64_t B, int64_t rows, int64_t* row_tiles) {
  *row_tiles = (rows + kRows - 1) / kRows;
  const int64_t blocks = B * *row_tiles;
  LUCID_CHECK(blocks <= 0x7fffffff, op, ": too many rows for one launch (", blocks, " blocks)");
  return static_cast<unsigned>(blocks);
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                       bool is_causal, double scale, const Tensor& out, const Tensor& lse) {
  const Dims d = dims_of(q, k, v);
  if (d.B == 0 || d.L == 0 || d.Ev == 0) return;  // nothing to write (S = 0 never reaches here)
  const MaskView m = mask_view("attention_forward", mask, is_causal);
  int64_t row_tiles = 0;
  const unsigned blocks = grid_for("attention_forward", d.B, d.L, &row_tiles);
  visit_float_dtype("attention_forward", q.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const size_t smem = (kRows * d.E + kTile * (d.E + 1) + kTile * d.Ev) * sizeof(T);
    attention_forward_kernel<T><<<blocks, kBlockThreads, smem, stream()>>>(
        static_cast<const T*>(q.raw_data()), static_cast<const T*>(k.raw_data()),
        static_cast<const T*>(v.raw_data()), static_cast<T*>(out.raw_data()), static_cast<T*>(lse.raw_data()),
        d.L, d.S, d.E, d.Ev, row_tiles, static_cast<T>(scale), m);
    LUCID_CUDA_CHECK_LAUNCH("attention_forward_kernel");
  });
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                        bool is_causal, double scale, const Tensor& out, const Tensor& lse,
                        const Tensor& grad_out, const Tensor& gq, const Tensor& gk,
                        const Tensor& gv) {
  const Dims d = dims_of(q, k, v);
  if (d.B == 0 || d.L == 0 || d.S == 0) return;  // the op only comes here with all of them > 0
  const MaskView m = mask_view("attention_backward", mask, is_causal);
  const Tensor D = empty({d.B, d.L}, q.options());  // D_i = dO_i . O_i, from dq for dkdv
  int64_t q_tiles = 0, k_tiles = 0;
  const unsigned q_blocks = grid_for("attention_backward", d.B, d.L, &q_tiles);
  const unsigned k_blocks = grid_for("attention_backward", d.B, d.S, &k_tiles);
  visit_float_dtype("attention_backward", q.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T *qp = static_cast<const T*>(q.raw_data()), *kp = static_cast<const T*>(k.raw_data()),
            *vp = static_cast<const T*>(v.raw_data()), *lp = static_cast<const T*>(lse.raw_data()),
            *gop = static_cast<const T*>(grad_out.raw_data());
    const size_t smem_dq =
        (kRows * (d.E + d.Ev) + kTile * (d.E + 1) + kTile * (d.Ev + 1)) * sizeof(T);
    attention_dq_kernel<T><<<q_blocks, kBlockThreads, smem_dq, stream()>>>(
        qp, kp, vp, static_cast<const T*>(out.raw_data()), lp, gop, static_cast<T*>(D.raw_data()),
        static_cast<T*>(gq.raw_data()), d.L, d.S, d.E, d.Ev, q_tiles, static_cast<T>(scale), m);
    LUCID_CUDA_CHECK_LAUNCH("attention_dq_kernel");
    const size_t smem_dkdv = smem_dq + 2 * kTile * sizeof(T);
    attention_dkdv_kernel<T><<<k_blocks, kBlockThreads, smem_dkdv, stream()>>>(
        qp, kp, vp, lp, gop, static_cast<const T*>(D.raw_data()), static_cast<T*>(gk.raw_data()),
        static_cast<T*>(gv.raw_data()), d.L, d.S, d.E, d.Ev, k_tiles, static_cast<T>(scale), m);
    LUCID_CUDA_CHECK_LAUNCH("attention_dkdv_kernel");
  });
}

}  // namespace lucid::cuda
