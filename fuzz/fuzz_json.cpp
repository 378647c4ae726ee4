// libFuzzer target: arbitrary bytes into lucid's JSON reader
// (data/text/json.h). Every input must end in a Value or a lucid::Error;
// anything else (a crash, a sanitizer report, another exception type) is a
// bug. A document the reader accepts must survive the writer: dump, parse and
// dump again gives the same text (so Integer and Number, escapes and raw
// bytes all come back). Run: scripts/fuzz.sh
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <lucid/data/text/json.h>
#include <lucid/kernels/error.h>

namespace json = lucid::data::text::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json::Value value;
  try {
    value = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz-input");
  } catch (const lucid::Error&) {
    return 0;
  }
  // Outside the try: what the reader accepted, the writer must write readably.
  const std::string text = json::dump(value);
  if (json::dump(json::parse(text, "fuzz-input dumped")) != text) __builtin_trap();
  return 0;
}
