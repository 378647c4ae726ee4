#pragma once
// Pictures of what a model predicts, for a training run's log: a grid of input
// images with their predicted and true labels (as torchvision's make_grid plus
// labels), and a segmentation mask laid over its image.
//
//   tensor_to_image        one [C, H, W] float tensor -> uint8 Image, undoing Normalize
//   PredictionGridOptions  columns, max_images, scale, text_scale, class_names,
//                          mean/std, padding (chained setters)
//   prediction_grid        [N, C, H, W] images + [N] predicted + [N] target -> RGB grid
//   class_color            the default color of a class id in overlay_mask
//   overlay_mask           an Image with a [H, W] class-id mask blended over it
//
// The caller makes the grid under eval() and NoGradGuard and writes it with
// data::write_png (or logs its encode_png bytes to TensorBoard). Nothing here
// draws from a random generator, default_generator() included, so logging
// pictures leaves an exactly resumable run exactly resumable.
//
// From float to byte, as torchvision's save_image: per channel c,
//   v = x * std[c] + mean[c]      (undoes Normalize; no mean/std: v = x)
//   v = clamp(v, 0, 1)            (NaN becomes 0)
//   byte = floor(v * 255 + 0.5)   (round half up)
// so a value that came from byte b through ToTensor (b / 255) and Normalize
// gets b back. (to_pil_image truncates instead, casting v * 255 to uint8, so a
// product just below a whole number, 253.99998 say, drops a level.)
//
// Grid layout (all in pixels). With s the image scale, t the text scale,
// f = kGridFrame, m = kGridTextMargin, p = padding, n = min(N, max_images)
// images, cols = min(columns, n) and rows = ceil(n / cols):
//
//   +------------------------------------------------------+
//   | title band, T = 2m + 9t: "26/32 right (green), ..."  |
//   |  p  +-frame f--------+  p  +----------------+  p ... |
//   |     | image          |     |                |        |
//   |     | W*s x H*s      |     |                |        |
//   |     |----------------|     |----------------|        |
//   |     | pred: Pullover |     | pred: Coat     |  label strip,
//   |     | true: Trouser  |     |                |  L = 2m + 21t
//   |     +----------------+     +----------------+        |
//   |  p                                                   |
//   |     next row ...                                     |
//   +------------------------------------------------------+
//
//   cell   = (W*s + 2f) wide, (H*s + L + 2f) high
//   width  = cols * cell_w + (cols + 1) * p
//   height = T + rows * cell_h + (rows + 1) * p
//   cell i = (r, c) = (i / cols, i % cols) has its top-left corner at
//            x = p + c * (cell_w + p),  y = T + p + r * (cell_h + p)
//   text   line k (0 or 1) of a strip starts m + 12t * k below the image,
//          m right of the frame (12t: the font's line height)
//
// E.g. 28x28 images with the default options: s = 4, cells 116 x 143, and
// 32 images in 8 columns make a 964 x 607 picture.
//
// So the picture's size depends on the shapes and options only, never on the
// labels: every grid of one run has the same size. Each cell is framed in
// kGreen when predicted == target and in kRed when not; its label strip says
// "pred: <name>" (white, or kLightRed when wrong) and, for a wrong one,
// "true: <name>" (kLightGreen) on a second line, on kDarkGray; names come from
// class_names, else the number. A label too wide for the strip is cut and ends
// in "..". Padding and title band are white; gray images are shown as RGB with
// R = G = B.
//
// Errors are lucid::Error naming prediction_grid (or tensor_to_image,
// overlay_mask) and the offending shape, dtype or value, e.g.
//   "prediction_grid: target has shape [3] but images has 4 (shape [4, 1, 28, 28])".

#include <cstdint>
#include <string>
#include <vector>

#include <lucid/data/transforms/image.h>
#include <lucid/kernels/tensor.h>
#include <lucid/train/log/draw.h>

