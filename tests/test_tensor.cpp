// The Tensor itself: factories, element access, views (sizes/strides/offset and
// shared storage), dtype conversion (bfloat16/float16 bit patterns from torch
// 1.13), copy_, type promotion, printing (PyTorch's repr), the allocator
// statistics, and the error messages of bad calls.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

#include <lucid/lucid.h>

#include "check_values.h"

using namespace lucid;

namespace {

using lucid::testing::values;
using V = std::vector<double>;

uint16_t bf16_bits(float f) { return BFloat16(f).bits; }
uint16_t half_bits(float f) { return Half(f).bits; }
float half_value(uint16_t bits) { Half h; h.bits = bits; return h; }
float bf16_value(uint16_t bits) { BFloat16 b; b.bits = bits; return b; }

}  // namespace

// ---- factories -------------------------------------------------------------------
TEST_CASE("zeros, ones and full fill every element and default to contiguous float32") {
  Tensor z = zeros({2, 3});
  CHECK(z.dtype() == kFloat32);
  CHECK(z.sizes() == Shape{2, 3});
  CHECK(z.strides() == Strides{3, 1});
  CHECK(z.storage_offset() == 0);
  CHECK(values(z) == V(6, 0.0));
  CHECK(values(ones({4}, kInt32)) == V(4, 1.0));
  CHECK(ones({4}, kInt32).dtype() == kInt32);
  Tensor f = full({2, 2}, -1.5, kFloat64);
  CHECK(f.dtype() == kFloat64);
  CHECK(values(f) == V(4, -1.5));
  CHECK(full({}, 7.0).dim() == 0);
  CHECK(full({}, 7.0).item<float>() == 7.0f);
}

TEST_CASE("arange counts up from start by step, excluding end, like torch.arange") {
  CHECK(values(arange(5)) == V{0, 1, 2, 3, 4});
  CHECK(values(arange(1, 2, 0.25)) == V{1, 1.25, 1.5, 1.75});
  CHECK(arange(0, 1, 0.1).numel() == 10);         // torch.arange(0, 1, 0.1) has 10 elements
  CHECK(values(arange(3, 0, -1)) == V{3, 2, 1});
  CHECK(arange(4, kInt64).dtype() == kInt64);
  CHECK(arange(0).numel() == 0);
  CHECK_THROWS_WITH_AS(arange(0, 1, 0), doctest::Contains("arange: step must be nonzero"), Error);
  CHECK_THROWS_WITH_AS(arange(0, 5, -1), doctest::Contains("inconsistent with step sign"), Error);
}

TEST_CASE("linspace includes both ends, eye is the identity") {
  CHECK(values(linspace(0, 1, 5)) == V{0, 0.25, 0.5, 0.75, 1});
  CHECK(values(linspace(3, 9, 1)) == V{3});
  CHECK(linspace(0, 1, 0).numel() == 0);
  CHECK(values(eye(3)) == V{1, 0, 0, 0, 1, 0, 0, 0, 1});
  CHECK(eye(2, kInt64).dtype() == kInt64);
}

TEST_CASE("empty allocates the shape without initialising and counts its bytes") {
  const int64_t before = memory_allocated();
  Tensor e = empty({3, 5}, kFloat64);
  CHECK(e.sizes() == Shape{3, 5});
  CHECK(e.dtype() == kFloat64);
  CHECK(e.storage()->nbytes() == 3 * 5 * 8);
  CHECK(memory_allocated() - before == 3 * 5 * 8);
  CHECK_THROWS_WITH_AS(empty({2, -1}), doctest::Contains("empty: negative dimension -1 in size [2, -1]"),
                       Error);
}

TEST_CASE("rand is in [0, 1), randn has mean 0 and std 1, and manual_seed replays them") {
  manual_seed(123);
  Tensor u = rand({10000});
  V uv = values(u);
  for (double v : uv) REQUIRE((v >= 0.0 && v < 1.0));
  CHECK(mean(u).item<double>() == doctest::Approx(0.5).epsilon(0.02));
  Tensor n = randn({20000}, kFloat64);
  CHECK(n.dtype() == kFloat64);
  CHECK(mean(n).item<double>() == doctest::Approx(0.0).epsilon(0.03).scale(1.0));
  CHECK(n.std({0}).item<double>() == doctest::Approx(1.0).epsilon(0.03));
  manual_seed(123);
  CHECK(values(rand({10000})) == uv);
  CHECK(rand({3}, requires_grad()).requires_grad());
}

