// The pictures a training run logs (train/log/): text and frames drawn by
// train/log/draw.h, tensor_to_image, prediction_grid and overlay_mask. Grids
// are written with data::write_png and read back with data::read_image, so
// what is checked is what a viewer (or TensorBoard) shows.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <lucid/lucid.h>
#include <lucid/data/image_decode.h>
#include <lucid/data/image_encode.h>
#include <lucid/train/log/draw.h>
#include <lucid/train/log/prediction_grid.h>

#include "temp_dir.h"

using namespace lucid;
using namespace lucid::train::log;
using lucid::testing::TempDir;

namespace {

// A [n, 1, h, w] float32 batch with a different, deterministic picture per
// image (no random generator: the grid tests check the generator untouched).
Tensor gray_batch(int64_t n, int64_t h, int64_t w) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v.push_back(double((i * 37 + y * 11 + x * 5) % 256) / 255.0);
  return tensor(v).view({n, 1, h, w});
}

Tensor labels(const std::vector<int64_t>& v) { return tensor(v); }

// Writes the grid under <logdir>/images/ as a run would, and reads it back.
data::Image round_trip(const data::Image& grid) {
  TempDir logdir;
  std::filesystem::create_directories(logdir.path() / "images");
  const std::string path = logdir / "images/step_100.png";
  data::write_png(path, grid);
  data::Image back = data::read_image(path);
  REQUIRE(back.pixels == grid.pixels);  // PNG is lossless: the file holds this very picture
  return back;
}

Rgb pixel(const data::Image& im, int64_t x, int64_t y) {
  return {im.at(y, x, 0), im.at(y, x, 1), im.at(y, x, 2)};
}

// The pixels of a rectangle, row by row (to compare two regions).
std::vector<uint8_t> region(const data::Image& im, int64_t x, int64_t y, int64_t w, int64_t h) {
  std::vector<uint8_t> out;
  for (int64_t r = y; r < y + h; ++r)
    for (int64_t c = x; c < x + w; ++c)
      for (int64_t k = 0; k < im.channels; ++k) out.push_back(im.at(r, c, k));
  return out;
}

int64_t count_not(const data::Image& im, int64_t x, int64_t y, int64_t w, int64_t h, Rgb background) {
  int64_t n = 0;
  for (int64_t r = y; r < y + h; ++r)
    for (int64_t c = x; c < x + w; ++c) n += pixel(im, c, r) == background ? 0 : 1;
  return n;
}

// The layout documented in prediction_grid.h, for 28x28 images with the
// default options: scale ceil(96 / 28) = 4, text scale 1, frame 2, margin 3,
// padding 4.
struct Layout28 {
  static constexpr int64_t kScale = 4, kFrame = 2, kPad = 4;
  static constexpr int64_t kTitle = 2 * 3 + 9;                // 15
  static constexpr int64_t kStrip = 2 * 3 + 12 + 9;           // 27
  static constexpr int64_t kImage = 28 * kScale;              // 112
  static constexpr int64_t kCellW = kImage + 2 * kFrame;      // 116
  static constexpr int64_t kCellH = kImage + kStrip + 2 * kFrame;  // 143
  int64_t cols;
  int64_t x0(int64_t i) const { return kPad + (i % cols) * (kCellW + kPad); }
  int64_t y0(int64_t i) const { return kTitle + kPad + (i / cols) * (kCellH + kPad); }
  int64_t strip_y(int64_t i) const { return y0(i) + kFrame + kImage; }
};

const std::vector<std::string> kFashionNames = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

}  // namespace

// ---- draw.h -------------------------------------------------------------------

TEST_CASE("draw_text turns stb_easy_font quads into pixels of the given color and scale") {
  data::Image im(20, 40, 3, 0);
  draw_text(im, 2, 3, "I", kWhite);
  // The glyph's ink lies in its line box: rows 3..3+9, columns 2..2+advance.
  const int64_t ink = count_not(im, 0, 0, 40, 20, kBlack);
  CHECK(ink > 0);
  CHECK(ink == count_not(im, 2, 3, text_width("I"), kFontInkHeight, kBlack));
  for (int64_t y = 0; y < 20; ++y)
    for (int64_t x = 0; x < 40; ++x) CHECK((pixel(im, x, y) == kWhite || pixel(im, x, y) == kBlack));

  // Scale 3: every font pixel becomes a 3x3 block, so 9 times the ink.
  data::Image big(60, 60, 3, 0);
  draw_text(big, 0, 0, "I", kWhite, 3);
  data::Image small(20, 20, 3, 0);
  draw_text(small, 0, 0, "I", kWhite, 1);
  CHECK(count_not(big, 0, 0, 60, 60, kBlack) == 9 * count_not(small, 0, 0, 20, 20, kBlack));
  for (int64_t y = 0; y < 60; ++y)
    for (int64_t x = 0; x < 60; ++x) CHECK(pixel(big, x, y) == pixel(small, x / 3, y / 3));
}

