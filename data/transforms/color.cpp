#include <lucid/data/transforms/color.h>

#include <algorithm>
#include <cmath>

#include <lucid/kernels/error.h>

namespace lucid::data {

namespace {

// Channels that carry color: all but a trailing alpha (2 = gray+alpha, 4 = RGBA).
int64_t color_channels(const Image& image) {
  return image.channels == 2 || image.channels == 4 ? image.channels - 1 : image.channels;
}

uint8_t to_byte(double v) { return uint8_t(std::clamp(std::nearbyint(v), 0.0, 255.0)); }

// out = factor * v + (1 - factor) * other, on the color channels.
Image blend(const Image& image, double factor, double other, const char* fn) {
  check_image(image, fn);
  Image out = image;
  const int64_t cc = color_channels(image);
  for (size_t i = 0; i < out.pixels.size(); ++i)
    if (int64_t(i % size_t(image.channels)) < cc)
      out.pixels[i] = to_byte(factor * image.pixels[i] + (1.0 - factor) * other);
  return out;
}

void check_factor(double f, const char* fn) {
  LUCID_CHECK(f >= 0.0 && std::isfinite(f), fn, ": factor must be finite and >= 0, got ", f);
}

}  // namespace

Image adjust_brightness(const Image& image, double factor) {
  check_factor(factor, "adjust_brightness");
  return blend(image, factor, 0.0, "adjust_brightness");
}

Image adjust_contrast(const Image& image, double factor) {
  check_factor(factor, "adjust_contrast");
  check_image(image, "adjust_contrast");
  const int64_t n = image.height * image.width;
  if (n == 0) return image;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* p = &image.pixels[size_t(i * image.channels)];
    sum += color_channels(image) >= 3 ? 0.2989 * p[0] + 0.587 * p[1] + 0.114 * p[2] : p[0];
  }
  return blend(image, factor, sum / double(n), "adjust_contrast");
}

ColorJitter::ColorJitter(double brightness, double contrast)
    : brightness_(brightness), contrast_(contrast) {
  LUCID_CHECK(brightness >= 0.0 && contrast >= 0.0,
              "ColorJitter: brightness and contrast must be >= 0, got ", brightness, " and ",
              contrast);
}

Image ColorJitter::apply_image(Image image) const {
  if (brightness_ > 0.0)
    image = adjust_brightness(image,
                              draw_uniform(std::max(0.0, 1.0 - brightness_), 1.0 + brightness_));
  if (contrast_ > 0.0)
    image = adjust_contrast(image, draw_uniform(std::max(0.0, 1.0 - contrast_), 1.0 + contrast_));
  return image;
}

}  // namespace lucid::data
