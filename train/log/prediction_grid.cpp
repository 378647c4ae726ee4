#include <lucid/train/log/prediction_grid.h>

#include <algorithm>
#include <cmath>
#include <string>

#include <lucid/kernels/error.h>

namespace lucid::train::log {

namespace {

// Normalize's mean/std as one value per channel (both empty: identity).
struct Denormalize {
  std::vector<double> mean, stdev;

  Denormalize(const std::vector<double>& m, const std::vector<double>& s, int64_t channels,
              const char* who) {
    LUCID_CHECK(m.size() == s.size(), who, ": mean has ", m.size(), " values and std has ", s.size(),
                "; they need the same count (none, one, or one per channel)");
    LUCID_CHECK(m.empty() || m.size() == 1 || int64_t(m.size()) == channels, who, ": mean/std have ",
                m.size(), " values but the images have ", channels, " channels");
    for (size_t c = 0; c < s.size(); ++c)
      LUCID_CHECK(s[c] > 0.0, who, ": std[", c, "] = ", s[c], " must be positive (as Normalize's)");
    for (int64_t c = 0; c < channels; ++c) {
      const size_t i = m.size() == 1 ? 0 : size_t(c);
      mean.push_back(m.empty() ? 0.0 : m[i]);
      stdev.push_back(s.empty() ? 1.0 : s[i]);
    }
  }
};

// The byte save_image writes for x: undo Normalize, clamp to [0, 1], round half up.
uint8_t to_byte(double x, double mean, double stdev) {
  double v = x * stdev + mean;
  if (!(v > 0.0)) v = 0.0;  // also NaN: a comparison with NaN is false
  if (v > 1.0) v = 1.0;
  return uint8_t(std::floor(v * 255.0 + 0.5));
}

// A [C, H, W] block of doubles (packed) -> Image of C channels (HWC).
data::Image chw_to_image(const double* chw, int64_t channels, int64_t height, int64_t width,
                         const Denormalize& d) {
  data::Image image(height, width, channels);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x)
        image.at(y, x, c) = to_byte(chw[(c * height + y) * width + x], d.mean[size_t(c)], d.stdev[size_t(c)]);
  return image;
}

// A tensor on the CPU, packed, as `dtype`, without autograd history: what the
// plain loops below read through data_ptr.
Tensor host_packed(const Tensor& t, ScalarType dtype) {
  return t.detach().to(Device(kCPU)).to(dtype).contiguous();
}

void check_labels(const Tensor& labels, const char* name, const Tensor& images) {
  LUCID_CHECK(labels.defined(), "prediction_grid: ", name, " is an undefined tensor");
  LUCID_CHECK(labels.dim() == 1 && labels.size(0) == images.size(0), "prediction_grid: ", name,
              " has shape ", labels.sizes(), " but images has ", images.size(0), " (shape ",
              images.sizes(), "); it needs one label per image");
  LUCID_CHECK(!labels.is_floating_point(), "prediction_grid: ", name,
              " must hold integer class ids, got dtype ", labels.dtype());
}

// The name of `label` for the strip: class_names[label], or the number. A
// line break in a name would push text out of its strip: it prints as a space.
std::string label_name(int64_t label, const std::vector<std::string>& names) {
  std::string name = names.empty() ? std::to_string(label) : names[size_t(label)];
  std::replace(name.begin(), name.end(), '\n', ' ');
  return name;
}

// `text` (one line) if it fits in max_width pixels; else its longest prefix
// that fits with ".." after it; else nothing (the cell is too narrow for "..").
std::string fit_text(const std::string& text, int64_t max_width, int64_t scale) {
  if (text_width(text, scale) <= max_width) return text;
  int64_t budget = max_width - text_width("..", scale);
  if (budget < 0) return "";
  size_t keep = 0;
  while (keep < text.size() && (budget -= text_width(text.substr(keep, 1), scale)) >= 0) ++keep;
  return text.substr(0, keep) + "..";
}

// Draws `image` (1 or 3 channels) into `out` at (x0, y0), each pixel as an
// s x s block (nearest-neighbour upscaling), gray as R = G = B.
void blit_scaled(data::Image& out, const data::Image& image, int64_t x0, int64_t y0, int64_t s) {
  for (int64_t y = 0; y < image.height * s; ++y)
    for (int64_t x = 0; x < image.width * s; ++x)
      for (int64_t c = 0; c < 3; ++c)
        out.at(y0 + y, x0 + x, c) = image.at(y / s, x / s, image.channels == 1 ? 0 : c);
}

}  // namespace

