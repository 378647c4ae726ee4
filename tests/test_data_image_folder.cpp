// Image decoding (stb_image) and ImageFolder, on small PNG/JPEG/BMP/TGA files
// this test writes itself with stb_image_write; and the errors for files that
// are missing, undecodable, empty or claim a huge size.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <lucid/lucid.h>

#include "temp_dir.h"

using namespace lucid;
using namespace lucid::data;
using lucid::testing::read_bytes;
using lucid::testing::TempDir;
using lucid::testing::write_bytes;

namespace {

Image pattern(int64_t h, int64_t w, int64_t c) {
  Image im(h, w, c);
  for (size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = uint8_t(i * 29 % 256);
  return im;
}

void save_png(const std::string& path, const Image& im) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  REQUIRE(stbi_write_png(path.c_str(), int(im.width), int(im.height), int(im.channels),
                         im.pixels.data(), int(im.width * im.channels)));
}

// A PNG signature and an IHDR chunk claiming width x height gray pixels (stb_image
// does not check CRCs, so zeros do).
std::vector<uint8_t> png_header(uint32_t width, uint32_t height) {
  std::vector<uint8_t> b{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  for (uint32_t v : {width, height})
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
  for (uint8_t v : {8, 0, 0, 0, 0, 0, 0, 0, 0}) b.push_back(v);  // depth, gray, ..., CRC
  return b;
}

}  // namespace

TEST_CASE("PNG round trip keeps every byte for gray, gray+alpha, RGB and RGBA") {
  TempDir dir;
  for (int64_t c = 1; c <= 4; ++c) {
    CAPTURE(c);
    Image im = pattern(5, 7, c);
    save_png(dir / ("p" + std::to_string(c) + ".png"), im);
    Image got = read_image(dir / ("p" + std::to_string(c) + ".png"));
    CHECK(got.height == 5);
    CHECK(got.width == 7);
    CHECK(got.channels == c);
    CHECK(got.pixels == im.pixels);
  }
}

TEST_CASE("ColorMode converts: gray to RGB repeats, RGBA to RGB drops alpha, RGB to gray") {
  TempDir dir;
  Image gray = pattern(3, 4, 1);
  save_png(dir / "g.png", gray);
  Image rgb = read_image(dir / "g.png", ColorMode::RGB);
  REQUIRE(rgb.channels == 3);
  for (int64_t i = 0; i < 12; ++i)
    for (int64_t c = 0; c < 3; ++c) CHECK(rgb.pixels[size_t(i * 3 + c)] == gray.pixels[size_t(i)]);
  Image rgba = pattern(3, 4, 4);
  save_png(dir / "a.png", rgba);
  Image dropped = read_image(dir / "a.png", ColorMode::RGB);
  REQUIRE(dropped.channels == 3);
  CHECK(dropped.at(2, 3, 1) == rgba.at(2, 3, 1));
  CHECK(read_image(dir / "a.png", ColorMode::Gray).channels == 1);
  CHECK(read_image(dir / "g.png", ColorMode::RGBA).at(1, 1, 3) == 255);
}

TEST_CASE("JPEG, BMP and TGA decode to the written picture") {
  TempDir dir;
  Image im(8, 8, 3);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x) {
      im.at(y, x, 0) = uint8_t(20 * x);
      im.at(y, x, 1) = uint8_t(20 * y);
      im.at(y, x, 2) = 128;
    }
  const std::string jpg = dir / "a.jpg", bmp = dir / "a.bmp", tga = dir / "a.tga";
  REQUIRE(stbi_write_jpg(jpg.c_str(), 8, 8, 3, im.pixels.data(), 95));
  REQUIRE(stbi_write_bmp(bmp.c_str(), 8, 8, 3, im.pixels.data()));
  REQUIRE(stbi_write_tga(tga.c_str(), 8, 8, 3, im.pixels.data()));
  CHECK(read_image(bmp).pixels == im.pixels);
  CHECK(read_image(tga).pixels == im.pixels);
  Image j = read_image(jpg);
  REQUIRE(j.pixels.size() == im.pixels.size());
  int worst = 0;
  for (size_t i = 0; i < im.pixels.size(); ++i)
    worst = std::max(worst, std::abs(int(j.pixels[i]) - int(im.pixels[i])));
  CHECK(worst < 16);  // lossy, but close at quality 95
}

