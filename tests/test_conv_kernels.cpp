// Tests for the conv2d and pool2d CPU kernels.
//
// Forward kernels are checked against direct loops written here (the readable
// reference), backward kernels against the adjoint identity
//   <f(x), g> == <x, f_backward(g)>      (exact for linear maps, up to rounding)
// or finite differences, and the PyTorch conventions (ceil_mode, count_include_pad,
// argmax indices, adaptive windows, cross-correlation) against small goldens made
// with torch 1.13; the snippet that made each golden sits next to it.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <lucid/kernels/cpu/conv2d.h>
#include <lucid/kernels/cpu/pool2d.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/thread_pool.h>

using lucid::cpu::AdaptivePool2dParams;
using lucid::cpu::Conv2dParams;
using lucid::cpu::PadCounting;
using lucid::cpu::Pool2dParams;
using lucid::cpu::PoolRounding;

namespace {

template <class T>
std::vector<T> random_vector(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<T> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

template <class T>
double dot(const std::vector<T>& a, const std::vector<T>& b) {
  REQUIRE(a.size() == b.size());
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * double(b[i]);
  return s;
}

template <class T, class U>
void check_close(const std::vector<T>& got, const std::vector<U>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(double(got[i]) == doctest::Approx(double(want[i])).epsilon(tol));
    if (std::abs(double(got[i]) - double(want[i])) > tol * (1 + std::abs(double(want[i])))) break;
  }
}

// ---- conv2d -----------------------------------------------------------------

// The reference: out[n, co, oh, ow] = bias[co] + sum over the group's input
// channels ci and kernel taps (kh, kw) of w[co, ci, kh, kw] * x[n, ci, ih, iw],
// with ih = oh*stride - pad + kh*dilation, skipping taps in the padding.
std::vector<double> conv2d_direct(const Conv2dParams& p, const std::vector<double>& x,
                                  const std::vector<double>& w, const double* bias) {
  const int64_t Ho = p.H_out(), Wo = p.W_out(), Ci = p.C_in / p.groups,
                Co = p.C_out / p.groups;
  std::vector<double> out(p.N * p.C_out * Ho * Wo);
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t co = 0; co < p.C_out; ++co)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          const int64_t g = co / Co;
          double s = bias ? bias[co] : 0.0;
          for (int64_t ci = 0; ci < Ci; ++ci)
            for (int64_t kh = 0; kh < p.kH; ++kh)
              for (int64_t kw = 0; kw < p.kW; ++kw) {
                const int64_t ih = oh * p.stride_h - p.pad_h + kh * p.dilation_h;
                const int64_t iw = ow * p.stride_w - p.pad_w + kw * p.dilation_w;
                if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                s += w[((co * Ci + ci) * p.kH + kh) * p.kW + kw] *
                     x[((n * p.C_in + g * Ci + ci) * p.H + ih) * p.W + iw];
              }
          out[((n * p.C_out + co) * Ho + oh) * Wo + ow] = s;
        }
  return out;
}

struct ConvCase {
  const char* name;
  Conv2dParams p;
};

Conv2dParams make_conv(int64_t N, int64_t C_in, int64_t H, int64_t W, int64_t C_out,
                       int64_t kH, int64_t kW, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                       int64_t dh, int64_t dw, int64_t groups) {
  Conv2dParams p;
  p.N = N, p.C_in = C_in, p.H = H, p.W = W, p.C_out = C_out, p.kH = kH, p.kW = kW;
  p.stride_h = sh, p.stride_w = sw, p.pad_h = ph, p.pad_w = pw;
  p.dilation_h = dh, p.dilation_w = dw, p.groups = groups;
  return p;
}

const std::vector<ConvCase>& conv_cases() {
  //                                 N  Ci  H  W  Co kH kW sh sw ph pw dh dw g
  static const std::vector<ConvCase> cases = {
      {"plain 3x3, odd sizes", make_conv(3, 3, 7, 9, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1)},
      {"stride 2, padding 1, 3x2 kernel", make_conv(3, 3, 7, 8, 5, 3, 2, 2, 2, 1, 1, 1, 1, 1)},
      {"dilation 2, padding, stride (1,2)", make_conv(3, 2, 9, 7, 3, 3, 3, 1, 2, 2, 1, 2, 2, 1)},
      {"groups 2, stride 2, pad 1, dilation (2,1)",
       make_conv(3, 4, 6, 7, 6, 3, 3, 2, 2, 1, 1, 2, 1, 2)},
      {"depthwise 3x3 pad 1", make_conv(3, 5, 6, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5)},
      {"depthwise multiplier 2, stride 2", make_conv(3, 3, 7, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1, 3)},
      {"pointwise 1x1 (no im2col), groups 2", make_conv(3, 6, 5, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 2)},
      {"1x1 stride 2 (im2col)", make_conv(3, 3, 5, 6, 2, 1, 1, 2, 2, 0, 0, 1, 1, 1)},
      {"kernel as large as the padded input", make_conv(3, 2, 3, 4, 3, 5, 4, 1, 1, 1, 0, 1, 1, 1)},
  };
  return cases;
}