data::Image tensor_to_image(const Tensor& chw, const std::vector<double>& mean,
                            const std::vector<double>& std) {
  LUCID_CHECK(chw.defined(), "tensor_to_image: the tensor is undefined");
  LUCID_CHECK(chw.dim() == 3 && (chw.size(0) == 1 || chw.size(0) == 3),
              "tensor_to_image: expects a [C, H, W] tensor with C = 1 or 3, got shape ", chw.sizes());
  LUCID_CHECK(chw.is_floating_point(), "tensor_to_image: expects a floating-point tensor, got dtype ",
              chw.dtype());
  const Denormalize d(mean, std, chw.size(0), "tensor_to_image");
  const Tensor t = host_packed(chw, kFloat64);
  return chw_to_image(t.data_ptr<double>(), t.size(0), t.size(1), t.size(2), d);
}

data::Image prediction_grid(const Tensor& images, const Tensor& predicted, const Tensor& target,
                            const PredictionGridOptions& options) {
  // ---- validate once, naming what is wrong ----
  LUCID_CHECK(images.defined(), "prediction_grid: images is an undefined tensor");
  LUCID_CHECK(images.dim() == 4 && (images.size(1) == 1 || images.size(1) == 3),
              "prediction_grid: images must be [N, C, H, W] with C = 1 or 3, got shape ", images.sizes());
  LUCID_CHECK(images.size(0) > 0 && images.size(2) > 0 && images.size(3) > 0,
              "prediction_grid: images of shape ", images.sizes(), " hold no picture");
  LUCID_CHECK(images.is_floating_point(), "prediction_grid: images must be floating point, got dtype ",
              images.dtype());
  check_labels(predicted, "predicted", images);
  check_labels(target, "target", images);
  LUCID_CHECK(options.columns() >= 1, "prediction_grid: columns ", options.columns(), " must be >= 1");
  LUCID_CHECK(options.max_images() >= 1, "prediction_grid: max_images ", options.max_images(),
              " must be >= 1");
  LUCID_CHECK(options.scale() >= 0 && options.scale() <= data::kMaxImagePixels, "prediction_grid: scale ",
              options.scale(), " must be >= 1 (or 0 for automatic)");
  LUCID_CHECK(options.text_scale() >= 1 && options.text_scale() <= kMaxTextScale,
              "prediction_grid: text_scale ", options.text_scale(), " is not in [1, ", kMaxTextScale, "]");
  LUCID_CHECK(options.padding() >= 0 && options.padding() <= data::kMaxImagePixels,
              "prediction_grid: padding ", options.padding(), " must be >= 0");

  const int64_t n = std::min(images.size(0), options.max_images());
  const int64_t channels = images.size(1), h = images.size(2), w = images.size(3);
  const Denormalize denorm(options.mean(), options.std(), channels, "prediction_grid");

  // ---- layout (the picture in prediction_grid.h) ----
  // Each product is checked against kMaxImagePixels before the next one uses
  // it, so no size can overflow (an expand()ed batch can claim any size) and
  // no pixel memory is asked for a grid that would be refused anyway.
  const int64_t auto_scale = std::max<int64_t>(1, (kGridAutoWidth + w - 1) / w);  // ceil(96 / W)
  const int64_t s = options.scale() > 0 ? options.scale() : auto_scale;
  const int64_t t = options.text_scale(), m = kGridTextMargin, f = kGridFrame, p = options.padding();
  const int64_t cols = std::min(options.columns(), n), rows = (n + cols - 1) / cols;
  auto check_size = [&](bool fits) {
    LUCID_CHECK(fits, "prediction_grid: a grid of ", n, " images of ", h, "x", w, " at scale ", s, " in ",
                cols, " columns would have more than ", data::kMaxImagePixels, " pixels");
  };
  check_size(s <= data::kMaxImagePixels / w && s <= data::kMaxImagePixels / h);
  const int64_t title_h = 2 * m + kFontInkHeight * t;
  const int64_t strip_h = 2 * m + (kFontLineHeight + kFontInkHeight) * t;
  const int64_t cell_w = w * s + 2 * f, cell_h = h * s + strip_h + 2 * f;
  check_size(cols <= data::kMaxImagePixels / cell_w && rows <= data::kMaxImagePixels / cell_h);
  const int64_t grid_w = cols * cell_w + (cols + 1) * p;
  const int64_t grid_h = title_h + rows * cell_h + (rows + 1) * p;
  check_size(grid_h <= data::kMaxImagePixels / grid_w);

  // ---- the first n images and labels, on the CPU ----
  const Tensor pixels = host_packed(images.narrow(0, 0, n), kFloat64);
  const Tensor pred = host_packed(predicted.narrow(0, 0, n), kInt64);
  const Tensor truth = host_packed(target.narrow(0, 0, n), kInt64);
  const std::vector<std::string>& names = options.class_names();
  auto check_names = [&](const Tensor& labels, const char* name) {
    const int64_t* l = labels.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i)
      LUCID_CHECK(names.empty() || (l[i] >= 0 && l[i] < int64_t(names.size())), "prediction_grid: ", name,
                  "[", i, "] = ", l[i], " is not a class id in [0, ", names.size(), ") of class_names");
  };
  check_names(pred, "predicted");
  check_names(truth, "target");

  data::Image grid(grid_h, grid_w, 3, 255);  // white: padding and title band
  // ---- cells ----
  const int64_t* pr = pred.data_ptr<int64_t>();
  const int64_t* tr = truth.data_ptr<int64_t>();
  const double* px = pixels.data_ptr<double>();
  int64_t right = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool ok = pr[i] == tr[i];
    right += ok ? 1 : 0;
    const int64_t x0 = p + (i % cols) * (cell_w + p);
    const int64_t y0 = title_h + p + (i / cols) * (cell_h + p);
    blit_scaled(grid, chw_to_image(px + i * channels * h * w, channels, h, w, denorm), x0 + f, y0 + f, s);

    const int64_t strip_y = y0 + f + h * s, text_x = x0 + f + m, text_w = w * s - 2 * m;
    fill_rect(grid, x0 + f, strip_y, w * s, strip_h, kDarkGray);
    draw_text(grid, text_x, strip_y + m, fit_text("pred: " + label_name(pr[i], names), text_w, t),
              ok ? kWhite : kLightRed, t);
    if (!ok)
      draw_text(grid, text_x, strip_y + m + kFontLineHeight * t,
                fit_text("true: " + label_name(tr[i], names), text_w, t), kLightGreen, t);
    draw_frame(grid, x0, y0, cell_w, cell_h, f, ok ? kGreen : kRed);
  }

  const std::string title = std::to_string(right) + "/" + std::to_string(n) + " right (green), " +
                            std::to_string(n - right) + " wrong (red)";
  draw_text(grid, p + m, m, fit_text(title, grid_w - 2 * (p + m), t), kBlack, t);
  return grid;
}