TEST_CASE("undecodable, empty, missing and huge images are Errors naming the file") {
  TempDir dir;
  write_bytes(dir / "bad.png", {'h', 'e', 'l', 'l', 'o'});
  CHECK_THROWS_WITH_AS(read_image(dir / "bad.png"),
                       doctest::Contains("bad.png: not a decodable PNG/JPEG/BMP/TGA image"),
                       lucid::Error);
  write_bytes(dir / "empty.jpg", {});
  CHECK_THROWS_WITH_AS(read_image(dir / "empty.jpg"), doctest::Contains("empty.jpg: empty file"),
                       lucid::Error);
  const std::string none = "read_image: " + (dir / "none.png") + ": cannot open";
  CHECK_THROWS_WITH_AS(read_image(dir / "none.png"), doctest::Contains(none.c_str()),
                       lucid::Error);
  // A valid header over a body cut short: stb_image's reason is in the message.
  save_png(dir / "ok.png", pattern(16, 16, 3));
  auto bytes = read_bytes(dir / "ok.png");
  bytes.resize(bytes.size() - 30);
  CHECK_THROWS_WITH_AS(decode_image(bytes.data(), bytes.size(), "cut.png"),
                       doctest::Contains("decode_image: cut.png: cannot decode ("), lucid::Error);
  // A header claiming 10000 x 10000 pixels (within stb_image's own limits) is
  // refused before any allocation.
  auto huge = png_header(10000, 10000);
  CHECK_THROWS_WITH_AS(decode_image(huge.data(), huge.size(), "huge.png"),
                       doctest::Contains("huge.png: image of 10000x10000 pixels exceeds the limit"),
                       lucid::Error);
  // A JPEG Huffman table of 16 * 255 symbols would overrun stb_image 2.27's
  // arrays (found by fuzz_image): refused before stb_image sees it.
  std::vector<uint8_t> dht{0xFF, 0xD8, 0xFF, 0xC4, 0x10, 0x13, 0x00};
  for (int i = 0; i < 16; ++i) dht.push_back(0xFF);
  dht.resize(dht.size() + 4080, 0x01);
  CHECK_THROWS_WITH_AS(decode_image(dht.data(), dht.size(), "dht.jpg"),
                       doctest::Contains("dht.jpg: corrupt JPEG (a Huffman table with more than "
                                         "256 symbols)"),
                       lucid::Error);
  // Random bytes never crash.
  std::vector<uint8_t> noise(300);
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = uint8_t(i * 131 + 7);
  CHECK_THROWS_AS(decode_image(noise.data(), noise.size()), lucid::Error);
}

TEST_CASE("ImageFolder sorts classes bytewise, labels by folder, mixes formats and channel counts") {
  TempDir dir;
  // "Bee" < "ant" < "zebra" bytewise (uppercase first), as Python's sorted().
  save_png(dir / "zebra/2.png", pattern(6, 5, 1));                 // gray
  save_png(dir / "zebra/1.png", pattern(6, 5, 4));                 // RGBA
  save_png(dir / "ant/nested/x.png", pattern(6, 5, 3));            // subfolders count
  save_png(dir / "Bee/b.PNG", pattern(6, 5, 2));                   // any case
  Image rgb = pattern(6, 5, 3);
  const std::string bmp = dir / "Bee/a.bmp", jpg = dir / "ant/a.jpg";
  REQUIRE(stbi_write_bmp(bmp.c_str(), 5, 6, 3, rgb.pixels.data()));
  REQUIRE(stbi_write_jpg(jpg.c_str(), 5, 6, 3, rgb.pixels.data(), 90));
  write_bytes(dir / "ant/notes.txt", {'h', 'i'});                   // ignored

  ImageFolder folder(dir.path().string());
  CHECK(folder.classes() == std::vector<std::string>{"Bee", "ant", "zebra"});
  REQUIRE(folder.size() == 6);
  const std::vector<int64_t> targets{0, 0, 1, 1, 2, 2};
  for (size_t i = 0; i < 6; ++i) {
    CAPTURE(folder.samples()[i].path);
    Example e = folder.get(i);
    CHECK(e.target.item<int64_t>() == targets[i]);
    CHECK(e.target.dtype() == kInt64);
    CHECK(e.data.sizes() == Shape{3, 6, 5});  // every picture converted to RGB
    CHECK(e.data.max().item<double>() <= 1.0);
  }
  CHECK(folder.samples()[0].path == dir / "Bee/a.bmp");  // sorted within a class
  CHECK(folder.samples()[3].path == dir / "ant/nested/x.png");
  CHECK(folder.get(0).data.sub(to_tensor(rgb)).abs().max().item<double>() == 0.0);

  ImageFolder gray(dir.path().string(), Compose(Resize({3, 3}), ToTensor()), ColorMode::Gray);
  CHECK(gray.get(4).data.sizes() == Shape{1, 3, 3});
}

TEST_CASE("ImageFolder errors: missing root, no classes, empty class, undecodable file") {
  TempDir dir;
  const std::string missing = "ImageFolder: root " + (dir / "missing") + " does not exist";
  CHECK_THROWS_WITH_AS(ImageFolder(dir / "missing"), doctest::Contains(missing.c_str()),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(ImageFolder(dir.path().string()), doctest::Contains("has no class folders"),
                       lucid::Error);
  save_png(dir / "cat/1.png", pattern(4, 4, 3));
  std::filesystem::create_directories(dir.path() / "dog");
  write_bytes(dir / "dog/readme.txt", {'x'});
  const std::string empty_class =
      "ImageFolder: class folder " + (dir / "dog") + " holds no .png/.jpg/.jpeg/.bmp/.tga file";
  CHECK_THROWS_WITH_AS(ImageFolder(dir.path().string()), doctest::Contains(empty_class.c_str()),
                       lucid::Error);
  write_bytes(dir / "dog/broken.jpg", {0xff, 0xd8, 0xff, 0x00, 0x01});
  ImageFolder folder(dir.path().string());
  REQUIRE(folder.size() == 2);
  CHECK(folder.get(0).data.sizes() == Shape{3, 4, 4});
  const std::string broken = dir / "dog/broken.jpg";
  CHECK_THROWS_WITH_AS(folder.get(1), doctest::Contains(broken.c_str()), lucid::Error);
}
