// libFuzzer target: arbitrary bytes into the safetensors reader
// (train/safetensors.h). Every input must end in a SafetensorsFile or a
// lucid::Error; anything else (a crash, a sanitizer report, another exception
// type) is a bug. A file the reader accepts must also survive the writer: its
// tensors and metadata, encoded and parsed again, come back the same, so the
// writer never makes a file the reader refuses. Run: scripts/fuzz.sh
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include <lucid/kernels/error.h>
#include <lucid/train/safetensors.h>

namespace {

bool same(const lucid::train::SafetensorsFile& a, const lucid::train::SafetensorsFile& b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
  for (const auto& item : a.tensors) {
    const lucid::Tensor* other = b.tensors.find(item.key());
    if (!other) return false;
    const lucid::Tensor& t = item.value();
    if (other->dtype() != t.dtype() || other->sizes() != t.sizes()) return false;
    const size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
    if (bytes && std::memcmp(other->raw_data(), t.raw_data(), bytes) != 0) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lucid::train::SafetensorsFile file;
  try {
    file = lucid::train::parse_safetensors(data, size, "fuzz-input");
  } catch (const lucid::Error&) {
    return 0;
  }
  // Outside the try: the writer must take whatever the reader accepted.
  const std::string again = lucid::train::encode_safetensors(file.tensors, file.metadata);
  const auto back = lucid::train::parse_safetensors(reinterpret_cast<const uint8_t*>(again.data()), again.size(),
                                                    "fuzz-input re-encoded");
  if (!same(file, back)) __builtin_trap();
  return 0;
}
