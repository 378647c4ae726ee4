#include <lucid/data/datasets/idx.h>

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>

namespace lucid::data {

namespace {

struct IdxType {
  const char* name;
  size_t bytes;       // per element in the file
  ScalarType dtype;   // in the tensor
};

bool idx_type(uint8_t code, IdxType* t) {
  switch (code) {
    case 0x08: *t = {"uint8", 1, kUInt8}; return true;
    case 0x09: *t = {"int8", 1, kInt32}; return true;
    case 0x0B: *t = {"int16", 2, kInt32}; return true;
    case 0x0C: *t = {"int32", 4, kInt32}; return true;
    case 0x0D: *t = {"float32", 4, kFloat32}; return true;
    case 0x0E: *t = {"float64", 8, kFloat64}; return true;
    default: return false;
  }
}

uint64_t big_endian(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// Elements of `count` in the file's big-endian `type` into the tensor's dtype.
void convert(const uint8_t* src, int64_t count, uint8_t code, Tensor& out) {
  switch (code) {
    case 0x08:
      std::memcpy(out.data_ptr<uint8_t>(), src, size_t(count));
      break;
    case 0x09: {
      int32_t* o = out.data_ptr<int32_t>();
      for (int64_t i = 0; i < count; ++i) o[i] = int8_t(src[i]);
      break;
    }
    case 0x0B: {
      int32_t* o = out.data_ptr<int32_t>();
      for (int64_t i = 0; i < count; ++i) o[i] = int16_t(uint16_t(big_endian(src + 2 * i, 2)));
      break;
    }
    case 0x0C: {
      int32_t* o = out.data_ptr<int32_t>();
      for (int64_t i = 0; i < count; ++i) o[i] = int32_t(uint32_t(big_endian(src + 4 * i, 4)));
      break;
    }
    case 0x0D: {
      float* o = out.data_ptr<float>();
      for (int64_t i = 0; i < count; ++i) {
        uint32_t bits = uint32_t(big_endian(src + 4 * i, 4));
        std::memcpy(&o[i], &bits, 4);
      }
      break;
    }
    case 0x0E: {
      double* o = out.data_ptr<double>();
      for (int64_t i = 0; i < count; ++i) {
        uint64_t bits = big_endian(src + 8 * i, 8);
        std::memcpy(&o[i], &bits, 8);
      }
      break;
    }
  }
}

struct GzClose {
  void operator()(gzFile f) const { gzclose(f); }
};

}  // namespace

Tensor parse_idx(const uint8_t* data, size_t size, const std::string& name) {
  LUCID_CHECK(size > 0, "read_idx: ", name, ": empty file (an IDX file starts with a 4-byte magic number)");
  LUCID_CHECK(size >= 4, "read_idx: ", name, ": truncated: ", size,
              " bytes, shorter than the 4-byte magic number");
  const uint32_t magic = uint32_t(big_endian(data, 4));
  IdxType type{};
  const int ndims = data[3];
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", magic);
  LUCID_CHECK(data[0] == 0 && data[1] == 0 && idx_type(data[2], &type), "read_idx: ", name,
              ": wrong magic number ", hex,
              " (expected 0x00000TNN: T = type 8, 9, B, C, D or E, NN = dims)");
  LUCID_CHECK(ndims >= 1 && ndims <= kMaxIdxDims, "read_idx: ", name, ": magic number ", hex,
              " gives ", ndims, " dimensions (expected 1 to ", kMaxIdxDims, ")");
  const size_t header = 4 + 4 * size_t(ndims);
  LUCID_CHECK(size >= header, "read_idx: ", name, ": truncated header: expected ", header,
              " bytes for ", ndims, " dimensions, found ", size);
  Shape shape;
  long double wanted = 1.0L;  // the element count, in a type that cannot overflow here
  for (int d = 0; d < ndims; ++d) {
    shape.push_back(int64_t(big_endian(data + 4 + 4 * d, 4)));
    wanted *= (long double)shape.back();
  }
  const long double expected_ld = (long double)header + wanted * (long double)type.bytes;
  char expected_str[48];
  std::snprintf(expected_str, sizeof expected_str, "%.0Lf", expected_ld);
  LUCID_CHECK(expected_ld <= (long double)size, "read_idx: ", name, ": truncated: expected ",
              expected_str, " bytes (", header, "-byte header + ", type.name, " data of shape ",
              shape, "), found ", size);
  // A zero dimension makes the data empty, but the tensor's strides still
  // multiply the other dimensions: they must fit in 64 bits too.
  long double span = 1.0L;
  for (int64_t n : shape) span *= (long double)std::max<int64_t>(n, 1);
  LUCID_CHECK(span * (long double)type.bytes <= (long double)(int64_t(1) << 62), "read_idx: ",
              name, ": dims ", shape, " are too large");
  // Now the count is at most the file size, so it fits in 64 bits exactly.
  uint64_t count = 1;
  for (int64_t n : shape) count *= uint64_t(n);
  const uint64_t expected = header + count * type.bytes;
  LUCID_CHECK(size == expected, "read_idx: ", name, ": ", size - expected,
              " trailing bytes: expected ", expected, " bytes (", header, "-byte header + ",
              type.name, " data of shape ", shape, "), found ", size);
  Tensor out = empty(shape, type.dtype);
  convert(data + header, int64_t(count), data[2], out);
  return out;
}

Tensor read_idx(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  LUCID_CHECK(fs::exists(path, ec), "read_idx: ", path, ": no such file");
  LUCID_CHECK(fs::is_regular_file(path, ec), "read_idx: ", path, ": not a regular file");
  // gzread reads gzip files and passes other files through unchanged.
  std::unique_ptr<gzFile_s, GzClose> file(gzopen(path.c_str(), "rb"));
  LUCID_CHECK(file != nullptr, "read_idx: ", path, ": cannot open (", std::strerror(errno), ")");
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> chunk(1 << 20);
  for (;;) {
    const int n = gzread(file.get(), chunk.data(), unsigned(chunk.size()));
    if (n <= 0) break;
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + n);
  }
  int err = Z_OK;
  const char* msg = gzerror(file.get(), &err);
  LUCID_CHECK(err == Z_OK || err == Z_STREAM_END, "read_idx: ", path,
              ": corrupt or truncated gzip data (", msg, ")");
  return parse_idx(bytes.data(), bytes.size(), path);
}

}  // namespace lucid::data
