#include <lucid/data/datasets/image_folder.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>

namespace lucid::data {

namespace fs = std::filesystem;

namespace {

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tga";
}

}  // namespace

ImageFolder::ImageFolder(const std::string& root, Compose transform, ColorMode mode)
    : transform_(std::move(transform)), mode_(mode) {
  check_image_pipeline(transform_, "ImageFolder");
  std::error_code ec;
  LUCID_CHECK(fs::exists(root, ec), "ImageFolder: root ", root, " does not exist");
  LUCID_CHECK(fs::is_directory(root, ec), "ImageFolder: root ", root, " is not a directory");
  // A folder we may not read throws filesystem_error; report it as lucid's Error.
  try {
    for (const auto& entry : fs::directory_iterator(root))
      if (entry.is_directory()) classes_.push_back(entry.path().filename().string());
    LUCID_CHECK(!classes_.empty(), "ImageFolder: root ", root,
                " has no class folders (expected root/<class>/<image>)");
    std::sort(classes_.begin(), classes_.end());
    for (size_t c = 0; c < classes_.size(); ++c) {
      const fs::path folder = fs::path(root) / classes_[c];
      std::vector<std::string> files;
      for (const auto& entry : fs::recursive_directory_iterator(folder))
        if (entry.is_regular_file() && is_image_file(entry.path()))
          files.push_back(entry.path().string());
      LUCID_CHECK(!files.empty(), "ImageFolder: class folder ", folder.string(),
                  " holds no .png/.jpg/.jpeg/.bmp/.tga file");
      std::sort(files.begin(), files.end());
      for (auto& f : files) samples_.push_back({std::move(f), int64_t(c)});
    }
  } catch (const fs::filesystem_error& e) {
    throw Error(std::string("ImageFolder: ") + e.what());
  }
}

Image ImageFolder::image(size_t index) const {
  LUCID_CHECK(index < size(), "ImageFolder: index ", index, " out of range for ", size(),
              " samples");
  return read_image(samples_[index].path, mode_);
}

Example ImageFolder::get(size_t index) const {
  Image picture = image(index);
  return {transform_(std::move(picture)), scalar_tensor(double(samples_[index].target), kInt64)};
}

}  // namespace lucid::data