template <class T>
void check_forward_matches_direct(double tol) {
  for (const auto& c : conv_cases()) {
    INFO(c.name);
    const Conv2dParams& p = c.p;
    const auto x = random_vector<double>(p.input_numel(), 1);
    const auto w = random_vector<double>(p.weight_numel(), 2);
    const auto b = random_vector<double>(p.C_out, 3);
    const std::vector<T> xt(x.begin(), x.end()), wt(w.begin(), w.end()), bt(b.begin(), b.end());
    for (bool with_bias : {false, true}) {
      std::vector<T> out(p.output_numel(), T(std::nan("")));
      lucid::cpu::conv2d_forward(p, xt.data(), wt.data(), with_bias ? bt.data() : nullptr,
                                 out.data());
      check_close(out, conv2d_direct(p, x, w, with_bias ? b.data() : nullptr), tol);
    }
  }
}

}  // namespace

TEST_CASE("conv2d_forward (im2col + gemm) matches the direct loop: stride, padding, dilation, "
          "groups, depthwise, batch 3, float and double") {
  check_forward_matches_direct<double>(1e-12);
  check_forward_matches_direct<float>(1e-5);
}

TEST_CASE("conv2d_forward computes PyTorch's cross-correlation (golden: groups 2, stride 2, "
          "pad 1, dilation (2,1), bias)") {
  // x = (torch.arange(1*4*5*6).double().reshape(1,4,5,6) % 7) - 3
  // w = (torch.arange(2*2*3*2).double().reshape(2,2,3,2) % 5) - 2
  // b = torch.tensor([0.5, -1.0], dtype=torch.double)
  // F.conv2d(x, w, b, stride=2, padding=1, dilation=(2,1), groups=2).flatten()
  const Conv2dParams p = make_conv(1, 4, 5, 6, 2, 3, 2, 2, 2, 1, 1, 2, 1, 2);
  std::vector<double> x(p.input_numel()), w(p.weight_numel());
  for (size_t i = 0; i < x.size(); ++i) x[i] = double(i % 7) - 3;
  for (size_t i = 0; i < w.size(); ++i) w[i] = double(i % 5) - 2;
  const std::vector<double> b = {0.5, -1.0};
  const std::vector<double> expected = {-5.5, 3.5, 5.5, -0.5, 4.5, 5.5, -1.5, -3.5,
                                        -3,   -3,  12,  -8,   7,   -8,  -13,  9};
  REQUIRE(p.H_out() == 2);
  REQUIRE(p.W_out() == 4);
  std::vector<double> out(p.output_numel());
  lucid::cpu::conv2d_forward(p, x.data(), w.data(), b.data(), out.data());
  check_close(out, expected, 1e-12);
}

TEST_CASE("col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)>") {
  for (const auto& c : conv_cases()) {
    INFO(c.name);
    const Conv2dParams& p = c.p;
    const int64_t channels = 2;
    const int64_t rows = channels * p.kH * p.kW, P = p.H_out() * p.W_out();
    const auto x = random_vector<double>(channels * p.H * p.W, 4);
    const auto cols = random_vector<double>(rows * P, 5);
    std::vector<double> x_cols(rows * P), cols_x(x.size(), 7.0);  // col2im must overwrite
    lucid::cpu::im2col(p, channels, x.data(), x_cols.data());
    lucid::cpu::col2im(p, channels, cols.data(), cols_x.data());
    CHECK(dot(x_cols, cols) == doctest::Approx(dot(x, cols_x)).epsilon(1e-12));
  }
}

TEST_CASE("conv2d_backward_input is the adjoint of the forward in x: "
          "<conv(x, w), g> == <x, backward_input(g, w)>") {
  for (const auto& c : conv_cases()) {
    INFO(c.name);
    const Conv2dParams& p = c.p;
    const auto x = random_vector<double>(p.input_numel(), 6);
    const auto w = random_vector<double>(p.weight_numel(), 7);
    const auto g = random_vector<double>(p.output_numel(), 8);
    std::vector<double> y(p.output_numel()), dx(p.input_numel(), 7.0);
    lucid::cpu::conv2d_forward(p, x.data(), w.data(), nullptr, y.data());
    lucid::cpu::conv2d_backward_input(p, g.data(), w.data(), dx.data());
    CHECK(dot(y, g) == doctest::Approx(dot(x, dx)).epsilon(1e-12));

    // float agrees with double.
    const std::vector<float> gf(g.begin(), g.end()), wf(w.begin(), w.end());
    std::vector<float> dxf(p.input_numel());
    lucid::cpu::conv2d_backward_input(p, gf.data(), wf.data(), dxf.data());
    check_close(dxf, dx, 1e-5);
  }
}

