#pragma once
// Small raster helpers on an RGB data::Image: enough to put labels and frames on
// the pictures a training run logs (train/log/prediction_grid.h).
//
//   Rgb                 a color; kBlack, kWhite, kGray, kDarkGray, kRed, kGreen,
//                       kLightRed, kLightGreen
//   fill_rect           a filled rectangle
//   draw_frame          a rectangle's outline, `thickness` pixels drawn inwards
//   draw_text           ASCII text in stb_easy_font's bitmap font, `scale` times
//                       its size; '\n' starts a new line
//   text_width          the pen advance of the widest line, in pixels
//   text_height         lines * kFontLineHeight * scale
//
// How text becomes pixels: stb_easy_font (Debian's libstb-dev) builds every
// glyph from horizontal and vertical bars, each one font pixel thick, and hands
// them back as quads (four corner vertices). With integer pen positions each
// quad is an axis-aligned rectangle on the pixel grid, so drawing text is just
// fill_rect per quad, scaled by an integer factor (nearest-neighbour, no blur).
//
// Coordinates are pixels: x to the right, y down, (0, 0) the top-left pixel.
// Every helper clips to the image: a rectangle or a glyph partly (or wholly)
// outside draws only its inside part and never writes outside the pixels.
// The image must have 3 channels (RGB); anything else raises lucid::Error
// naming the helper and the image's size.
//
// Font metrics (scale 1): glyphs advance 3 to 9 pixels (digits and most
// letters 6, a one-pixel gap included); ink covers rows 0..6 of a line
// for capitals and 0..8 with descenders (g, p, y); lines are 12 pixels apart.
// Characters outside printable ASCII (32..126) draw as '?'.

#include <cstdint>
#include <string_view>

#include <lucid/data/transforms/image.h>

namespace lucid::train::log {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

inline constexpr Rgb kBlack{0, 0, 0};
inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kGray{128, 128, 128};
inline constexpr Rgb kDarkGray{32, 32, 32};
inline constexpr Rgb kRed{220, 30, 30};
inline constexpr Rgb kGreen{20, 170, 50};
inline constexpr Rgb kLightRed{255, 150, 150};
inline constexpr Rgb kLightGreen{150, 235, 160};

// Vertical metrics of the font at scale 1, in pixels.
inline constexpr int64_t kFontLineHeight = 12;  // from one line's top to the next
inline constexpr int64_t kFontInkHeight = 9;    // rows a line's ink can touch (descenders included)

// The largest `scale` draw_text, text_width and text_height accept.
inline constexpr int64_t kMaxTextScale = 64;

void fill_rect(data::Image& image, int64_t x, int64_t y, int64_t width, int64_t height, Rgb color);

// The outline of the rectangle (x, y, width, height): its `thickness` outermost
// rows and columns (the whole rectangle when thickness reaches its middle).
void draw_frame(data::Image& image, int64_t x, int64_t y, int64_t width, int64_t height,
                int64_t thickness, Rgb color);

// (x, y) is the top-left corner of the first line's box.
void draw_text(data::Image& image, int64_t x, int64_t y, std::string_view text, Rgb color,
               int64_t scale = 1);

// The pen advance of the widest line: where a following glyph would start,
// so it counts the one-pixel gap after the last glyph.
int64_t text_width(std::string_view text, int64_t scale = 1);
int64_t text_height(std::string_view text, int64_t scale = 1);

}  // namespace lucid::train::log
