#include <lucid/train/safetensors.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <set>
#include <string_view>

#include <lucid/data/text/json.h>
#include <lucid/data/text/utf8.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>
#include <lucid/train/file_io.h>

// The reader's rules, in the order they are checked, each with the error the
// reference (the `safetensors` crate 0.8: SafeTensors::read_metadata, the serde
// derive of its header, Metadata::validate) raises for it:
//
//   1. the file holds the 8-byte header length N              HeaderTooSmall
//   2. N <= 100,000,000                                       HeaderTooLarge
//   3. 8 + N <= the file's size                               InvalidHeaderLength
//   4. the N header bytes are valid UTF-8                     InvalidHeader
//   5. they are one JSON object, with nothing but JSON        InvalidHeaderDeserialization
//      whitespace around it (so N >= 2; a leading space is
//      fine: 0.8 never raises its InvalidHeaderStart)
//   6. no key twice in any object                             InvalidHeaderDeserialization for a
//                                                             repeated "__metadata__" or field;
//                                                             the reference keeps the last of a
//                                                             repeated tensor or metadata key
//   7. "__metadata__" is null or an object of strings         InvalidHeaderDeserialization
//   8. every other entry is an object with "dtype" (a name    InvalidHeaderDeserialization
//      the reference knows), "shape" (an array of integers
//      >= 0) and "data_offsets" (an array of two); other
//      members are ignored, as the reference ignores them
//   9. the dtype is one lucid has                             (lucid only)
//  10. in data_offsets order, each tensor begins where the    InvalidOffset(name)
//      one before ended (the first at 0) and ends at or
//      after its beginning: no gap, no overlap
//  11. element size x the shape's product fits 64 bits,       ValidationOverflow
//      multiplied in the reference's order
//  12. ... and equals end - begin                             TensorInvalidInfo
//  13. the product of the shape's non-zero sizes fits int64   (lucid only: its strides)
//  14. the last tensor ends exactly at the end of the file    MetadataIncompleteBuffer
//  15. BOOL bytes are 0 or 1                                  (lucid only: a C++ bool)
//
// Where the reference accepts something by accident of serde, lucid does not
// follow: an entry written as a 3-element array instead of an object, a dtype
// written as {"F32": null}, integers above 2^63 - 1 (possible only in a shape
// that also holds a 0), and nesting deeper than 64 in ignored members.
//
// Every check runs before the first tensor is allocated.

namespace lucid::train {

static_assert(std::endian::native == std::endian::little,
              "safetensors: lucid copies tensor bytes as they lie in memory, and the format is "
              "little-endian; big-endian hosts are not supported");

namespace json = data::text::json;

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference's MAX_HEADER_SIZE
constexpr std::string_view kMetadataKey = "__metadata__";

// lucid's dtypes with their safetensors names, in the order the writer lays
// out the data. The reference sorts by its Dtype enum, last variant first
// (U64, I64, F64, C64, F32, U32, I32, BF16, F16, U16, I16, F8_*, I8, U8, F6_*,
// F4, BOOL); these are lucid's eight in that order.
struct DtypeName {
  ScalarType dtype;
  std::string_view name;
};
constexpr DtypeName kLucidDtypes[] = {
    {kInt64, "I64"}, {kFloat64, "F64"}, {kFloat32, "F32"}, {kInt32, "I32"},
    {kBFloat16, "BF16"}, {kFloat16, "F16"}, {kUInt8, "U8"}, {kBool, "BOOL"},
};
// The compiler checks that every ScalarType has exactly one row.
constexpr bool every_dtype_once() {
  for (int t = 0; t <= static_cast<int>(ScalarType::Bool); ++t) {
    int rows = 0;
    for (const DtypeName& row : kLucidDtypes) rows += static_cast<int>(row.dtype) == t;
    if (rows != 1) return false;
  }
  return std::size(kLucidDtypes) == static_cast<size_t>(ScalarType::Bool) + 1;
}
static_assert(every_dtype_once(), "kLucidDtypes must list every lucid dtype once");

// The other dtypes of safetensors 0.8: valid in a file, but lucid has no
// tensor type for them.
constexpr std::string_view kOtherDtypes[] = {
    "F4", "F6_E2M3", "F6_E3M2", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
    "F8_E5M2FNUZ", "I16", "U16", "U32", "C64", "U64",
};

const DtypeName& row_of(ScalarType t) {
  for (const DtypeName& row : kLucidDtypes)
    if (row.dtype == t) return row;
  throw Error("safetensors: no row for a dtype");  // unreachable: every_dtype_once()
}



// ---- reader ---------------------------------------------------------------

// One tensor's header entry, checked for types but not yet for offsets.
struct Entry {
  std::string name;
  ScalarType dtype = kFloat32;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

// Checks one header; every error starts with the source.
class HeaderReader {
 public:
  HeaderReader(const std::string& source, std::string_view header) : source_(source), header_(header) {}

