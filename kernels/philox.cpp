// Philox4x32-10 and the reference fill kernels. See philox.h for the contract.
#include <lucid/kernels/error.h>
#include <lucid/kernels/philox.h>

#include <cmath>
#include <limits>
#include <numbers>

namespace lucid {

namespace {

// 32 x 32 -> 64-bit product, split into its high and low words.
inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  uint64_t p = uint64_t(a) * uint64_t(b);
  hi = uint32_t(p >> 32);
  lo = uint32_t(p);
}

}  // namespace

// One round permutes the words and mixes them with two multiplications:
//   out = { hi(M1*c2) ^ c1 ^ k0,  lo(M1*c2),  hi(M0*c0) ^ c3 ^ k1,  lo(M0*c0) }
// and between rounds the key is bumped by the Weyl constants.
Philox4x32::Counter Philox4x32::block(Counter c, Key k) {
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      k[0] += kWeyl0;
      k[1] += kWeyl1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kMul0, c[0], hi0, lo0);
    mulhilo(kMul1, c[2], hi1, lo1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
  }
  return c;
}

namespace {

// The word stream of a draw that starts at `at`, read in order. It computes
// each block once, when its first word is asked for.
class WordStream {
 public:
  explicit WordStream(GeneratorState at)
      : key_{uint32_t(at.seed), uint32_t(at.seed >> 32)}, next_block_(at.offset) {}

  uint32_t next32() {
    if (used_ == 4) {
      uint64_t c = next_block_++;
      block_ = Philox4x32::block({uint32_t(c), uint32_t(c >> 32), 0, 0}, key_);
      used_ = 0;
    }
    return block_[used_++];
  }
  // Two consecutive words, the first one as the low half.
  uint64_t next64() {
    uint64_t lo = next32();
    uint64_t hi = next32();
    return lo | (hi << 32);
  }

 private:
  Philox4x32::Key key_;
  uint64_t next_block_;
  Philox4x32::Counter block_{};
  int used_ = 4;
};

// [0, 1) and (0, 1] from the top 24 (float) or 53 (double) bits.
inline float unit_float(uint32_t x) { return float(x >> 8) * 0x1.0p-24f; }
inline float unit_float_open0(uint32_t x) { return float((x >> 8) + 1) * 0x1.0p-24f; }
inline double unit_double(uint64_t x) { return double(x >> 11) * 0x1.0p-53; }
inline double unit_double_open0(uint64_t x) { return double((x >> 11) + 1) * 0x1.0p-53; }

// lo + (hi - lo) * u can round up to hi; keep the interval half-open.
template <class T>
inline T scale_uniform(T u, T lo, T hi) {
  T v = lo + (hi - lo) * u;
  return (v >= hi && hi > lo) ? std::nextafter(hi, lo) : v;
}

}  // namespace

namespace cpu {

void philox_uint32(uint32_t* out, int64_t n, GeneratorState at) {
  WordStream s(at);
  for (int64_t i = 0; i < n; ++i) out[i] = s.next32();
}

void philox_uniform(float* out, int64_t n, GeneratorState at, float lo, float hi) {
  WordStream s(at);
  for (int64_t i = 0; i < n; ++i) out[i] = scale_uniform(unit_float(s.next32()), lo, hi);
}

void philox_uniform(double* out, int64_t n, GeneratorState at, double lo, double hi) {
  WordStream s(at);
  for (int64_t i = 0; i < n; ++i) out[i] = scale_uniform(unit_double(s.next64()), lo, hi);
}

// Box-Muller: (r cos t, r sin t) with r = sqrt(-2 ln u1), t = 2 pi u2 are two
// independent standard normals when u1, u2 are uniform; u1 > 0 keeps ln finite.
void philox_normal(float* out, int64_t n, GeneratorState at, float mean, float std) {
  WordStream s(at);
  for (int64_t i = 0; i < n; i += 2) {
    float u1 = unit_float_open0(s.next32());
    float u2 = unit_float(s.next32());
    float r = std::sqrt(-2.f * std::log(u1));
    float t = 2.f * std::numbers::pi_v<float> * u2;
    out[i] = mean + std * r * std::cos(t);
    if (i + 1 < n) out[i + 1] = mean + std * r * std::sin(t);
  }
}

void philox_normal(double* out, int64_t n, GeneratorState at, double mean, double std) {
  WordStream s(at);
  for (int64_t i = 0; i < n; i += 2) {
    double u1 = unit_double_open0(s.next64());
    double u2 = unit_double(s.next64());
    double r = std::sqrt(-2.0 * std::log(u1));
    double t = 2.0 * std::numbers::pi * u2;
    out[i] = mean + std * r * std::cos(t);
    if (i + 1 < n) out[i + 1] = mean + std * r * std::sin(t);
  }
}

void philox_randint(int64_t* out, int64_t n, GeneratorState at, int64_t low, int64_t high) {
  WordStream s(at);
  uint64_t range = uint64_t(high) - uint64_t(low);  // exact even when high - low overflows int64
  for (int64_t i = 0; i < n; ++i) out[i] = int64_t(uint64_t(low) + s.next64() % range);
}

}  // namespace cpu