TEST_CASE("text_width and text_height follow the font's advances and 12-pixel lines") {
  CHECK(text_width("") == 0);
  CHECK(text_width("0") == 6);  // digits advance 6 pixels, the gap included
  CHECK(text_width("0123") == 24);
  CHECK(text_width("01\n0123\n0") == 24);  // the widest line
  CHECK(text_width("0123", 2) == 48);
  CHECK(text_height("abc") == 12);
  CHECK(text_height("a\nb", 3) == 72);
  CHECK(text_width("\x7f\xc3") == text_width("??"));  // non-ASCII draws as '?'
  CHECK_THROWS_WITH_AS(text_width("a", 0), doctest::Contains("text_width: scale 0 is not in [1, 64]"),
                       lucid::Error);
}

TEST_CASE("draw_text clips at every edge: the visible part is exact and nothing else changes") {
  // The same text on a large canvas and on a small image placed at (ox, oy)
  // inside it: the small image must equal that window of the canvas, for text
  // hanging over each edge and corner. A write past an edge would either crash
  // (ASan) or show up on the wrong side of a row (wrapped) and differ.
  const std::string text = "Ankle boot\nqgy|_@W";
  const int64_t ox = 50, oy = 40, w = 30, h = 17;
  for (int64_t dx : {-45, -20, -3, 0, 10, 25, 29, 30, 60})
    for (int64_t dy : {-30, -10, -2, 0, 8, 16, 17, 40}) {
      CAPTURE(dx);
      CAPTURE(dy);
      data::Image canvas(140, 160, 3, 7);
      draw_text(canvas, ox + dx, oy + dy, text, kLightGreen, 2);
      data::Image im(h, w, 3, 7);
      draw_text(im, dx, dy, text, kLightGreen, 2);
      REQUIRE(im.pixels.size() == size_t(h * w * 3));
      CHECK(im.pixels == region(canvas, ox, oy, w, h));
    }
  // Far outside, and coordinates near the int64 limits: nothing drawn, no crash.
  data::Image im(10, 10, 3, 9);
  const std::vector<uint8_t> before = im.pixels;
  // (At scale 64, "WWW" is 3 * 7 * 64 = 1344 pixels wide.)
  for (int64_t far : {std::numeric_limits<int64_t>::min(), int64_t(-5000), int64_t(1000),
                      std::numeric_limits<int64_t>::max()}) {
    draw_text(im, far, 0, "WWW", kRed, 64);
    draw_text(im, 0, far, "WWW", kRed, 64);
    fill_rect(im, far, far, std::numeric_limits<int64_t>::max(), 5, kRed);
    draw_frame(im, far, far, 3, 3, 1, kRed);
  }
  CHECK(im.pixels == before);
}

TEST_CASE("fill_rect and draw_frame clip and draw the outline inwards") {
  data::Image im(8, 10, 3, 0);
  fill_rect(im, 8, 6, 100, 100, kRed);  // only the bottom-right 2x2 corner
  CHECK(count_not(im, 0, 0, 10, 8, kBlack) == 4);
  CHECK(pixel(im, 9, 7) == kRed);

  data::Image f(8, 10, 3, 0);
  draw_frame(f, 1, 1, 6, 5, 2, kGreen);
  // 6x5 rectangle minus its 2x1 inside.
  CHECK(count_not(f, 0, 0, 10, 8, kBlack) == 6 * 5 - 2 * 1);
  CHECK(pixel(f, 1, 1) == kGreen);
  CHECK(pixel(f, 6, 5) == kGreen);
  CHECK(pixel(f, 3, 3) == kBlack);  // the inside
  CHECK(pixel(f, 7, 3) == kBlack);  // just outside
  CHECK_THROWS_WITH_AS(draw_frame(f, 0, 0, 3, 3, -1, kGreen), doctest::Contains("draw_frame: thickness -1"),
                       lucid::Error);
  data::Image gray(4, 4, 1);
  CHECK_THROWS_WITH_AS(
      draw_text(gray, 0, 0, "a", kWhite),
      doctest::Contains("draw_text: needs an RGB image with height * width * 3 bytes, got 4x4x1"),
      lucid::Error);
}

// ---- tensor_to_image --------------------------------------------------------------

