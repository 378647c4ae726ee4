// The one translation unit that compiles stb_easy_font. Its functions are
// static (private to this file); two of them (spacing, height) lucid does not
// use, hence the silenced "defined but not used" warning. Never calling
// stb_easy_font_spacing keeps its file-local spacing at 0, so every glyph
// advance is a whole number of pixels.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

#include <lucid/train/log/draw.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include <lucid/kernels/error.h>

namespace lucid::train::log {

namespace {

void check_rgb(const data::Image& image, const char* who) {
  LUCID_CHECK(image.channels == 3 && image.height >= 0 && image.width >= 0 &&
                  image.pixels.size() == size_t(image.height * image.width * 3),
              who, ": needs an RGB image with height * width * 3 bytes, got ", image.height, "x",
              image.width, "x", image.channels, " with ", image.pixels.size(), " bytes");
}

void check_scale(int64_t scale, const char* who) {
  LUCID_CHECK(scale >= 1 && scale <= kMaxTextScale, who, ": scale ", scale, " is not in [1, ",
              kMaxTextScale, "]");
}

// Coordinates and sizes are pulled into +-2^40 before any arithmetic: no image
// is near that size (data::kMaxImagePixels), and sums of a few such values
// cannot overflow, so a caller's arithmetic slip clips instead of wrapping.
int64_t near(int64_t v) {
  constexpr int64_t kFar = int64_t(1) << 40;
  return std::clamp(v, -kFar, kFar);
}

// The part of [start, start + length) inside [0, limit), as a half-open span.
std::pair<int64_t, int64_t> clip_span(int64_t start, int64_t length, int64_t limit) {
  start = near(start);
  length = std::max(near(length), int64_t(0));
  return {std::clamp(start, int64_t(0), limit), std::clamp(start + length, int64_t(0), limit)};
}

// The character stb_easy_font draws for `c`: its tables cover ASCII 32..126
// only (anything else would read past them), so the rest become '?'.
char printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 32 && u <= 126) ? c : '?';
}

// Pixels the pen moves right after drawing `c` at scale 1 (gap included).
int64_t advance(char c) {
  char glyph[2] = {printable(c), '\0'};
  return stb_easy_font_width(glyph);
}

// One vertex of stb_easy_font's output, as its header documents it.
struct FontVertex {
  float x, y, z;
  unsigned char rgba[4];
};
static_assert(sizeof(FontVertex) == 16, "stb_easy_font writes 16-byte vertices");

// The most quads one glyph needs is 11 ('X'); stb_easy_font stops at the
// buffer's end in any case, so a larger glyph would be cut short, not overrun.
constexpr int kMaxQuadsPerGlyph = 32;

// Draws one glyph with its box's top-left corner at (x, y).
void draw_glyph(data::Image& image, int64_t x, int64_t y, char c, Rgb color, int64_t scale) {
  FontVertex quads[kMaxQuadsPerGlyph * 4];
  char glyph[2] = {printable(c), '\0'};
  const int n = stb_easy_font_print(0.f, 0.f, glyph, nullptr, quads, int(sizeof(quads)));
  for (int q = 0; q < n; ++q) {
    // Vertices 0 and 2 are opposite corners: (left, top) and (right, bottom),
    // whole font pixels since the pen started at (0, 0).
    const FontVertex& top_left = quads[4 * q];
    const FontVertex& bottom_right = quads[4 * q + 2];
    const auto left = int64_t(std::lround(top_left.x)), top = int64_t(std::lround(top_left.y));
    const auto right = int64_t(std::lround(bottom_right.x));
    const auto bottom = int64_t(std::lround(bottom_right.y));
    fill_rect(image, x + left * scale, y + top * scale, (right - left) * scale, (bottom - top) * scale,
              color);
  }
}

}  // namespace

void fill_rect(data::Image& image, int64_t x, int64_t y, int64_t width, int64_t height, Rgb color) {
  check_rgb(image, "fill_rect");
  const auto [x0, x1] = clip_span(x, width, image.width);
  const auto [y0, y1] = clip_span(y, height, image.height);
  for (int64_t row = y0; row < y1; ++row)
    for (int64_t col = x0; col < x1; ++col) {
      image.at(row, col, 0) = color.r;
      image.at(row, col, 1) = color.g;
      image.at(row, col, 2) = color.b;
    }
}

void draw_frame(data::Image& image, int64_t x, int64_t y, int64_t width, int64_t height,
                int64_t thickness, Rgb color) {
  check_rgb(image, "draw_frame");
  LUCID_CHECK(thickness >= 0, "draw_frame: thickness ", thickness, " is negative");
  x = near(x), y = near(y), width = near(width), height = near(height);
  if (width <= 0 || height <= 0 || thickness == 0) return;
  const int64_t tx = std::min(thickness, width), ty = std::min(thickness, height);
  fill_rect(image, x, y, width, ty, color);                        // top
  fill_rect(image, x, y + height - ty, width, ty, color);          // bottom
  fill_rect(image, x, y, tx, height, color);                       // left
  fill_rect(image, x + width - tx, y, tx, height, color);          // right
}

void draw_text(data::Image& image, int64_t x, int64_t y, std::string_view text, Rgb color,
               int64_t scale) {
  check_rgb(image, "draw_text");
  check_scale(scale, "draw_text");
  x = near(x), y = near(y);
  int64_t pen_x = x, pen_y = y;
  for (char c : text) {
    if (c == '\n') {
      pen_x = x;
      pen_y += kFontLineHeight * scale;
      continue;
    }
    draw_glyph(image, pen_x, pen_y, c, color, scale);
    pen_x += advance(c) * scale;
  }
}

int64_t text_width(std::string_view text, int64_t scale) {
  check_scale(scale, "text_width");
  int64_t widest = 0, line = 0;
  for (char c : text) {
    if (c == '\n') {
      widest = std::max(widest, line);
      line = 0;
    } else {
      line += advance(c);
    }
  }
  return std::max(widest, line) * scale;
}

int64_t text_height(std::string_view text, int64_t scale) {
  check_scale(scale, "text_height");
  if (text.empty()) return 0;
  const auto lines = int64_t(std::count(text.begin(), text.end(), '\n')) + 1;
  return lines * kFontLineHeight * scale;
}

}  // namespace lucid::train::log