  template <class... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    throw Error(detail::str_cat(source_, ": ", parts...));
  }

  void read_metadata(const json::Value& v, SafetensorsMetadata& out) const {
    if (v.kind == json::Kind::Null) return;  // the reference reads null as "no metadata"
    if (v.kind != json::Kind::Object)
      fail("\"__metadata__\" must be an object of strings, not ", json::kind_name(v.kind));
    for (const auto& [key, value] : v.object) {
      if (value.kind != json::Kind::String)
        fail("\"__metadata__\" entry ", json::quote(key), " must be a string, not ", json::kind_name(value.kind));
      out.emplace_back(key, value.string);
    }
  }

  Entry read_entry(const std::string& name, const json::Value& v) const {
    Entry e;
    e.name = name;
    if (v.kind != json::Kind::Object)
      fail("tensor ", json::quote(name), ": expected an object with \"dtype\", \"shape\" and \"data_offsets\", not ",
           json::kind_name(v.kind));
    e.dtype = read_dtype(name, member(name, v, "dtype", json::Kind::String).string);
    for (const json::Value& d : member(name, v, "shape", json::Kind::Array).array)
      e.shape.push_back(static_cast<int64_t>(read_size(name, "shape", d)));
    const json::Value& offsets = member(name, v, "data_offsets", json::Kind::Array);
    if (offsets.array.size() != 2)
      fail("tensor ", json::quote(name), ": \"data_offsets\" must hold 2 integers [begin, end], not ",
           offsets.array.size());
    e.begin = read_size(name, "data_offsets", offsets.array[0]);
    e.end = read_size(name, "data_offsets", offsets.array[1]);
    return e;
  }

 private:
  const json::Value& member(const std::string& name, const json::Value& entry, std::string_view key,
                            json::Kind kind) const {
    const json::Value* v = entry.find(key);
    if (!v) fail("tensor ", json::quote(name), ": missing \"", key, "\"");
    if (v->kind != kind)
      fail("tensor ", json::quote(name), ": \"", key, "\" must be ", json::kind_name(kind), ", not ",
           json::kind_name(v->kind));
    return *v;
  }

  ScalarType read_dtype(const std::string& name, const std::string& dtype) const {
    for (const DtypeName& row : kLucidDtypes)
      if (row.name == dtype) return row.dtype;
    const bool known = std::find(std::begin(kOtherDtypes), std::end(kOtherDtypes), dtype) != std::end(kOtherDtypes);
    if (known)
      fail("tensor ", json::quote(name), ": dtype ", dtype,
           " is a safetensors dtype, but lucid has no such dtype (it has BOOL, U8, I32, I64, F16, BF16, F32, F64)");
    fail("tensor ", json::quote(name), ": unknown dtype ", json::quote(dtype));
  }

  // An integer >= 0, as the reference's usize. "-0" is refused too: serde
  // reads it as the float -0.0.
  uint64_t read_size(const std::string& name, std::string_view field, const json::Value& v) const {
    if (v.kind != json::Kind::Integer)
      fail("tensor ", json::quote(name), ": \"", field, "\" must hold integers, not ", json::kind_name(v.kind));
    if (v.integer < 0 || (v.offset < header_.size() && header_[v.offset] == '-'))
      fail("tensor ", json::quote(name), ": \"", field, "\" holds ", v.integer == 0 ? "-0" : std::to_string(v.integer),
           " (sizes and offsets are integers >= 0)");
    return static_cast<uint64_t>(v.integer);
  }

