#include <lucid/data/datasets/vision.h>

#include <lucid/kernels/error.h>

namespace lucid::data {

void check_image_pipeline(const Compose& transform, const std::string& dataset) {
  LUCID_CHECK(transform.input_kind() == Kind::Image && transform.output_kind() == Kind::Tensor,
              dataset, ": the transform ", transform.name(), " must take an Image and give a ",
              "Tensor (start with image steps, then ToTensor), but it takes an ",
              kind_name(transform.input_kind()), " and gives an ",
              kind_name(transform.output_kind()));
}

}  // namespace lucid::data
