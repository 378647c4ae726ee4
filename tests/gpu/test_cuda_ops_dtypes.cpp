// CPU-vs-CUDA for every dtype: conversions between all 8 dtypes, clone and
// contiguous, comparisons producing bool, and integer arithmetic. These are
// exact operations (or defined roundings), so CUDA must match the CPU bit for
// bit.
#include <doctest/doctest.h>

#include <vector>

#include "gpu/cuda_compare.h"

using namespace lucid;
using gputest::same_bits;

namespace {

const std::vector<ScalarType> kAllDtypes = {kFloat32, kFloat64, kFloat16, kBFloat16,
                                            kInt64,   kInt32,   kUInt8,   kBool};
// The dtypes the CPU has comparison and integer kernels for (16-bit floats only
// convert, copy and store: check_float_math in kernels/dispatch.h).
const std::vector<ScalarType> kComparable = {kFloat32, kFloat64, kInt64, kInt32, kUInt8, kBool};
const std::vector<ScalarType> kIntegers = {kInt64, kInt32, kUInt8};

// Values every dtype holds and every conversion defines (no negative value
// to uint8, nothing out of range, nothing NaN to an integer): 0..100 in halves,
// so float -> integer truncation and float -> bool (nonzero) are exercised.
Tensor exact_values(const Shape& shape, ScalarType t) {
  return randint(0, 201, shape, kInt64).to(kFloat64).mul_(0.5).to(t);
}

// Float values that need rounding when narrowed (float64 -> float32 -> bf16 ...),
// including negatives and tiny and large magnitudes.
Tensor rounding_values(const Shape& shape, ScalarType t) {
  return randn(shape, kFloat64).mul_(100.0).to(t);
}

// A transposed view of a packed [rows, cols] tensor, so copies see strides.
Tensor transposed(const Tensor& packed) { return packed.t(); }

}  // namespace

TEST_CASE("to(dtype) on CUDA matches the CPU bit for bit for all 8 x 8 dtype pairs, any layout") {
  manual_seed(1);
  for (ScalarType from : kAllDtypes) {
    for (ScalarType to : kAllDtypes) {
      CAPTURE(from);
      CAPTURE(to);
      std::vector<Tensor> sources = {exact_values({33, 65}, from)};
      if (is_floating_point(from) && is_floating_point(to)) sources.push_back(rounding_values({33, 65}, from));
      for (const Tensor& src : sources) {
        const Tensor cpu = src.to(to);
        const Tensor cuda = src.cuda().to(to);
        CHECK(cuda.is_cuda());
        CHECK(same_bits(cuda, cpu));
        // a transposed (non-contiguous) source
        const Tensor cpu_t = transposed(src).to(to);
        const Tensor cuda_t = transposed(src.cuda()).to(to);
        CHECK(same_bits(cuda_t, cpu_t));
        // copy_ into a strided destination of another dtype
        Tensor dst = empty({65, 33}, TensorOptions(to).device(gputest::gpu())).t();
        dst.copy_(src.cuda());
        CHECK(same_bits(dst, cpu));
      }
    }
  }
}

TEST_CASE("clone and contiguous on CUDA keep every dtype's bits, on odd and empty sizes") {
  manual_seed(2);
  for (ScalarType t : kAllDtypes) {
    CAPTURE(t);
    for (Shape shape : {Shape{0, 3}, Shape{1, 1}, Shape{7, 33}, Shape{257, 1001}}) {
      CAPTURE(shape);
      const Tensor x = exact_values(shape, t);
      const Tensor g = x.cuda();
      CHECK(same_bits(g.clone(), x));
      const Tensor packed = g.t().contiguous();
      CHECK(packed.is_contiguous() == x.t().contiguous().is_contiguous());
      CHECK(same_bits(packed, x.t().contiguous()));
      const Tensor stepped = g.slice(1, 0, shape[1], 2).contiguous();
      CHECK(same_bits(stepped, x.slice(1, 0, shape[1], 2).contiguous()));
      CHECK(same_bits(g.t().clone(), x.t().clone()));
    }
  }
}