TEST_CASE("randint draws int64 values in [low, high) and hits every one") {
  Tensor r = randint(-2, 3, {2000});
  CHECK(r.dtype() == kInt64);
  std::set<double> seen;
  for (double v : values(r)) {
    REQUIRE((v >= -2 && v < 3));
    seen.insert(v);
  }
  CHECK(seen.size() == 5);
  CHECK(randint(0, 4, {3}, kInt32).dtype() == kInt32);
  CHECK_THROWS_WITH_AS(randint(3, 3, {2}), doctest::Contains("randint: expected low < high"), Error);
}

TEST_CASE("randperm is a permutation of 0..n-1") {
  V p = values(randperm(50));
  std::sort(p.begin(), p.end());
  for (int i = 0; i < 50; ++i) CHECK(p[i] == i);
  CHECK(randperm(0).numel() == 0);
  CHECK(randperm(5).dtype() == kInt64);
}

TEST_CASE("from_blob wraps caller memory without copying or counting it") {
  float data[6] = {1, 2, 3, 4, 5, 6};
  const int64_t before = memory_allocated();
  Tensor t = from_blob(data, {2, 3});
  CHECK(memory_allocated() == before);
  CHECK(t.data_ptr<float>() == data);
  CHECK(t.strides() == Strides{3, 1});
  t[1][2].fill_(60);
  CHECK(data[5] == 60);
  data[0] = 10;
  CHECK(t[0][0].item<float>() == 10);
}

TEST_CASE("from_blob with strides reads a column of a row-major buffer") {
  double data[6] = {0, 1, 2, 3, 4, 5};  // 2x3, take the 3x2 transpose
  Tensor t = from_blob(data, {3, 2}, {1, 3}, kFloat64);
  CHECK(t.strides() == Strides{1, 3});
  CHECK(!t.is_contiguous());
  CHECK(values(t) == V{0, 3, 1, 4, 2, 5});
  CHECK(t.storage()->nbytes() == 6 * sizeof(double));
  CHECK_THROWS_WITH_AS(from_blob(data, {3, 2}, {1}), doctest::Contains("from_blob: size [3, 2] and strides [1]"),
                       Error);
}

TEST_CASE("from_blob's deleter runs exactly once, when the last view dies") {
  int calls = 0;
  float* buf = new float[4]{1, 2, 3, 4};
  {
    Tensor t = from_blob(buf, {4}, [&calls](void* p) { ++calls; delete[] static_cast<float*>(p); });
    Tensor v = t.slice(0, 1, 3);
    t = Tensor();
    CHECK(calls == 0);  // the view keeps the storage alive
    CHECK(values(v) == V{2, 3});
  }
  CHECK(calls == 1);
}

TEST_CASE("tensor({...}) builds 1-D and 2-D literals, float32 unless told") {
  Tensor a = tensor({1.0, 2.5, -3.0});
  CHECK(a.sizes() == Shape{3});
  CHECK(a.dtype() == kFloat32);
  CHECK(values(a) == V{1, 2.5, -3});
  Tensor b = tensor({{1, 2, 3}, {4, 5, 6}}, kInt64);
  CHECK(b.sizes() == Shape{2, 3});
  CHECK(b.dtype() == kInt64);
  CHECK(b[1][0].item<int64_t>() == 4);
  CHECK_THROWS_WITH_AS(tensor({{1, 2}, {3}}), doctest::Contains("tensor: rows have different lengths (2 and 1)"),
                       Error);
  // int64 literals go through int64, not double: 2^53 + 1 survives
  const int64_t big = (int64_t{1} << 53) + 1;
  CHECK(tensor(std::vector<int64_t>{big}).item<int64_t>() == big);
  CHECK(tensor({1.0}, requires_grad()).requires_grad());
}

TEST_CASE("*_like copy shape, dtype and device but not requires_grad") {
  Tensor x = ones({2, 3}, dtype(kFloat64).requires_grad());
  for (const Tensor& y : {empty_like(x), zeros_like(x), ones_like(x), full_like(x, 2.0), rand_like(x),
                          randn_like(x)}) {
    CHECK(y.sizes() == x.sizes());
    CHECK(y.dtype() == kFloat64);
    CHECK(!y.requires_grad());
  }
  CHECK(values(full_like(x, 2.0)) == V(6, 2.0));
  CHECK(values(zeros_like(x)) == V(6, 0.0));
  CHECK(zeros_like(x, kInt32).dtype() == kInt32);
}

