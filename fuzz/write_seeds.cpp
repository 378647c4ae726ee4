// Writes the small seed corpus for the fuzz targets into <corpus-dir>/<target>/:
//   idx/          valid IDX files of each element type
//   image/        tiny PNG/JPEG/BMP/TGA pictures (with a ColorMode byte first)
//   safetensors/  valid safetensors files: every dtype lucid has, 0-dim, empty,
//                 metadata, header order unlike data order, other padding
//   json/         JSON documents: tokenizer-like and trainer-state-like ones,
//                 fractions, exponents, true/false/null, escapes, nesting
// and a libFuzzer dictionary for each text format, <corpus-dir>/<target>.dict.
// Usage: write_seeds <corpus-dir>   (its subdirectories must exist)
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

namespace {

void write(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

void write_text(const std::string& path, const std::string& text) {
  write(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::vector<uint8_t> idx(uint8_t type, std::vector<uint32_t> dims, size_t elem_bytes) {
  std::vector<uint8_t> b{0, 0, type, uint8_t(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(d >> s));
    n *= d;
  }
  for (size_t i = 0; i < n * elem_bytes; ++i) b.push_back(uint8_t(i * 37));
  return b;
}

void append(void* ctx, void* data, int size) {
  auto* v = static_cast<std::vector<uint8_t>*>(ctx);
  v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

// A safetensors file: the 8-byte little-endian header length, the header
// padded with spaces to a multiple of 8 (unless `pad` is false), the data.
std::vector<uint8_t> safetensors(std::string header, std::vector<uint8_t> data, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  std::vector<uint8_t> b;
  for (int i = 0; i < 8; ++i) b.push_back(uint8_t(uint64_t(header.size()) >> (8 * i)));
  for (char c : header) b.push_back(uint8_t(c));
  for (uint8_t c : data) b.push_back(c);
  return b;
}

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(i * 37 + 11);
  return b;
}

void write_safetensors_seeds(const std::string& dir) {
  write(dir + "/empty", safetensors("{}", {}));
  write(dir + "/one_f32", safetensors(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})", pattern(24)));
  // Every lucid dtype, in the writer's order, with a 0-dim and an empty tensor.
  std::vector<uint8_t> data = pattern(47);
  data.push_back(1);  // BOOL bytes are 0 or 1
  data.push_back(0);
  write(dir + "/every_dtype",
        safetensors(R"({"__metadata__":{"format":"pt"},)"
                    R"("i64":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},)"
                    R"("f64":{"dtype":"F64","shape":[],"data_offsets":[16,24]},)"
                    R"("f32":{"dtype":"F32","shape":[1,2],"data_offsets":[24,32]},)"
                    R"("e":{"dtype":"F32","shape":[0,3],"data_offsets":[32,32]},)"
                    R"("i32":{"dtype":"I32","shape":[1],"data_offsets":[32,36]},)"
                    R"("bf16":{"dtype":"BF16","shape":[2],"data_offsets":[36,40]},)"
                    R"("f16":{"dtype":"F16","shape":[2],"data_offsets":[40,44]},)"
                    R"("u8":{"dtype":"U8","shape":[3],"data_offsets":[44,47]},)"
                    R"("b":{"dtype":"BOOL","shape":[2],"data_offsets":[47,49]}})",
                    data));
  // Header order unlike data order, metadata last, escaped and non-ASCII
  // names, spaces between tokens, whitespace but no padding to 8.
  write(dir + "/unordered",
        safetensors(R"({"b\u00e9\n":{"dtype":"U8","shape":[4],"data_offsets":[8,12]},)"
                    R"( "a" : {"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                    "\"\xe5\x90\x8d\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[12,12]},"
                    R"("__metadata__":{"k":"v","":"\"q\""}})"
                    "\n\t",
                    pattern(12), false));
  write(dir + "/metadata_null", safetensors(R"({"__metadata__":null})", {}));
}

void write_json_seeds(const std::string& dir) {
  // Like a tokenizer.json: nested objects, arrays of pairs, null, true/false.
  write_text(dir + "/tokenizer",
             R"({"version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": false, "special": true}],
  "normalizer": null, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
  "model": {"type": "BPE", "dropout": null, "unk_token": null,
    "vocab": {"!": 0, "\"": 1, "\u0120the": 2, "\u00e9": 3, "\ud83d\ude00": 4},
    "merges": [["\u0120", "t"], ["\u0120t", "he"]]}}
)");
  // Like a trainer_state.json: fractions, exponents, negative numbers, booleans.
  write_text(dir + "/trainer_state",
             R"({"best_metric": 0.8821, "best_model_checkpoint": "ckpt/step-1200", "epoch": 1.5,
  "global_step": 1200, "is_world_process_zero": true, "is_hyper_param_search": false,
  "log_history": [{"epoch": 0.1, "learning_rate": 3e-4, "loss": 2.3026, "step": 100},
                  {"epoch": 0.2, "grad_norm": 1.25E+1, "learning_rate": 2.9999e-04, "loss": -0.0, "step": 200}],
  "max_steps": 9223372036854775807, "min_int": -9223372036854775808, "tiny": 5e-324,
  "huge": 1.7976931348623157e308}
)");
  write_text(dir + "/scalars", R"([0, -1, 1.5, -2.25e-3, 1E2, true, false, null, "", "a\"b\\c\/d\b\f\n\r\t\u0001"])");
  write_text(dir + "/nested", R"([[[[[[[[{"a":[{"b":{}}]}]]]]]]]])");
  write_text(dir + "/raw_bytes", "{\"\xe4\xb8\xad\xe6\x96\x87\": \"\xf0\x9f\x98\x80 \x7f\"}");
}

