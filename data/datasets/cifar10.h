#pragma once
// CIFAR-10 from its binary batches (https://www.cs.toronto.edu/~kriz/cifar.html).
//
//   root/data_batch_1.bin ... data_batch_5.bin   Split::Train (50000 images)
//   root/test_batch.bin                          Split::Test  (10000 images)
//
// Each record is 3073 bytes: one label byte (0-9), then the 32x32 picture as
// three 1024-byte planes (red, green, blue), rows top to bottom. A file whose
// size is not a whole number of records, or a label above 9, is an error that
// names the file. get(i) runs the transform on the 32x32x3 Image:
//   data = transform(image) ([3, 32, 32] float in [0, 1] with the default ToTensor),
//   target = label, an int64 scalar.

#include <string>
#include <vector>

#include <lucid/data/dataset.h>
#include <lucid/data/datasets/vision.h>
#include <lucid/data/transforms/tensor.h>

namespace lucid::data {

class CIFAR10 : public Dataset {
 public:
  static constexpr int64_t kSide = 32;
  static constexpr int64_t kRecordBytes = 1 + 3 * kSide * kSide;

  CIFAR10(const std::string& root, Split split, Compose transform = Compose(ToTensor()));

  size_t size() const override { return labels_.size(); }
  Example get(size_t index) const override;

  Image image(size_t index) const;  // HWC RGB, before the transform
  const std::vector<uint8_t>& labels() const { return labels_; }
  static const std::vector<std::string>& classes();  // "airplane", "automobile", ...

 private:
  std::vector<uint8_t> planes_;  // per image: R plane, G plane, B plane (as in the file)
  std::vector<uint8_t> labels_;
  Compose transform_;
};

}  // namespace lucid::data
