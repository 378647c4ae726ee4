#pragma once
// The crossing into tensors and the steps after it.
//
//   to_tensor(image)   uint8 HWC -> float32 CHW, value / 255 (in [0, 1])
//   ToTensor           the step form of to_tensor; follows every image step
//   Normalize          (x - mean[c]) / std[c] per channel, on a [C, H, W] tensor

#include <string>
#include <vector>

#include <lucid/data/transforms/transform.h>

namespace lucid::data {

Tensor to_tensor(const Image& image);

class ToTensor : public Transform {
 public:
  std::string name() const override { return "ToTensor"; }
  Kind input_kind() const override { return Kind::Image; }
  Kind output_kind() const override { return Kind::Tensor; }
  Sample apply(Sample x) const override;
};

// mean and std have one value per channel (or one value for all channels), as
// torchvision's Normalize. Works on float32 and float64 [C, H, W] tensors.
class Normalize : public TensorTransform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  std::string name() const override { return "Normalize"; }
  Tensor apply_tensor(Tensor t) const override;
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& std() const { return std_; }

 private:
  std::vector<double> mean_;
  std::vector<double> std_;
};

}  // namespace lucid::data
