#pragma once
// Reading corpora into one string.
//
//   read_text_file(path)               a file's bytes
//   fortune_files(dir)                 the fortune(6) files of a directory
//   read_fortunes(paths, separator)    fortune files without their "%" lines

#include <string>
#include <string_view>
#include <vector>

namespace lucid::data::text {

// The whole file, byte for byte. Raises naming the path if it cannot be read.
std::string read_text_file(const std::string& path);

// The regular files of a fortune directory (e.g. /usr/share/games/fortunes)
// that hold text: the .dat index files and the .u8 symlinks are skipped.
// Sorted by name, so the corpus is the same on every machine.
std::vector<std::string> fortune_files(const std::string& dir);

// The fortunes of all `paths` concatenated, each followed by `separator`.
// Fortune files hold entries separated by lines that are exactly "%"; those
// lines are dropped. Use "<|endoftext|>" with a BPE special token, or "\n".
std::string read_fortunes(const std::vector<std::string>& paths, std::string_view separator = "\n");

}  // namespace lucid::data::text
