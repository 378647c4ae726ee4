// Philox4x32-10 on the GPU: the same bijection as Philox4x32::block
// (kernels/philox.cpp), so a kernel that follows the contract in kernels/philox.h
// draws the same words as the CPU generator for the same (seed, offset).
//
// Philox has no state: block c of the stream is a pure function of (c, key), so
// one thread computes one block of 4 words with no communication. 10 rounds of
// 2 32x32->64-bit multiplies and a few xors: ~40 integer ops per block, all in
// registers. Included by .cu files only.
#pragma once
#include <cstdint>

#include <lucid/kernels/philox.h>

namespace lucid::cuda {

struct PhiloxBlock {
  uint32_t w[4];
};

// Block `c` (an absolute block number: offset + block within the draw) of the
// stream keyed by `seed`. counter = { uint32(c), uint32(c >> 32), 0, 0 },
// key = { uint32(seed), uint32(seed >> 32) }, as in the contract.
__device__ inline PhiloxBlock philox_block(uint64_t c, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(c), c1 = static_cast<uint32_t>(c >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < Philox4x32::kRounds; ++round) {
    if (round > 0) {  // the key schedule: bumped by the Weyl constants between rounds
      k0 += Philox4x32::kWeyl0;
      k1 += Philox4x32::kWeyl1;
    }
    // The two products, split into high and low words (__umulhi = high 32 bits).
    const uint32_t hi0 = __umulhi(Philox4x32::kMul0, c0), lo0 = Philox4x32::kMul0 * c0;
    const uint32_t hi1 = __umulhi(Philox4x32::kMul1, c2), lo1 = Philox4x32::kMul1 * c2;
    // out = { hi(M1*c2) ^ c1 ^ k0,  lo(M1*c2),  hi(M0*c0) ^ c3 ^ k1,  lo(M0*c0) }
    const uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  return {{c0, c1, c2, c3}};
}

// [0, 1) from the top 24 bits, exactly as the CPU's float uniform mapping
// (both factors are exact in float, so the product is too).
__device__ inline float philox_unit_float(uint32_t word) {
  return static_cast<float>(word >> 8) * 0x1.0p-24f;
}

}  // namespace lucid::cuda
