#pragma once
// What the image datasets (MNIST, CIFAR10, ImageFolder) share.
//
//   Split                       the train or test part of a dataset
//   check_image_pipeline        a dataset's transform must take an Image and give a Tensor

#include <string>

#include <lucid/data/transforms/compose.h>

namespace lucid::data {

enum class Split { Train, Test };

void check_image_pipeline(const Compose& transform, const std::string& dataset);

}  // namespace lucid::data