TEST_CASE("options: dtype and requires_grad reach the tensor; int tensors cannot require grad") {
  Tensor a = zeros({2}, dtype(kFloat64).requires_grad(true));
  CHECK(a.dtype() == kFloat64);
  CHECK(a.requires_grad());
  CHECK(a.is_leaf());
  CHECK(!zeros({2}).requires_grad());
  CHECK_THROWS_WITH_AS(zeros({2}, dtype(kInt64).requires_grad()),
                       doctest::Contains("only floating point tensors can require gradients, got int64"), Error);
  Tensor i = zeros({2}, kInt32);
  CHECK_THROWS_WITH_AS(i.requires_grad_(), doctest::Contains("requires_grad_: only floating point tensors"),
                       Error);
  CHECK(!i.requires_grad());
}

// ---- element access -----------------------------------------------------------------
TEST_CASE("item converts the one element; operator[] selects along dim 0 with negative indices") {
  Tensor x = arange(6, kFloat64).view({2, 3});
  CHECK(x[1][2].item<double>() == 5.0);
  CHECK(x[-1][-3].item<int>() == 3);
  CHECK(x[0].sizes() == Shape{3});
  CHECK(tensor({2.75}).item<int64_t>() == 2);  // truncates like static_cast
  CHECK(tensor({1.0}, kBFloat16).item<float>() == 1.0f);
  CHECK(tensor({0.0}, kBool).item<bool>() == false);
  CHECK_THROWS_WITH_AS(x[2], doctest::Contains("select: index 2 is out of bounds for dim 0 with size 2"), Error);
  CHECK_THROWS_WITH_AS(x.item<double>(),
                       doctest::Contains("item: a tensor with 6 elements (shape [2, 3]) cannot be converted to a scalar"),
                       Error);
}

// ---- views ------------------------------------------------------------------------
TEST_CASE("each view op sets sizes, strides and offset as PyTorch does") {
  Tensor x = arange(24).view({2, 3, 4});
  CHECK(x.strides() == Strides{12, 4, 1});

  Tensor p = x.permute({2, 0, 1});
  CHECK(p.sizes() == Shape{4, 2, 3});
  CHECK(p.strides() == Strides{1, 12, 4});
  CHECK(!p.is_contiguous());

  Tensor tr = x.transpose(0, 2);
  CHECK(tr.sizes() == Shape{4, 3, 2});
  CHECK(tr.strides() == Strides{1, 4, 12});
  CHECK(x.transpose(-1, -2).strides() == Strides{12, 1, 4});

  Tensor m = arange(12).view({3, 4});
  CHECK(m.t().sizes() == Shape{4, 3});
  CHECK(m.t().strides() == Strides{1, 4});
  CHECK(arange(3).t().sizes() == Shape{3});

  Tensor n = x.narrow(1, 1, 2);
  CHECK(n.sizes() == Shape{2, 2, 4});
  CHECK(n.strides() == Strides{12, 4, 1});
  CHECK(n.storage_offset() == 4);
  CHECK(values(n[0][0]) == V{4, 5, 6, 7});

  Tensor s = x.slice(2, 1, 4, 2);
  CHECK(s.sizes() == Shape{2, 3, 2});
  CHECK(s.strides() == Strides{12, 4, 2});
  CHECK(s.storage_offset() == 1);
  CHECK(values(s[0][0]) == V{1, 3});
  CHECK(x.slice(2, -3, 100).sizes() == Shape{2, 3, 3});  // negative start, end clamped
  CHECK(x.slice(0, 5, 9).sizes() == Shape{0, 3, 4});

  Tensor sel = x.select(1, 2);
  CHECK(sel.sizes() == Shape{2, 4});
  CHECK(sel.strides() == Strides{12, 1});
  CHECK(sel.storage_offset() == 8);

  Tensor e = tensor({1, 2, 3}).view({3, 1}).expand({2, 3, 4});
  CHECK(e.sizes() == Shape{2, 3, 4});
  CHECK(e.strides() == Strides{0, 1, 0});
  CHECK(values(e[1][2]) == V{3, 3, 3, 3});
  CHECK(tensor({1, 2, 3}).view({3, 1}).expand({-1, 5}).sizes() == Shape{3, 5});

  Tensor u = x.unsqueeze(1);
  CHECK(u.sizes() == Shape{2, 1, 3, 4});
  CHECK(u.strides() == Strides{12, 12, 4, 1});
  CHECK(x.unsqueeze(-1).sizes() == Shape{2, 3, 4, 1});
  CHECK(x.unsqueeze(-1).strides() == Strides{12, 4, 1, 1});

  Tensor q = zeros({2, 1, 3, 1});
  CHECK(q.squeeze().sizes() == Shape{2, 3});
  CHECK(q.squeeze(1).sizes() == Shape{2, 3, 1});
  CHECK(q.squeeze(0).sizes() == Shape{2, 1, 3, 1});  // not size 1: unchanged

  CHECK(x.flatten().sizes() == Shape{24});
  CHECK(x.flatten(1).sizes() == Shape{2, 12});
  CHECK(x.flatten(1).strides() == Strides{12, 1});
  CHECK(x.flatten(0, 1).sizes() == Shape{6, 4});
  CHECK(full({}, 1.0).flatten().sizes() == Shape{1});

  Tensor v = x.view({4, -1});
  CHECK(v.sizes() == Shape{4, 6});
  CHECK(v.strides() == Strides{6, 1});
  // a view of a view across a non-contiguous (but compatible) layout
  Tensor pv = x.permute({1, 2, 0}).view({12, 2});
  CHECK(pv.strides() == Strides{1, 12});
}

