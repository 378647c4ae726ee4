#pragma once
// ImageFolder: labelled pictures laid out one folder per class, as
// torchvision.datasets.ImageFolder.
//
//   root/cat/001.png        class 0 ("cat": class folders sorted by name, bytewise)
//   root/cat/sub/002.jpg    (subfolders are searched too)
//   root/dog/a.bmp          class 1
//
// Files ending in .png, .jpg, .jpeg, .bmp or .tga (any case) are samples,
// sorted by path within a class; other files are ignored. The listing is made
// once, at construction: a missing root, a root without class folders, or a
// class folder without images is an error naming the folder. Pictures are
// decoded in get() (stb_image, see image_decode.h), converted to `mode` so that
// gray, RGB and RGBA files give the same channel count; a file that cannot be
// decoded is an error naming the file.
//   data = transform(image), target = class index, an int64 scalar.

#include <string>
#include <utility>
#include <vector>

#include <lucid/data/dataset.h>
#include <lucid/data/datasets/vision.h>
#include <lucid/data/image_decode.h>
#include <lucid/data/transforms/tensor.h>

namespace lucid::data {

class ImageFolder : public Dataset {
 public:
  struct Item {
    std::string path;
    int64_t target;
  };

  explicit ImageFolder(const std::string& root, Compose transform = Compose(ToTensor()),
                       ColorMode mode = ColorMode::RGB);

  size_t size() const override { return samples_.size(); }
  Example get(size_t index) const override;

  Image image(size_t index) const;  // the decoded picture, before the transform
  const std::vector<std::string>& classes() const { return classes_; }
  const std::vector<Item>& samples() const { return samples_; }

 private:
  std::vector<std::string> classes_;
  std::vector<Item> samples_;
  Compose transform_;
  ColorMode mode_;
};

}  // namespace lucid::data
