#include <lucid/data/transforms/tensor.h>

#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>

namespace lucid::data {

Tensor to_tensor(const Image& image) {
  check_image(image, "ToTensor");
  const int64_t h = image.height, w = image.width, c = image.channels;
  Tensor out = empty({c, h, w}, kFloat32);
  float* o = out.data_ptr<float>();
  // HWC bytes -> CHW floats: the one transpose of the pipeline.
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < h * w; ++i)
      o[ch * h * w + i] = float(image.pixels[size_t(i * c + ch)]) / 255.0f;
  return out;
}

Sample ToTensor::apply(Sample x) const { return to_tensor(take_image(std::move(x), name())); }

Normalize::Normalize(std::vector<double> mean, std::vector<double> std)
    : mean_(std::move(mean)), std_(std::move(std)) {
  LUCID_CHECK(!mean_.empty() && mean_.size() == std_.size(), "Normalize: mean has ", mean_.size(),
              " values and std has ", std_.size(), "; they need one value per channel each");
  for (size_t c = 0; c < std_.size(); ++c)
    LUCID_CHECK(std_[c] > 0.0, "Normalize: std[", c, "] = ", std_[c], " must be positive");
}

Tensor Normalize::apply_tensor(Tensor t) const {
  LUCID_CHECK(t.dim() == 3, "Normalize: expects a [C, H, W] tensor, got shape ", t.sizes());
  LUCID_CHECK(t.dtype() == kFloat32 || t.dtype() == kFloat64,
              "Normalize: expects a float32 or float64 tensor, got ", t.dtype());
  const int64_t c = t.size(0);
  LUCID_CHECK(mean_.size() == 1 || int64_t(mean_.size()) == c, "Normalize: tensor of shape ",
              t.sizes(), " has ", c, " channels but mean/std have ", mean_.size(), " values");
  std::vector<double> m(static_cast<size_t>(c)), s(static_cast<size_t>(c));
  for (int64_t i = 0; i < c; ++i) {
    m[size_t(i)] = mean_.size() == 1 ? mean_[0] : mean_[size_t(i)];
    s[size_t(i)] = std_.size() == 1 ? std_[0] : std_[size_t(i)];
  }
  Tensor mean_t = tensor(m, dtype(t.dtype())).view({c, 1, 1});
  Tensor std_t = tensor(s, dtype(t.dtype())).view({c, 1, 1});
  return (t - mean_t) / std_t;
}

}  // namespace lucid::data
