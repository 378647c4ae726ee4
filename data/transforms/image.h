#pragma once
// data::Image: a decoded picture as it travels through the image transforms.
//
// The pipeline has two halves, joined by ToTensor:
//
//   Image (uint8, HWC) --RandomCrop, Flip, Resize, ColorJitter...--> Image
//         --ToTensor--> Tensor (float32, CHW, values in [0, 1])
//         --Normalize...--> Tensor
//
// Geometric and color steps work on the small plain Image below (bytes, the
// layout decoders and files use); tensor steps such as Normalize work on the
// float CHW Tensor. ToTensor is the one step that crosses over, so it comes
// after every image step: Compose checks the order when it is built.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <lucid/kernels/error.h>

namespace lucid::data {

// uint8 pixels in row-major HWC order: pixel (y, x), channel c lives at
// pixels[(y * width + x) * channels + c]. channels is 1 (gray), 2 (gray +
// alpha), 3 (RGB) or 4 (RGBA).
// The largest width * height any decoder or transform produces: a corrupt
// header or an absurd crop/resize size is an error, not a huge allocation.
inline constexpr int64_t kMaxImagePixels = int64_t(1) << 26;  // 67M pixels (8192 x 8192)

struct Image {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  std::vector<uint8_t> pixels;

  Image() = default;
  Image(int64_t h, int64_t w, int64_t c, uint8_t fill = 0)
      : height(h), width(w), channels(c), pixels(checked_size(h, w, c), fill) {}

  uint8_t& at(int64_t y, int64_t x, int64_t c) {
    return pixels[static_cast<size_t>((y * width + x) * channels + c)];
  }
  const uint8_t& at(int64_t y, int64_t x, int64_t c) const {
    return pixels[static_cast<size_t>((y * width + x) * channels + c)];
  }

 private:
  // h * w * c, refusing negative sizes and more than kMaxImagePixels pixels
  // (checked by division, so the product cannot overflow first).
  static size_t checked_size(int64_t h, int64_t w, int64_t c) {
    LUCID_CHECK(h >= 0 && w >= 0 && c >= 0 && c <= 4 && (w == 0 || h <= kMaxImagePixels / w),
                "Image: ", h, "x", w, "x", c, " is not a valid image (at most ", kMaxImagePixels,
                " pixels and 4 channels)");
    return static_cast<size_t>(h * w * c);
  }
};

// Height then width, as torchvision's size arguments.
struct Size2 {
  int64_t height = 0;
  int64_t width = 0;
};

}  // namespace lucid::data
