// safetensors (train/safetensors.h): every rule of the reader broken one at a
// time in hand-made bytes (each refusal names the file and the tensor), files
// the reference accepts that lucid must accept too, bit-exact round trips of
// every dtype (NaN payloads, -0.0, 0-dim, empty, strided views), and the
// writer's exact bytes checked against bytes computed by hand.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>
#include <lucid/kernels/storage.h>
#include <lucid/train/safetensors.h>

#include "temp_dir.h"

using namespace lucid;
using lucid::train::parse_safetensors;
using lucid::train::SafetensorsFile;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes le64(uint64_t n) {
  Bytes b(8);
  for (int i = 0; i < 8; ++i) b[size_t(i)] = uint8_t(n >> (8 * i));
  return b;
}

// 8-byte length, then `header` (padded with spaces to a multiple of 8 unless
// told not to), then `data`.
Bytes file_of(std::string header, const Bytes& data = {}, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (size_t i = 0; i < 8; ++i) out[i] = char(uint64_t(header.size()) >> (8 * i));
  out += header;
  out.append(data.begin(), data.end());
  return Bytes(out.begin(), out.end());
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, uint64_t begin,
                  uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

SafetensorsFile parse(const Bytes& b) { return parse_safetensors(b.data(), b.size(), "bad.safetensors"); }

// The message of the refusal, or "(accepted)".
std::string refusal(const Bytes& b) {
  try {
    parse(b);
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

// Refused, with a message that starts with the file's name and holds every part.
void check_refused(const Bytes& b, std::initializer_list<std::string_view> parts) {
  const std::string msg = refusal(b);
  INFO("message: " << msg);
  CHECK(msg.rfind("bad.safetensors: ", 0) == 0);
  for (std::string_view part : parts) CHECK(msg.find(part) != std::string::npos);
}

Bytes zeros_n(size_t n) { return Bytes(n, 0); }

// A CPU tensor of `dtype` and `shape` holding exactly `raw` (C order).
Tensor raw_tensor(ScalarType dtype, const Shape& shape, const Bytes& raw) {
  Tensor t = empty(shape, dtype);
  REQUIRE(raw.size() == size_t(t.numel()) * t.element_size());
  if (!raw.empty()) std::memcpy(t.raw_data(), raw.data(), raw.size());
  return t;
}

// The tensor's elements in C order, as bytes (independent of its strides).
Bytes bytes_of(const Tensor& t) {
  Tensor c = t.contiguous();
  const auto* p = static_cast<const uint8_t*>(c.raw_data());
  return Bytes(p, p + size_t(c.numel()) * c.element_size());
}

template <class T>
Bytes as_bytes(const std::vector<T>& v) {
  Bytes b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// Bit patterns worth keeping exact, per dtype: NaN payloads (quiet and
// signalling), -0.0, infinities, subnormals, integer extremes.
Bytes interesting(ScalarType t) {
  switch (t) {
    case kFloat32: return as_bytes<uint32_t>({0x7fc00001, 0x7f800001, 0xffffffff, 0x80000000, 0x7f800000,
                                              0x00000001, 0x3f800000, 0xc0490fdb});
    case kFloat64: return as_bytes<uint64_t>({0x7ff0000000000001, 0xfff8000000000123, 0x8000000000000000,
                                              0x0000000000000001, 0x7ff0000000000000, 0x400921fb54442d18,
                                              0xbff0000000000000, 0x7fffffffffffffff});
    case kFloat16: return as_bytes<uint16_t>({0x7c01, 0xfe01, 0x8000, 0x0001, 0x7c00, 0x3c00, 0xfbff, 0x7fff});
    case kBFloat16: return as_bytes<uint16_t>({0x7f81, 0xffc1, 0x8000, 0x0001, 0x7f80, 0x3f80, 0xff7f, 0x7fff});
    case kInt64: return as_bytes<int64_t>({INT64_MIN, INT64_MAX, -1, 0, 1, 1234567890123, -7, 42});
    case kInt32: return as_bytes<int32_t>({INT32_MIN, INT32_MAX, -1, 0, 1, 123456789, -7, 42});
    case kUInt8: return Bytes{0, 1, 127, 128, 254, 255, 37, 200};
    case kBool: return Bytes{0, 1, 1, 0, 1, 0, 0, 1};
  }
  return {};
}

const ScalarType kAllDtypes[] = {kBool, kUInt8, kInt32, kInt64, kFloat16, kBFloat16, kFloat32, kFloat64};

SafetensorsFile round_trip(const StateDict& dict, const train::SafetensorsMetadata& metadata = {}) {
  const std::string bytes = train::encode_safetensors(dict, metadata);
  return parse_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "round-trip");
}

const std::string kOneF32 = "{" + entry("a", "F32", "[1]", 0, 4) + "}";

}  // namespace

// ---- the header's length -------------------------------------------------------

TEST_CASE("safetensors reader: a file shorter than the 8-byte length is refused (HeaderTooSmall)") {
  check_refused(Bytes{}, {"8-byte header length", "has 0 bytes"});
  check_refused(Bytes{2, 0, 0, 0, 0, 0, 0}, {"8-byte header length", "has 7 bytes"});
}

TEST_CASE("safetensors reader: a header length above 100,000,000 is refused (HeaderTooLarge)") {
  Bytes b = le64(100'000'001);
  b.push_back('{');
  b.push_back('}');
  check_refused(b, {"100000001", "more than the 100000000"});
  check_refused(le64(UINT64_MAX), {"18446744073709551615", "more than the 100000000"});
  // Exactly the limit passes that rule and fails the next one (the file is short).
  b = le64(100'000'000);
  check_refused(b, {"100000000 bytes, but only 0 bytes follow"});
}

TEST_CASE("safetensors reader: a header length past the end of the file is refused (InvalidHeaderLength)") {
  Bytes b = le64(16);
  for (char c : std::string("{}      ")) b.push_back(uint8_t(c));
  check_refused(b, {"16 bytes, but only 8 bytes follow", "truncated"});
}

TEST_CASE("safetensors reader: a header shorter than {} is refused") {
  check_refused(le64(0), {"header is 0 bytes", "shortest header"});
  Bytes b = le64(1);
  b.push_back('{');
  check_refused(b, {"header is 1 bytes"});
}

// ---- the header's text --------------------------------------------------------

TEST_CASE("safetensors reader: a header that is not valid UTF-8 is refused (InvalidHeader)") {
  // A stray byte, an overlong '/', a surrogate, a code point past U+10FFFF, a truncated sequence.
  for (const std::string bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe4\xb8"}) {
    CAPTURE(bad.size());
    check_refused(file_of("{\"a" + bad + "\":" + kOneF32.substr(5), zeros_n(4)),
                  {"not valid UTF-8", "(byte 3 of the header)"});
  }
}

TEST_CASE("safetensors reader: a header that is not one JSON object is refused (InvalidHeaderDeserialization)") {
  check_refused(file_of("[]"), {"must be a JSON object, not an array"});
  check_refused(file_of("\"x\""), {"must be a JSON object, not a string"});
  check_refused(file_of(kOneF32 + "x", zeros_n(4)), {"bad.safetensors: header: byte", "after the end"});
  // NUL padding is not JSON whitespace (the reference refuses it too).
  check_refused(file_of(kOneF32 + std::string(3, '\0'), zeros_n(4), false), {"header: byte"});
  check_refused(file_of("{\"a\":{\"dtype\":\"F32\""), {"header: byte", "end of file"});
  check_refused(file_of("\xef\xbb\xbf{}"), {"header: byte 0"});  // a byte-order mark
}

TEST_CASE("safetensors reader: a key given twice is refused, __metadata__ and fields included") {
  const std::string a = entry("a", "F32", "[1]", 0, 4);
  check_refused(file_of("{" + a + "," + a + "}", zeros_n(4)), {"duplicate key \"a\""});
  check_refused(file_of("{\"__metadata__\":{},\"__metadata__\":{}}"), {"duplicate key \"__metadata__\""});
  check_refused(file_of("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                        zeros_n(4)),
                {"duplicate key \"dtype\""});
  check_refused(file_of("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"), {"duplicate key \"k\""});
}

TEST_CASE("safetensors reader: __metadata__ must be null or an object of strings") {
  check_refused(file_of("{\"__metadata__\":[]}"), {"\"__metadata__\" must be an object of strings, not an array"});
  check_refused(file_of("{\"__metadata__\":\"x\"}"), {"not a string"});
  check_refused(file_of("{\"__metadata__\":{\"k\":1}}"), {"\"__metadata__\" entry \"k\" must be a string, not an integer"});
  check_refused(file_of("{\"__metadata__\":{\"k\":null}}"), {"entry \"k\" must be a string, not null"});
  check_refused(file_of("{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}"), {"entry \"k\" must be a string, not an object"});
  check_refused(file_of("{\"__metadata__\":{\"k\":1.5}}"), {"entry \"k\" must be a string, not a number"});

  const SafetensorsFile none = parse(file_of("{\"__metadata__\":null," + kOneF32.substr(1), zeros_n(4)));
  CHECK(none.metadata.empty());
  CHECK(none.tensors.size() == 1);
  const SafetensorsFile some = parse(file_of("{\"__metadata__\":{\"format\":\"pt\",\"k\\u00e9\":\"v\\n\"}}"));
  REQUIRE(some.metadata.size() == 2);
  CHECK(some.metadata[0] == std::pair<std::string, std::string>("format", "pt"));
  CHECK(some.metadata[1] == std::pair<std::string, std::string>("k\xc3\xa9", "v\n"));
}

TEST_CASE("safetensors reader: each entry is an object with dtype, shape and data_offsets of the right types") {
  check_refused(file_of("{\"a\":1}"), {"tensor \"a\"", "expected an object", "not an integer"});
  // The reference's serde also reads a 3-element array as the entry; no writer makes one.
  check_refused(file_of("{\"a\":[\"F32\",[1],[0,4]]}", zeros_n(4)), {"tensor \"a\"", "not an array"});
  check_refused(file_of("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", zeros_n(4)),
                {"tensor \"a\": missing \"dtype\""});
  check_refused(file_of("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", zeros_n(4)),
                {"tensor \"a\": missing \"shape\""});
  check_refused(file_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", zeros_n(4)),
                {"tensor \"a\": missing \"data_offsets\""});
  check_refused(file_of("{\"a\":{\"dtype\":1,\"shape\":[1],\"data_offsets\":[0,4]}}", zeros_n(4)),
                {"tensor \"a\": \"dtype\" must be a string, not an integer"});
  // serde also reads {"F32": null} as the dtype F32; no writer makes that either.
  check_refused(file_of("{\"a\":{\"dtype\":{\"F32\":null},\"shape\":[1],\"data_offsets\":[0,4]}}", zeros_n(4)),
                {"tensor \"a\": \"dtype\" must be a string, not an object"});
  check_refused(file_of("{\"a\":{\"dtype\":\"F32\",\"shape\":null,\"data_offsets\":[0,4]}}", zeros_n(4)),
                {"tensor \"a\": \"shape\" must be an array, not null"});
  check_refused(file_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{}}}", zeros_n(4)),
                {"tensor \"a\": \"data_offsets\" must be an array, not an object"});
}

TEST_CASE("safetensors reader: shape and data_offsets hold integers >= 0, never fractions or other values") {
  struct Case {
    std::string shape, offsets, expected;
  };
  const Case cases[] = {
      {"[1.0]", "[0,4]", "\"shape\" must hold integers, not a number"},
      {"[1e0]", "[0,4]", "\"shape\" must hold integers, not a number"},
      {"[-1]", "[0,4]", "\"shape\" holds -1"},
      {"[-0]", "[0,0]", "\"shape\" holds -0"},  // serde reads -0 as the float -0.0
      {"[\"1\"]", "[0,4]", "\"shape\" must hold integers, not a string"},
      {"[true]", "[0,4]", "\"shape\" must hold integers, not true or false"},
      {"[[1]]", "[0,4]", "\"shape\" must hold integers, not an array"},
      {"[1]", "[0.0,4]", "\"data_offsets\" must hold integers, not a number"},
      {"[1]", "[0,4e0]", "\"data_offsets\" must hold integers, not a number"},
      {"[1]", "[-0,4]", "\"data_offsets\" holds -0"},
      {"[1]", "[0,null]", "\"data_offsets\" must hold integers, not null"},
      {"[1]", "[0,4,4]", "\"data_offsets\" must hold 2 integers [begin, end], not 3"},
      {"[1]", "[4]", "\"data_offsets\" must hold 2 integers [begin, end], not 1"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.shape);
    CAPTURE(c.offsets);
    check_refused(
        file_of("{\"w\":{\"dtype\":\"F32\",\"shape\":" + c.shape + ",\"data_offsets\":" + c.offsets + "}}", zeros_n(4)),
        {"tensor \"w\": ", c.expected});
  }
  // Beyond int64 (the reference reads up to 2^64 - 1, or a float past that).
  check_refused(file_of("{\"w\":{\"dtype\":\"F32\",\"shape\":[0,18446744073709551615],\"data_offsets\":[0,0]}}"),
                {"header: byte", "64-bit range"});
}

TEST_CASE("safetensors reader: unknown dtypes are refused, and dtypes lucid lacks say so") {
  check_refused(file_of("{" + entry("w", "f32", "[1]", 0, 4) + "}", zeros_n(4)), {"tensor \"w\": unknown dtype \"f32\""});
  for (const char* other : {"I16", "U16", "U32", "U64", "I8", "F8_E4M3", "F8_E5M2", "F8_E8M0", "C64", "F4"}) {
    CAPTURE(other);
    check_refused(file_of("{" + entry("w", other, "[2]", 0, 4) + "}", zeros_n(4)),
                  {"tensor \"w\": dtype ", other, "lucid has no such dtype"});
  }
}

// ---- the data's layout ----------------------------------------------------------

TEST_CASE("safetensors reader: offsets must tile the data from 0, no gap, no overlap (InvalidOffset)") {
  check_refused(file_of("{" + entry("a", "F32", "[1]", 4, 8) + "}", zeros_n(8)),
                {"tensor \"a\": data_offsets [4, 8] leave a gap", "must begin at 0"});
  check_refused(file_of("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 6, 10) + "}", zeros_n(10)),
                {"tensor \"b\": data_offsets [6, 10] leave a gap: tensor \"a\" ends at 4"});
  check_refused(file_of("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 2, 6) + "}", zeros_n(6)),
                {"tensor \"b\": data_offsets [2, 6] overlap tensor \"a\", which ends at 4"});
  check_refused(file_of("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[0]", 4, 0) + "}", zeros_n(4)),
                {"tensor \"b\": data_offsets [4, 0] end before they begin"});
}

