// Writes the small seed corpus for the fuzz targets: valid IDX files of each
// element type, and tiny PNG/JPEG/BMP/TGA pictures (with a ColorMode byte first).
// Usage: write_seeds <idx-corpus-dir> <image-corpus-dir>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace {

void write(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

std::vector<uint8_t> idx(uint8_t type, std::vector<uint32_t> dims, size_t elem_bytes) {
  std::vector<uint8_t> b{0, 0, type, uint8_t(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(d >> s));
    n *= d;
  }
  for (size_t i = 0; i < n * elem_bytes; ++i) b.push_back(uint8_t(i * 37));
  return b;
}

void append(void* ctx, void* data, int size) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 1;
  const std::string idx_dir = argv[1], image_dir = argv[2];
  write(idx_dir + "/labels", idx(0x08, {10}, 1));
  write(idx_dir + "/images", idx(0x08, {2, 4, 4}, 1));
  write(idx_dir + "/int8", idx(0x09, {3}, 1));
  write(idx_dir + "/int16", idx(0x0B, {2, 2}, 2));
  write(idx_dir + "/int32", idx(0x0C, {3}, 4));
  write(idx_dir + "/float32", idx(0x0D, {2, 3}, 4));
  write(idx_dir + "/float64", idx(0x0E, {1, 1, 2}, 8));

  int k = 0;
  for (int c = 1; c <= 4; ++c) {
    std::vector<uint8_t> px(6 * 5 * size_t(c));
    for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 29);
    using Writer = int (*)(stbi_write_func*, void*, int, int, int, const void*);
    std::vector<Writer> writers{
        [](stbi_write_func* f, void* ctx, int w, int h, int n, const void* d) {
          return stbi_write_png_to_func(f, ctx, w, h, n, d, w * n);
        },
        stbi_write_bmp_to_func, stbi_write_tga_to_func,
        [](stbi_write_func* f, void* ctx, int w, int h, int n, const void* d) {
          return stbi_write_jpg_to_func(f, ctx, w, h, n, d, 80);
        }};
    for (Writer writer : writers) {
      std::vector<uint8_t> file{uint8_t(k % 5)};  // the ColorMode byte
      writer(append, &file, 5, 6, c, px.data());
      write(image_dir + "/seed" + std::to_string(k++), file);
    }
  }
  return 0;
}