TEST_CASE("conv2d_backward_weight is the adjoint of the forward in w: "
          "<conv(x, w), g> == <w, backward_weight(g, x)>") {
  for (const auto& c : conv_cases()) {
    INFO(c.name);
    const Conv2dParams& p = c.p;
    const auto x = random_vector<double>(p.input_numel(), 9);
    const auto w = random_vector<double>(p.weight_numel(), 10);
    const auto g = random_vector<double>(p.output_numel(), 11);
    std::vector<double> y(p.output_numel()), dw(p.weight_numel(), 7.0);
    lucid::cpu::conv2d_forward(p, x.data(), w.data(), nullptr, y.data());
    lucid::cpu::conv2d_backward_weight(p, g.data(), x.data(), dw.data());
    CHECK(dot(y, g) == doctest::Approx(dot(w, dw)).epsilon(1e-12));

    const std::vector<float> gf(g.begin(), g.end()), xf(x.begin(), x.end());
    std::vector<float> dwf(p.weight_numel());
    lucid::cpu::conv2d_backward_weight(p, gf.data(), xf.data(), dwf.data());
    check_close(dwf, dw, 1e-5);
  }
}

TEST_CASE("conv2d_backward_weight matches central finite differences of <conv(x, w), g>") {
  const Conv2dParams p = conv_cases()[3].p;  // groups 2, stride 2, pad 1, dilation (2,1)
  const auto x = random_vector<double>(p.input_numel(), 12);
  auto w = random_vector<double>(p.weight_numel(), 13);
  const auto g = random_vector<double>(p.output_numel(), 14);
  std::vector<double> dw(p.weight_numel()), y(p.output_numel());
  lucid::cpu::conv2d_backward_weight(p, g.data(), x.data(), dw.data());
  const double h = 1e-6;
  for (size_t i = 0; i < w.size(); i += 5) {
    const double w0 = w[i];
    w[i] = w0 + h;
    lucid::cpu::conv2d_forward(p, x.data(), w.data(), nullptr, y.data());
    const double plus = dot(y, g);
    w[i] = w0 - h;
    lucid::cpu::conv2d_forward(p, x.data(), w.data(), nullptr, y.data());
    const double minus = dot(y, g);
    w[i] = w0;
    INFO("weight " << i);
    CHECK(dw[i] == doctest::Approx((plus - minus) / (2 * h)).epsilon(1e-6));
  }
}

TEST_CASE("conv2d_backward_bias sums grad_output over batch and pixels") {
  const Conv2dParams p = conv_cases()[1].p;
  const auto g = random_vector<double>(p.output_numel(), 15);
  std::vector<double> db(p.C_out, 7.0), expected(p.C_out, 0.0);
  const int64_t P = p.H_out() * p.W_out();
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t co = 0; co < p.C_out; ++co)
      for (int64_t i = 0; i < P; ++i) expected[co] += g[(n * p.C_out + co) * P + i];
  lucid::cpu::conv2d_backward_bias(p, g.data(), db.data());
  check_close(db, expected, 1e-12);
}

TEST_CASE("conv2d forward and backward results are bit-identical for 1 and 2 threads") {
  const Conv2dParams p = conv_cases()[3].p;
  const auto x = random_vector<float>(p.input_numel(), 16);
  const auto w = random_vector<float>(p.weight_numel(), 17);
  const auto g = random_vector<float>(p.output_numel(), 18);
  const int saved = lucid::get_num_threads();
  std::vector<float> runs[2][3];
  for (int t = 0; t < 2; ++t) {
    lucid::set_num_threads(t + 1);
    runs[t][0].resize(p.output_numel());
    runs[t][1].resize(p.input_numel());
    runs[t][2].resize(p.weight_numel());
    lucid::cpu::conv2d_forward(p, x.data(), w.data(), nullptr, runs[t][0].data());
    lucid::cpu::conv2d_backward_input(p, g.data(), w.data(), runs[t][1].data());
    lucid::cpu::conv2d_backward_weight(p, g.data(), x.data(), runs[t][2].data());
  }
  lucid::set_num_threads(saved);
  CHECK(runs[0][0] == runs[1][0]);
  CHECK(runs[0][1] == runs[1][1]);
  CHECK(runs[0][2] == runs[1][2]);
}

