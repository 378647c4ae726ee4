#pragma once
// IDX files: the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).
//
//   bytes 0-1   zero
//   byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
//               0x0D float32, 0x0E float64
//   byte  3     number of dimensions n (1 to kMaxIdxDims)
//   then n big-endian uint32 sizes, then the elements, big-endian, row-major.
//
//   parse_idx   from bytes in memory (also the fuzzing entry point)
//   read_idx    from a file, raw or gzip-compressed (zlib detects which)
//
// The result has the stored shape and dtype uint8, int32 (for int8, int16 and
// int32), float32 or float64. Everything is validated: the magic number, the
// dimension count, and the exact byte count; a short or over-long file is an
// error naming the file, the bytes expected and the bytes found.

#include <cstddef>
#include <cstdint>
#include <string>

#include <lucid/kernels/tensor.h>

namespace lucid::data {

inline constexpr int kMaxIdxDims = 8;

Tensor parse_idx(const uint8_t* data, size_t size, const std::string& name = "<memory>");
Tensor read_idx(const std::string& path);

}  // namespace lucid::data
