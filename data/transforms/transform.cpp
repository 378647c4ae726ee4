#include <lucid/data/transforms/transform.h>

#include <lucid/data/dataset.h>
#include <lucid/kernels/error.h>

namespace lucid::data {

const char* kind_name(Kind k) { return k == Kind::Image ? "Image" : "Tensor"; }

void check_image(const Image& image, const std::string& step) {
  LUCID_CHECK(image.channels >= 1 && image.height >= 0 && image.width >= 0 &&
                  image.pixels.size() ==
                      size_t(image.height) * size_t(image.width) * size_t(image.channels),
              step, ": bad image ", image.height, "x", image.width, "x", image.channels, " with ",
              image.pixels.size(), " bytes");
}

double draw_uniform(double lo, double hi) {
  double u = 0.0;
  sample_generator().fill_uniform(&u, 1, lo, hi);
  return u;
}

int64_t draw_randint(int64_t low, int64_t high) {
  int64_t r = 0;
  sample_generator().fill_randint(&r, 1, low, high);
  return r;
}

Image take_image(Sample x, const std::string& step) {
  LUCID_CHECK(std::holds_alternative<Image>(x), step,
              ": expects an Image (uint8 HWC), got a Tensor; image steps come before ToTensor");
  return std::get<Image>(std::move(x));
}

Tensor take_tensor(Sample x, const std::string& step) {
  LUCID_CHECK(std::holds_alternative<Tensor>(x), step,
              ": expects a Tensor, got an Image; put ToTensor before this step");
  return std::get<Tensor>(std::move(x));
}

Sample ImageTransform::apply(Sample x) const { return apply_image(take_image(std::move(x), name())); }

Sample TensorTransform::apply(Sample x) const {
  return apply_tensor(take_tensor(std::move(x), name()));
}

}  // namespace lucid::data
