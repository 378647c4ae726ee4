#pragma once
// Encoding a data::Image as PNG, with stb_image_write (Debian's libstb-dev):
// the counterpart of image_decode.h. This file's .cpp is the only one that
// compiles stb_image_write.
//
//   encode_png   Image -> PNG bytes in memory (TensorBoard image summaries)
//   write_png    Image -> a PNG file, written atomically (a temp file renamed
//                over the target, so a reader never sees half a picture)
//
// Errors are lucid::Error naming the file (or "encode_png") and the image size.

#include <string>

#include <lucid/data/transforms/image.h>

namespace lucid::data {

std::string encode_png(const Image& image);
void write_png(const std::string& path, const Image& image);

}  // namespace lucid::data