TEST_CASE("views share storage: a write through one is read through the other") {
  Tensor x = zeros({3, 4});
  Tensor t = x.t();
  Tensor row = x[1];
  Tensor col = x.select(1, 2);
  Tensor flat = x.view({12});
  CHECK(t.storage() == x.storage());
  t[3][1].fill_(5);        // x[1][3]
  CHECK(x[1][3].item<float>() == 5);
  CHECK(row[3].item<float>() == 5);
  col.fill_(7);            // x[:, 2]
  CHECK(values(row) == V{0, 0, 7, 5});
  CHECK(flat[10].item<float>() == 7);
  x.slice(1, 0, 4, 3).fill_(-1);  // columns 0 and 3
  CHECK(values(x[0]) == V{-1, 0, 7, -1});
  Tensor d = x.detach();
  CHECK(d.storage() == x.storage());
}

TEST_CASE("reshape of a non-contiguous tensor copies; view refuses; contiguous packs in order") {
  Tensor x = arange(6).view({2, 3});
  Tensor t = x.t();
  CHECK_THROWS_WITH_AS(t.view({6}),
                       doctest::Contains("view: size [6] is not compatible with input of size [3, 2] and strides [1, 3]"),
                       Error);
  Tensor r = t.reshape({6});
  CHECK(r.storage() != x.storage());
  CHECK(values(r) == V{0, 3, 1, 4, 2, 5});
  r.fill_(9);
  CHECK(values(x) == V{0, 1, 2, 3, 4, 5});  // the copy is independent
  Tensor rv = x.reshape({3, 2});              // contiguous: a real view
  CHECK(rv.storage() == x.storage());

  Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.strides() == Strides{2, 1});
  CHECK(values(c) == V{0, 3, 1, 4, 2, 5});
  CHECK(x.contiguous().is_same(x));  // already contiguous: the same tensor
  CHECK(t.clone().storage() != x.storage());
}

// ---- dtype conversion ------------------------------------------------------------
TEST_CASE("bfloat16 rounds to nearest even; bit patterns match torch 1.13") {
  CHECK(bf16_bits(1.0f) == 0x3f80);
  CHECK(bf16_bits(1.00390625f) == 0x3f80);   // exactly halfway, ties to the even 0x3f80
  CHECK(bf16_bits(1.01171875f) == 0x3f82);   // halfway between 0x3f81 and 0x3f82: to even
  CHECK(bf16_bits(1.0f + 0x1p-8f + 0x1p-20f) == 0x3f81);  // just above halfway: up
  CHECK(bf16_bits(-2.5f) == 0xc020);
  CHECK(bf16_bits(std::numeric_limits<float>::max()) == 0x7f80);  // rounds up into inf
  CHECK(bf16_bits(1e-40f) == 0x0001);        // float subnormals stay subnormal
  CHECK(bf16_bits(INFINITY) == 0x7f80);
  CHECK(bf16_bits(-INFINITY) == 0xff80);
  CHECK(bf16_bits(-0.0f) == 0x8000);
  CHECK(std::isnan(bf16_value(bf16_bits(NAN))));
  CHECK(bf16_value(0x3f81) == 1.0078125f);
}

