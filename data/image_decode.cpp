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

// Debian's stb_image 2.27 trusts the symbol counts of a JPEG Huffman table
// (DHT segment): a table of more than 256 symbols overruns its arrays (found by
// fuzz/fuzz_image.cpp; later stb_image versions reject it). This walk over the
// JPEG markers reads them as stb_image does (skip to 0xFF, skip fill bytes, a
// length after every marker but 00, 01, D0-D9) and refuses such a table first.
// Bytes past the end count as 0, as stb_image's reader returns 0 there.
bool jpeg_huffman_tables_ok(const uint8_t* d, size_t n) {
  if (n < 2 || d[0] != 0xFF || d[1] != 0xD8) return true;  // not a JPEG
  auto at = [&](size_t i) -> size_t { return i < n ? d[i] : 0; };
  size_t pos = 2;
  while (pos < n) {
    if (d[pos] != 0xFF) {
      ++pos;
      continue;
    }
    while (pos < n && d[pos] == 0xFF) ++pos;
    if (pos >= n) break;
    const uint8_t marker = d[pos++];
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD9)) continue;
    const size_t length = (at(pos) << 8) | at(pos + 1);
    if (marker == 0xC4) {
      // Tables follow while the segment has bytes left: class/id, 16 counts, symbols.
      int64_t left = int64_t(length) - 2;
      size_t p = pos + 2;
      while (left > 0 && p < n) {
        size_t symbols = 0;
        for (size_t i = 1; i <= 16; ++i) symbols += at(p + i);
        if (symbols > 256) return false;
        p += 17 + symbols;
        left -= int64_t(17 + symbols);
      }
    }
    pos += length;
  }
  return true;
}

// Checks the header before any pixel memory is allocated.
void check_header(const uint8_t* data, size_t size, const std::string& name, const char* fn) {
  LUCID_CHECK(size > 0, fn, ": ", name, ": empty file");
  LUCID_CHECK(size <= size_t(std::numeric_limits<int>::max()), fn, ": ", name, ": ", size,
              " bytes is too large to decode");
  LUCID_CHECK(jpeg_huffman_tables_ok(data, size), fn, ": ", name,
              ": corrupt JPEG (a Huffman table with more than 256 symbols)");
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
