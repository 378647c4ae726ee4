#pragma once
// Decoding PNG, JPEG, BMP and TGA into a data::Image, with stb_image (Debian's
// libstb-dev). This file's .cpp is the only one that compiles stb_image.
//
//   ColorMode          keep the file's channels, or convert to gray / RGB / RGBA
//   decode_image       from bytes in memory (name is used in error messages)
//   read_image         from a file
//   kMaxImagePixels    the largest width * height accepted
//
// Errors are lucid::Error naming the file and stb_image's reason, e.g.
//   "read_image: /data/cat/1.png: cannot decode (bad png sig)".
// A header claiming a larger picture than kMaxImagePixels is refused before any
// pixel memory is allocated, so a hostile file cannot ask for gigabytes.

#include <cstddef>
#include <cstdint>
#include <string>

#include <lucid/data/transforms/image.h>

namespace lucid::data {

enum class ColorMode { Native = 0, Gray = 1, GrayAlpha = 2, RGB = 3, RGBA = 4 };

// kMaxImagePixels (67M pixels, 8192 x 8192) lives in data/transforms/image.h.

Image decode_image(const uint8_t* data, size_t size, const std::string& name = "<memory>",
                   ColorMode mode = ColorMode::Native);
Image read_image(const std::string& path, ColorMode mode = ColorMode::Native);

}  // namespace lucid::data