TEST_CASE("safetensors reader: every size multiplication is overflow-checked (ValidationOverflow)") {
  // 2^62 * 4 bytes overflows 64 bits; so do the element counts 2^40 * 2^40 * 2^40
  // and, multiplied left to right as the reference does, 2^40 * 2^40 * 0.
  check_refused(file_of("{" + entry("w", "F32", "[4611686018427387904]", 0, 4) + "}", zeros_n(4)),
                {"tensor \"w\": F32 of shape [4611686018427387904] needs more bytes than 64 bits"});
  check_refused(file_of("{" + entry("w", "U8", "[1099511627776,1099511627776,1099511627776]", 0, 4) + "}", zeros_n(4)),
                {"tensor \"w\": shape [1099511627776, 1099511627776, 1099511627776] has more elements than 64 bits"});
  check_refused(file_of("{" + entry("w", "U8", "[1099511627776,1099511627776,0]", 0, 0) + "}"),
                {"tensor \"w\"", "more elements than 64 bits"});
  // The reference accepts [0, 2^40, 2^40] (the 0 comes first); lucid's strides cannot hold it.
  check_refused(file_of("{" + entry("w", "U8", "[0,1099511627776,1099511627776]", 0, 0) + "}"),
                {"tensor \"w\": lucid cannot hold shape [0, 1099511627776, 1099511627776]"});
  // A large empty tensor lucid can hold is fine.
  const SafetensorsFile ok = parse(file_of("{" + entry("w", "F64", "[0,4611686018427387904]", 0, 0) + "}"));
  CHECK(ok.tensors["w"].sizes() == Shape{0, 4611686018427387904});
}