TEST_CASE("check_conv2d_params rejects groups that do not divide the channels and inputs "
          "smaller than the dilated kernel") {
  CHECK_THROWS_AS(lucid::cpu::check_conv2d_params(make_conv(1, 3, 5, 5, 4, 3, 3, 1, 1, 0, 0, 1, 1, 2)),
                  lucid::Error);
  CHECK_THROWS_AS(lucid::cpu::check_conv2d_params(make_conv(1, 2, 4, 4, 2, 3, 3, 1, 1, 0, 0, 2, 2, 1)),
                  lucid::Error);
  CHECK_NOTHROW(lucid::cpu::check_conv2d_params(make_conv(1, 2, 5, 5, 2, 3, 3, 1, 1, 0, 0, 2, 2, 1)));
}

// ---- pooling ------------------------------------------------------------------

namespace {

Pool2dParams make_pool(int64_t N, int64_t C, int64_t H, int64_t W, int64_t kH, int64_t kW,
                       int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw,
                       PoolRounding r, PadCounting pc = PadCounting::Include) {
  Pool2dParams p;
  p.N = N, p.C = C, p.H = H, p.W = W, p.kH = kH, p.kW = kW;
  p.stride_h = sh, p.stride_w = sw, p.pad_h = ph, p.pad_w = pw;
  p.dilation_h = dh, p.dilation_w = dw, p.rounding = r, p.pad_counting = pc;
  return p;
}

const auto Floor = PoolRounding::Floor;
const auto Ceil = PoolRounding::Ceil;

// Parameter sets shared by the max- and avg-pool checks (dilation is set to 1
// for avg).   N  C  H  W kH kW sh sw ph pw dh dw rounding
const std::vector<Pool2dParams> pool_cases = {
    make_pool(3, 2, 7, 9, 2, 2, 2, 2, 0, 0, 1, 1, Floor),
    make_pool(3, 2, 7, 9, 2, 2, 2, 2, 0, 0, 1, 1, Ceil),
    make_pool(3, 2, 6, 7, 3, 3, 2, 2, 1, 1, 1, 1, Ceil),
    make_pool(3, 2, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1, Ceil),  // ceil rule drops the last window
    make_pool(3, 2, 8, 7, 3, 2, 1, 2, 1, 1, 2, 2, Floor),
    make_pool(3, 2, 9, 8, 4, 3, 3, 2, 2, 1, 2, 1, Ceil),
};

// The reference max pool: every tap (kh, kw), bounds-checked; first maximum in
// scan order wins (strict >), as in PyTorch.
void max_pool_direct(const Pool2dParams& p, const std::vector<double>& x,
                     std::vector<double>& out, std::vector<int64_t>& idx) {
  const int64_t Ho = p.H_out(), Wo = p.W_out();
  out.assign(p.N * p.C * Ho * Wo, 0);
  idx.assign(out.size(), -1);
  for (int64_t pl = 0; pl < p.N * p.C; ++pl)
    for (int64_t oh = 0; oh < Ho; ++oh)
      for (int64_t ow = 0; ow < Wo; ++ow) {
        double best = -INFINITY;
        int64_t best_i = -1;
        for (int64_t kh = 0; kh < p.kH; ++kh)
          for (int64_t kw = 0; kw < p.kW; ++kw) {
            const int64_t ih = oh * p.stride_h - p.pad_h + kh * p.dilation_h;
            const int64_t iw = ow * p.stride_w - p.pad_w + kw * p.dilation_w;
            if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
            const double v = x[pl * p.H * p.W + ih * p.W + iw];
            if (best_i < 0 || v > best) best = v, best_i = ih * p.W + iw;
          }
        out[pl * Ho * Wo + oh * Wo + ow] = best;
        idx[pl * Ho * Wo + oh * Wo + ow] = best_i;
      }
}

// The reference avg pool: every tap; a tap counts toward the Include divisor
// when it lies in the padded input [-pad, size + pad), toward Exclude when it
// lies in the input.
std::vector<double> avg_pool_direct(const Pool2dParams& p, const std::vector<double>& x) {
  const int64_t Ho = p.H_out(), Wo = p.W_out();
  std::vector<double> out(p.N * p.C * Ho * Wo);
  for (int64_t pl = 0; pl < p.N * p.C; ++pl)
    for (int64_t oh = 0; oh < Ho; ++oh)
      for (int64_t ow = 0; ow < Wo; ++ow) {
        double s = 0;
        int64_t in_input = 0, in_padded = 0;
        for (int64_t kh = 0; kh < p.kH; ++kh)
          for (int64_t kw = 0; kw < p.kW; ++kw) {
            const int64_t ih = oh * p.stride_h - p.pad_h + kh;
            const int64_t iw = ow * p.stride_w - p.pad_w + kw;
            if (ih < p.H + p.pad_h && iw < p.W + p.pad_w) ++in_padded;
            if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
            ++in_input;
            s += x[pl * p.H * p.W + ih * p.W + iw];
          }
        const int64_t d = p.pad_counting == PadCounting::Include ? in_padded : in_input;
        out[pl * Ho * Wo + oh * Wo + ow] = s / double(d);
      }
  return out;
}

// 0, 17, 11, 5, ... (i*17) % 23: a 5x7 plane with repeated values (ties).
std::vector<double> tie_plane() {
  std::vector<double> x(35);
  for (int i = 0; i < 35; ++i) x[i] = double((i * 17) % 23);
  return x;
}

std::vector<double> arange(int64_t n) {
  std::vector<double> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = double(i);
  return x;
}

}  // namespace

