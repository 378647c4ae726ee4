#include <lucid/train/log/crc32c.h>

#include <array>

namespace lucid::train::log {

namespace {

// The Castagnoli polynomial 0x1EDC6F41, bit-reversed: CRC-32C processes the
// least significant bit of each byte first, so the table is "reflected".
constexpr uint32_t kPolyReflected = 0x82f63b78u;

// table[b]: the CRC register after shifting the byte b through it alone.
constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t r = b;
    for (int bit = 0; bit < 8; ++bit) r = (r & 1u) ? (r >> 1) ^ kPolyReflected : r >> 1;
    table[b] = r;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = make_table();

}  // namespace

uint32_t crc32c_extend(uint32_t crc, std::string_view bytes) {
  // The register starts at all ones and is inverted at the end (so leading
  // zero bytes change the CRC); inverting on entry undoes the previous exit
  // inversion, which is what lets a CRC be continued.
  uint32_t r = ~crc;
  for (const char c : bytes) r = kTable[(r ^ static_cast<uint8_t>(c)) & 0xffu] ^ (r >> 8);
  return ~r;
}

}  // namespace lucid::train::log