TEST_CASE("tensor_to_image undoes Normalize exactly and gets the bytes back") {
  // bytes -> ToTensor (b / 255, float32) -> Normalize -> tensor_to_image: every byte comes back.
  data::Image gray(16, 16, 1);
  for (size_t i = 0; i < gray.pixels.size(); ++i) gray.pixels[i] = uint8_t(i);  // 0..255
  const Tensor g = data::Normalize({0.2860}, {0.3530}).apply_tensor(data::to_tensor(gray));
  const data::Image g_back = tensor_to_image(g, {0.2860}, {0.3530});
  CHECK(g_back.channels == 1);
  CHECK(g_back.pixels == gray.pixels);

  data::Image rgb(8, 11, 3);
  for (size_t i = 0; i < rgb.pixels.size(); ++i) rgb.pixels[i] = uint8_t(i * 7 % 256);
  const std::vector<double> mean = {0.485, 0.456, 0.406}, std = {0.229, 0.224, 0.225};
  const Tensor c = data::Normalize(mean, std).apply_tensor(data::to_tensor(rgb));
  CHECK(tensor_to_image(c, mean, std).pixels == rgb.pixels);
  // Without mean/std the normalized values are taken as they are (and clamped).
  CHECK(tensor_to_image(c).pixels != rgb.pixels);
  // One mean/std for all channels.
  const Tensor c1 = data::Normalize({0.5}, {0.25}).apply_tensor(data::to_tensor(rgb));
  CHECK(tensor_to_image(c1, {0.5}, {0.25}).pixels == rgb.pixels);
}

TEST_CASE("tensor_to_image clamps to [0, 1], rounds half up as save_image, and maps NaN to 0") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor t = tensor({-3.0, 0.0, 0.5, 1.0, 7.0, nan, 0.25, 2.0 / 255.0}, kFloat64).view({1, 2, 4});
  const data::Image im = tensor_to_image(t);
  // 0.5 * 255 = 127.5 -> 128 (to_pil_image's truncation would give 127); 0.25 -> 63.75 -> 64.
  CHECK(im.pixels == std::vector<uint8_t>{0, 0, 128, 255, 255, 0, 64, 2});
  // mean/std are applied before the clamp: (x * 0.5 + 0.5) for x = -1, 0, 1, 3.
  const Tensor n = tensor({-1.0, 0.0, 1.0, 3.0}).view({1, 1, 4});
  CHECK(tensor_to_image(n, {0.5}, {0.5}).pixels == std::vector<uint8_t>{0, 128, 255, 255});
}

TEST_CASE("tensor_to_image takes any float dtype and strided views") {
  // Values exact in every float format.
  const Tensor base = tensor({0.0, 0.25, 0.5, 0.75, 1.0, 0.125}, kFloat64).view({1, 2, 3});
  const std::vector<uint8_t> expect = tensor_to_image(base).pixels;
  for (ScalarType dt : {kFloat32, kFloat16, kBFloat16}) {
    CAPTURE(dt);
    CHECK(tensor_to_image(base.to(dt)).pixels == expect);
  }
  // HWC storage seen as CHW (permute), and a transposed view.
  const Tensor hwc = tensor({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.0, 0.45}).view({2, 2, 3});
  const Tensor chw = hwc.permute({2, 0, 1});
  REQUIRE_FALSE(chw.is_contiguous());
  CHECK(tensor_to_image(chw).pixels == tensor_to_image(chw.contiguous()).pixels);
  const Tensor tr = base.transpose(1, 2);
  REQUIRE_FALSE(tr.is_contiguous());
  CHECK(tensor_to_image(tr).pixels == tensor_to_image(tr.contiguous()).pixels);
  CHECK(tensor_to_image(tr).height == 3);
}