// libFuzzer dictionaries: one quoted token per line (a backslash escapes).
void write_dicts(const std::string& corpus) {
  write_text(corpus + "/safetensors.dict", R"("__metadata__"
"dtype"
"shape"
"data_offsets"
"BOOL"
"U8"
"I32"
"I64"
"F16"
"BF16"
"F32"
"F64"
"I16"
"F8_E4M3"
"null"
"\\u00"
)");
  write_text(corpus + "/json.dict", R"("true"
"false"
"null"
"\\u"
"\\ud83d\\ude00"
"e+"
"E-"
"0."
"-0"
"9223372036854775808"
"1e309"
)");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 1;
  const std::string corpus = argv[1];
  const std::string idx_dir = corpus + "/idx", image_dir = corpus + "/image";
  write(idx_dir + "/labels", idx(0x08, {10}, 1));
  write(idx_dir + "/images", idx(0x08, {2, 4, 4}, 1));
  write(idx_dir + "/int8", idx(0x09, {3}, 1));
  write(idx_dir + "/int16", idx(0x0B, {2, 2}, 2));
  write(idx_dir + "/int32", idx(0x0C, {3}, 4));
  write(idx_dir + "/float32", idx(0x0D, {2, 3}, 4));
  write(idx_dir + "/float64", idx(0x0E, {1, 1, 2}, 8));

  int k = 0;
  for (int c = 1; c <= 4; ++c) {
    std::vector<uint8_t> px(6 * 5 * size_t(c));
    for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 29);
    using Writer = int (*)(stbi_write_func*, void*, int, int, int, const void*);
    std::vector<Writer> writers{
        [](stbi_write_func* f, void* ctx, int w, int h, int n, const void* d) {
          return stbi_write_png_to_func(f, ctx, w, h, n, d, w * n);
        },
        stbi_write_bmp_to_func, stbi_write_tga_to_func,
        [](stbi_write_func* f, void* ctx, int w, int h, int n, const void* d) {
          return stbi_write_jpg_to_func(f, ctx, w, h, n, d, 80);
        }};
    for (Writer writer : writers) {
      std::vector<uint8_t> file{uint8_t(k % 5)};  // the ColorMode byte
      writer(append, &file, 5, 6, c, px.data());
      write(image_dir + "/seed" + std::to_string(k++), file);
    }
  }

  write_safetensors_seeds(corpus + "/safetensors");
  write_json_seeds(corpus + "/json");
  write_dicts(corpus);
  return 0;
}