TEST_CASE("safetensors reader: each tensor's bytes equal element size x elements (TensorInvalidInfo)") {
  check_refused(file_of("{" + entry("w", "F32", "[2]", 0, 4) + "}", zeros_n(4)),
                {"tensor \"w\": data_offsets [0, 4] hold 4 bytes, but F32 of shape [2] needs 8"});
  check_refused(file_of("{" + entry("s", "F64", "[]", 0, 4) + "}", zeros_n(4)),
                {"tensor \"s\": data_offsets [0, 4] hold 4 bytes, but F64 of shape [] needs 8"});
  check_refused(file_of("{" + entry("e", "I32", "[0,3]", 0, 4) + "}", zeros_n(4)),
                {"tensor \"e\"", "needs 0"});
}

TEST_CASE("safetensors reader: the last tensor ends exactly at the end of the file (MetadataIncompleteBuffer)") {
  check_refused(file_of(kOneF32, zeros_n(5)), {"end at byte 4 of the data, but the file holds 5 bytes",
                                                "the last tensor is \"a\""});
  check_refused(file_of(kOneF32, zeros_n(3)), {"end at byte 4 of the data, but the file holds 3 bytes"});
  check_refused(file_of("{}", zeros_n(1)), {"end at byte 0 of the data, but the file holds 1 bytes"});
}

