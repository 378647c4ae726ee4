#pragma once
// The Transform interface every augmentation step implements.
//
//   Sample          std::variant<Image, Tensor>: what flows between steps
//   Kind            which of the two a step takes and gives
//   Randomness      whether a step draws random numbers (eval() drops or replaces those)
//   Transform       the interface: name, kinds, randomness, apply
//   ImageTransform  base for Image -> Image steps (flip, crop, resize, color)
//   TensorTransform base for Tensor -> Tensor steps (normalize)
//   check_image     an Image's fields agree with its pixel count
//   draw_uniform, draw_randint   one draw from sample_generator()
//
// Random steps draw only from data::sample_generator(), so inside a loader
// the same (seed, epoch, index) always gives the same augmentation.

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <lucid/data/transforms/image.h>
#include <lucid/kernels/tensor.h>

namespace lucid::data {

using Sample = std::variant<Image, Tensor>;

enum class Kind { Image, Tensor };
enum class Randomness { Deterministic, Random };

const char* kind_name(Kind k);  // "Image" or "Tensor"

class Transform {
 public:
  virtual ~Transform() = default;
  virtual std::string name() const = 0;
  virtual Kind input_kind() const = 0;
  virtual Kind output_kind() const = 0;
  virtual Randomness randomness() const { return Randomness::Deterministic; }
  // For a random step: the deterministic steps Compose::eval() puts in its place. Empty (the
  // default): eval() drops the step. RandomCrop gives CenterCrop, RandomResizedCrop gives
  // Resize + CenterCrop, so an eval chain still yields one image size.
  virtual std::vector<std::shared_ptr<const Transform>> eval_steps() const { return {}; }
  // Throws lucid::Error naming this step if `x` is not of input_kind().
  virtual Sample apply(Sample x) const = 0;
};

using TransformPtr = std::shared_ptr<const Transform>;

class ImageTransform : public Transform {
 public:
  Kind input_kind() const override { return Kind::Image; }
  Kind output_kind() const override { return Kind::Image; }
  Sample apply(Sample x) const override;
  virtual Image apply_image(Image image) const = 0;
};

class TensorTransform : public Transform {
 public:
  Kind input_kind() const override { return Kind::Tensor; }
  Kind output_kind() const override { return Kind::Tensor; }
  Sample apply(Sample x) const override;
  virtual Tensor apply_tensor(Tensor t) const = 0;
};

// Throws unless height, width >= 0, channels >= 1 and pixels holds exactly
// height * width * channels bytes: an Image is a plain struct anyone can fill.
void check_image(const Image& image, const std::string& step);

// One draw from data::sample_generator(), for random steps.
double draw_uniform(double lo, double hi);   // in [lo, hi)
int64_t draw_randint(int64_t low, int64_t high);  // in [low, high)

// The Image inside `x`, or an Error "<step>: expects an Image, got a Tensor".
Image take_image(Sample x, const std::string& step);
Tensor take_tensor(Sample x, const std::string& step);

}  // namespace lucid::data
