#include <lucid/data/text/read_text.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <lucid/kernels/error.h>

namespace lucid::data::text {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LUCID_CHECK(in, "read_text_file: cannot open ", path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  LUCID_CHECK(!in.bad(), "read_text_file: read error in ", path);
  return buffer.str();
}

std::vector<std::string> fortune_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  LUCID_CHECK(fs::is_directory(dir, ec), "fortune_files: ", dir, " is not a directory");
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_symlink() || !entry.is_regular_file() || ext == ".dat" || ext == ".u8") continue;
    files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  LUCID_CHECK(!files.empty(), "fortune_files: no fortune files in ", dir);
  return files;
}

std::string read_fortunes(const std::vector<std::string>& paths, std::string_view separator) {
  std::string out;
  for (const auto& path : paths) {
    const std::string text = read_text_file(path);
    std::string entry;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      end = end == std::string::npos ? text.size() : end + 1;
      const std::string_view line(text.data() + pos, end - pos);
      if (line == "%\n" || line == "%") {
        if (!entry.empty()) out += entry, out += separator;
        entry.clear();
      } else {
        entry += line;
      }
      pos = end;
    }
    if (!entry.empty()) out += entry, out += separator;
  }
  return out;
}

}  // namespace lucid::data::text