TEST_CASE("pool_output_size matches PyTorch, including ceil_mode's last-window-must-start-"
          "inside rule") {
  // for (n,k,s,p,d) in [...]: for c in (False, True):
  //     F.max_pool2d(torch.zeros(1,1,n,n), k, s, p, d, ceil_mode=c).shape[-1]
  struct Row {
    int64_t n, k, s, p, d, floor_out, ceil_out;
  };
  const Row rows[] = {
      {5, 2, 2, 0, 1, 2, 3}, {6, 3, 2, 1, 1, 3, 4}, {4, 2, 2, 1, 1, 3, 3},
      {5, 3, 3, 1, 1, 2, 2},  // ceil would give 3, but window 3 would start at 6 >= 5 + 1
      {2, 1, 2, 0, 1, 1, 1},  // ceil would give 2, but window 2 would start at 2 >= 2
      {7, 3, 2, 1, 2, 3, 3}, {10, 4, 3, 2, 1, 4, 4}, {9, 2, 4, 1, 3, 2, 3},
  };
  for (const Row& r : rows) {
    INFO("n=" << r.n << " k=" << r.k << " s=" << r.s << " p=" << r.p << " d=" << r.d);
    CHECK(lucid::cpu::pool_output_size(r.n, r.k, r.s, r.p, r.d, Floor) == r.floor_out);
    CHECK(lucid::cpu::pool_output_size(r.n, r.k, r.s, r.p, r.d, Ceil) == r.ceil_out);
  }
}

TEST_CASE("max_pool2d_forward values and argmax indices match the direct loop (padding, "
          "dilation, ceil_mode, batch 3), float and double") {
  for (const auto& p : pool_cases) {
    INFO("H=" << p.H << " W=" << p.W << " k=" << p.kH << "x" << p.kW);
    const auto x = random_vector<double>(p.input_numel(), 20);
    std::vector<double> want;
    std::vector<int64_t> want_idx;
    max_pool_direct(p, x, want, want_idx);
    std::vector<double> out(p.output_numel());
    std::vector<int64_t> idx(p.output_numel());
    lucid::cpu::max_pool2d_forward(p, x.data(), out.data(), idx.data());
    CHECK(out == want);
    CHECK(idx == want_idx);
    const std::vector<float> xf(x.begin(), x.end());
    std::vector<float> outf(p.output_numel());
    lucid::cpu::max_pool2d_forward(p, xf.data(), outf.data(), idx.data());
    CHECK(idx == want_idx);
    check_close(outf, want, 1e-7);
  }
}

