// Philox4x32-10: lucid's one source of random numbers.
//
// ---- The contract (a CUDA kernel that follows it produces the same numbers) ----
//
// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel Random Numbers: As Easy as
// 1, 2, 3", SC11; the Random123 library) maps a 128-bit counter and a 64-bit key
// to 128 random bits (a "block" of 4 uint32 words). It has no state: any block
// can be computed on its own, which is why one GPU thread per block works.
//
// A Generator is just (seed, offset):
//   key    = { uint32(seed), uint32(seed >> 32) }            (low word first)
//   offset = the number of Philox blocks already consumed.
//
// A draw made at offset o reads a stream of 32-bit words:
//   word w  = output word (w % 4) of block( counter(o + w / 4), key )
//   counter(c) = { uint32(c), uint32(c >> 32), 0, 0 }         (128-bit, c in the low 64)
// A draw that reads W words advances the offset by ceil(W / 4) blocks. The unread
// words of a partly used last block are skipped, never handed to the next draw:
// drawing 10 then 6 floats gives words 0..9 and then 12..17 of one long stream.
//
// How each fill turns words into values (element i of n):
//   fill_uint32          1 word:  out[i] = word i.                         W = n
//   fill_uniform float   1 word:  u = (word i >> 8) * 2^-24 in [0, 1),
//                                 out = lo + (hi - lo) * u; if rounding gives hi,
//                                 out = the float just below hi.            W = n
//   fill_uniform double  2 words: x = word 2i | word (2i+1) << 32,
//                                 u = (x >> 11) * 2^-53 in [0, 1), then as float.
//                                                                           W = 2n
//   fill_normal          Box-Muller on pairs: elements 2j and 2j+1 share
//                        u1 in (0, 1] and u2 in [0, 1);
//                        r = sqrt(-2 ln u1), t = 2 pi u2,
//                        out[2j] = mean + std * r cos t, out[2j+1] = mean + std * r sin t.
//                        For odd n the last sin value is dropped (its words are
//                        still consumed).
//     float:  u1 = ((word 2j >> 8) + 1) * 2^-24, u2 = (word 2j+1 >> 8) * 2^-24,
//             math in float.                                     W = 2 * ceil(n / 2)
//     double: u1 = ((x(2j) >> 11) + 1) * 2^-53, u2 = (x(2j+1) >> 11) * 2^-53 with
//             x(k) = word 2k | word (2k+1) << 32, math in double.  W = 4 * ceil(n / 2)
//   fill_randint         2 words: x = word 2i | word (2i+1) << 32,
//                        out = low + int64(x mod (high - low)), in [low, high).
//                        The modulo bias is below (high - low) / 2^64: negligible
//                        for any range far below 2^64.                       W = 2n
//
// Integer and uniform draws are bit-exact on any device. Normal draws go through
// log/sqrt/cos/sin, so another math library (e.g. CUDA's) may differ by a few ulps.
//
// lucid's default seed is PyTorch's (67280421310721), but lucid's numbers do NOT
// match PyTorch's: the generators and the word-to-value mappings differ.
#pragma once
#include <array>
#include <cstdint>
#include <mutex>

namespace lucid {

// The bare Philox4x32-10 bijection.
struct Philox4x32 {
  using Counter = std::array<uint32_t, 4>;
  using Key = std::array<uint32_t, 2>;
  static constexpr uint32_t kMul0 = 0xD2511F53;   // multiplier for counter word 0
  static constexpr uint32_t kMul1 = 0xCD9E8D57;   // multiplier for counter word 2
  static constexpr uint32_t kWeyl0 = 0x9E3779B9;  // key-schedule increments (golden
  static constexpr uint32_t kWeyl1 = 0xBB67AE85;  // ratio, sqrt(3) - 1)
  static constexpr int kRounds = 10;

  static Counter block(Counter counter, Key key);
};

// Everything a draw needs: the key and the first block it may use. This is also
// what a CUDA kernel receives at launch.
struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;  // Philox blocks consumed so far
};

inline constexpr uint64_t kDefaultSeed = 67280421310721ull;

// Blocks consumed by a draw that reads `words` words: ceil(words / 4).
constexpr uint64_t philox_blocks_for_words(uint64_t words) { return (words + 3) / 4; }

// The reference kernels: fill out[0, n) from the stream that starts at `at`.
// They read nothing else and change nothing else; the Generator methods below
// reserve blocks and call them. See the contract at the top for each mapping.
namespace cpu {
void philox_uint32(uint32_t* out, int64_t n, GeneratorState at);
void philox_uniform(float* out, int64_t n, GeneratorState at, float lo, float hi);
void philox_uniform(double* out, int64_t n, GeneratorState at, double lo, double hi);
void philox_normal(float* out, int64_t n, GeneratorState at, float mean, float std);
void philox_normal(double* out, int64_t n, GeneratorState at, double mean, double std);
void philox_randint(int64_t* out, int64_t n, GeneratorState at, int64_t low, int64_t high);
}  // namespace cpu

// A (seed, offset) pair behind a mutex. Draws from several threads are safe:
// each draw reserves its blocks under the lock, then computes without it.
class Generator {
 public:
  using State = GeneratorState;

  explicit Generator(uint64_t seed = kDefaultSeed) : state_{seed, 0} {}
  Generator(const Generator&) = delete;  // copy the State instead
  Generator& operator=(const Generator&) = delete;

  void manual_seed(uint64_t seed);  // seed = seed, offset = 0
  uint64_t seed() const;
  uint64_t offset() const;
  State get_state() const;
  void set_state(State state);

  // Atomically claims `blocks` blocks: returns the state the draw starts from
  // (seed and first block) and advances the offset by `blocks`. Seed and offset
  // are returned together so a concurrent manual_seed cannot tear them apart.
  State reserve(uint64_t blocks);

  void fill_uint32(uint32_t* out, int64_t n);
  void fill_uniform(float* out, int64_t n, float lo = 0.f, float hi = 1.f);
  void fill_uniform(double* out, int64_t n, double lo = 0.0, double hi = 1.0);
  void fill_normal(float* out, int64_t n, float mean = 0.f, float std = 1.f);
  void fill_normal(double* out, int64_t n, double mean = 0.0, double std = 1.0);
  void fill_randint(int64_t* out, int64_t n, int64_t low, int64_t high);  // [low, high)

 private:
  mutable std::mutex mutex_;
  State state_;
};

// The process-wide generator every op uses unless given another one.
Generator& default_generator();

// Reseeds the default generator (offset back to 0), like torch::manual_seed.
void manual_seed(uint64_t seed);

}  // namespace lucid