TEST_CASE("float16 rounds to nearest even, overflows to inf and keeps subnormals; matches torch 1.13") {
  CHECK(half_bits(1.0f) == 0x3c00);
  CHECK(half_bits(1.0f + 0x1p-11f) == 0x3c00);      // halfway: ties to even
  CHECK(half_bits(1.0f + 3 * 0x1p-11f) == 0x3c02);  // halfway: ties to even (up)
  CHECK(half_bits(0.1f) == 0x2e66);
  CHECK(half_bits(65504.0f) == 0x7bff);             // the largest half
  CHECK(half_bits(65519.0f) == 0x7bff);
  CHECK(half_bits(65520.0f) == 0x7c00);             // halfway to 65536: rounds to inf
  CHECK(half_bits(1e6f) == 0x7c00);
  CHECK(half_bits(-1e6f) == 0xfc00);
  CHECK(half_bits(0x1p-14f) == 0x0400);             // smallest normal
  CHECK(half_bits(0x1p-24f) == 0x0001);             // smallest subnormal
  CHECK(half_bits(0x1p-25f) == 0x0000);             // halfway to it: ties to even (zero)
  CHECK(half_bits(3 * 0x1p-25f) == 0x0002);         // 1.5 ulp: ties to even (2)
  CHECK(half_bits(6e-8f) == 0x0001);
  CHECK(half_bits(1e-8f) == 0x0000);
  CHECK(half_bits(-0.0f) == 0x8000);
  CHECK(half_bits(INFINITY) == 0x7c00);
  CHECK(std::isnan(half_value(half_bits(NAN))));
  CHECK(half_value(0x0001) == 0x1p-24f);
  CHECK(half_value(0x83ff) == -1023 * 0x1p-24f);   // negative subnormal
  CHECK(half_value(0x7bff) == 65504.0f);
  CHECK(std::isinf(half_value(0xfc00)));
}

TEST_CASE("to(dtype) converts through the tensor path with the same rounding, and round trips") {
  Tensor x = tensor({1.0, 1.00390625, 65520.0, 1e-8, -2.5}, kFloat32);
  Tensor b = x.to(kBFloat16);
  CHECK(b.dtype() == kBFloat16);
  CHECK(b.element_size() == 2);
  CHECK(b.data_ptr<BFloat16>()[1].bits == 0x3f80);
  Tensor h = x.to(kFloat16);
  CHECK(h.data_ptr<Half>()[0].bits == 0x3c00);
  CHECK(std::isinf(h[2].item<float>()));
  CHECK(h[3].item<float>() == 0.0f);
  CHECK(values(x.to(kFloat64).to(kFloat32)) == values(x));
  CHECK(values(x.to(kBFloat16).to(kFloat32)) == V{1.0, 1.0, 65536.0, bf16_value(bf16_bits(1e-8f)), -2.5});
  // float -> int truncates toward zero; anything nonzero is true
  CHECK(values(tensor({2.7, -2.7, 0.0}).to(kInt64)) == V{2, -2, 0});
  CHECK(values(tensor({2.7, -0.5, 0.0}).to(kBool)) == V{1, 1, 0});
  CHECK(values(tensor({0.0, 1.0}, kBool).to(kFloat32)) == V{0, 1});
  CHECK(values(tensor({300.0}, kInt32).to(kUInt8)) == V{44});  // wraps like a C++ cast
  Tensor same = x.to(kFloat32);
  CHECK(same.is_same(x));  // no copy when the dtype already matches
}

TEST_CASE("copy_ broadcasts the source, converts its dtype and writes through views") {
  Tensor dst = zeros({2, 3});
  dst.copy_(tensor({1, 2, 3}, kInt64));
  CHECK(values(dst) == V{1, 2, 3, 1, 2, 3});
  dst.copy_(tensor({7.5, 8.5}, kFloat64).view({2, 1}));
  CHECK(values(dst) == V{7.5, 7.5, 7.5, 8.5, 8.5, 8.5});
  Tensor m = zeros({3, 2});
  m.t().copy_(arange(6).view({2, 3}));
  CHECK(values(m) == V{0, 3, 1, 4, 2, 5});
  Tensor h = zeros({2}, kFloat16);
  h.copy_(tensor({0.1, 65520.0}));
  CHECK(h.data_ptr<Half>()[0].bits == 0x2e66);
  CHECK(h.data_ptr<Half>()[1].bits == 0x7c00);
}

TEST_CASE("copy_ from an overlapping view of itself reads the old values") {
  Tensor x = arange(4).view({2, 2});
  x.copy_(x.t());
  CHECK(values(x) == V{0, 2, 1, 3});
  Tensor y = arange(5);
  y.slice(0, 1, 5).copy_(y.slice(0, 0, 4));  // shift right by one
  CHECK(values(y) == V{0, 0, 1, 2, 3});
}

TEST_CASE("in-place arithmetic with an overlapping operand reads the old values") {
  Tensor x = arange(4).view({2, 2});
  x.add_(x.t());  // x + x^T is symmetric
  CHECK(values(x) == V{0, 3, 3, 6});
  Tensor y = arange(4);
  y.mul_(y);  // the same view: elementwise, safe without a copy
  CHECK(values(y) == V{0, 1, 4, 9});
  Tensor z = arange(3).view({3, 1}).expand({3, 3}).contiguous();
  z.sub_(z.select(1, 0).view({3, 1}));
  CHECK(values(z) == V(9, 0.0));
}

