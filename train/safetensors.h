#pragma once
// safetensors files: the format Hugging Face's `safetensors` library reads and
// writes, so a lucid checkpoint's model.safetensors loads in PyTorch with
// `safetensors.torch.load_file` + `load_state_dict`.
//
//   SafetensorsMetadata  the header's "__metadata__": string keys to string values
//   SafetensorsFile      what a file holds: the tensors (in data order) and metadata
//   encode_safetensors   a StateDict (any device, dtype, strides) -> the file's bytes
//   save_safetensors     encode, then write_file_durable (train/file_io.h)
//   parse_safetensors    bytes -> SafetensorsFile, every rule of the format checked
//   load_safetensors     read_file_bytes, then parse
//
// The layout (little-endian throughout):
//   bytes 0..8       N, the header's length, a uint64
//   bytes 8..8+N     the header: a JSON object, padded with spaces to a multiple
//                    of 8 bytes by the writer, e.g.
//                    {"__metadata__":{"format":"pt"},
//                     "w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}
//   bytes 8+N..end   the data: each tensor's elements in C order, at
//                    data_offsets relative to the start of the data
//
// The writer orders the data as the reference writer does: by dtype, widest
// first (I64, F64, F32, I32, BF16, F16, U8, BOOL), then by name (bytewise), so
// the same dict always gives the same bytes, and those are the bytes
// `safetensors.torch.save` writes for it (metadata keys stay in the given order;
// the reference writes them in hash order).
//
// The reader refuses every file the reference implementation refuses (the
// list of rules is at the top of safetensors.cpp) and a few more that lucid
// cannot hold: dtypes lucid lacks (I16, U32, F8_E4M3, ...), shapes whose
// element count overflows int64, BOOL bytes other than 0 and 1. Errors are
// lucid::Error naming the source (the file) and the tensor concerned, e.g.
//   "ckpt/model.safetensors: tensor \"fc.bias\": data_offsets [0, 40] hold 40
//    bytes, but F32 of shape [5] needs 20".
// Nothing is built before the whole header has been checked.
//
// Little-endian hosts only (a static_assert in safetensors.cpp says so).

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <lucid/kernels/ordered_dict.h>

namespace lucid::train {

using SafetensorsMetadata = std::vector<std::pair<std::string, std::string>>;

struct SafetensorsFile {
  StateDict tensors;             // CPU, contiguous, in the order of their data in the file
  SafetensorsMetadata metadata;  // in header order; empty when the file has none
};

// Tensor names and metadata must be valid UTF-8, and no tensor may be named
// "__metadata__"; metadata keys must be unique. An empty `metadata` writes no
// "__metadata__" entry.
std::string encode_safetensors(const StateDict& tensors, const SafetensorsMetadata& metadata = {});
// Writes a new file and fsyncs it (no rename: the checkpoint writer renames
// the whole directory into place).
void save_safetensors(const std::string& path, const StateDict& tensors,
                      const SafetensorsMetadata& metadata = {});

// `source` names the bytes in errors (a path, "fuzz-input"). The data need not
// be aligned.
SafetensorsFile parse_safetensors(const uint8_t* data, size_t size, const std::string& source);
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace lucid::train