namespace lucid::train::log {

// Frame thickness and text margin of a grid cell, in pixels (see the layout above).
inline constexpr int64_t kGridFrame = 2;
inline constexpr int64_t kGridTextMargin = 3;
// The default image scale makes a cell's image at least this wide: 28x28
// Fashion-MNIST images get scale 4 (112 pixels), room for "pred: T-shirt/top".
inline constexpr int64_t kGridAutoWidth = 96;

// [C, H, W] with C = 1 or 3, any floating dtype, any device, any strides ->
// an Image of C channels. mean and std are Normalize's: empty (identity), or
// one value for all channels, or one per channel.
data::Image tensor_to_image(const Tensor& chw, const std::vector<double>& mean = {},
                            const std::vector<double>& std = {});

// Chained setters: PredictionGridOptions().columns(4).class_names(names). Each
// name read without an argument is the getter.
class PredictionGridOptions {
 public:
  // Cells per row (>= 1); fewer when there are fewer images.
  PredictionGridOptions& columns(int64_t v) { columns_ = v; return *this; }
  int64_t columns() const { return columns_; }
  // Only the first max_images (>= 1) images of the batch are drawn.
  PredictionGridOptions& max_images(int64_t v) { max_images_ = v; return *this; }
  int64_t max_images() const { return max_images_; }
  // Nearest-neighbour upscaling of each image (>= 1); 0 (the default) picks
  // ceil(kGridAutoWidth / W), at least 1.
  PredictionGridOptions& scale(int64_t v) { scale_ = v; return *this; }
  int64_t scale() const { return scale_; }
  // Size of the label text, in multiples of the font's pixels (1 to kMaxTextScale).
  PredictionGridOptions& text_scale(int64_t v) { text_scale_ = v; return *this; }
  int64_t text_scale() const { return text_scale_; }
  // Label i prints as class_names[i]; without names, as the number i.
  PredictionGridOptions& class_names(std::vector<std::string> v) {
    class_names_ = std::move(v);
    return *this;
  }
  const std::vector<std::string>& class_names() const { return class_names_; }
  // Normalize's mean and std, undone before drawing (see tensor_to_image).
  PredictionGridOptions& mean(std::vector<double> v) { mean_ = std::move(v); return *this; }
  const std::vector<double>& mean() const { return mean_; }
  PredictionGridOptions& std(std::vector<double> v) { std_ = std::move(v); return *this; }
  const std::vector<double>& std() const { return std_; }
  // White pixels between cells and around them (>= 0).
  PredictionGridOptions& padding(int64_t v) { padding_ = v; return *this; }
  int64_t padding() const { return padding_; }

 private:
  int64_t columns_ = 8;
  int64_t max_images_ = 32;
  int64_t scale_ = 0;
  int64_t text_scale_ = 1;
  std::vector<std::string> class_names_;
  std::vector<double> mean_;
  std::vector<double> std_;
  int64_t padding_ = 4;
};

// images [N, C, H, W] (C = 1 or 3, floating, N > 0), predicted and target [N]
// of an integer dtype, on any device. Labels must lie in [0, class_names.size())
// when names are given. Returns an RGB Image laid out as described above.
data::Image prediction_grid(const Tensor& images, const Tensor& predicted, const Tensor& target,
                            const PredictionGridOptions& options = {});

// The default palette of overlay_mask: PASCAL VOC's colormap, which spreads
// the bits of the id over the high bits of R, G and B, so ids 1..255 get 255
// distinct colors (1 is dark red, 2 dark green, 3 olive, ...) and 0 is black.
// Ids must be in [0, 2^24).
Rgb class_color(int64_t class_id);

// image (1 or 3 channels, gray shown as RGB) with mask [H, W] (an integer or
// bool dtype, any device, the image's height and width) blended over it:
//   out = round_half_up((1 - alpha) * pixel + alpha * color(id))
// for every pixel whose id is not 0; id 0 is background and keeps the image's
// pixel. color(id) is palette[id] when a palette is given (then every id must
// be below palette.size()), else class_color(id). alpha is in [0, 1].
// Returns an RGB Image.
data::Image overlay_mask(const data::Image& image, const Tensor& mask, double alpha = 0.5,
                         const std::vector<Rgb>& palette = {});

}  // namespace lucid::train::log