TEST_CASE("max_pool2d matches PyTorch goldens with ties, padding, dilation and ceil_mode") {
  const auto x = tie_plane();
  SUBCASE("kernel 3, stride 2, padding 1, ceil_mode") {
    // x = ((torch.arange(35) * 17) % 23).double().reshape(1, 1, 5, 7)
    // F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, return_indices=True)
    const auto p = make_pool(1, 1, 5, 7, 3, 3, 2, 2, 1, 1, 1, 1, Ceil);
    REQUIRE(p.H_out() == 3);
    REQUIRE(p.W_out() == 4);
    std::vector<double> out(12);
    std::vector<int64_t> idx(12);
    lucid::cpu::max_pool2d_forward(p, x.data(), out.data(), idx.data());
    CHECK(out == std::vector<double>{21, 21, 22, 20, 21, 21, 20, 22, 16, 21, 21, 22});
    CHECK(idx == std::vector<int64_t>{8, 8, 4, 12, 8, 8, 12, 27, 28, 31, 31, 27});
  }
  SUBCASE("kernel (3,2), stride 2, padding 1, dilation 2, ceil_mode") {
    // F.max_pool2d(x, (3,2), stride=2, padding=1, dilation=2, ceil_mode=True,
    //              return_indices=True)
    const auto p = make_pool(1, 1, 5, 7, 3, 2, 2, 2, 1, 1, 2, 2, Ceil);
    REQUIRE(p.H_out() == 2);
    REQUIRE(p.W_out() == 4);
    std::vector<double> out(8);
    std::vector<int64_t> idx(8);
    lucid::cpu::max_pool2d_forward(p, x.data(), out.data(), idx.data());
    CHECK(out == std::vector<double>{21, 21, 20, 20, 21, 21, 20, 20});
    CHECK(idx == std::vector<int64_t>{8, 8, 12, 12, 8, 8, 12, 12});
  }
  SUBCASE("ties: the first maximum in row-major scan order wins") {
    // x4 = (torch.arange(35) % 4).double().reshape(1, 1, 5, 7)
    // F.max_pool2d(x4, 3, stride=2, padding=1, return_indices=True)
    const auto p = make_pool(1, 1, 5, 7, 3, 3, 2, 2, 1, 1, 1, 1, Floor);
    std::vector<double> x4(35), out(12);
    for (int i = 0; i < 35; ++i) x4[i] = double(i % 4);
    std::vector<int64_t> idx(12);
    lucid::cpu::max_pool2d_forward(p, x4.data(), out.data(), idx.data());
    CHECK(out == std::vector<double>{3, 3, 3, 2, 3, 3, 3, 3, 2, 3, 3, 3});
    CHECK(idx == std::vector<int64_t>{7, 3, 3, 6, 7, 15, 11, 19, 22, 23, 31, 27});
  }
  SUBCASE("backward scatter-adds overlapping windows (kernel 3, stride 1, padding 1)") {
    // xr = x.clone().requires_grad_()
    // y, i = F.max_pool2d(xr, 3, stride=1, padding=1, return_indices=True)
    // y.backward(torch.ones_like(y)); xr.grad.flatten()
    const auto p = make_pool(1, 1, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, Floor);
    std::vector<double> out(35), ones(35, 1.0), dx(35, 7.0);
    std::vector<int64_t> idx(35);
    lucid::cpu::max_pool2d_forward(p, x.data(), out.data(), idx.data());
    lucid::cpu::max_pool2d_backward(p, ones.data(), idx.data(), dx.data());
    CHECK(dx == std::vector<double>{0, 0, 0, 0, 6, 0, 0, 0, 9, 0, 0, 0, 3, 0, 0, 0, 2, 0,
                                    0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 3, 0, 0, 6, 0, 0, 0});
  }
}

TEST_CASE("max_pool2d_backward matches central finite differences of <maxpool(x), g>") {
  for (const auto& p : pool_cases) {
    INFO("H=" << p.H << " W=" << p.W << " k=" << p.kH << "x" << p.kW);
    auto x = random_vector<double>(p.input_numel(), 21);  // no ties: locally linear
    const auto g = random_vector<double>(p.output_numel(), 22);
    std::vector<double> out(p.output_numel()), dx(p.input_numel(), 7.0);
    std::vector<int64_t> idx(p.output_numel());
    lucid::cpu::max_pool2d_forward(p, x.data(), out.data(), idx.data());
    lucid::cpu::max_pool2d_backward(p, g.data(), idx.data(), dx.data());
    const double h = 1e-7;
    for (size_t i = 0; i < x.size(); i += 3) {
      const double x0 = x[i];
      x[i] = x0 + h;
      lucid::cpu::max_pool2d_forward(p, x.data(), out.data(), idx.data());
      const double plus = dot(out, g);
      x[i] = x0 - h;
      lucid::cpu::max_pool2d_forward(p, x.data(), out.data(), idx.data());
      const double minus = dot(out, g);
      x[i] = x0;
      INFO("input " << i);
      CHECK(dx[i] == doctest::Approx((plus - minus) / (2 * h)).epsilon(1e-6).scale(1));
    }
  }
}

TEST_CASE("max_pool2d_backward rejects an index outside the input plane") {
  const auto p = make_pool(1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, Floor);
  const double g = 1.0;
  const int64_t bad = 4;
  double dx[4];
  CHECK_THROWS_AS(lucid::cpu::max_pool2d_backward(p, &g, &bad, dx), lucid::Error);
}

TEST_CASE("avg_pool2d_forward matches the direct loop for both pad countings, floor and "
          "ceil, float and double") {
  for (auto p : pool_cases) {
    p.dilation_h = p.dilation_w = 1;
    for (PadCounting pc : {PadCounting::Include, PadCounting::Exclude}) {
      p.pad_counting = pc;
      INFO("H=" << p.H << " W=" << p.W << " k=" << p.kH << "x" << p.kW
                << " include_pad=" << (pc == PadCounting::Include));
      const auto x = random_vector<double>(p.input_numel(), 23);
      std::vector<double> out(p.output_numel());
      lucid::cpu::avg_pool2d_forward(p, x.data(), out.data());
      const auto want = avg_pool_direct(p, x);
      check_close(out, want, 1e-12);
      const std::vector<float> xf(x.begin(), x.end());
      std::vector<float> outf(p.output_numel());
      lucid::cpu::avg_pool2d_forward(p, xf.data(), outf.data());
      check_close(outf, want, 1e-5);
    }
  }
}