Rgb class_color(int64_t class_id) {
  LUCID_CHECK(class_id >= 0 && class_id < (int64_t(1) << 24), "class_color: class id ", class_id,
              " is not in [0, 2^24)");
  // Bit 3k of the id goes to bit 7-k of R, bit 3k+1 to G, bit 3k+2 to B: the
  // low bits of the id change the high bits of the color, so neighbouring ids
  // look far apart.
  int r = 0, g = 0, b = 0;
  for (int k = 0; k < 8; ++k, class_id >>= 3) {
    r |= int((class_id >> 0) & 1) << (7 - k);
    g |= int((class_id >> 1) & 1) << (7 - k);
    b |= int((class_id >> 2) & 1) << (7 - k);
  }
  return {uint8_t(r), uint8_t(g), uint8_t(b)};
}

data::Image overlay_mask(const data::Image& image, const Tensor& mask, double alpha,
                         const std::vector<Rgb>& palette) {
  LUCID_CHECK((image.channels == 1 || image.channels == 3) && image.height >= 0 && image.width >= 0 &&
                  image.pixels.size() == size_t(image.height * image.width * image.channels),
              "overlay_mask: needs a gray or RGB image, got ", image.height, "x", image.width, "x",
              image.channels, " with ", image.pixels.size(), " bytes");
  LUCID_CHECK(mask.defined(), "overlay_mask: the mask is an undefined tensor");
  LUCID_CHECK(mask.dim() == 2 && mask.size(0) == image.height && mask.size(1) == image.width,
              "overlay_mask: mask of shape ", mask.sizes(), " does not match the ", image.height, "x",
              image.width, " image (it needs shape [", image.height, ", ", image.width, "])");
  LUCID_CHECK(!mask.is_floating_point(), "overlay_mask: the mask must hold integer class ids, got dtype ",
              mask.dtype());
  LUCID_CHECK(alpha >= 0.0 && alpha <= 1.0, "overlay_mask: alpha ", alpha, " is not in [0, 1]");

  const Tensor ids = host_packed(mask, kInt64);
  const int64_t* id = ids.data_ptr<int64_t>();
  const int64_t limit = palette.empty() ? int64_t(1) << 24 : int64_t(palette.size());
  data::Image out(image.height, image.width, 3);
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < image.width; ++x) {
      const int64_t k = id[y * image.width + x];
      LUCID_CHECK(k >= 0 && k < limit, "overlay_mask: mask[", y, ", ", x, "] = ", k,
                  " is not a class id in [0, ", limit, palette.empty() ? ")" : ") of the palette");
      const Rgb color = k == 0 ? Rgb{} : palette.empty() ? class_color(k) : palette[size_t(k)];
      const uint8_t rgb[3] = {color.r, color.g, color.b};
      for (int64_t c = 0; c < 3; ++c) {
        const uint8_t under = image.at(y, x, image.channels == 1 ? 0 : c);
        out.at(y, x, c) = k == 0 ? under : uint8_t(std::floor((1.0 - alpha) * under + alpha * rgb[c] + 0.5));
      }
    }
  return out;
}

}  // namespace lucid::train::log