TEST_CASE("tensor_to_image names the bad shape, dtype or mean/std") {
  CHECK_THROWS_WITH_AS(
      tensor_to_image(zeros({2, 5, 5})),
      doctest::Contains("tensor_to_image: expects a [C, H, W] tensor with C = 1 or 3, got shape [2, 5, 5]"),
      lucid::Error);
  CHECK_THROWS_WITH_AS(tensor_to_image(zeros({5, 5})), doctest::Contains("got shape [5, 5]"), lucid::Error);
  CHECK_THROWS_WITH_AS(tensor_to_image(zeros({1, 5, 5}, kUInt8)),
                       doctest::Contains("tensor_to_image: expects a floating-point tensor, got dtype uint8"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(
      tensor_to_image(zeros({3, 5, 5}), {0.5, 0.5}, {0.2, 0.2}),
      doctest::Contains("tensor_to_image: mean/std have 2 values but the images have 3 channels"),
      lucid::Error);
  CHECK_THROWS_WITH_AS(tensor_to_image(zeros({1, 5, 5}), {0.5}, {}),
                       doctest::Contains("tensor_to_image: mean has 1 values and std has 0"), lucid::Error);
  CHECK_THROWS_WITH_AS(tensor_to_image(zeros({1, 5, 5}), {0.5}, {0.0}),
                       doctest::Contains("tensor_to_image: std[0] = 0 must be positive"), lucid::Error);
}

// ---- prediction_grid --------------------------------------------------------------

TEST_CASE("prediction_grid has the documented size and frames right cells green, wrong ones red") {
  const int64_t n = 10;
  const Tensor images = gray_batch(n, 28, 28);
  const Tensor pred = labels({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor target = labels({0, 1, 5, 3, 4, 4, 6, 7, 8, 0});  // cells 2, 5 and 9 wrong
  const data::Image grid =
      round_trip(prediction_grid(images, pred, target, PredictionGridOptions().columns(4)));
  const Layout28 L{4};
  // 4 columns, 3 rows: 4 * 116 + 5 * 4 wide, 15 + 3 * 143 + 4 * 4 high.
  CHECK(grid.width == 484);
  CHECK(grid.height == 460);
  CHECK(grid.channels == 3);
  for (int64_t i = 0; i < n; ++i) {
    CAPTURE(i);
    const bool wrong = i == 2 || i == 5 || i == 9;
    const Rgb frame = wrong ? kRed : kGreen;
    const int64_t x = L.x0(i), y = L.y0(i);
    // All four sides, both rows of the 2-pixel frame.
    CHECK(pixel(grid, x, y) == frame);
    CHECK(pixel(grid, x + 1, y + 1) == frame);
    CHECK(pixel(grid, x + L.kCellW - 1, y + L.kCellH - 1) == frame);
    CHECK(pixel(grid, x + L.kCellW / 2, y + L.kCellH - 2) == frame);
    CHECK(pixel(grid, x, y + L.kCellH / 2) == frame);
    CHECK(pixel(grid, x + L.kCellW - 2, y + L.kCellH / 3) == frame);
    // Padding outside the frame is white.
    CHECK(pixel(grid, x - 1, y - 1) == kWhite);
    CHECK(pixel(grid, x + L.kCellW, y + L.kCellH) == kWhite);
  }
  // The unused cells of the last row (10, 11) are left white.
  CHECK(count_not(grid, L.x0(10), L.y0(10), 2 * L.kCellW, L.kCellH, kWhite) == 0);

  // The example of prediction_grid.h: 32 images, default 8 columns.
  std::vector<int64_t> l32(32, 1);
  const data::Image full = prediction_grid(gray_batch(32, 28, 28), labels(l32), labels(l32));
  CHECK(full.width == 964);
  CHECK(full.height == 607);
}

TEST_CASE("prediction_grid draws each image upscaled inside its frame") {
  const Tensor images = gray_batch(3, 28, 28);
  const data::Image grid = round_trip(prediction_grid(images, labels({1, 2, 3}), labels({1, 2, 3})));
  const Layout28 L{8};
  CHECK(grid.width == 3 * 116 + 4 * 4);  // fewer images than columns: 3 columns
  for (int64_t i = 0; i < 3; ++i) {
    const data::Image im = tensor_to_image(images[i]);
    for (int64_t y = 0; y < L.kImage; y += 3)
      for (int64_t x = 0; x < L.kImage; x += 5) {
        const uint8_t v = im.at(y / 4, x / 4, 0);
        REQUIRE(pixel(grid, L.x0(i) + L.kFrame + x, L.y0(i) + L.kFrame + y) == Rgb{v, v, v});
      }
  }
}

TEST_CASE("prediction_grid label strips: text pixels, same label same pixels, different label different") {
  // Cells 0 and 1 show different images with the same right label; cell 2 a
  // different right label; cell 3 the label of 0 predicted, but wrong.
  const Tensor images = gray_batch(4, 28, 28);
  const Tensor pred = labels({6, 6, 4, 6});
  const Tensor target = labels({6, 6, 4, 4});
  const data::Image grid = round_trip(
      prediction_grid(images, pred, target, PredictionGridOptions().class_names(kFashionNames)));
  const Layout28 L{8};
  auto strip = [&](int64_t i) { return region(grid, L.x0(i) + 2, L.strip_y(i), L.kImage, L.kStrip); };
  auto line = [&](int64_t i, int64_t k) {  // text line k (0 or 1) of cell i
    return region(grid, L.x0(i) + 2, L.strip_y(i) + 3 + 12 * k, L.kImage, 9);
  };
  for (int64_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    const int64_t x = L.x0(i) + 2, y = L.strip_y(i);
    CHECK(count_not(grid, x, y + 3, L.kImage, 9, kDarkGray) > 20);  // "pred: ..." drawn
    const int64_t second = count_not(grid, x, y + 15, L.kImage, 9, kDarkGray);
    if (i == 3)
      CHECK(second > 20);  // "true: Coat"
    else
      CHECK(second == 0);  // right: one line
  }
  CHECK(strip(0) == strip(1));        // same label, different images: same strip
  CHECK(strip(0) != strip(2));        // "pred: Shirt" vs "pred: Coat"
  CHECK(line(0, 0) != line(3, 0));    // same name, but a wrong prediction's line is colored
  CHECK(line(3, 1) != line(2, 0));    // "true: Coat" is not "pred: Coat"
  // The strip text is the label: drawn alone on the strip color, it matches.
  data::Image expect(9, L.kImage, 3);
  fill_rect(expect, 0, 0, L.kImage, 9, kDarkGray);
  draw_text(expect, 3, 0, "pred: Shirt", kWhite);
  CHECK(line(0, 0) == expect.pixels);
  fill_rect(expect, 0, 0, L.kImage, 9, kDarkGray);
  draw_text(expect, 3, 0, "true: Coat", kLightGreen);
  CHECK(line(3, 1) == expect.pixels);
}

TEST_CASE("prediction_grid prints numbers without class_names and cuts labels too wide") {
  const Tensor images = gray_batch(2, 28, 28);
  const data::Image grid = prediction_grid(images, labels({7, 3}), labels({7, 3}));
  const Layout28 L{8};
  data::Image expect(9, L.kImage, 3);
  fill_rect(expect, 0, 0, L.kImage, 9, kDarkGray);
  draw_text(expect, 3, 0, "pred: 7", kWhite);
  CHECK(region(grid, L.x0(0) + 2, L.strip_y(0) + 3, L.kImage, 9) == expect.pixels);

  // A name wider than the 112-pixel image: cut, ending in "..", inside the strip.
  const std::vector<std::string> names = {"an extremely long class name indeed", "b"};
  const data::Image cut = prediction_grid(images, labels({0, 1}), labels({0, 1}),
                                          PredictionGridOptions().class_names(names));
  CHECK(cut.width == grid.width);  // the size never depends on the labels
  CHECK(cut.height == grid.height);
  // Right of the strip's text area (margin 3) nothing is drawn.
  CHECK(count_not(cut, L.x0(0) + 2 + L.kImage - 3, L.strip_y(0), 3, L.kStrip, kDarkGray) == 0);
  CHECK(count_not(cut, L.x0(0) + 2, L.strip_y(0) + 3, L.kImage, 9, kDarkGray) > 100);

  // A line break in a name prints as a space (the strip has room for one line).
  const data::Image nl = prediction_grid(images, labels({0, 1}), labels({0, 1}),
                                         PredictionGridOptions().class_names({"a\nb", "c"}));
  fill_rect(expect, 0, 0, L.kImage, 9, kDarkGray);
  draw_text(expect, 3, 0, "pred: a b", kWhite);
  CHECK(region(nl, L.x0(0) + 2, L.strip_y(0) + 3, L.kImage, 9) == expect.pixels);
  CHECK(count_not(nl, L.x0(0) + 2, L.strip_y(0) + 15, L.kImage, 9, kDarkGray) == 0);

  // Cells too narrow even for "..": the strips stay empty, nothing spills out.
  const data::Image tiny = prediction_grid(gray_batch(2, 4, 4), labels({3, 4}), labels({3, 5}),
                                           PredictionGridOptions().scale(1).padding(2));
  // cell 8 x (4 + 27 + 4); width 2 * 8 + 3 * 2, height 15 + 35 + 2 * 2.
  REQUIRE(tiny.width == 22);
  REQUIRE(tiny.height == 54);
  for (int64_t i = 0; i < 2; ++i)
    CHECK(count_not(tiny, 2 + i * 10 + 2, 15 + 2 + 2 + 4, 4, 27, kDarkGray) == 0);
  CHECK(count_not(tiny, 0, 15, 22, 2, kWhite) == 0);   // padding rows above and below the cells
  CHECK(count_not(tiny, 0, 52, 22, 2, kWhite) == 0);
  CHECK(count_not(tiny, 10, 15, 2, 39, kWhite) == 0);  // padding between the two cells
}

TEST_CASE("prediction_grid: gray input equals the same picture given as RGB") {
  const Tensor gray = gray_batch(5, 28, 28);
  const Tensor rgb = gray.expand({5, 3, 28, 28});  // R = G = B (a stride-0 view)
  const Tensor pred = labels({0, 1, 2, 3, 4}), target = labels({0, 1, 0, 3, 0});
  const PredictionGridOptions opts = PredictionGridOptions().columns(3);
  const data::Image a = prediction_grid(gray, pred, target, opts);
  const data::Image b = prediction_grid(rgb, pred, target, opts);
  CHECK(a.channels == 3);
  CHECK(a.pixels == b.pixels);
  // A colored image keeps its colors: red channel only.
  Tensor red = zeros({1, 3, 28, 28});
  red.select(1, 0).fill_(1.0);
  const data::Image r = prediction_grid(red, labels({1}), labels({1}));
  CHECK(pixel(r, Layout28{1}.x0(0) + 10, Layout28{1}.y0(0) + 10) == Rgb{255, 0, 0});
}

TEST_CASE("prediction_grid: a non-contiguous batch gives the same picture as a contiguous one") {
  // NHWC storage seen as NCHW (permute), and a transposed H/W view.
  // float64 is the dtype the grid computes in, so no conversion copy packs it.
  std::vector<double> v;
  for (int i = 0; i < 4 * 12 * 10 * 3; ++i) v.push_back(double(i % 97) / 96.0);
  const Tensor pred = labels({1, 0, 1, 1}), target = labels({1, 1, 1, 0});
  for (ScalarType dt : {kFloat32, kFloat64}) {
    CAPTURE(dt);
    const Tensor nchw = tensor(v, dt).view({4, 12, 10, 3}).permute({0, 3, 1, 2});
    REQUIRE_FALSE(nchw.is_contiguous());
    CHECK(prediction_grid(nchw, pred, target).pixels ==
          prediction_grid(nchw.contiguous(), pred, target).pixels);
    const Tensor tr = nchw.transpose(2, 3);
    CHECK(prediction_grid(tr, pred, target).pixels == prediction_grid(tr.contiguous(), pred, target).pixels);
  }
  // Labels as strided views too (int64, and int32 that is converted).
  const Tensor nchw = tensor(v).view({4, 12, 10, 3}).permute({0, 3, 1, 2});
  const Tensor strided = labels({1, 9, 0, 9, 1, 9, 1, 9}).slice(0, 0, 8, 2);
  REQUIRE_FALSE(strided.is_contiguous());
  CHECK(prediction_grid(nchw, strided, target).pixels == prediction_grid(nchw, pred, target).pixels);
  CHECK(prediction_grid(nchw, strided.to(kInt32), target).pixels ==
        prediction_grid(nchw, pred, target).pixels);
}

TEST_CASE("prediction_grid undoes Normalize, honours max_images, scale and padding") {
  const Tensor raw = gray_batch(6, 8, 6);
  const Tensor normalized = (raw - 0.2860) / 0.3530;
  const Tensor pred = labels({1, 2, 3, 4, 5, 6}), target = labels({1, 2, 3, 4, 5, 0});
  auto opts = PredictionGridOptions().columns(2).scale(20).padding(1);
  const auto undo = PredictionGridOptions(opts).mean({0.2860}).std({0.3530});
  CHECK(prediction_grid(normalized, pred, target, undo).pixels ==
        prediction_grid(raw, pred, target, opts).pixels);
  // max_images 3 of 6, 2 columns: 2 rows. Cell: 6*20+4 x 8*20+27+4.
  const data::Image g = prediction_grid(raw, pred, target, PredictionGridOptions(opts).max_images(3));
  CHECK(g.width == 2 * 124 + 3 * 1);
  CHECK(g.height == 15 + 2 * 191 + 3 * 1);
  // Automatic scale for 32x32 (CIFAR-10): ceil(96 / 32) = 3; text scale 2 doubles the strip.
  const data::Image c = prediction_grid(gray_batch(1, 32, 32), labels({0}), labels({0}),
                                        PredictionGridOptions().text_scale(2).padding(0));
  CHECK(c.width == 96 + 4);
  CHECK(c.height == (6 + 18) + (96 + (6 + 42) + 4));
}

TEST_CASE("prediction_grid draws from no random generator") {
  manual_seed(1234);
  (void)rand({5});  // some offset, so a reset to 0 would show too
  const GeneratorState before = default_generator().get_state();
  const GeneratorState sample_before = data::sample_generator().get_state();
  const Tensor images = gray_batch(12, 28, 28);
  (void)prediction_grid(images, labels({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}),
                        labels({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 0}),
                        PredictionGridOptions().class_names(kFashionNames).mean({0.5}).std({0.5}));
  (void)overlay_mask(data::Image(4, 4, 3), zeros({4, 4}, kInt64));
  const GeneratorState after = default_generator().get_state();
  CHECK(after.seed == before.seed);
  CHECK(after.offset == before.offset);
  CHECK(data::sample_generator().get_state().seed == sample_before.seed);
  CHECK(data::sample_generator().get_state().offset == sample_before.offset);
}

TEST_CASE("prediction_grid names the op and the offending shapes, dtypes and values") {
  const Tensor images = gray_batch(4, 28, 28);
  const Tensor ok = labels({0, 1, 2, 3});
  auto throws = [](auto&& f, const char* text) {
    CHECK_THROWS_WITH_AS(f(), doctest::Contains(text), lucid::Error);
  };
  throws([&] { prediction_grid(images.view({4, 28, 28}), ok, ok); },
         "prediction_grid: images must be [N, C, H, W] with C = 1 or 3, got shape [4, 28, 28]");
  throws([&] { prediction_grid(zeros({4, 2, 28, 28}), ok, ok); }, "got shape [4, 2, 28, 28]");
  throws([&] { prediction_grid(zeros({0, 1, 28, 28}), labels({}), labels({})); },
         "prediction_grid: images of shape [0, 1, 28, 28] hold no picture");
  throws([&] { prediction_grid(images.to(kUInt8), ok, ok); },
         "prediction_grid: images must be floating point, got dtype uint8");
  throws([&] { prediction_grid(images, ok.view({2, 2}), ok); },
         "prediction_grid: predicted has shape [2, 2] but images has 4 (shape [4, 1, 28, 28])");
  throws([&] { prediction_grid(images, ok, labels({0, 1, 2})); },
         "prediction_grid: target has shape [3] but images has 4");
  throws([&] { prediction_grid(images, ok.to(kFloat32), ok); },
         "prediction_grid: predicted must hold integer class ids, got dtype float32");
  throws([&] { prediction_grid(images, ok, Tensor()); }, "prediction_grid: target is an undefined tensor");
  const auto named = PredictionGridOptions().class_names(kFashionNames);
  throws([&] { prediction_grid(images, labels({0, 10, 2, 3}), ok, named); },
         "prediction_grid: predicted[1] = 10 is not a class id in [0, 10) of class_names");
  throws([&] { prediction_grid(images, ok, labels({0, 1, -1, 3}), named); },
         "prediction_grid: target[2] = -1 is not a class id in [0, 10)");
  throws([&] { prediction_grid(images, ok, ok, PredictionGridOptions().columns(0)); },
         "prediction_grid: columns 0 must be >= 1");
  throws([&] { prediction_grid(images, ok, ok, PredictionGridOptions().max_images(0)); },
         "prediction_grid: max_images 0 must be >= 1");
  throws([&] { prediction_grid(images, ok, ok, PredictionGridOptions().scale(-2)); },
         "prediction_grid: scale -2 must be >= 1");
  throws([&] { prediction_grid(images, ok, ok, PredictionGridOptions().padding(-1)); },
         "prediction_grid: padding -1 must be >= 0");
  throws([&] { prediction_grid(images, ok, ok, PredictionGridOptions().mean({0.5, 0.5}).std({1, 1})); },
         "prediction_grid: mean/std have 2 values but the images have 1 channels");
  throws([&] { prediction_grid(images, ok, ok, PredictionGridOptions().scale(1 << 20)); },
         "prediction_grid: a grid of 4 images of 28x28 at scale 1048576 in 4 columns would have more than");
  // A batch that only claims a huge size (a stride-0 view) is refused before any copy.
  const Tensor huge = zeros({1, 1, 1, 1}).expand({2, 1, 1 << 20, 1 << 20});
  throws([&] { prediction_grid(huge, labels({0, 1}), labels({0, 1})); },
         "prediction_grid: a grid of 2 images of 1048576x1048576 at scale 1 in 2 columns");
  // Without class_names any integer prints, negative ones too.
  CHECK(prediction_grid(images, labels({-1, 1000, 2, 3}), ok).width > 0);
}

// ---- overlay_mask -------------------------------------------------------------------

TEST_CASE("class_color is the PASCAL VOC colormap") {
  CHECK(class_color(0) == Rgb{0, 0, 0});
  CHECK(class_color(1) == Rgb{128, 0, 0});
  CHECK(class_color(2) == Rgb{0, 128, 0});
  CHECK(class_color(3) == Rgb{128, 128, 0});
  CHECK(class_color(8) == Rgb{64, 0, 0});
  CHECK(class_color(15) == Rgb{192, 128, 128});  // "person"
  CHECK(class_color(255) == Rgb{224, 224, 192});  // the "void" border color
  CHECK_THROWS_WITH_AS(class_color(-1), doctest::Contains("class_color: class id -1"), lucid::Error);
}

TEST_CASE("overlay_mask blends class colors over the image and leaves class 0 alone") {
  data::Image im(2, 3, 3);
  const std::vector<uint8_t> px = {101, 50, 200, 10, 20, 30, 0, 0, 0, 255, 255, 255, 7, 8, 9, 60, 61, 62};
  im.pixels = px;
  const Tensor mask = labels({0, 1, 2, 3, 0, 1}).view({2, 3});
  const data::Image out = overlay_mask(im, mask, 0.5);
  CHECK(out.channels == 3);
  // (x, y) = (0, 0): class 0, unchanged.
  CHECK(pixel(out, 0, 0) == Rgb{101, 50, 200});
  // (1, 0): class 1 (128, 0, 0): 0.5 * 10 + 64 = 69, 10, 15.
  CHECK(pixel(out, 1, 0) == Rgb{69, 10, 15});
  // (2, 0): class 2 (0, 128, 0): 0, 64, 0.
  CHECK(pixel(out, 2, 0) == Rgb{0, 64, 0});
  // (0, 1): class 3 (128, 128, 0) over white: 191.5 -> 192 (half up), 192, 127.5 -> 128.
  CHECK(pixel(out, 0, 1) == Rgb{192, 192, 128});
  CHECK(pixel(out, 1, 1) == Rgb{7, 8, 9});
  CHECK(pixel(out, 2, 1) == Rgb{94, 31, 31});  // 30 + 64, 30.5 -> 31, 31

  // A given palette, alpha 0.25, a gray image and an int32 transposed mask.
  data::Image gray(3, 2, 1);
  gray.pixels = {100, 100, 100, 100, 100, 100};
  const Tensor m32 = labels({1, 0, 2, 0, 1, 2}).view({2, 3}).to(kInt32).t();  // [3, 2]
  const std::vector<Rgb> palette = {kBlack, {200, 0, 100}, {0, 0, 0}};
  const data::Image g = overlay_mask(gray, m32, 0.25, palette);
  // m32 = [[1, 0], [0, 1], [2, 2]]
  CHECK(pixel(g, 0, 0) == Rgb{125, 75, 100});  // 75 + 50, 75, 75 + 25
  CHECK(pixel(g, 1, 0) == Rgb{100, 100, 100});
  CHECK(pixel(g, 1, 1) == Rgb{125, 75, 100});
  CHECK(pixel(g, 0, 2) == Rgb{75, 75, 75});
  // alpha 0 is the image, alpha 1 the colors.
  CHECK(overlay_mask(im, mask, 0.0).pixels == im.pixels);
  CHECK(pixel(overlay_mask(im, mask, 1.0), 2, 1) == class_color(1));
  // A bool mask: class 1 where true.
  const Tensor b = tensor({1.0, 0.0, 0.0, 0.0, 0.0, 1.0}).view({2, 3}).to(kBool);
  CHECK(pixel(overlay_mask(im, b, 1.0), 0, 0) == class_color(1));
}

TEST_CASE("overlay_mask names the mismatched shape, dtype, id or alpha") {
  const data::Image im(4, 5, 3);
  auto throws = [](auto&& f, const char* text) {
    CHECK_THROWS_WITH_AS(f(), doctest::Contains(text), lucid::Error);
  };
  throws([&] { overlay_mask(im, zeros({5, 4}, kInt64)); },
         "overlay_mask: mask of shape [5, 4] does not match the 4x5 image (it needs shape [4, 5])");
  throws([&] { overlay_mask(im, zeros({1, 4, 5}, kInt64)); }, "mask of shape [1, 4, 5]");
  throws([&] { overlay_mask(im, zeros({4, 5})); },
         "overlay_mask: the mask must hold integer class ids, got dtype float32");
  throws([&] { overlay_mask(im, zeros({4, 5}, kInt64), 1.5); }, "overlay_mask: alpha 1.5 is not in [0, 1]");
  Tensor neg = zeros({4, 5}, kInt64);
  neg.select(0, 2).select(0, 3).fill_(-4.0);
  throws([&] { overlay_mask(im, neg); }, "overlay_mask: mask[2, 3] = -4 is not a class id in [0, 16777216)");
  Tensor big = zeros({4, 5}, kInt64);
  big.select(0, 1).select(0, 0).fill_(3.0);
  throws([&] { overlay_mask(im, big, 0.5, {kBlack, kRed, kGreen}); },
         "overlay_mask: mask[1, 0] = 3 is not a class id in [0, 3) of the palette");
  throws([&] { overlay_mask(data::Image(4, 5, 4), zeros({4, 5}, kInt64)); },
         "overlay_mask: needs a gray or RGB image, got 4x5x4");
}
