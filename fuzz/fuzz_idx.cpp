// libFuzzer target: arbitrary bytes into the IDX parser (data/datasets/idx.h).
// Every input must end in a tensor or a lucid::Error; anything else (a crash,
// a sanitizer report, another exception type) is a bug. Run: scripts/fuzz.sh
#include <cstddef>
#include <cstdint>

#include <lucid/data/datasets/idx.h>
#include <lucid/kernels/error.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    lucid::Tensor t = lucid::data::parse_idx(data, size, "fuzz-input");
    (void)t.numel();
  } catch (const lucid::Error&) {
  }
  return 0;
}