TEST_CASE("safetensors reader: BOOL bytes other than 0 and 1 are refused (not a C++ bool)") {
  check_refused(file_of("{" + entry("m", "BOOL", "[3]", 0, 3) + "}", Bytes{1, 0, 2}),
                {"tensor \"m\": BOOL element 2 is the byte 2"});
}

TEST_CASE("safetensors reader: names in messages are quoted as JSON, control characters escaped") {
  check_refused(file_of("{\"a\\n\\\"b\\u0001\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", zeros_n(4)),
                {"tensor \"a\\n\\\"b\\u0001\": data_offsets [0, 4] hold 4 bytes"});
}

TEST_CASE("safetensors reader: a refused file allocates no tensor (the header is checked first)") {
  // 1 MiB of valid float32, then a second tensor that breaks a rule.
  const std::string header = "{" + entry("big", "F32", "[262144]", 0, 1 << 20) + "," +
                             entry("bad", "F32", "[2]", 1 << 20, (1 << 20) + 4) + "}";
  const Bytes b = file_of(header, zeros_n((1 << 20) + 4));
  reset_peak_memory_stats();
  const int64_t before = memory_allocated();
  check_refused(b, {"tensor \"bad\"", "needs 8"});
  CHECK(max_memory_allocated() - before < (1 << 20));
}

