#include <lucid/data/transforms/geometric.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <lucid/kernels/error.h>

namespace lucid::data {

namespace {

void check_size(Size2 size, const char* step) {
  LUCID_CHECK(size.height > 0 && size.width > 0 && size.height <= kMaxImagePixels / size.width,
              step, ": size must be positive and at most ", kMaxImagePixels, " pixels, got ",
              size.height, "x", size.width);
}

// A valid image with at least one pixel.
void check_nonempty(const Image& image, const char* step) {
  check_image(image, step);
  LUCID_CHECK(image.height > 0 && image.width > 0, step, ": image is empty (", image.height, "x",
              image.width, ")");
}

// A computed side length as int64: clamped first, since converting a double
// beyond int64's range (or NaN) is undefined; the size checks then reject it.
int64_t to_side(double v) {
  if (!(v > 0.0)) return 0;
  return v >= 0x1p62 ? int64_t(1) << 62 : int64_t(v);
}

// Source coordinates and weights of one output axis for align_corners=False.
struct Taps {
  std::vector<int64_t> i0, i1;
  std::vector<float> w0, w1;
};

Taps linear_taps(int64_t in, int64_t out) {
  Taps t;
  const float scale = float(in) / float(out);
  for (int64_t d = 0; d < out; ++d) {
    // As PyTorch: the float scale times a double (d + 0.5), rounded to float once.
    float src = std::max(float(double(scale) * (double(d) + 0.5) - 0.5), 0.0f);
    int64_t x0 = int64_t(src);
    float l1 = std::min(std::max(src - float(x0), 0.0f), 1.0f);
    t.i0.push_back(x0);
    t.i1.push_back(x0 < in - 1 ? x0 + 1 : x0);
    t.w0.push_back(1.0f - l1);
    t.w1.push_back(l1);
  }
  return t;
}

}  // namespace

Image hflip(const Image& image) {
  check_image(image, "hflip");
  Image out(image.height, image.width, image.channels);
  const int64_t c = image.channels;
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < image.width; ++x)
      std::memcpy(&out.at(y, x, 0), &image.at(y, image.width - 1 - x, 0), size_t(c));
  return out;
}

Image pad(const Image& image, int64_t top, int64_t bottom, int64_t left, int64_t right,
          uint8_t fill) {
  check_image(image, "pad");
  LUCID_CHECK(top >= 0 && bottom >= 0 && left >= 0 && right >= 0,
              "pad: padding must be >= 0, got top ", top, " bottom ", bottom, " left ", left,
              " right ", right);
  LUCID_CHECK(top <= kMaxImagePixels && bottom <= kMaxImagePixels && left <= kMaxImagePixels &&
                  right <= kMaxImagePixels,
              "pad: padding of ", top, "/", bottom, "/", left, "/", right, " exceeds ", kMaxImagePixels);
  Image out(image.height + top + bottom, image.width + left + right, image.channels, fill);
  for (int64_t y = 0; y < image.height; ++y)
    std::memcpy(&out.at(y + top, left, 0), &image.at(y, 0, 0),
                size_t(image.width * image.channels));
  return out;
}

Image crop(const Image& image, int64_t top, int64_t left, Size2 size) {
  check_size(size, "crop");
  check_image(image, "crop");
  LUCID_CHECK(top >= 0 && left >= 0 && top + size.height <= image.height &&
                  left + size.width <= image.width,
              "crop: a ", size.height, "x", size.width, " crop at (", top, ", ", left,
              ") does not fit in a ", image.height, "x", image.width, " image");
  Image out(size.height, size.width, image.channels);
  for (int64_t y = 0; y < size.height; ++y)
    std::memcpy(&out.at(y, 0, 0), &image.at(top + y, left, 0),
                size_t(size.width * image.channels));
  return out;
}

Image center_crop(const Image& image, Size2 size) {
  check_size(size, "CenterCrop");
  check_nonempty(image, "CenterCrop");
  Image src = image;
  // Smaller than the crop: zero-pad, the odd pixel going to the bottom/right (torchvision).
  if (size.height > src.height || size.width > src.width) {
    int64_t ph = std::max<int64_t>(size.height - src.height, 0);
    int64_t pw = std::max<int64_t>(size.width - src.width, 0);
    src = pad(src, ph / 2, (ph + 1) / 2, pw / 2, (pw + 1) / 2);
  }
  // torchvision: top = int(round((H - h) / 2.0)), Python's round (ties to even).
  int64_t top = int64_t(std::nearbyint(double(src.height - size.height) / 2.0));
  int64_t left = int64_t(std::nearbyint(double(src.width - size.width) / 2.0));
  return crop(src, top, left, size);
}

Image resize(const Image& image, Size2 size) {
  check_size(size, "Resize");
  check_nonempty(image, "Resize");
  const Taps ty = linear_taps(image.height, size.height);
  const Taps tx = linear_taps(image.width, size.width);
  Image out(size.height, size.width, image.channels);
  for (int64_t y = 0; y < size.height; ++y)
    for (int64_t x = 0; x < size.width; ++x)
      for (int64_t c = 0; c < image.channels; ++c) {
        auto p = [&](int64_t yy, int64_t xx) { return float(image.at(yy, xx, c)); };
        // The same operations as PyTorch's CPU kernel, whose `out += t * w` its
        // AVX2 build fuses into one multiply-add: so float rounding agrees even
        // where the exact value sits at a .5 tie.
        float top = std::fma(p(ty.i0[y], tx.i1[x]), tx.w1[x], p(ty.i0[y], tx.i0[x]) * tx.w0[x]);
        float bottom =
            std::fma(p(ty.i1[y], tx.i1[x]), tx.w1[x], p(ty.i1[y], tx.i0[x]) * tx.w0[x]);
        float v = std::fma(bottom, ty.w1[y], top * ty.w0[y]);
        out.at(y, x, c) = uint8_t(std::clamp(std::nearbyint(v), 0.0f, 255.0f));
      }
  return out;
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  LUCID_CHECK(p >= 0.0 && p <= 1.0, "RandomHorizontalFlip: p must be in [0, 1], got ", p);
}