TEST_CASE("in-place ops bump the storage version; failed ones leave values and version alone") {
  Tensor x = ones({2, 3});
  const uint32_t v0 = x.storage()->version();
  x.mul_(2.0);
  CHECK(x.storage()->version() == v0 + 1);
  CHECK_THROWS_WITH_AS(x.add_(ones({4, 3})), doctest::Contains("add_: shapes [2, 3] and [4, 3] cannot be broadcast"),
                       Error);
  CHECK_THROWS_WITH_AS(x.add_(ones({2, 2, 3})),
                       doctest::Contains("add_: output with shape [2, 3] doesn't match the broadcast shape [2, 2, 3]"),
                       Error);
  CHECK_THROWS_WITH_AS(x.copy_(ones({4})),
                       doctest::Contains("copy_: shapes [2, 3] and [4] cannot be broadcast"), Error);
  CHECK(x.storage()->version() == v0 + 1);
  CHECK(values(x) == V(6, 2.0));
}

// ---- type promotion ------------------------------------------------------------------
TEST_CASE("binary ops promote dtypes as torch.result_type; int / int is float32") {
  Tensor i64 = tensor({7, 8}, kInt64), i32 = tensor({2, 2}, kInt32), f32 = tensor({0.5, 0.5});
  CHECK((i64 + f32).dtype() == kFloat32);
  CHECK(values(i64 + f32) == V{7.5, 8.5});
  CHECK((i64 * i32).dtype() == kInt64);
  CHECK((i32 + tensor({1, 1}, kUInt8)).dtype() == kInt32);
  CHECK((f32 + f32.to(kFloat64)).dtype() == kFloat64);
  Tensor q = i64 / i32;
  CHECK(q.dtype() == kFloat32);
  CHECK(values(q) == V{3.5, 4});
  CHECK((i64 * 2.5).dtype() == kFloat32);  // fractional scalar with an int tensor
  CHECK((i64 * 2.0).dtype() == kInt64);    // integral scalar keeps int64
  CHECK((f32 * 2.0).dtype() == kFloat32);  // the scalar takes the tensor's dtype
  CHECK(promote_types(kFloat16, kBFloat16) == kFloat32);
  CHECK(promote_types(kBool, kUInt8) == kUInt8);
  CHECK(promote_types(kInt64, kFloat16) == kFloat16);
  Tensor c = i64 > f32;
  CHECK(c.dtype() == kBool);
  CHECK(values(c) == V{1, 1});
  CHECK(values(tensor({1.0, 2.0}) == tensor({1, 3}, kInt64)) == V{1, 0});
  CHECK((c == tensor({1.0, 0.0}, kBool)).dtype() == kBool);
}

// ---- printing ----------------------------------------------------------------------
// Expected strings are repr() of the same tensors in torch 1.13.
TEST_CASE("printing matches PyTorch's repr for integer-valued, mixed and scientific floats") {
  CHECK(tensor({1.0, 2.0}).str() == "tensor([1., 2.])");
  CHECK(tensor({1.5, -2.25, 3.0}).str() == "tensor([ 1.5000, -2.2500,  3.0000])");
  CHECK(tensor({0.0, -1.5, 2.0}).str() == "tensor([ 0.0000, -1.5000,  2.0000])");
  CHECK(tensor({1e-5, 1.0}).str() == "tensor([1.0000e-05, 1.0000e+00])");
  CHECK(tensor({0.001, 10.0}).str() == "tensor([1.0000e-03, 1.0000e+01])");
  CHECK(tensor({1e9, 1.0}).str() == "tensor([1.0000e+09, 1.0000e+00])");
  CHECK(tensor({1.0, 2000.0}).str() == "tensor([1.0000e+00, 2.0000e+03])");
  CHECK(tensor({NAN, INFINITY, -INFINITY, 1.0}).str() == "tensor([nan, inf, -inf, 1.])");
  CHECK(zeros({3}).str() == "tensor([0., 0., 0.])");
  CHECK(full({}, 3.0).str() == "tensor(3.)");
  CHECK(full({}, 0.5).str() == "tensor(0.5000)");
}