// ---- files the reference accepts ---------------------------------------------

TEST_CASE("safetensors reader: accepts what the reference accepts: padding, spacing, order, extra members") {
  // An empty dict, padded or not.
  CHECK(parse(file_of("{}")).tensors.is_empty());
  CHECK(parse(file_of("{}", {}, false)).tensors.is_empty());
  // Any JSON whitespace around the object and between tokens; no padding at all.
  for (const std::string& around : {std::string(" "), std::string("\n"), std::string("\t\r\n ")}) {
    const SafetensorsFile f = parse(file_of(around + kOneF32 + around, zeros_n(4), false));
    CHECK(f.tensors.size() == 1);
  }
  CHECK(parse(file_of("{ \"a\" : { \"dtype\" : \"F32\" , \"shape\" : [ 1 ] , \"data_offsets\" : [ 0 , 4 ] } }",
                      zeros_n(4)))
            .tensors.contains("a"));
  // Members the format does not define are ignored, whatever their value.
  const SafetensorsFile extra = parse(file_of(
      "{\"a\":{\"x\":null,\"dtype\":\"F32\",\"y\":[1.5,true,{\"z\":-3}],\"shape\":[1],\"data_offsets\":[0,4]}}",
      zeros_n(4)));
  CHECK(extra.tensors["a"].sizes() == Shape{1});
  // Entries in any header order come back in data order; __metadata__ anywhere.
  const Bytes data{1, 0, 0, 0, 2, 0, 0, 0, 3};
  const SafetensorsFile f = parse(file_of("{" + entry("u", "U8", "[1]", 8, 9) + ",\"__metadata__\":{\"k\":\"v\"}," +
                                          entry("b", "I32", "[]", 4, 8) + "," + entry("a", "I32", "[1]", 0, 4) + "," +
                                          entry("", "F32", "[0]", 8, 8) + "}",
                                          data));
  REQUIRE(f.tensors.size() == 4);
  CHECK(f.tensors.keys() == std::vector<std::string>{"a", "b", "", "u"});
  CHECK(f.tensors["a"].data_ptr<int32_t>()[0] == 1);
  CHECK(f.tensors["b"].dim() == 0);
  CHECK(f.tensors["b"].item<int32_t>() == 2);
  CHECK(f.tensors["u"].item<uint8_t>() == 3);
  CHECK(f.metadata == train::SafetensorsMetadata{{"k", "v"}});
}

