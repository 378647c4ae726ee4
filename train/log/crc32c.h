#pragma once
// CRC-32C (Castagnoli), the checksum of TFRecord framing (TensorBoard event
// files), and the "mask" TFRecord applies to every stored CRC.
//
//   crc32c          CRC-32C of some bytes (the iSCSI/ext4 CRC, check value
//                   crc32c("123456789") == 0xE3069283)
//   crc32c_extend   continue a CRC over more bytes: crc32c(a + b) ==
//                   crc32c_extend(crc32c(a), b)
//   mask_crc        ((crc >> 15) | (crc << 17)) + 0xa282ead8
//   unmask_crc      its inverse
//   masked_crc32c   mask_crc(crc32c(bytes)), what a TFRecord stores
//
// Why the mask: a CRC computed over bytes that themselves contain CRCs (a
// record holding a record) is weak; rotating and offsetting the stored value
// breaks that pattern. TensorFlow defines it; readers check it.
//
// The implementation is the table-driven reference (one 256-entry table,
// one byte per step), built at compile time: a few hundred MB/s, far more
// than logging needs.

#include <cstdint>
#include <string_view>

namespace lucid::train::log {

uint32_t crc32c_extend(uint32_t crc, std::string_view bytes);
inline uint32_t crc32c(std::string_view bytes) { return crc32c_extend(0, bytes); }

inline constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;
inline constexpr uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta; }
inline constexpr uint32_t unmask_crc(uint32_t masked) {
  const uint32_t rot = masked - kCrcMaskDelta;
  return (rot >> 17) | (rot << 15);
}
inline uint32_t masked_crc32c(std::string_view bytes) { return mask_crc(crc32c(bytes)); }

}  // namespace lucid::train::log