TEST_CASE("avg_pool2d_backward is the adjoint of avg_pool2d_forward: "
          "<avg(x), g> == <x, avg_backward(g)>") {
  for (auto p : pool_cases) {
    p.dilation_h = p.dilation_w = 1;
    for (PadCounting pc : {PadCounting::Include, PadCounting::Exclude}) {
      p.pad_counting = pc;
      const auto x = random_vector<double>(p.input_numel(), 24);
      const auto g = random_vector<double>(p.output_numel(), 25);
      std::vector<double> y(p.output_numel()), dx(p.input_numel(), 7.0);
      lucid::cpu::avg_pool2d_forward(p, x.data(), y.data());
      lucid::cpu::avg_pool2d_backward(p, g.data(), dx.data());
      CHECK(dot(y, g) == doctest::Approx(dot(x, dx)).epsilon(1e-12));
    }
  }
}

TEST_CASE("avg_pool2d matches PyTorch's divisor rules: ceil_mode with count_include_pad "
          "True and False, forward and backward") {
  // a = torch.arange(35).double().reshape(1,1,5,7); ar = a.clone().requires_grad_()
  // y = F.avg_pool2d(ar, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=cip)
  // y.flatten(); y.backward(torch.ones_like(y)); ar.grad.flatten()    (printed to 7 places)
  const auto a = arange(35);
  const std::vector<double> ones(12, 1.0);
  SUBCASE("count_include_pad=True: the divisor counts the padding but not the ceil overhang") {
    const auto p = make_pool(1, 1, 5, 7, 3, 3, 2, 2, 1, 1, 1, 1, Ceil, PadCounting::Include);
    REQUIRE(p.output_numel() == 12);
    std::vector<double> y(12), dx(35);
    lucid::cpu::avg_pool2d_forward(p, a.data(), y.data());
    check_close(y, std::vector<double>{1.7777778, 3.6666667, 5, 4, 9.6666667, 16, 18, 13,
                                       11.1111111, 17.6666667, 19, 13.3333333},
                1e-7);
    lucid::cpu::avg_pool2d_backward(p, ones.data(), dx.data());
    const double n = 1.0 / 9, t = 2.0 / 9, f = 4.0 / 9;
    check_close(dx, std::vector<double>{n, t, n, t, n, t, n, t, f, t, f, t, f, t, n, t, n, t,
                                        n, t, n, t, f, t, f, t, f, t, n, t, n, t, n, t, n},
                1e-12);
  }
  SUBCASE("count_include_pad=False: the divisor counts only input cells") {
    const auto p = make_pool(1, 1, 5, 7, 3, 3, 2, 2, 1, 1, 1, 1, Ceil, PadCounting::Exclude);
    std::vector<double> y(12), dx(35);
    lucid::cpu::avg_pool2d_forward(p, a.data(), y.data());
    check_close(y, std::vector<double>{4, 5.5, 7.5, 9, 14.5, 16, 18, 19.5, 25, 26.5, 28.5, 30},
                1e-12);
    lucid::cpu::avg_pool2d_backward(p, ones.data(), dx.data());
    check_close(dx, std::vector<double>{0.25, 0.4166667, 0.1666667, 0.3333333, 0.1666667,
                                        0.4166667, 0.25, 0.4166667, 0.6944444, 0.2777778,
                                        0.5555556, 0.2777778, 0.6944444, 0.4166667, 0.1666667,
                                        0.2777778, 0.1111111, 0.2222222, 0.1111111, 0.2777778,
                                        0.1666667, 0.4166667, 0.6944444, 0.2777778, 0.5555556,
                                        0.2777778, 0.6944444, 0.4166667, 0.25, 0.4166667,
                                        0.1666667, 0.3333333, 0.1666667, 0.4166667, 0.25},
                1e-6);
  }
  SUBCASE("floor mode, kernel (2,3), stride (3,2), padding 1, count_include_pad=True") {
    // F.avg_pool2d(a, (2,3), stride=(3,2), padding=1, count_include_pad=True).flatten()
    const auto p = make_pool(1, 1, 5, 7, 2, 3, 3, 2, 1, 1, 1, 1, Floor, PadCounting::Include);
    REQUIRE(p.H_out() == 2);
    REQUIRE(p.W_out() == 4);
    std::vector<double> y(8);
    lucid::cpu::avg_pool2d_forward(p, a.data(), y.data());
    check_close(y, std::vector<double>{0.1666667, 1, 2, 1.8333333, 12, 19.5, 21.5, 15.3333333},
                1e-7);
  }
}

