// The one translation unit that compiles stb_image_write, PNG only.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_STATIC  // private to this file: tests may compile their own copy
#include <stb_image_write.h>

#include <lucid/data/image_encode.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <lucid/kernels/error.h>

namespace lucid::data {

namespace {
void append(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}
}  // namespace

std::string encode_png(const Image& image) {
  LUCID_CHECK(image.height > 0 && image.width > 0 && image.channels >= 1 && image.channels <= 4,
              "encode_png: cannot encode a ", image.height, "x", image.width, "x", image.channels,
              " image (needs a positive size and 1 to 4 channels)");
  LUCID_CHECK(image.pixels.size() == size_t(image.height * image.width * image.channels),
              "encode_png: a ", image.height, "x", image.width, "x", image.channels, " image holds ",
              image.pixels.size(), " bytes, expected ", image.height * image.width * image.channels);
  LUCID_CHECK(image.width * image.channels <= INT_MAX && image.height <= INT_MAX,
              "encode_png: ", image.height, "x", image.width, " is too large for PNG encoding");
  std::string out;
  const int ok = stbi_write_png_to_func(append, &out, int(image.width), int(image.height),
                                        int(image.channels), image.pixels.data(),
                                        int(image.width * image.channels));
  LUCID_CHECK(ok != 0 && !out.empty(), "encode_png: stb_image_write failed on a ", image.height, "x",
              image.width, "x", image.channels, " image");
  return out;
}

void write_png(const std::string& path, const Image& image) {
  const std::string bytes = encode_png(image);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    LUCID_CHECK(out.good(), "write_png: ", path, ": cannot open for writing (", std::strerror(errno), ")");
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.flush();
    if (!out.good()) {
      std::remove(tmp.c_str());
      LUCID_CHECK(false, "write_png: ", path, ": write failed (", std::strerror(errno), ")");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    LUCID_CHECK(false, "write_png: ", path, ": cannot rename the temp file (", std::strerror(err), ")");
  }
}

}  // namespace lucid::data
