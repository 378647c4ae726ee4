#pragma once
// A minimal protobuf wire-format encoder: just what TensorBoard event files
// need, so lucid writes them without depending on libprotobuf.
//
//   WireType          the four wire types used here
//   append_varint     an unsigned integer, 7 bits per byte
//   append_fixed32/64 4 or 8 bytes, little-endian
//   ProtoWriter       builds one message, field by field
//   is_valid_utf8     what a proto3 `string` field must hold
//
// How a protobuf message is laid out. A message is a flat sequence of fields,
// in any order (protobuf itself writes them in field-number order, and so does
// lucid). Each field is a key followed by a payload:
//
//   key     = varint((field_number << 3) | wire_type)
//   payload = by wire type:
//     0 VARINT  int32, int64, uint64, bool, enum. 7 bits per byte, least
//               significant group first, high bit set on every byte but the
//               last: 300 = 0b10'0101100 -> ac 02. A negative int32/int64 is
//               its 64-bit two's complement, so it always takes 10 bytes.
//     1 I64     double, fixed64: 8 bytes, little-endian.
//     2 LEN     string, bytes, a nested message, a packed repeated field:
//               varint(length), then that many bytes.
//     5 I32     float, fixed32: 4 bytes, little-endian.
//
// Example: Event{wall_time: 1.5, step: 3} (wall_time is field 1, a double;
// step is field 2, an int64) is 11 bytes:
//   09 00 00 00 00 00 00 f8 3f    key (1 << 3 | 1), then 1.5 as a double
//   10 03                         key (2 << 3 | 0), then varint 3
// A nested message is a LEN field whose bytes are the inner message; a packed
// repeated double is a LEN field holding the 8-byte values back to back.
//
// Field presence, as proto3 (every TensorBoard proto) defines it: a plain
// singular scalar field equal to its default (0, a double whose bits are all
// zero, an empty string) is not written, and a reader sees the default
// (Presence::Implicit, the setters' default). A member of a `oneof` has
// explicit presence: it is written whatever its value, since which member is
// set is itself information (Summary.Value's simple_value of 0.0 left out
// would leave a value that is no scalar at all: readers drop it). Elements of
// a repeated field and nested messages are always written too (an empty
// string in a list, an empty sub-message). Following these rules, lucid's
// bytes equal what protobuf's own serializer writes for the same message.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace lucid::train::log {

enum class WireType : uint8_t { Varint = 0, I64 = 1, Len = 2, I32 = 5 };

// Implicit: left out when equal to the default. Explicit: always written
// (a member of a oneof).
enum class Presence : uint8_t { Implicit, Explicit };

void append_varint(std::string& out, uint64_t value);
void append_fixed32(std::string& out, uint32_t value);
void append_fixed64(std::string& out, uint64_t value);
void append_key(std::string& out, uint32_t field, WireType type);

class ProtoWriter {
 public:
  // Singular fields; with Presence::Implicit, not written when equal to
  // their default (see above). uint_field: uint32, uint64, bool; int_field:
  // int32, int64, enum; bytes_field: string, bytes.
  ProtoWriter& uint_field(uint32_t field, uint64_t value, Presence presence = Presence::Implicit);
  ProtoWriter& int_field(uint32_t field, int64_t value, Presence presence = Presence::Implicit);
  ProtoWriter& double_field(uint32_t field, double value, Presence presence = Presence::Implicit);
  ProtoWriter& float_field(uint32_t field, float value, Presence presence = Presence::Implicit);
  ProtoWriter& bytes_field(uint32_t field, std::string_view bytes, Presence presence = Presence::Implicit);

  // Always written: one element of a repeated string/bytes field, a nested
  // message.
  ProtoWriter& repeated_bytes_field(uint32_t field, std::string_view bytes);
  ProtoWriter& message_field(uint32_t field, const ProtoWriter& message);

  // Packed repeated numbers (one LEN field); not written when empty.
  ProtoWriter& packed_double_field(uint32_t field, std::span<const double> values);
  ProtoWriter& packed_int_field(uint32_t field, std::span<const int64_t> values);

  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing
// above U+10FFFF). A proto3 `string` field that is not makes protobuf's parser
// reject the whole message: in an event file, the whole event.
bool is_valid_utf8(std::string_view s);

}  // namespace lucid::train::log
