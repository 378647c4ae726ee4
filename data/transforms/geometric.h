#pragma once
// Geometric image steps (Image -> Image), as torchvision.transforms.
//
//   hflip, pad, crop, center_crop, resize     the plain functions
//   RandomHorizontalFlip(p)                   flips with probability p
//   RandomCrop(size, padding, fill)           zero-pads each side, then crops at a random place
//                                             (in Compose::eval(): CenterCrop(size))
//   CenterCrop(size)                          crops the middle (zero-pads if the image is smaller)
//   Resize(size) / Resize(smaller_edge)       bilinear
//   RandomResizedCrop(size, scale, ratio)     random area and aspect, then bilinear resize
//                                             (in Compose::eval(): Resize + CenterCrop(size))
//
// Bilinear resize follows torch.nn.functional.interpolate(mode='bilinear',
// align_corners=False) (torchvision's antialias=False) computed in float on the
// uint8 values, then rounded to nearest (ties to even) and clamped to [0, 255]:
//   src = max((dst + 0.5) * in / out - 0.5, 0), x0 = floor(src), x1 = min(x0 + 1, in - 1),
//   out = (1 - ly) * ((1 - lx) * p00 + lx * p01) + ly * ((1 - lx) * p10 + lx * p11),
// with PyTorch's float roundings (see resize() in geometric.cpp).

#include <string>
#include <utility>
#include <vector>

#include <lucid/data/transforms/transform.h>

namespace lucid::data {

Image hflip(const Image& image);
Image pad(const Image& image, int64_t top, int64_t bottom, int64_t left, int64_t right,
          uint8_t fill = 0);
Image crop(const Image& image, int64_t top, int64_t left, Size2 size);  // must lie inside
Image center_crop(const Image& image, Size2 size);
Image resize(const Image& image, Size2 size);

class RandomHorizontalFlip : public ImageTransform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  std::string name() const override { return "RandomHorizontalFlip"; }
  Randomness randomness() const override { return Randomness::Random; }
  Image apply_image(Image image) const override;

 private:
  double p_;
};

class RandomCrop : public ImageTransform {
 public:
  explicit RandomCrop(Size2 size, int64_t padding = 0, uint8_t fill = 0);
  std::string name() const override { return "RandomCrop"; }
  Randomness randomness() const override { return Randomness::Random; }
  std::vector<TransformPtr> eval_steps() const override;  // CenterCrop(size)
  Image apply_image(Image image) const override;

 private:
  Size2 size_;
  int64_t padding_;
  uint8_t fill_;
};

class CenterCrop : public ImageTransform {
 public:
  explicit CenterCrop(Size2 size);
  std::string name() const override { return "CenterCrop"; }
  Image apply_image(Image image) const override { return center_crop(image, size_); }

 private:
  Size2 size_;
};

class Resize : public ImageTransform {
 public:
  explicit Resize(Size2 size);               // exactly this height and width
  explicit Resize(int64_t smaller_edge);     // the smaller edge to this, keeping aspect
  std::string name() const override { return "Resize"; }
  Image apply_image(Image image) const override;

 private:
  Size2 size_;
  int64_t smaller_edge_ = 0;  // > 0: the Resize(int) form
};

class RandomResizedCrop : public ImageTransform {
 public:
  explicit RandomResizedCrop(Size2 size, std::pair<double, double> scale = {0.08, 1.0},
                             std::pair<double, double> ratio = {3.0 / 4.0, 4.0 / 3.0});
  std::string name() const override { return "RandomResizedCrop"; }
  Randomness randomness() const override { return Randomness::Random; }
  // Resize(smaller edge to max(size)) + CenterCrop(size): torchvision's eval recipe.
  std::vector<TransformPtr> eval_steps() const override;
  Image apply_image(Image image) const override;

 private:
  Size2 size_;
  std::pair<double, double> scale_;
  std::pair<double, double> ratio_;
};

}  // namespace lucid::data
