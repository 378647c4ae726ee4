#include <lucid/data/datasets/mnist.h>

#include <cstring>
#include <filesystem>

#include <lucid/data/datasets/idx.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>

namespace lucid::data {

namespace {

// root/name, or root/name.gz, whichever exists (the raw file first).
std::string find_file(const std::string& root, const std::string& name, const std::string& dataset) {
  namespace fs = std::filesystem;
  std::error_code ec;
  LUCID_CHECK(fs::is_directory(root, ec), dataset, ": root ", root, " is not a directory");
  const fs::path raw = fs::path(root) / name;
  if (fs::exists(raw, ec)) return raw.string();
  const fs::path gz = fs::path(root) / (name + ".gz");
  LUCID_CHECK(fs::exists(gz, ec), dataset, ": neither ", raw.string(), " nor ", gz.string(),
              " exists");
  return gz.string();
}

}  // namespace

MNIST::MNIST(const std::string& root, Split split, Compose transform)
    : MNIST(root, split, std::move(transform), "MNIST") {}

MNIST::MNIST(const std::string& root, Split split, Compose transform, const std::string& dataset)
    : dataset_(dataset), transform_(std::move(transform)) {
  check_image_pipeline(transform_, dataset_);
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string image_path = find_file(root, prefix + "-images-idx3-ubyte", dataset_);
  const std::string label_path = find_file(root, prefix + "-labels-idx1-ubyte", dataset_);
  images_ = read_idx(image_path);
  Tensor labels = read_idx(label_path);
  LUCID_CHECK(images_.dim() == 3 && images_.dtype() == kUInt8, dataset_, ": ", image_path,
              ": expected uint8 images [N, H, W], got ", images_.dtype(), " of shape ",
              images_.sizes());
  LUCID_CHECK(labels.dim() == 1 && labels.dtype() == kUInt8, dataset_, ": ", label_path,
              ": expected uint8 labels [N], got ", labels.dtype(), " of shape ", labels.sizes());
  LUCID_CHECK(labels.size(0) == images_.size(0), dataset_, ": ", image_path, " holds ",
              images_.size(0), " images but ", label_path, " holds ", labels.size(0), " labels");
  const uint8_t* l = labels.data_ptr<uint8_t>();
  for (int64_t i = 0; i < labels.size(0); ++i)
    LUCID_CHECK(l[i] < 10, dataset_, ": ", label_path, ": label ", int(l[i]), " at index ", i,
                " is not a class 0-9");
  targets_ = labels.to(kInt64);
}

size_t MNIST::size() const { return size_t(images_.size(0)); }

Image MNIST::image(size_t index) const {
  LUCID_CHECK(index < size(), dataset_, ": index ", index, " out of range for ", size(),
              " samples");
  const int64_t h = images_.size(1), w = images_.size(2);
  Image out(h, w, 1);
  std::memcpy(out.pixels.data(), images_.data_ptr<uint8_t>() + int64_t(index) * h * w,
              size_t(h * w));
  return out;
}

Example MNIST::get(size_t index) const {
  Image picture = image(index);
  const double label = double(targets_.data_ptr<int64_t>()[index]);
  return {transform_(std::move(picture)), scalar_tensor(label, kInt64)};
}

const std::vector<std::string>& MNIST::classes() {
  static const std::vector<std::string> names{"0", "1", "2", "3", "4",
                                              "5", "6", "7", "8", "9"};
  return names;
}

FashionMNIST::FashionMNIST(const std::string& root, Split split, Compose transform)
    : MNIST(root, split, std::move(transform), "FashionMNIST") {}

const std::vector<std::string>& FashionMNIST::classes() {
  static const std::vector<std::string> names{"T-shirt/top", "Trouser", "Pullover", "Dress",
                                              "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};
  return names;
}

}  // namespace lucid::data
