#pragma once
// Color image steps (Image -> Image).
//
//   adjust_brightness(image, f)   v * f
//   adjust_contrast(image, f)     f * v + (1 - f) * mean gray level of the image
//   ColorJitter(b, c)             brightness factor from [max(0, 1 - b), 1 + b], then
//                                 contrast factor from [max(0, 1 - c), 1 + c]
//
// Results are rounded to nearest and clamped to [0, 255]. The gray level of an
// RGB(A) pixel is 0.2989 R + 0.587 G + 0.114 B (ITU-R 601, as torchvision); a
// gray(+alpha) image uses its one color channel. Alpha is never changed.
// Unlike torchvision, ColorJitter applies brightness then contrast in this
// fixed order (torchvision shuffles the order per call).

#include <string>

#include <lucid/data/transforms/transform.h>

namespace lucid::data {

Image adjust_brightness(const Image& image, double factor);
Image adjust_contrast(const Image& image, double factor);

class ColorJitter : public ImageTransform {
 public:
  explicit ColorJitter(double brightness = 0.0, double contrast = 0.0);
  std::string name() const override { return "ColorJitter"; }
  Randomness randomness() const override { return Randomness::Random; }
  Image apply_image(Image image) const override;

 private:
  double brightness_;
  double contrast_;
};

}  // namespace lucid::data