TEST_CASE("printing matches PyTorch's repr for ints, bools, nesting, dtype and autograd suffixes") {
  CHECK(tensor({1, -20, 300}, kInt64).str() == "tensor([  1, -20, 300])");
  CHECK(tensor({1.0, 0.0}, kBool).str() == "tensor([ True, False])");
  CHECK(tensor({{1, 2}, {3, 4}}).str() == "tensor([[1., 2.],\n        [3., 4.]])");
  CHECK(arange(8).view({2, 2, 2}).str() ==
        "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])");
  CHECK(tensor({1.0, 2.0}, requires_grad()).str() == "tensor([1., 2.], requires_grad=True)");
  Tensor y = tensor({1.0, 2.0}, requires_grad()) * 2.0;
  CHECK(y.str() == "tensor([2., 4.], grad_fn=<MulBackward0>)");
  autograd::clear_tape();
  // lucid spells dtypes without PyTorch's "torch." prefix (documented in tensor.cpp)
  CHECK(tensor({1.5}, kFloat64).str() == "tensor([1.5000], dtype=float64)");
  CHECK(tensor({1.5, 2.0}, kFloat16).str() == "tensor([1.5000, 2.0000], dtype=float16)");
  CHECK(zeros({0}).str() == "tensor([])");
  CHECK(zeros({0, 3}).str() == "tensor([], size=(0, 3))");
  CHECK(zeros({0}, kInt64).str() == "tensor([], dtype=int64)");
  CHECK(arange(4).t().str() == "tensor([0., 1., 2., 3.])");
  CHECK(arange(6).view({2, 3}).t().str() == "tensor([[0., 3.],\n        [1., 4.],\n        [2., 5.]])");
  CHECK(Tensor().str() == "tensor(undefined)");
}

TEST_CASE("printing wraps long rows at 80 columns and summarizes past 1000 elements like PyTorch") {
  CHECK(arange(20).str() ==
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15., 16., 17., 18., 19.])");
  CHECK(arange(2000, kInt64).str() == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
  const std::string s = arange(2000).view({40, 50}).str();
  CHECK(s.starts_with("tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n"
                "         4.9000e+01],\n        [5.0000e+01,"));
  CHECK(s.find("],\n        ...,\n        [1.8500e+03,") != std::string::npos);
  const std::string s3 = arange(1200, kInt64).view({10, 10, 12}).str();
  CHECK(s3.find("  359]],\n\n        ...,\n\n        [[ 840,") != std::string::npos);
  CHECK(s3.ends_with("[1188, 1189, 1190,  ..., 1197, 1198, 1199]]])"));
}

// ---- allocator statistics ----------------------------------------------------------
TEST_CASE("memory_allocated counts storage bytes exactly and goes back down when tensors die") {
  const int64_t base = memory_allocated();
  reset_peak_memory_stats();
  CHECK(max_memory_allocated() == base);
  {
    Tensor a = zeros({10, 10});                // 400 bytes
    CHECK(memory_allocated() == base + 400);
    Tensor b = zeros({3}, kFloat64);           // 24 bytes
    Tensor c = zeros({5}, kBool);              // 5 bytes (not rounded)
    CHECK(memory_allocated() == base + 429);
    Tensor v = a.t().narrow(0, 1, 3).reshape({-1});  // non-contiguous: reshape copies 30 floats
    CHECK(memory_allocated() == base + 429 + 30 * 4);
    Tensor w = a.t().expand({2, 10, 10}).slice(2, 0, 10, 3);  // views allocate nothing
    CHECK(memory_allocated() == base + 549);
    b = Tensor();
    CHECK(memory_allocated() == base + 525);
  }
  CHECK(memory_allocated() == base);
  CHECK(max_memory_allocated() == base + 549);
  reset_peak_memory_stats();
  CHECK(max_memory_allocated() == base);
  if (!cuda::is_available()) CHECK(memory_allocated(Device(kCUDA)) == 0);  // nothing ever allocated there
}