  const std::string& source_;
  std::string_view header_;
};

std::string offsets_str(const Entry& e) { return detail::str_cat("[", e.begin, ", ", e.end, "]"); }

// Rules 10 to 15 over the entries, sorted by data_offsets; returns the byte
// size of each tensor's data.
std::vector<uint64_t> check_layout(const HeaderReader& r, const std::vector<Entry>& entries,
                                   uint64_t data_bytes, const uint8_t* data) {
  std::vector<uint64_t> sizes;
  sizes.reserve(entries.size());
  uint64_t expected_begin = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    const std::string name = json::quote(e.name);
    if (e.end < e.begin)
      r.fail("tensor ", name, ": data_offsets ", offsets_str(e), " end before they begin");
    if (e.begin > expected_begin)
      r.fail("tensor ", name, ": data_offsets ", offsets_str(e), " leave a gap: ",
             previous ? detail::str_cat("tensor ", json::quote(previous->name), " ends at ", expected_begin)
                      : std::string("the first tensor must begin at 0"));
    if (e.begin < expected_begin)
      r.fail("tensor ", name, ": data_offsets ", offsets_str(e), " overlap tensor ", json::quote(previous->name),
             ", which ends at ", expected_begin);
    expected_begin = e.end;

    // The element count, multiplied as the reference does (left to right,
    // stopping at the first overflow, so [2^40, 2^40, 0] overflows), then bytes.
    const std::string_view dtype_name = row_of(e.dtype).name;
    uint64_t count = 1, bytes = 0;
    for (const int64_t d : e.shape)
      if (__builtin_mul_overflow(count, static_cast<uint64_t>(d), &count))
        r.fail("tensor ", name, ": shape ", e.shape, " has more elements than 64 bits can count");
    if (__builtin_mul_overflow(count, element_size(e.dtype), &bytes))
      r.fail("tensor ", name, ": ", dtype_name, " of shape ", e.shape, " needs more bytes than 64 bits can count");
    if (bytes != e.end - e.begin)
      r.fail("tensor ", name, ": data_offsets ", offsets_str(e), " hold ", e.end - e.begin, " bytes, but ",
             dtype_name, " of shape ", e.shape, " needs ", bytes);
    // lucid's strides multiply the non-zero sizes as int64; an empty tensor
    // of shape [0, 2^40, 2^40] is valid for the reference but not for lucid.
    int64_t nonzero = 1;
    for (const int64_t d : e.shape)
      if (d != 0 && __builtin_mul_overflow(nonzero, d, &nonzero))
        r.fail("tensor ", name, ": lucid cannot hold shape ", e.shape,
               " (the product of its non-zero sizes overflows int64)");
    sizes.push_back(bytes);
    previous = &e;
  }
  if (expected_begin != data_bytes)
    r.fail("the tensors' data_offsets end at byte ", expected_begin, " of the data, but the file holds ",
           data_bytes, " bytes of data after the header",
           entries.empty() ? "" : detail::str_cat(" (the last tensor is ", json::quote(previous->name), ")"));
  // After the reference's rules, so that a file it refuses is refused for
  // the same reason here.
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].dtype != kBool) continue;
    const uint8_t* p = data + entries[i].begin;
    for (uint64_t k = 0; k < sizes[i]; ++k)
      if (p[k] > 1)
        r.fail("tensor ", json::quote(entries[i].name), ": BOOL element ", k, " is the byte ", int(p[k]),
               " (lucid's bool holds only 0 and 1)");
  }
  return sizes;
}

}  // namespace

SafetensorsFile parse_safetensors(const uint8_t* data, size_t size, const std::string& source) {
  LUCID_CHECK(size >= 8, source, ": a safetensors file begins with an 8-byte header length, but this one has ",
              size, " bytes");
  uint64_t n = 0;
  std::memcpy(&n, data, 8);  // little-endian, like the host (static_assert above)
  LUCID_CHECK(n <= kMaxHeaderBytes, source, ": the header length is ", n, " bytes, more than the ",
              kMaxHeaderBytes, " safetensors allows (a corrupt or not a safetensors file?)");
  LUCID_CHECK(n <= size - 8, source, ": the header length is ", n, " bytes, but only ", size - 8,
              " bytes follow the length (truncated?)");
  const std::string_view header(reinterpret_cast<const char*>(data) + 8, n);
  LUCID_CHECK(n >= 2, source, ": the header is ", n, " bytes; the shortest header, {}, has 2");
  const size_t bad = data::text::invalid_utf8_at(header);
  LUCID_CHECK(bad == std::string_view::npos, source, ": the header is not valid UTF-8 (byte ", bad,
              " of the header)");

  const json::Value root = json::parse(header, source + ": header");
  const HeaderReader reader(source, header);
  if (root.kind != json::Kind::Object)
    reader.fail("the header must be a JSON object, not ", json::kind_name(root.kind));

  SafetensorsFile out;
  std::vector<Entry> entries;
  entries.reserve(root.object.size());
  for (const auto& [key, value] : root.object) {
    if (key == kMetadataKey)
      reader.read_metadata(value, out.metadata);
    else
      entries.push_back(reader.read_entry(key, value));
  }
  // Data order; a stable sort keeps header order among equal offsets (empty
  // tensors at the same place).
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const uint8_t* tensor_data = data + 8 + n;
  const std::vector<uint64_t> sizes = check_layout(reader, entries, size - 8 - n, tensor_data);

  for (size_t i = 0; i < entries.size(); ++i) {
    Tensor t = empty(entries[i].shape, entries[i].dtype);
    if (sizes[i] > 0) std::memcpy(t.raw_data(), tensor_data + entries[i].begin, sizes[i]);
    out.tensors.insert(entries[i].name, std::move(t));
  }
  return out;
}

