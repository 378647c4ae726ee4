#include <lucid/train/log/protobuf.h>

#include <bit>

#include <lucid/data/text/utf8.h>

namespace lucid::train::log {

void append_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));  // 7 bits, "more follows"
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void append_fixed32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void append_fixed64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void append_key(std::string& out, uint32_t field, WireType type) {
  append_varint(out, (uint64_t(field) << 3) | static_cast<uint64_t>(type));
}

ProtoWriter& ProtoWriter::uint_field(uint32_t field, uint64_t value, Presence presence) {
  if (value == 0 && presence == Presence::Implicit) return *this;
  append_key(out_, field, WireType::Varint);
  append_varint(out_, value);
  return *this;
}

ProtoWriter& ProtoWriter::int_field(uint32_t field, int64_t value, Presence presence) {
  // Two's complement: -1 becomes 0xffff'ffff'ffff'ffff, ten varint bytes.
  return uint_field(field, static_cast<uint64_t>(value), presence);
}

ProtoWriter& ProtoWriter::double_field(uint32_t field, double value, Presence presence) {
  const uint64_t bits = std::bit_cast<uint64_t>(value);
  if (bits == 0 && presence == Presence::Implicit) return *this;  // +0.0 only: -0.0 has its sign bit set
  append_key(out_, field, WireType::I64);
  append_fixed64(out_, bits);
  return *this;
}

ProtoWriter& ProtoWriter::float_field(uint32_t field, float value, Presence presence) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  if (bits == 0 && presence == Presence::Implicit) return *this;
  append_key(out_, field, WireType::I32);
  append_fixed32(out_, bits);
  return *this;
}

ProtoWriter& ProtoWriter::bytes_field(uint32_t field, std::string_view bytes, Presence presence) {
  if (bytes.empty() && presence == Presence::Implicit) return *this;
  return repeated_bytes_field(field, bytes);
}

ProtoWriter& ProtoWriter::repeated_bytes_field(uint32_t field, std::string_view bytes) {
  append_key(out_, field, WireType::Len);
  append_varint(out_, bytes.size());
  out_.append(bytes);
  return *this;
}

ProtoWriter& ProtoWriter::message_field(uint32_t field, const ProtoWriter& message) {
  return repeated_bytes_field(field, message.bytes());
}

ProtoWriter& ProtoWriter::packed_double_field(uint32_t field, std::span<const double> values) {
  if (values.empty()) return *this;
  append_key(out_, field, WireType::Len);
  append_varint(out_, values.size() * 8);
  for (const double v : values) append_fixed64(out_, std::bit_cast<uint64_t>(v));
  return *this;
}

ProtoWriter& ProtoWriter::packed_int_field(uint32_t field, std::span<const int64_t> values) {
  if (values.empty()) return *this;
  std::string packed;  // varints vary in size: encode first, then the length is known
  for (const int64_t v : values) append_varint(packed, static_cast<uint64_t>(v));
  append_key(out_, field, WireType::Len);
  append_varint(out_, packed.size());
  out_.append(packed);
  return *this;
}

bool is_valid_utf8(std::string_view s) {
  return data::text::invalid_utf8_at(s) == std::string_view::npos;  // strict: see data/text/utf8.h
}

}  // namespace lucid::train::log
