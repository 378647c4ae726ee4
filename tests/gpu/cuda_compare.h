// CPU-vs-CUDA comparison for the GPU tests: the tolerance table, the
// comparison rule, and run_on_both(), which runs one op-case row
// (tests/op_case.h, tables in tests/cases/*.h) on CPU and on CUDA.
//
// ---- Tolerances, per op family ----------------------------------------------
// The CPU kernel is the reference. An element passes when
//
//     |cuda - cpu| <= rtol * |cpu| + atol * max|cpu|
//
// max|cpu| is the largest magnitude in the whole reference tensor, so atol is
// relative too: it covers elements that come out of cancellation (a - b,
// a dot product of mixed signs, x - mean) and sit far below the tensor's scale,
// where a purely relative test would demand more than either side computes.
// Forward outputs and input gradients use the same tolerance.
//
//   family          float64 rtol/atol   float32 rtol/atol   why
//   Elementwise     1e-10 / 1e-12       1e-5 / 1e-6         one rounding per op on each side; CUDA's math
//   (and views,                                             library and glibc differ by at most a few ulp
//   joins, indexing)                                        (expf/tanhf/erff 2 ulp, powf 4 ulp, double
//                                                           2 ulp); backward chains 2-3 such ops
//   Reduction       1e-10 / 1e-12       1e-5 / 1e-5         short rows (<= 64); the CPU accumulates float
//   (short rows,                                            sums in double, a CUDA kernel may add in float
//   softmax, losses)                                        in a tree: log2(n) ulp of sum|x|, and sum|x|
//                                                           can exceed |sum| (atol)
//   LongReduction   1e-10 / 1e-10       1e-4 / 1e-4         rows of 10^5..10^6: a float32 tree has
//                                                           log2(n) = 20 roundings, a strided per-thread
//                                                           partial up to ~n/threads; 1e-4 allows ~1600
//                                                           sequential float adds per partial
//   Matmul          1e-10 / 1e-12       1e-5 / 1e-5         K-term dot products in a different order
//                                                           (cuBLAS blocking, FMA) with TF32 off: about
//                                                           sqrt(K) ulp of sum|a||b|; TF32 (10-bit
//                                                           mantissa) would need ~1e-3
//   Conv            1e-10 / 1e-12       1e-4 / 1e-5         cuDNN may pick Winograd/FFT algorithms whose
//   (and attention,                                         float32 error exceeds direct summation;
//   norms)                                                  batch/layer norm and attention chain a
//                                                           reduction, a cancellation (x - mean, logits -
//                                                           max) and a division
//
// Matmul and Conv assume TF32 off (backends::cuda::matmul::allow_tf32 and
// backends::cudnn::allow_tf32, both false by default: kernels/backends.h).
//
// Every GPU test runs with allocation poisoning on (tests/gpu/gpu_main.cpp):
// each new device block is filled with 0xFF bytes (NaN), so an output element
// a kernel forgot to write is NaN and fails any comparison here.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <lucid/lucid.h>

#include "op_case.h"

namespace lucid::gputest {

using testing::InputSpec;
using testing::OpCase;

enum class Family { Elementwise, Reduction, LongReduction, Matmul, Conv };

struct Tol {
  double rtol, atol;
};

struct FamilyTol {
  Family family;
  const char* name;
  Tol f64, f32;
};

inline constexpr FamilyTol kTolerances[] = {
    {Family::Elementwise, "elementwise", {1e-10, 1e-12}, {1e-5, 1e-6}},
    {Family::Reduction, "reduction", {1e-10, 1e-12}, {1e-5, 1e-5}},
    {Family::LongReduction, "long reduction", {1e-10, 1e-10}, {1e-4, 1e-4}},
    {Family::Matmul, "matmul", {1e-10, 1e-12}, {1e-5, 1e-5}},
    {Family::Conv, "conv/norm/attention", {1e-10, 1e-12}, {1e-4, 1e-5}},
};

inline Tol tolerance(Family f, ScalarType t) {
  for (const FamilyTol& ft : kTolerances)
    if (ft.family == f) return t == kFloat64 ? ft.f64 : ft.f32;
  return {0.0, 0.0};
}

inline Device gpu() { return Device(kCUDA, 0); }

// Checks `actual` (any device) against the CPU reference `expected` with the
// rule above. NaN matches NaN only where the reference has one. `scale` replaces
// max|expected| as what atol multiplies, for a tensor whose exact value is ~0 and
// whose computed value is rounding noise from a larger computation.
inline bool expect_close(const Tensor& actual, const Tensor& expected, Tol tol, const std::string& what,
                         double scale = -1.0) {
  CAPTURE(what);
  if (actual.sizes() != expected.sizes() || actual.dtype() != expected.dtype()) {
    FAIL_CHECK(what << ": shape/dtype " << actual.sizes() << " " << actual.dtype() << " vs reference "
                    << expected.sizes() << " " << expected.dtype());
    return false;
  }
  const Tensor a = actual.detach().cpu().to(kFloat64).contiguous();
  const Tensor e = expected.detach().cpu().to(kFloat64).contiguous();
  const double* pa = a.data_ptr<double>();
  const double* pe = e.data_ptr<double>();
  const int64_t n = e.numel();
  if (scale < 0.0) {
    scale = 0.0;
    for (int64_t i = 0; i < n; ++i)
      if (std::isfinite(pe[i])) scale = std::max(scale, std::abs(pe[i]));
  }
  int64_t bad = 0, first = -1;
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (pa[i] == pe[i] || (std::isnan(pa[i]) && std::isnan(pe[i]))) continue;
    const double err = std::abs(pa[i] - pe[i]);
    if (err <= tol.rtol * std::abs(pe[i]) + tol.atol * scale) continue;  // false for NaN
    if (first < 0) first = i;
    ++bad;
    worst = std::isnan(err) ? err : std::max(worst, err);
  }
  if (bad > 0)
    FAIL_CHECK(what << ": " << bad << " of " << n << " elements differ (rtol " << tol.rtol << ", atol "
                    << tol.atol << " * scale " << scale << "); first at flat index " << first << ": cuda "
                    << pa[first] << " vs cpu " << pe[first] << "; max |diff| " << worst);
  return bad == 0;
}

