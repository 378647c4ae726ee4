#include <lucid/data/datasets/cifar10.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>

namespace lucid::data {

namespace {

std::vector<uint8_t> read_batch(const std::filesystem::path& path) {
  std::error_code ec;
  LUCID_CHECK(std::filesystem::is_regular_file(path, ec), "CIFAR10: ", path.string(),
              ": no such file");
  std::ifstream in(path, std::ios::binary);
  LUCID_CHECK(in.good(), "CIFAR10: ", path.string(), ": cannot open");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LUCID_CHECK(!in.bad(), "CIFAR10: ", path.string(), ": read error");
  LUCID_CHECK(!bytes.empty() && bytes.size() % size_t(CIFAR10::kRecordBytes) == 0, "CIFAR10: ",
              path.string(), ": ", bytes.size(), " bytes is not a whole number of ",
              CIFAR10::kRecordBytes, "-byte records (", bytes.size() / size_t(CIFAR10::kRecordBytes),
              " records and ", bytes.size() % size_t(CIFAR10::kRecordBytes), " bytes left over)");
  return bytes;
}

}  // namespace

CIFAR10::CIFAR10(const std::string& root, Split split, Compose transform)
    : transform_(std::move(transform)) {
  check_image_pipeline(transform_, "CIFAR10");
  std::error_code ec;
  LUCID_CHECK(std::filesystem::is_directory(root, ec), "CIFAR10: root ", root,
              " is not a directory");
  std::vector<std::string> files;
  if (split == Split::Train)
    for (int i = 1; i <= 5; ++i) files.push_back("data_batch_" + std::to_string(i) + ".bin");
  else
    files.push_back("test_batch.bin");
  const size_t pixels = size_t(3 * kSide * kSide);
  for (const auto& f : files) {
    const auto path = std::filesystem::path(root) / f;
    std::vector<uint8_t> bytes = read_batch(path);
    for (size_t r = 0; r < bytes.size(); r += size_t(kRecordBytes)) {
      LUCID_CHECK(bytes[r] < 10, "CIFAR10: ", path.string(), ": record ", r / size_t(kRecordBytes),
                  " has label ", int(bytes[r]), ", not a class 0-9");
      labels_.push_back(bytes[r]);
      planes_.insert(planes_.end(), bytes.begin() + std::ptrdiff_t(r + 1),
                     bytes.begin() + std::ptrdiff_t(r + 1 + pixels));
    }
  }
}

Image CIFAR10::image(size_t index) const {
  LUCID_CHECK(index < size(), "CIFAR10: index ", index, " out of range for ", size(), " samples");
  const int64_t plane = kSide * kSide;
  const uint8_t* src = planes_.data() + index * size_t(3 * plane);
  Image out(kSide, kSide, 3);
  // Planar (CHW) in the file to interleaved (HWC) for the image steps.
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t c = 0; c < 3; ++c) out.pixels[size_t(i * 3 + c)] = src[c * plane + i];
  return out;
}

Example CIFAR10::get(size_t index) const {
  Image picture = image(index);
  return {transform_(std::move(picture)), scalar_tensor(double(labels_[index]), kInt64)};
}

const std::vector<std::string>& CIFAR10::classes() {
  static const std::vector<std::string> names{"airplane", "automobile", "bird",  "cat",  "deer",
                                              "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

}  // namespace lucid::data
