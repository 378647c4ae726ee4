// lucid's safetensors reader and writer, driven from the command line by
// tests/py/test_safetensors_interop.py (which compares them with the reference
// implementation in Python).
//
//   safetensors_tool check IN          exit 0 and print "ok <n> tensors" if lucid
//                                      reads IN; else exit 1 and print the error
//   safetensors_tool roundtrip IN OUT  read IN with lucid, write its tensors and
//                                      metadata to OUT with lucid
//   safetensors_tool write OUT         write the fixed dict below (every dtype,
//                                      strided views, 0-dim, empty, non-ASCII
//                                      names, metadata); the Python test builds
//                                      the same values with torch
#include <cstdio>
#include <string>

#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>
#include <lucid/train/safetensors.h>

using namespace lucid;

namespace {

int usage() {
  std::fprintf(stderr, "usage: safetensors_tool check IN | roundtrip IN OUT | write OUT\n");
  return 2;
}

// Keep in step with expected_written() in tests/py/test_safetensors_interop.py.
void write_fixed(const std::string& path) {
  StateDict dict;
  dict.insert("fc.weight", tensor({{0.5, -1.0, 2.0}, {0.25, 0.0, -0.0}}));
  dict.insert("fc.bias", tensor({1.0, -2.0}));
  dict.insert("f64.t", arange(6, kFloat64).reshape({2, 3}).t());  // transposed view
  dict.insert("f16", tensor({1.0, -2.0, 0.5, 65504.0}, kFloat16));
  dict.insert("bf16", tensor({1.0, -0.0, 3.140625}, kBFloat16));
  dict.insert("i64", scalar_tensor(-5, kInt64));  // 0-dim
  dict.insert("i32.slice", arange(10, kInt32).slice(0, 0, 10, 3));  // [0, 3, 6, 9], stride 3
  dict.insert("u8", tensor({{0.0, 255.0}, {128.0, 7.0}}, kUInt8));
  dict.insert("mask", tensor({1.0, 0.0, 1.0}, kBool));
  dict.insert("empty", empty({0, 4}, kFloat32));
  dict.insert("na\xc3\xafve.\xe5\x90\x8d\xe5\x89\x8d", tensor({42.0}));  // "naïve.名前"
  train::save_safetensors(path, dict,
                          {{"format", "pt"}, {"lucid", "1"}, {"note", "\xc3\xbcn\xc3\xaf" "code \"quoted\"\n"}});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string mode = argv[1];
  try {
    if (mode == "check" && argc == 3) {
      const train::SafetensorsFile f = train::load_safetensors(argv[2]);
      std::printf("ok %zu tensors\n", f.tensors.size());
    } else if (mode == "roundtrip" && argc == 4) {
      const train::SafetensorsFile f = train::load_safetensors(argv[2]);
      train::save_safetensors(argv[3], f.tensors, f.metadata);
    } else if (mode == "write" && argc == 3) {
      write_fixed(argv[2]);
    } else {
      return usage();
    }
  } catch (const Error& e) {
    std::printf("%s\n", e.what());
    return 1;
  }
  return 0;
}