// Same dtype, shape and bytes: what "bit for bit" means. Either may be on the GPU.
inline bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes() || a.dtype() != b.dtype()) return false;
  const Tensor ca = a.detach().cpu().contiguous(), cb = b.detach().cpu().contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), static_cast<size_t>(ca.numel()) * ca.element_size()) == 0;
}

// t in `dtype` (floats only: indices and targets keep theirs) on `device`,
// keeping its layout: a transposed input (last two dims swapped) stays one.
inline Tensor convert(const Tensor& t, ScalarType dtype, Device device) {
  const ScalarType to_dtype = t.is_floating_point() ? dtype : t.dtype();
  const bool transposed = t.dim() >= 2 && !t.is_contiguous() && t.transpose(-1, -2).is_contiguous();
  const Tensor packed = (transposed ? t.transpose(-1, -2) : t).detach().contiguous();
  const Tensor out = packed.to(to_dtype).to(device).detach();
  return transposed ? out.transpose(-1, -2) : out;
}

// Copies of the row's inputs in `dtype` on `device`, leaves again (with
// requires_grad where the row asks for it).
inline std::vector<Tensor> inputs_on(const OpCase& c, const std::vector<Tensor>& base, ScalarType dtype,
                                     Device device) {
  std::vector<Tensor> xs;
  for (size_t i = 0; i < base.size(); ++i) {
    Tensor t = convert(base[i], dtype, device);
    if (t.is_floating_point() && c.inputs[i].requires_grad) t.requires_grad_(true);
    xs.push_back(t);
  }
  return xs;
}

// Runs row `c` on CPU and on CUDA, in `dtype` (the row's float inputs
// converted), and compares the forward outputs and, through the tape, the
// input gradients of sum(out * w) for fixed random weights w.
inline void run_on_both(const OpCase& c, ScalarType dtype, Family family) {
  const std::string name = c.name + " [" + dtype_name(dtype) + "]";
  CAPTURE(name);
  const Tol tol = tolerance(family, dtype);
  try {
    const std::vector<Tensor> base = testing::make_inputs(c);  // float64 CPU, seeded from the name
    std::vector<Tensor> xc = inputs_on(c, base, dtype, Device());
    std::vector<Tensor> xg = inputs_on(c, base, dtype, gpu());
    for (size_t i = 0; i < xg.size(); ++i) {
      CHECK(xg[i].is_cuda());
      CHECK(xg[i].is_contiguous() == xc[i].is_contiguous());  // the kernels see the same layout
    }
    const Tensor out_c = c.fn(xc);
    const Tensor out_g = c.fn(xg);
    CHECK(out_g.is_cuda());
    if (!out_c.is_floating_point()) {
      CHECK_MESSAGE(same_bits(out_g, out_c), name << ": forward (exact)");
      return;
    }
    expect_close(out_g, out_c, tol, name + ": forward");
    if (!out_c.requires_grad()) return;

    manual_seed(0x5eed);
    const Tensor w = rand(out_c.sizes(), dtype).mul_(2.0).add_(-1.0);  // in [-1, 1)
    (out_c * w).sum().backward();
    (out_g * w.cuda()).sum().backward();
    CHECK(autograd::tape_size() == 0);
    for (size_t i = 0; i < xc.size(); ++i) {
      if (!xc[i].requires_grad()) continue;
      const Tensor gc = xc[i].grad(), gg = xg[i].grad();
      CHECK_MESSAGE(gc.defined() == gg.defined(), name << ": input " << i << " has a gradient on one device only");
      if (!gc.defined() || !gg.defined()) continue;
      CHECK(gg.is_cuda());
      expect_close(gg, gc, tol, name + ": grad of input " + std::to_string(i));
    }
  } catch (const Error& e) {
    FAIL_CHECK(name << ": " << std::string(e.what()));
  }
  autograd::clear_tape();
}

// Every row of `table`, in float64 and in float32.
inline void run_table(const std::vector<OpCase>& table, Family family) {
  for (const OpCase& c : table)
    for (ScalarType t : {kFloat64, kFloat32}) run_on_both(c, t, family);
}

}  // namespace lucid::gputest