SafetensorsFile load_safetensors(const std::string& path) {
  const std::string bytes = read_file_bytes(path, "load_safetensors");
  return parse_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
}

// ---- writer ---------------------------------------------------------------

std::string encode_safetensors(const StateDict& tensors, const SafetensorsMetadata& metadata) {
  constexpr const char* who = "encode_safetensors";
  auto check_utf8 = [&](const std::string& s, const char* what) {
    const size_t bad = data::text::invalid_utf8_at(s);
    LUCID_CHECK(bad == std::string::npos, who, ": ", what, " ", json::quote(s), " is not valid UTF-8 (byte ", bad,
                "); safetensors headers are UTF-8");
  };

  struct Item {
    const std::string* name;
    const Tensor* tensor;
    size_t rank;  // the dtype's row in kLucidDtypes
    uint64_t bytes;
  };
  std::vector<Item> items;
  items.reserve(tensors.size());
  for (const auto& item : tensors) {
    const Tensor& t = item.value();
    LUCID_CHECK(t.defined(), who, ": tensor ", json::quote(item.key()), " is undefined");
    LUCID_CHECK(item.key() != kMetadataKey, who, ": a tensor cannot be named \"__metadata__\" (the header's "
                "metadata entry)");
    check_utf8(item.key(), "tensor name");
    const size_t rank = static_cast<size_t>(&row_of(t.dtype()) - kLucidDtypes);
    items.push_back({&item.key(), &t, rank, static_cast<uint64_t>(t.numel()) * t.element_size()});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.rank != b.rank ? a.rank < b.rank : *a.name < *b.name;
  });

  std::string header = "{";
  if (!metadata.empty()) {
    std::set<std::string_view> seen;
    header += "\"__metadata__\":{";
    for (size_t i = 0; i < metadata.size(); ++i) {
      const auto& [key, value] = metadata[i];
      LUCID_CHECK(seen.insert(key).second, who, ": metadata key ", json::quote(key), " given twice");
      check_utf8(key, "metadata key");
      check_utf8(value, "metadata value");
      if (i) header += ',';
      json::append_quoted(header, key);
      header += ':';
      json::append_quoted(header, value);
    }
    header += '}';
    if (!items.empty()) header += ',';
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    if (i) header += ',';
    json::append_quoted(header, *item.name);
    header += ":{\"dtype\":\"";
    header += kLucidDtypes[item.rank].name;
    header += "\",\"shape\":[";
    const Shape& shape = item.tensor->sizes();
    for (size_t d = 0; d < shape.size(); ++d) {
      if (d) header += ',';
      header += std::to_string(shape[d]);
    }
    header += "],\"data_offsets\":[" + std::to_string(offset) + ',' + std::to_string(offset + item.bytes) + "]}";
    offset += item.bytes;
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  LUCID_CHECK(header.size() <= kMaxHeaderBytes, who, ": the header would be ", header.size(),
              " bytes, more than the ", kMaxHeaderBytes, " readers accept (", items.size(), " tensors)");

  std::string out;
  out.reserve(8 + header.size() + offset);
  const uint64_t n = header.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out += header;
  for (const Item& item : items) {
    if (item.bytes == 0) continue;
    // One tensor at a time on the CPU and packed: a GPU or strided tensor is
    // copied, a CPU contiguous one is read in place.
    const Tensor packed = item.tensor->detach().cpu().contiguous();
    out.append(static_cast<const char*>(packed.raw_data()), item.bytes);
  }
  return out;
}

void save_safetensors(const std::string& path, const StateDict& tensors, const SafetensorsMetadata& metadata) {
  write_file_durable(path, encode_safetensors(tensors, metadata));
}

}  // namespace lucid::train