// ---- errors -------------------------------------------------------------------------
TEST_CASE("bad dims, shapes and broadcasts raise errors that name the op and the shapes") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH_AS(x.view({4, 2}), doctest::Contains("view: shape [4, 2] is invalid for input of size 6"), Error);
  CHECK_THROWS_WITH_AS(x.view({-1, -1}), doctest::Contains("view: only one dimension can be inferred"), Error);
  CHECK_THROWS_WITH_AS(x.transpose(0, 5),
                       doctest::Contains("transpose: dim 5 is out of range for a tensor with 2 dims (expected -2 to 1)"),
                       Error);
  CHECK_THROWS_WITH_AS(x.size(-3), doctest::Contains("size: dim -3 is out of range"), Error);
  CHECK_THROWS_WITH_AS(x.sum(2), doctest::Contains("dim 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(x.permute({0, 0}), doctest::Contains("permute: repeated dim 0"), Error);
  CHECK_THROWS_WITH_AS(x.narrow(1, 2, 2), doctest::Contains("narrow: start 2 + length 2 exceeds dimension size 3"),
                       Error);
  CHECK_THROWS_WITH_AS(x.expand({4, 3}),
                       doctest::Contains("expand: the expanded size of the tensor (4) must match the existing size (2)"),
                       Error);
  CHECK_THROWS_WITH_AS(ones({1}).expand({-3}), doctest::Contains("expand: invalid size -3 at dim 0 in [-3]"), Error);
  CHECK_THROWS_WITH_AS(x + zeros({4, 3}),
                       doctest::Contains("add: shapes [2, 3] and [4, 3] cannot be broadcast (dim 0: 2 vs 4)"), Error);
  CHECK_THROWS_WITH_AS(x * zeros({2}), doctest::Contains("mul: shapes [2, 3] and [2] cannot be broadcast"), Error);
  CHECK_THROWS_WITH_AS(x.data_ptr<double>(), doctest::Contains("data_ptr: tensor has dtype float32 but float64"),
                       Error);
  CHECK_THROWS_WITH_AS(Tensor().sizes(), doctest::Contains("operation on an undefined tensor"), Error);
}

TEST_CASE("math on 16-bit floats is refused on the CPU with an error naming the op") {
  Tensor h = ones({2}, kFloat16), b = ones({2}, kBFloat16);
  CHECK_THROWS_WITH_AS(exp(h), doctest::Contains("exp: expected a float32 or float64 tensor, got float16"), Error);
  CHECK_THROWS_WITH_AS(h + h, doctest::Contains("add: expected a float32 or float64 tensor, got float16"), Error);
  CHECK_THROWS_WITH_AS(-b, doctest::Contains("neg: expected a float32 or float64 tensor, got bfloat16"), Error);
  CHECK_THROWS_WITH_AS(h.mul_(2.0), doctest::Contains("mul_: expected a float32 or float64 tensor, got float16"),
                       Error);
  CHECK(h.sum().item<float>() == 2.0f);  // reductions accumulate 16-bit floats in float64
  CHECK(values(h.to(kFloat32) + 1.0) == V{2, 2});  // the documented way round
  CHECK(values(h) == V{1, 1});
}

TEST_CASE("a CUDA device that is not there is refused by factories and to(), saying why") {
  if (cuda::device_count() >= 2) return;  // cuda:1 exists: tests/gpu covers it
  const std::string why = cuda::is_available() ? "" : cuda::unavailable_reason();
  CHECK(cuda::is_available() != !why.empty());
  if (!cuda::is_available())
    CHECK_THROWS_WITH_AS(zeros({2}, Device(kCUDA)),
                         doctest::Contains(("empty: device cuda:0 needs a usable CUDA device (" + why).c_str()), Error);
  CHECK_THROWS_WITH_AS(ones({2}).to(Device(kCUDA, 1)),
                       doctest::Contains("to: copying from cpu to cuda:1: device cuda:1 needs a usable CUDA device"),
                       Error);
  CHECK(ones({2}).to(Device()).is_cpu());
}

TEST_CASE("a failed op changes nothing: no output, no tape entry, inputs intact") {
  Tensor a = ones({2, 3}, requires_grad());
  const int64_t mem = memory_allocated();
  const size_t tape = autograd::tape_size();
  CHECK_THROWS_AS(a * ones({3, 2}), Error);
  CHECK_THROWS_AS(a.view({5}), Error);
  CHECK_THROWS_AS(a.transpose(0, 2), Error);
  CHECK(autograd::tape_size() == tape);
  CHECK(memory_allocated() == mem);
  CHECK(a.sizes() == Shape{2, 3});
  CHECK(a.strides() == Strides{3, 1});
  CHECK(values(a) == V(6, 1.0));
  CHECK(!a.grad().defined());
}

TEST_CASE("allclose and isclose follow torch's |a - b| <= atol + rtol |b| rule") {
  using namespace lucid;
  Tensor a = tensor({1.0, 2.0, NAN, INFINITY});
  Tensor b = tensor({1.0 + 1e-6, 2.1, NAN, INFINITY});
  Tensor c = isclose(a, b);
  CHECK(c[0].item<bool>());
  CHECK_FALSE(c[1].item<bool>());
  CHECK_FALSE(c[2].item<bool>());
  CHECK(c[3].item<bool>());
  CHECK(isclose(a, b, 1e-5, 1e-8, /*equal_nan=*/true)[2].item<bool>());
  CHECK(allclose(a.narrow(0, 0, 1), b.narrow(0, 0, 1)));
  CHECK_FALSE(allclose(a, b));
  CHECK(allclose(a, b, 0.1, 0.0, true));
  CHECK_THROWS_WITH_AS(allclose(ones({2}), ones({3})), doctest::Contains("isclose"), Error);
}