TEST_CASE("pool2d rejects padding over half the kernel, and avg_pool2d rejects dilation") {
  auto p = make_pool(1, 1, 5, 5, 3, 3, 1, 1, 2, 0, 1, 1, Floor);
  CHECK_THROWS_AS(lucid::cpu::check_pool2d_params(p), lucid::Error);
  p.pad_h = 1;
  CHECK_NOTHROW(lucid::cpu::check_pool2d_params(p));
  p.dilation_w = 2;
  std::vector<double> x(25), y(p.output_numel());
  CHECK_THROWS_AS(lucid::cpu::avg_pool2d_forward(p, x.data(), y.data()), lucid::Error);
}

TEST_CASE("adaptive_avg_pool2d uses PyTorch's floor/ceil windows (golden 5x7 -> 3x4, forward "
          "and backward)") {
  // a = torch.arange(35).double().reshape(1,1,5,7); ar = a.clone().requires_grad_()
  // y = F.adaptive_avg_pool2d(ar, (3, 4)); y.flatten()
  // y.backward(torch.ones_like(y)); ar.grad.flatten()
  AdaptivePool2dParams p;
  p.H = 5, p.W = 7, p.H_out = 3, p.W_out = 4;
  const auto a = arange(35);
  std::vector<double> y(12), dx(35), ones(12, 1.0);
  lucid::cpu::adaptive_avg_pool2d_forward(p, a.data(), y.data());
  check_close(y, std::vector<double>{4, 5.5, 7.5, 9, 14.5, 16, 18, 19.5, 25, 26.5, 28.5, 30},
              1e-12);
  lucid::cpu::adaptive_avg_pool2d_backward(p, ones.data(), dx.data());
  check_close(dx, std::vector<double>{0.25, 0.4166667, 0.1666667, 0.3333333, 0.1666667,
                                      0.4166667, 0.25, 0.4166667, 0.6944444, 0.2777778,
                                      0.5555556, 0.2777778, 0.6944444, 0.4166667, 0.1666667,
                                      0.2777778, 0.1111111, 0.2222222, 0.1111111, 0.2777778,
                                      0.1666667, 0.4166667, 0.6944444, 0.2777778, 0.5555556,
                                      0.2777778, 0.6944444, 0.4166667, 0.25, 0.4166667,
                                      0.1666667, 0.3333333, 0.1666667, 0.4166667, 0.25},
              1e-6);
}

TEST_CASE("adaptive_avg_pool2d matches the direct loop (shrinking, identity, growing sizes; "
          "batch 3) and its backward is the adjoint") {
  struct Sizes {
    int64_t H, W, Ho, Wo;
  };
  for (const Sizes s : {Sizes{7, 9, 3, 4}, Sizes{6, 6, 6, 6}, Sizes{3, 5, 7, 2}, Sizes{8, 5, 1, 1}}) {
    INFO(s.H << "x" << s.W << " -> " << s.Ho << "x" << s.Wo);
    AdaptivePool2dParams p;
    p.N = 3, p.C = 2, p.H = s.H, p.W = s.W, p.H_out = s.Ho, p.W_out = s.Wo;
    const auto x = random_vector<double>(p.N * p.C * p.H * p.W, 26);
    const auto g = random_vector<double>(p.N * p.C * p.H_out * p.W_out, 27);
    std::vector<double> want(g.size());
    for (int64_t pl = 0; pl < p.N * p.C; ++pl)
      for (int64_t oh = 0; oh < p.H_out; ++oh)
        for (int64_t ow = 0; ow < p.W_out; ++ow) {
          const auto h0 = int64_t(std::floor(double(oh * p.H) / double(p.H_out)));
          const auto h1 = int64_t(std::ceil(double((oh + 1) * p.H) / double(p.H_out)));
          const auto w0 = int64_t(std::floor(double(ow * p.W) / double(p.W_out)));
          const auto w1 = int64_t(std::ceil(double((ow + 1) * p.W) / double(p.W_out)));
          double s = 0;
          for (int64_t ih = h0; ih < h1; ++ih)
            for (int64_t iw = w0; iw < w1; ++iw) s += x[(pl * p.H + ih) * p.W + iw];
          want[(pl * p.H_out + oh) * p.W_out + ow] = s / double((h1 - h0) * (w1 - w0));
        }
    std::vector<double> y(g.size()), dx(x.size(), 7.0);
    lucid::cpu::adaptive_avg_pool2d_forward(p, x.data(), y.data());
    check_close(y, want, 1e-12);
    lucid::cpu::adaptive_avg_pool2d_backward(p, g.data(), dx.data());
    CHECK(dot(y, g) == doctest::Approx(dot(x, dx)).epsilon(1e-12));
  }
}