TEST_CASE("safetensors reader: the data need not be aligned") {
  const Bytes file = file_of("{" + entry("d", "F64", "[2]", 0, 16) + "}", as_bytes<double>({1.5, -2.25}));
  for (size_t shift = 1; shift < 8; ++shift) {
    Bytes buffer(shift, 0xAA);
    buffer.insert(buffer.end(), file.begin(), file.end());
    const SafetensorsFile f = parse_safetensors(buffer.data() + shift, file.size(), "shifted");
    CHECK(f.tensors["d"].data_ptr<double>()[0] == 1.5);
    CHECK(f.tensors["d"].data_ptr<double>()[1] == -2.25);
  }
}

// ---- the writer ------------------------------------------------------------------

TEST_CASE("safetensors writer: the exact bytes of a small file, computed by hand") {
  StateDict dict;
  dict.insert("b", tensor({1.0, -0.0}));                                      // F32 [2]: 8 bytes
  dict.insert("a", raw_tensor(kUInt8, {3}, Bytes{1, 2, 3}));                  // U8 [3]: 3 bytes
  dict.insert("c", raw_tensor(kInt64, {}, as_bytes<int64_t>({7})));           // I64 []: 8 bytes
  // Data order: widest dtype first (I64, F32, U8), then by name; offsets from 0.
  const std::string json =
      R"({"c":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
      R"("a":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}})";
  REQUIRE(json.size() == 161);  // padded with 7 spaces to 168 = 21 * 8
  const std::string data("\x07\0\0\0\0\0\0\0" "\0\0\x80\x3f" "\0\0\0\x80" "\x01\x02\x03", 19);
  const std::string expected = std::string("\xa8\0\0\0\0\0\0\0", 8) + json + std::string(7, ' ') + data;
  CHECK(train::encode_safetensors(dict) == expected);

  // With metadata: first in the header; 161 + 31 = 192 bytes, already a multiple of 8.
  const std::string with_meta = train::encode_safetensors(dict, {{"format", "pt"}});
  CHECK(with_meta == std::string("\xc0\0\0\0\0\0\0\0", 8) + "{\"__metadata__\":{\"format\":\"pt\"}," +
                         json.substr(1) + data);

  // The empty dict: "{}" and 6 spaces.
  CHECK(train::encode_safetensors(StateDict()) == std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
  CHECK(train::encode_safetensors(StateDict(), {{"k", "v"}}) ==
        std::string("\x20\0\0\0\0\0\0\0{\"__metadata__\":{\"k\":\"v\"}}      ", 40));
}

TEST_CASE("safetensors writer: the same dict gives the same bytes, whatever its insertion order") {
  StateDict one, two;
  const char* names[] = {"layer.2.w", "layer.10.w", "b", "B", "\xc3\xa9", "a.b", "a_b"};
  for (const char* name : names) one.insert(name, randn({2, 3}));
  for (size_t i = std::size(names); i-- > 0;) two.insert(names[i], one[names[i]].clone());
  one.insert("step", scalar_tensor(3, kInt64));
  two.insert("step", scalar_tensor(3, kInt64));
  const std::string a = train::encode_safetensors(one, {{"z", "1"}, {"a", "2"}});
  CHECK(a == train::encode_safetensors(one, {{"z", "1"}, {"a", "2"}}));
  CHECK(a == train::encode_safetensors(two, {{"z", "1"}, {"a", "2"}}));
  // Names sort bytewise: "B" < "a.b" < "a_b" < "b" < "layer.10.w" < "layer.2.w" < "é".
  const SafetensorsFile f = round_trip(one);
  CHECK(f.tensors.keys() ==
        std::vector<std::string>{"step", "B", "a.b", "a_b", "b", "layer.10.w", "layer.2.w", "\xc3\xa9"});
  // Metadata keeps the given order.
  CHECK(parse_safetensors(reinterpret_cast<const uint8_t*>(a.data()), a.size(), "a").metadata ==
        train::SafetensorsMetadata{{"z", "1"}, {"a", "2"}});
}

TEST_CASE("safetensors writer: names are JSON-escaped as the reference writes them, and read back") {
  const std::string name = "q\"uote\\back\nnew\x01\x1f\x7f/\xc3\xa9\t\b\f\r";
  StateDict dict;
  dict.insert(name, zeros({1}));
  const std::string bytes = train::encode_safetensors(dict);
  CHECK(bytes.find(R"("q\"uote\\back\nnew\u0001\u001f)" "\x7f" R"(/)" "\xc3\xa9" R"(\t\b\f\r")") !=
        std::string::npos);
  CHECK(round_trip(dict).tensors.keys() == std::vector<std::string>{name});
}

TEST_CASE("safetensors writer: refuses what no reader could take back") {
  StateDict dict;
  dict.insert("__metadata__", zeros({1}));
  CHECK_THROWS_WITH_AS(train::encode_safetensors(dict), doctest::Contains("cannot be named \"__metadata__\""), Error);
  StateDict bad_name;
  bad_name.insert("w\xff", zeros({1}));
  CHECK_THROWS_WITH_AS(train::encode_safetensors(bad_name),
                       doctest::Contains("tensor name \"w\xff\" is not valid UTF-8 (byte 1)"), Error);
  StateDict undefined;
  undefined.insert("u", Tensor());
  CHECK_THROWS_WITH_AS(train::encode_safetensors(undefined), doctest::Contains("tensor \"u\" is undefined"), Error);
  CHECK_THROWS_WITH_AS(train::encode_safetensors(StateDict(), {{"k", "1"}, {"k", "2"}}),
                       doctest::Contains("metadata key \"k\" given twice"), Error);
  CHECK_THROWS_WITH_AS(train::encode_safetensors(StateDict(), {{"k", "\xc0\xaf"}}),
                       doctest::Contains("metadata value"), Error);
}

// ---- round trips -------------------------------------------------------------

TEST_CASE("safetensors: every dtype round-trips bit for bit: NaN payloads, -0.0, 0-dim, empty") {
  StateDict dict;
  for (ScalarType t : kAllDtypes) {
    const std::string name = dtype_name(t);
    const Bytes raw = interesting(t);
    const int64_t n = int64_t(raw.size() / element_size(t));
    dict.insert(name + ".vector", raw_tensor(t, {n}, raw));
    dict.insert(name + ".matrix", raw_tensor(t, {2, n / 2}, raw));
    dict.insert(name + ".scalar", raw_tensor(t, {}, Bytes(raw.end() - long(element_size(t)), raw.end())));
    dict.insert(name + ".empty", empty({0, 3}, t));
    dict.insert(name + ".empty_last", empty({3, 0}, t));
  }
  const SafetensorsFile back = round_trip(dict);
  REQUIRE(back.tensors.size() == dict.size());
  for (const auto& item : dict) {
    CAPTURE(item.key());
    const Tensor& got = back.tensors[item.key()];
    CHECK(got.dtype() == item.value().dtype());
    CHECK(got.sizes() == item.value().sizes());
    if (got.numel() > 0) CHECK(got.is_contiguous());  // lucid calls empty({3, 0}) non-contiguous
    CHECK(bytes_of(got) == bytes_of(item.value()));
  }
  CHECK(back.tensors["float32.scalar"].dim() == 0);
  CHECK(back.tensors["float64.empty"].numel() == 0);
}

TEST_CASE("safetensors: strided views are written as their elements in C order") {
  for (ScalarType t : kAllDtypes) {
    CAPTURE(dtype_name(t));
    // A 3 x 4 matrix of the interesting values (and more), C order.
    const size_t es = element_size(t);
    Bytes raw = interesting(t);
    raw.insert(raw.end(), raw.begin(), raw.begin() + long(4 * es));
    const Tensor m = raw_tensor(t, {3, 4}, raw);
    auto element = [&](size_t i) { return Bytes(raw.begin() + long(i * es), raw.begin() + long((i + 1) * es)); };
    // Expected bytes, indexed by hand (not through lucid's copy kernels).
    Bytes transposed, strided, expanded, narrowed;
    for (size_t j = 0; j < 4; ++j)
      for (size_t i = 0; i < 3; ++i) {
        const Bytes e = element(i * 4 + j);
        transposed.insert(transposed.end(), e.begin(), e.end());
      }
    for (size_t i = 0; i < 3; ++i)
      for (size_t j = 0; j < 4; j += 2) {
        const Bytes e = element(i * 4 + j);
        strided.insert(strided.end(), e.begin(), e.end());
      }
    for (size_t k = 0; k < 2; ++k)
      for (size_t j = 0; j < 4; ++j) {
        const Bytes e = element(4 + j);
        expanded.insert(expanded.end(), e.begin(), e.end());
      }
    for (size_t i = 1; i < 3; ++i)
      for (size_t j = 0; j < 4; ++j) {
        const Bytes e = element(i * 4 + j);
        narrowed.insert(narrowed.end(), e.begin(), e.end());
      }
    StateDict dict;
    dict.insert("t", m.t());
    dict.insert("s", m.slice(1, 0, 4, 2));
    dict.insert("x", m.select(0, 1).unsqueeze(0).expand({2, 4}));
    dict.insert("n", m.narrow(0, 1, 2));  // contiguous, at a storage offset
    CHECK_FALSE(dict["t"].is_contiguous());
    CHECK_FALSE(dict["s"].is_contiguous());
    CHECK_FALSE(dict["x"].is_contiguous());
    CHECK(dict["n"].storage_offset() == 4);
    const SafetensorsFile back = round_trip(dict);
    auto raw_bytes = [](const Tensor& x) {
      const auto* p = static_cast<const uint8_t*>(x.raw_data());
      return Bytes(p, p + size_t(x.numel()) * x.element_size());
    };
    CHECK(back.tensors["t"].sizes() == Shape{4, 3});
    CHECK(raw_bytes(back.tensors["t"]) == transposed);
    CHECK(back.tensors["s"].sizes() == Shape{3, 2});
    CHECK(raw_bytes(back.tensors["s"]) == strided);
    CHECK(back.tensors["x"].sizes() == Shape{2, 4});
    CHECK(raw_bytes(back.tensors["x"]) == expanded);
    CHECK(raw_bytes(back.tensors["n"]) == narrowed);
  }
}

TEST_CASE("safetensors: a tensor that requires grad is written as its values") {
  Tensor w = randn({3, 2}, requires_grad());
  StateDict dict;
  dict.insert("w", w);
  const SafetensorsFile back = round_trip(dict);
  CHECK_FALSE(back.tensors["w"].requires_grad());
  CHECK(bytes_of(back.tensors["w"]) == bytes_of(w.detach()));
}

TEST_CASE("safetensors: save_safetensors and load_safetensors go through a file; errors name the path") {
  lucid::testing::TempDir dir;
  StateDict dict;
  dict.insert("w", randn({4, 5}));
  dict.insert("step", scalar_tensor(12, kInt64));
  const std::string path = dir / "model.safetensors";
  train::save_safetensors(path, dict, {{"format", "pt"}});
  const std::string encoded = train::encode_safetensors(dict, {{"format", "pt"}});
  CHECK(lucid::testing::read_bytes(path) == Bytes(encoded.begin(), encoded.end()));
  const SafetensorsFile back = train::load_safetensors(path);
  CHECK(back.metadata == train::SafetensorsMetadata{{"format", "pt"}});
  CHECK(bytes_of(back.tensors["w"]) == bytes_of(dict["w"]));
  CHECK(back.tensors["step"].item<int64_t>() == 12);

  Bytes broken = lucid::testing::read_bytes(path);
  broken.pop_back();
  lucid::testing::write_bytes(dir / "broken.safetensors", broken);
  const std::string expected = dir / "broken.safetensors: the tensors' data_offsets end at byte";
  CHECK_THROWS_WITH_AS(train::load_safetensors(dir / "broken.safetensors"), doctest::Contains(expected.c_str()), Error);
  CHECK_THROWS_WITH_AS(train::load_safetensors(dir / "missing.safetensors"),
                       doctest::Contains("missing.safetensors"), Error);
}
