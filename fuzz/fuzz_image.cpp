// libFuzzer target: arbitrary bytes into stb_image decoding (data/image_decode.h).
// The first byte picks the ColorMode, the rest is the file. Every input must
// end in an Image or a lucid::Error. Run: scripts/fuzz.sh
#include <cstddef>
#include <cstdint>

#include <lucid/data/image_decode.h>
#include <lucid/kernels/error.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto mode = static_cast<lucid::data::ColorMode>(data[0] % 5);
  try {
    lucid::data::Image im = lucid::data::decode_image(data + 1, size - 1, "fuzz-input", mode);
    if (im.pixels.size() != size_t(im.height * im.width * im.channels)) __builtin_trap();
  } catch (const lucid::Error&) {
  }
  return 0;
}
