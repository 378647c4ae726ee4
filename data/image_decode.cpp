// The one translation unit that compiles stb_image. Only the four formats the
// datasets need are built in (a smaller decoder is a smaller attack surface),
// and no format may claim a side beyond 65536 pixels.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS (1 << 16)
#include <stb_image.h>

#include <lucid/data/image_decode.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <vector>

#include <lucid/kernels/error.h>

namespace lucid::data {

namespace {

struct StbiFree {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

std::vector<uint8_t> read_file(const std::string& path, const char* fn) {
  std::ifstream in(path, std::ios::binary);
  LUCID_CHECK(in.good(), fn, ": ", path, ": cannot open (", std::strerror(errno), ")");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LUCID_CHECK(!in.bad(), fn, ": ", path, ": read error");
  return bytes;
}

const char* reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown reason";
}

// Checks the header before any pixel memory is allocated.
void check_header(const uint8_t* data, size_t size, const std::string& name, const char* fn) {
  LUCID_CHECK(size > 0, fn, ": ", name, ": empty file");
  LUCID_CHECK(size <= size_t(std::numeric_limits<int>::max()), fn, ": ", name, ": ", size,
              " bytes is too large to decode");
  int w = 0, h = 0, c = 0;
  LUCID_CHECK(stbi_info_from_memory(data, int(size), &w, &h, &c), fn, ": ", name,
              ": not a decodable PNG/JPEG/BMP/TGA image (", reason(), ")");
  LUCID_CHECK(w > 0 && h > 0 && int64_t(w) * int64_t(h) <= kMaxImagePixels, fn, ": ", name,
              ": image of ", w, "x", h, " pixels exceeds the limit of ", kMaxImagePixels,
              " pixels");
}

}  // namespace

Image decode_image(const uint8_t* data, size_t size, const std::string& name, ColorMode mode) {
  check_header(data, size, name, "decode_image");
  int w = 0, h = 0, c = 0;
  const int wanted = static_cast<int>(mode);
  std::unique_ptr<stbi_uc, StbiFree> pixels(
      stbi_load_from_memory(data, int(size), &w, &h, &c, wanted));
  LUCID_CHECK(pixels != nullptr, "decode_image: ", name, ": cannot decode (", reason(), ")");
  // The decoder's own dimensions are checked again: they are what we copy.
  LUCID_CHECK(w > 0 && h > 0 && int64_t(w) * int64_t(h) <= kMaxImagePixels, "decode_image: ",
              name, ": decoded size ", w, "x", h, " is out of range");
  Image out;
  out.height = h;
  out.width = w;
  out.channels = wanted ? wanted : c;
  const size_t bytes = size_t(h) * size_t(w) * size_t(out.channels);
  out.pixels.assign(pixels.get(), pixels.get() + bytes);
  return out;
}

Image read_image(const std::string& path, ColorMode mode) {
  std::vector<uint8_t> bytes = read_file(path, "read_image");
  return decode_image(bytes.data(), bytes.size(), path, mode);
}

}  // namespace lucid::data
