#include <lucid/data/text/pre_split.h>

#include <algorithm>

namespace lucid::data::text {

namespace {

enum class ByteClass { Letter, Digit, Space, Other };

ByteClass classify(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80) return ByteClass::Letter;
  if (c >= '0' && c <= '9') return ByteClass::Digit;
  if (c == ' ' || (c >= '\t' && c <= '\r')) return ByteClass::Space;
  return ByteClass::Other;
}

}  // namespace

std::vector<std::string_view> pre_split(std::string_view text) {
  std::vector<std::string_view> chunks;
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    size_t end;
    if (text[i] == ' ' && i + 1 < n && classify(text[i + 1]) != ByteClass::Space) {
      // " word": a single space joins the run that follows it.
      const ByteClass run = classify(text[i + 1]);
      end = i + 2;
      while (end < n && classify(text[end]) == run) ++end;
    } else if (classify(text[i]) == ByteClass::Space) {
      end = i + 1;
      while (end < n && classify(text[end]) == ByteClass::Space) ++end;
      // Leave a final space to the word after the run.
      if (end < n && end - i > 1 && text[end - 1] == ' ') --end;
    } else {
      const ByteClass run = classify(text[i]);
      end = i + 1;
      while (end < n && classify(text[end]) == run) ++end;
    }
    for (size_t start = i; start < end; start += kMaxChunkBytes)
      chunks.push_back(text.substr(start, std::min(kMaxChunkBytes, end - start)));
    i = end;
  }
  return chunks;
}

}  // namespace lucid::data::text