TEST_CASE("comparisons on CUDA give the CPU's bool tensor for every comparable dtype, with broadcasting") {
  manual_seed(3);
  for (ScalarType t : kComparable) {
    CAPTURE(t);
    // small ranges, so equal elements (ties) are common
    const Tensor a = randint(0, 4, {33, 65}, kInt64).to(t);
    const Tensor b = randint(0, 4, {65}, kInt64).to(t);
    const Tensor at = randint(0, 4, {65, 33}, kInt64).to(t).t();  // transposed
    for (auto [name, op] : std::vector<std::pair<const char*, Tensor (*)(const Tensor&, const Tensor&)>>{
             {"eq", eq}, {"ne", ne}, {"lt", lt}, {"le", le}, {"gt", gt}, {"ge", ge}}) {
      CAPTURE(name);
      const Tensor cpu = op(a, b);
      const Tensor cuda = op(a.cuda(), b.cuda());
      CHECK(cuda.dtype() == kBool);
      CHECK(same_bits(cuda, cpu));
      CHECK(same_bits(op(at.cuda(), a.cuda()), op(at, a)));
    }
  }
  // NaN compares unequal to everything, itself included
  const Tensor x = tensor({1.0, std::nan(""), 3.0});
  const Tensor y = tensor({1.0, std::nan(""), 2.0});
  CHECK(same_bits(eq(x.cuda(), y.cuda()), eq(x, y)));
  CHECK(same_bits(ne(x.cuda(), y.cuda()), ne(x, y)));
  CHECK(same_bits(lt(x.cuda(), y.cuda()), lt(x, y)));
}

TEST_CASE("integer arithmetic on CUDA matches the CPU exactly: int64, int32, uint8 (with wraparound)") {
  manual_seed(4);
  for (ScalarType t : kIntegers) {
    CAPTURE(t);
    // uint8: 0..255, so add and mul wrap modulo 256 (defined for unsigned);
    // signed: small magnitudes, so nothing overflows (undefined behaviour)
    const int64_t lo = t == kUInt8 ? 0 : -1000, hi = t == kUInt8 ? 256 : 1000;
    const Tensor a = randint(lo, hi, {33, 257}, kInt64).to(t);
    const Tensor b = randint(lo, hi, {257}, kInt64).to(t);
    const Tensor at = randint(lo, hi, {257, 33}, kInt64).to(t).t();
    const Tensor ga = a.cuda(), gb = b.cuda(), gat = at.cuda();
    CHECK(same_bits(ga + gb, a + b));
    CHECK(same_bits(ga - gb, a - b));
    CHECK(same_bits(ga * gb, a * b));
    CHECK(same_bits(gat * ga, at * a));
    CHECK(same_bits(maximum(ga, gb), maximum(a, b)));
    CHECK(same_bits(minimum(gat, gb), minimum(at, b)));
    CHECK(same_bits(abs(ga), abs(a)));
    CHECK(same_bits(square(gat), square(at)));
    CHECK(same_bits(sign(ga), sign(a)));
    if (t != kUInt8) CHECK(same_bits(-ga, -a));
    CHECK(same_bits(where(gt(ga, gb), ga, gb), where(gt(a, b), a, b)));
    CHECK((ga + gb).dtype() == t);
  }
  // mixed dtypes promote the same way on both devices: int32 + int64 -> int64, int64 + float32 -> float32
  const Tensor i32 = randint(-50, 50, {7, 9}, kInt64).to(kInt32);
  const Tensor i64 = randint(-50, 50, {9}, kInt64);
  const Tensor f32 = randn({7, 9});
  CHECK(same_bits(i32.cuda() + i64.cuda(), i32 + i64));
  CHECK(same_bits(i64.cuda() * f32.cuda(), i64 * f32));
  // division of integers gives a float result
  const Tensor den = randint(1, 9, {9}, kInt64);
  CHECK(same_bits(i64.cuda() / den.cuda(), i64 / den));
}