// ---- Generator ---------------------------------------------------------------

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard lock(mutex_);
  state_ = {seed, 0};
}
uint64_t Generator::seed() const {
  std::lock_guard lock(mutex_);
  return state_.seed;
}
uint64_t Generator::offset() const {
  std::lock_guard lock(mutex_);
  return state_.offset;
}
Generator::State Generator::get_state() const {
  std::lock_guard lock(mutex_);
  return state_;
}
void Generator::set_state(State state) {
  std::lock_guard lock(mutex_);
  state_ = state;
}
Generator::State Generator::reserve(uint64_t blocks) {
  std::lock_guard lock(mutex_);
  State start = state_;
  state_.offset += blocks;
  return start;
}

void Generator::fill_uint32(uint32_t* out, int64_t n) {
  LUCID_CHECK(n >= 0, "fill_uint32: n must be >= 0, got ", n);
  cpu::philox_uint32(out, n, reserve(philox_blocks_for_words(uint64_t(n))));
}

void Generator::fill_uniform(float* out, int64_t n, float lo, float hi) {
  LUCID_CHECK(n >= 0, "fill_uniform: n must be >= 0, got ", n);
  LUCID_CHECK(lo <= hi, "fill_uniform: expected lo <= hi, got lo=", lo, " hi=", hi);
  cpu::philox_uniform(out, n, reserve(philox_blocks_for_words(uint64_t(n))), lo, hi);
}

void Generator::fill_uniform(double* out, int64_t n, double lo, double hi) {
  LUCID_CHECK(n >= 0, "fill_uniform: n must be >= 0, got ", n);
  LUCID_CHECK(lo <= hi, "fill_uniform: expected lo <= hi, got lo=", lo, " hi=", hi);
  cpu::philox_uniform(out, n, reserve(philox_blocks_for_words(2 * uint64_t(n))), lo, hi);
}

void Generator::fill_normal(float* out, int64_t n, float mean, float std) {
  LUCID_CHECK(n >= 0, "fill_normal: n must be >= 0, got ", n);
  LUCID_CHECK(std >= 0.f, "fill_normal: std must be >= 0, got ", std);
  uint64_t pairs = (uint64_t(n) + 1) / 2;
  cpu::philox_normal(out, n, reserve(philox_blocks_for_words(2 * pairs)), mean, std);
}

void Generator::fill_normal(double* out, int64_t n, double mean, double std) {
  LUCID_CHECK(n >= 0, "fill_normal: n must be >= 0, got ", n);
  LUCID_CHECK(std >= 0.0, "fill_normal: std must be >= 0, got ", std);
  uint64_t pairs = (uint64_t(n) + 1) / 2;
  cpu::philox_normal(out, n, reserve(philox_blocks_for_words(4 * pairs)), mean, std);
}

void Generator::fill_randint(int64_t* out, int64_t n, int64_t low, int64_t high) {
  LUCID_CHECK(n >= 0, "fill_randint: n must be >= 0, got ", n);
  LUCID_CHECK(low < high, "fill_randint: expected low < high, got low=", low, " high=", high);
  cpu::philox_randint(out, n, reserve(philox_blocks_for_words(2 * uint64_t(n))), low, high);
}

Generator& default_generator() {
  static Generator gen(kDefaultSeed);
  return gen;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace lucid