Image RandomHorizontalFlip::apply_image(Image image) const {
  return draw_uniform(0.0, 1.0) < p_ ? hflip(image) : image;
}

RandomCrop::RandomCrop(Size2 size, int64_t padding, uint8_t fill)
    : size_(size), padding_(padding), fill_(fill) {
  check_size(size, "RandomCrop");
  LUCID_CHECK(padding >= 0, "RandomCrop: padding must be >= 0, got ", padding);
}

Image RandomCrop::apply_image(Image image) const {
  check_nonempty(image, "RandomCrop");
  if (padding_ > 0) image = pad(image, padding_, padding_, padding_, padding_, fill_);
  LUCID_CHECK(size_.height <= image.height && size_.width <= image.width, "RandomCrop: crop ",
              size_.height, "x", size_.width, " is larger than the (padded) image ", image.height,
              "x", image.width);
  int64_t top = draw_randint(0, image.height - size_.height + 1);
  int64_t left = draw_randint(0, image.width - size_.width + 1);
  return crop(image, top, left, size_);
}

// At the crop's size this is the identity (RandomCrop(32, 4) on 32x32 CIFAR images).
std::vector<TransformPtr> RandomCrop::eval_steps() const { return {std::make_shared<const CenterCrop>(size_)}; }

CenterCrop::CenterCrop(Size2 size) : size_(size) { check_size(size, "CenterCrop"); }

Resize::Resize(Size2 size) : size_(size) { check_size(size, "Resize"); }

Resize::Resize(int64_t smaller_edge) : smaller_edge_(smaller_edge) {
  LUCID_CHECK(smaller_edge > 0 && smaller_edge <= kMaxImagePixels,
              "Resize: size must be positive and at most ", kMaxImagePixels, ", got ", smaller_edge);
}

Image Resize::apply_image(Image image) const {
  if (smaller_edge_ == 0) return resize(image, size_);
  check_nonempty(image, "Resize");
  // torchvision: the long side becomes int(size * long / short), truncated.
  const int64_t s = smaller_edge_;
  if (image.height <= image.width)
    return resize(image, {s, to_side(double(s) * double(image.width) / double(image.height))});
  return resize(image, {to_side(double(s) * double(image.height) / double(image.width)), s});
}

RandomResizedCrop::RandomResizedCrop(Size2 size, std::pair<double, double> scale,
                                     std::pair<double, double> ratio)
    : size_(size), scale_(scale), ratio_(ratio) {
  check_size(size, "RandomResizedCrop");
  LUCID_CHECK(0.0 < scale.first && scale.first <= scale.second && scale.second <= 1.0,
              "RandomResizedCrop: scale must satisfy 0 < min <= max <= 1, got (", scale.first,
              ", ", scale.second, ")");
  LUCID_CHECK(0.0 < ratio.first && ratio.first <= ratio.second,
              "RandomResizedCrop: ratio must satisfy 0 < min <= max, got (", ratio.first, ", ",
              ratio.second, ")");
}

// The smaller edge to the larger side of `size`, so that both sides cover the crop.
std::vector<TransformPtr> RandomResizedCrop::eval_steps() const {
  return {std::make_shared<const Resize>(std::max(size_.height, size_.width)),
          std::make_shared<const CenterCrop>(size_)};
}

Image RandomResizedCrop::apply_image(Image image) const {
  check_nonempty(image, "RandomResizedCrop");
  const double H = double(image.height), W = double(image.width), area = H * W;
  const double log_r0 = std::log(ratio_.first), log_r1 = std::log(ratio_.second);
  // torchvision's get_params: ten tries at a random area and aspect ratio...
  for (int attempt = 0; attempt < 10; ++attempt) {
    double target = area * draw_uniform(scale_.first, scale_.second);
    double aspect = std::exp(log_r0 == log_r1 ? log_r0 : draw_uniform(log_r0, log_r1));
    int64_t w = to_side(std::nearbyint(std::sqrt(target * aspect)));
    int64_t h = to_side(std::nearbyint(std::sqrt(target / aspect)));
    if (0 < w && w <= image.width && 0 < h && h <= image.height) {
      int64_t top = draw_randint(0, image.height - h + 1);
      int64_t left = draw_randint(0, image.width - w + 1);
      return resize(crop(image, top, left, {h, w}), size_);
    }
  }
  // ...then a central crop with the aspect ratio clamped into range.
  int64_t w = image.width, h = image.height;
  const double in_ratio = W / H;
  if (in_ratio < ratio_.first)
    h = std::max<int64_t>(1, to_side(std::nearbyint(double(w) / ratio_.first)));
  else if (in_ratio > ratio_.second)
    w = std::max<int64_t>(1, to_side(std::nearbyint(double(h) * ratio_.second)));
  h = std::min(h, image.height);
  w = std::min(w, image.width);
  return resize(crop(image, (image.height - h) / 2, (image.width - w) / 2, {h, w}), size_);
}

}  // namespace lucid::data
