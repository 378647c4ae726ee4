#pragma once
// MNIST and Fashion-MNIST from their IDX files, as torchvision.datasets.MNIST.
//
//   root/train-images-idx3-ubyte[.gz]   root/train-labels-idx1-ubyte[.gz]   (Split::Train, 60000)
//   root/t10k-images-idx3-ubyte[.gz]    root/t10k-labels-idx1-ubyte[.gz]    (Split::Test, 10000)
//
// Debian's dataset-fashion-mnist installs the .gz files in /usr/share/datasets/fashion-mnist.
// The files are read once into memory (uint8 images [N, 28, 28], int64 labels [N]);
// get(i) runs the transform on image i:
//   data   = transform(Image 28x28x1)   ([1, 28, 28] float in [0, 1] with the default ToTensor)
//   target = label, an int64 scalar

#include <string>
#include <vector>

#include <lucid/data/dataset.h>
#include <lucid/data/datasets/vision.h>
#include <lucid/data/transforms/tensor.h>

namespace lucid::data {

class MNIST : public Dataset {
 public:
  MNIST(const std::string& root, Split split, Compose transform = Compose(ToTensor()));

  size_t size() const override;
  Example get(size_t index) const override;

  Image image(size_t index) const;               // the stored picture, before the transform
  const Tensor& images() const { return images_; }    // uint8 [N, H, W]
  const Tensor& targets() const { return targets_; }  // int64 [N]
  const Compose& transform() const { return transform_; }
  static const std::vector<std::string>& classes();   // "0" ... "9"

 protected:
  MNIST(const std::string& root, Split split, Compose transform, const std::string& dataset);

 private:
  std::string dataset_;
  Tensor images_;
  Tensor targets_;
  Compose transform_;
};

class FashionMNIST : public MNIST {
 public:
  FashionMNIST(const std::string& root, Split split, Compose transform = Compose(ToTensor()));
  static const std::vector<std::string>& classes();  // "T-shirt/top", "Trouser", ...
};

}  // namespace lucid::data
