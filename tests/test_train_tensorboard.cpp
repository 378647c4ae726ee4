// TensorBoard event files and the JSON-lines scalar log (train/log/): CRC-32C
// against published vectors, the protobuf encoder against hand-computed bytes,
// one framed record against the bytes TensorBoard's own protobuf and CRC code
// produce, PyTorch's histogram buckets on a hand-computed example, file naming,
// purge_step, the JSONL repair and purge rules, and the errors (a log dir
// under a regular file; a write past RLIMIT_FSIZE, in a forked child).
// tests/py/test_tensorboard_events.py reads the files back with TensorBoard.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lucid/data/text/json.h>
#include <lucid/lucid.h>
#include <lucid/train/file_io.h>
#include <lucid/train/log/crc32c.h>
#include <lucid/train/log/log.h>
#include <lucid/train/log/protobuf.h>

#include "temp_dir.h"

using namespace lucid;
using namespace lucid::train::log;
using lucid::testing::TempDir;

namespace {

std::string hex(std::string_view bytes) {
  std::string out;
  char buf[4];
  for (const char c : bytes) {
    std::snprintf(buf, sizeof buf, out.empty() ? "%02x" : " %02x", static_cast<uint8_t>(c));
    out += buf;
  }
  return out;
}

std::string read_all(const std::string& path) { return train::read_file_bytes(path, "test"); }

uint64_t le(std::string_view b, size_t at, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t(static_cast<uint8_t>(b[at + i])) << (8 * i);
  return v;
}

// The payloads of a TFRecord stream, each record's two CRCs checked. `whole`
// is false when the stream ends inside a record or a CRC does not match.
struct Records {
  std::vector<std::string> payloads;
  bool whole = true;
};

Records read_records(std::string_view bytes) {
  Records r;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 12) return r.whole = false, r;
    const uint64_t n = le(bytes, at, 8);
    if (uint32_t(le(bytes, at + 8, 4)) != masked_crc32c(bytes.substr(at, 8))) return r.whole = false, r;
    if (bytes.size() - at - 12 < n + 4) return r.whole = false, r;
    const std::string_view data = bytes.substr(at + 12, n);
    if (uint32_t(le(bytes, at + 12 + n, 4)) != masked_crc32c(data)) return r.whole = false, r;
    r.payloads.emplace_back(data);
    at += 12 + n + 4;
  }
  return r;
}

// A protobuf reader just big enough to look inside what the writer wrote,
// independent of the encoder: top-level fields of one message.
struct Field {
  uint32_t number = 0;
  int wire = 0;
  uint64_t num = 0;   // VARINT, I64, I32
  std::string bytes;  // LEN
};

std::vector<Field> decode(std::string_view m) {
  std::vector<Field> out;
  size_t at = 0;
  const auto varint = [&] {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      REQUIRE(at < m.size());
      const auto b = static_cast<uint8_t>(m[at++]);
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < m.size()) {
    const uint64_t key = varint();
    Field f;
    f.number = uint32_t(key >> 3);
    f.wire = int(key & 7);
    if (f.wire == 0) {
      f.num = varint();
    } else if (f.wire == 1 || f.wire == 5) {
      const size_t n = f.wire == 1 ? 8 : 4;
      REQUIRE(m.size() - at >= n);
      f.num = le(m, at, n);
      at += n;
    } else {
      REQUIRE(f.wire == 2);
      const uint64_t n = varint();
      REQUIRE(m.size() - at >= n);
      f.bytes = std::string(m.substr(at, n));
      at += n;
    }
    out.push_back(f);
  }
  return out;
}

const Field& field(const std::vector<Field>& fields, uint32_t number) {
  const auto it = std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.number == number; });
  REQUIRE_MESSAGE(it != fields.end(), "no field ", number);
  return *it;
}

bool has_field(const std::vector<Field>& fields, uint32_t number) {
  for (const Field& f : fields)
    if (f.number == number) return true;
  return false;
}

// The only event file in a directory.
std::string event_file_in(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : std::filesystem::directory_iterator(dir)) found.push_back(e.path().string());
  REQUIRE(found.size() == 1);
  return found[0];
}

// The value field of a JSONL line, parsed back to a double.
double jsonl_value(const std::string& line) {
  const size_t at = line.find("\"value\": ");
  REQUIRE(at != std::string::npos);
  double v = 0;
  const char* begin = line.data() + at + 9;
  const auto [p, ec] = std::from_chars(begin, line.data() + line.size(), v);
  REQUIRE(ec == std::errc());
  return v;
}

// The message of the lucid::Error that f() raises ("" when it raises none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const lucid::Error& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t begin = 0;
  for (size_t nl; (nl = text.find('\n', begin)) != std::string::npos; begin = nl + 1)
    out.push_back(text.substr(begin, nl - begin));
  return out;
}

}  // namespace

// ---- CRC-32C ----------------------------------------------------------------------

TEST_CASE("crc32c gives the published check value and the RFC 3720 (iSCSI) test vectors") {
  CHECK(crc32c("123456789") == 0xE3069283u);  // the CRC catalogue's check value
  CHECK(crc32c("") == 0u);
  CHECK(crc32c("a") == 0xC1D04330u);
  std::string zeros(32, '\0'), ones(32, '\xff'), up(32, '\0'), down(32, '\0');
  for (int i = 0; i < 32; ++i) up[size_t(i)] = char(i), down[size_t(i)] = char(31 - i);
  CHECK(crc32c(zeros) == 0x8A9136AAu);
  CHECK(crc32c(ones) == 0x62A8AB43u);
  CHECK(crc32c(up) == 0x46DD794Eu);
  CHECK(crc32c(down) == 0x113FDB5Cu);
}

TEST_CASE("crc32c_extend continues a CRC: crc(a + b) == extend(crc(a), b)") {
  const std::string text = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= text.size(); cut += 7)
    CHECK(crc32c_extend(crc32c(text.substr(0, cut)), text.substr(cut)) == crc32c(text));
}

TEST_CASE("the TFRecord mask rotates right by 15 and adds 0xa282ead8; unmask_crc inverts it") {
  CHECK(mask_crc(0) == 0xa282ead8u);
  CHECK(mask_crc(1) == (0x00020000u + 0xa282ead8u));  // bit 0 rotates to bit 17
  CHECK(mask_crc(0x8000u) == (1u + 0xa282ead8u));     // bit 15 rotates to bit 0
  // From TensorBoard's own masked_crc32c (tensorboard.compat.tensorflow_stub).
  CHECK(masked_crc32c("123456789") == 0xc78ab0e5u);
  CHECK(masked_crc32c("") == 0xa282ead8u);
  for (uint32_t c : {0u, 1u, 0xE3069283u, 0xffffffffu, 0x12345678u}) CHECK(unmask_crc(mask_crc(c)) == c);
}

// ---- protobuf encoder ---------------------------------------------------------

TEST_CASE("varints take 7 bits per byte, low group first, high bit meaning more") {
  const auto varint = [](uint64_t v) {
    std::string out;
    append_varint(out, v);
    return hex(out);
  };
  CHECK(varint(0) == "00");
  CHECK(varint(1) == "01");
  CHECK(varint(127) == "7f");
  CHECK(varint(128) == "80 01");
  CHECK(varint(300) == "ac 02");
  CHECK(varint(16384) == "80 80 01");
  CHECK(varint(UINT64_MAX) == "ff ff ff ff ff ff ff ff ff 01");
}

TEST_CASE("each field is a key (number << 3 | wire type) and its payload, as computed by hand") {
  CHECK(hex(ProtoWriter().uint_field(2, 3).bytes()) == "10 03");
  CHECK(hex(ProtoWriter().uint_field(16, 1).bytes()) == "80 01 01");  // key 128 needs two bytes
  // int64 -1 is two's complement: ten bytes.
  CHECK(hex(ProtoWriter().int_field(2, -1).bytes()) == "10 ff ff ff ff ff ff ff ff ff 01");
  CHECK(hex(ProtoWriter().double_field(1, 1.5).bytes()) == "09 00 00 00 00 00 00 f8 3f");
  CHECK(hex(ProtoWriter().float_field(2, 0.25f).bytes()) == "15 00 00 80 3e");
  CHECK(hex(ProtoWriter().bytes_field(3, "hi").bytes()) == "1a 02 68 69");
  ProtoWriter inner;
  inner.uint_field(1, 1);
  CHECK(hex(ProtoWriter().message_field(7, inner).bytes()) == "3a 02 08 01");
  const double d[] = {1.0, -2.0};
  CHECK(hex(ProtoWriter().packed_double_field(6, d).bytes()) ==
        "32 10 00 00 00 00 00 00 f0 3f 00 00 00 00 00 00 00 c0");
  const int64_t ints[] = {1, 300, -1};
  CHECK(hex(ProtoWriter().packed_int_field(4, ints).bytes()) == "22 0d 01 ac 02 ff ff ff ff ff ff ff ff ff 01");
}

TEST_CASE("proto3 presence: singular defaults are left out; -0.0, repeated elements and messages are not") {
  CHECK(ProtoWriter().uint_field(1, 0).int_field(2, 0).double_field(3, 0.0).float_field(4, 0.0f)
            .bytes_field(5, "").packed_double_field(6, {}).bytes().empty());
  CHECK(hex(ProtoWriter().double_field(1, -0.0).bytes()) == "09 00 00 00 00 00 00 00 80");
  CHECK(hex(ProtoWriter().repeated_bytes_field(8, "").bytes()) == "42 00");
  CHECK(hex(ProtoWriter().message_field(5, ProtoWriter()).bytes()) == "2a 00");
  // Presence::Explicit (a oneof member): written even when it is the default.
  CHECK(hex(ProtoWriter().float_field(2, 0.0f, Presence::Explicit).bytes()) == "15 00 00 00 00");
  CHECK(hex(ProtoWriter().uint_field(1, 0, Presence::Explicit).bytes()) == "08 00");
  CHECK(hex(ProtoWriter().bytes_field(3, "", Presence::Explicit).bytes()) == "1a 00");
}

TEST_CASE("is_valid_utf8 accepts UTF-8 and refuses stray, truncated, overlong and surrogate bytes") {
  CHECK(is_valid_utf8("train/loss"));
  CHECK(is_valid_utf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // été € 😀
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("\x80"));
  CHECK_FALSE(is_valid_utf8("\xc3"));
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // U+D800
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

// ---- events and records ----------------------------------------------------------

TEST_CASE("a scalar event and its framed record are the bytes TensorBoard's protobuf and CRC produce") {
  // Made with TensorBoard 2.21 (protobuf and its pure-Python masked_crc32c):
  //   d = event_pb2.Event(wall_time=1.5, step=3, summary=summary_pb2.Summary(
  //         value=[summary_pb2.Summary.Value(tag="loss", simple_value=0.25)])).SerializeToString()
  //   n = struct.pack("<Q", len(d))
  //   (n + struct.pack("<I", masked_crc32c(n)) + d + struct.pack("<I", masked_crc32c(d))).hex(" ")
  const std::string event = encode_scalar_event(1.5, 3, "loss", 0.25);
  CHECK(hex(event) == "09 00 00 00 00 00 00 f8 3f 10 03 2a 0d 0a 0b 0a 04 6c 6f 73 73 15 00 00 80 3e");
  CHECK(hex(frame_tfrecord(event)) ==
        "1a 00 00 00 00 00 00 00 12 9b d8 2d "
        "09 00 00 00 00 00 00 f8 3f 10 03 2a 0d 0a 0b 0a 04 6c 6f 73 73 15 00 00 80 3e "
        "d0 54 b2 55");
  // event_pb2.Event(wall_time=1.5, file_version="brain.Event:2"): step 0 is left out.
  CHECK(hex(encode_file_version_event(1.5)) ==
        "09 00 00 00 00 00 00 f8 3f 1a 0d 62 72 61 69 6e 2e 45 76 65 6e 74 3a 32");
}

TEST_CASE("a scalar is stored as a 32-bit float, rounded from the double") {
  const auto simple_value = [](double v) {
    const auto event = decode(encode_scalar_event(1.0, 1, "x", v));
    const auto value = decode(field(decode(field(event, 5).bytes), 1).bytes);
    return std::bit_cast<float>(uint32_t(field(value, 2).num));
  };
  CHECK(simple_value(0.1) == 0.1f);
  CHECK(simple_value(0.0) == 0.0f);  // present: simple_value is a oneof member
  CHECK(std::isinf(simple_value(1e40)));
  CHECK(std::isnan(simple_value(std::nan(""))));
}

TEST_CASE("the text event is the text plugin's DT_STRING tensor of shape [1]") {
  const auto event = decode(encode_text_event(2.0, 7, "notes/text_summary", "**hi**"));
  CHECK(field(event, 2).num == 7);
  const auto value = decode(field(decode(field(event, 5).bytes), 1).bytes);
  CHECK(field(value, 1).bytes == "notes/text_summary");
  const auto tensor = decode(field(value, 8).bytes);
  CHECK(field(tensor, 1).num == 7);  // DT_STRING
  const auto dim = decode(field(decode(field(tensor, 2).bytes), 2).bytes);
  CHECK(field(dim, 1).num == 1);
  CHECK(field(tensor, 8).bytes == "**hi**");
  const auto plugin = decode(field(decode(field(value, 9).bytes), 1).bytes);
  CHECK(field(plugin, 1).bytes == "text");
}

// ---- histograms ---------------------------------------------------------------

TEST_CASE("the default histogram edges are PyTorch's: 0 and +-1e-12 * 1.1^k below 1e20") {
  const std::vector<double>& e = default_histogram_edges();
  REQUIRE(e.size() == 1549);  // 774 negative, 0, 774 positive
  CHECK(e[774] == 0.0);
  CHECK(e[775] == 1e-12);
  CHECK(e[773] == -1e-12);
  for (size_t i = 0; i < 774; ++i) CHECK(e[i] == -e[1548 - i]);
  CHECK(e.back() < 1e20);
  CHECK(e.back() * 1.1 >= 1e20);
  for (size_t i = 1; i < e.size(); ++i) REQUIRE(e[i - 1] < e[i]);
}

TEST_CASE("histogram of {1, 1, -1, 0}: buckets and limits computed by hand") {
  // 1e-12 * 1.1^289 = 0.9172... <= 1 < 1e-12 * 1.1^290 = 1.0089..., so 1.0
  // falls in the bin [p289, p290) and -1.0 in [-p290, -p289); 0.0 in [0, 1e-12).
  double p289 = 1e-12;
  for (int k = 0; k < 289; ++k) p289 *= 1.1;
  const double p290 = p289 * 1.1;
  const Histogram h = make_histogram(tensor({1.0, 1.0, -1.0, 0.0}));
  CHECK(h.min == -1.0);
  CHECK(h.max == 1.0);
  CHECK(h.num == 4.0);
  CHECK(h.sum == 1.0);
  CHECK(h.sum_squares == 3.0);
  // Bins from one empty bin before -1's bin to 1's bin: -1's bin is
  // [edge 483, edge 484), 1's is [edge 1064, edge 1065), so bins 482..1064.
  REQUIRE(h.bucket.size() == 583);
  REQUIRE(h.bucket_limit.size() == 583);
  CHECK(h.bucket.front() == 0.0);
  CHECK(h.bucket_limit.front() == -p290);  // the left edge of -1's bin
  CHECK(h.bucket_limit.back() == p290);    // the right edge of 1's bin
  std::vector<std::pair<double, double>> nonzero;
  for (size_t i = 0; i < h.bucket.size(); ++i)
    if (h.bucket[i] != 0) nonzero.emplace_back(h.bucket_limit[i], h.bucket[i]);
  REQUIRE(nonzero.size() == 3);
  CHECK(nonzero[0] == std::pair(-p289, 1.0));
  CHECK(nonzero[1] == std::pair(1e-12, 1.0));
  CHECK(nonzero[2] == std::pair(p290, 2.0));
}

TEST_CASE("histogram: a value on an edge opens that bin; a first-bin value gets the first edge as the empty limit") {
  const Histogram on_edge = make_histogram(tensor({1e-12}, kFloat64));
  CHECK(on_edge.bucket == std::vector<double>{0.0, 1.0});
  CHECK(on_edge.bucket_limit == std::vector<double>{1e-12, 1e-12 * 1.1});
  const double lowest = default_histogram_edges().front();
  const Histogram first = make_histogram(tensor({lowest}, kFloat64));
  CHECK(first.bucket == std::vector<double>{0.0, 1.0});
  CHECK(first.bucket_limit == std::vector<double>{lowest, default_histogram_edges()[1]});
}

TEST_CASE("histogram: NaN and inf count in num but in no bucket; NaN makes min, max and sums NaN") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const Histogram with_nan = make_histogram(tensor({1.0, nan}, kFloat64));
  CHECK(with_nan.num == 2.0);
  CHECK(std::isnan(with_nan.min));
  CHECK(std::isnan(with_nan.max));
  CHECK(std::isnan(with_nan.sum));
  CHECK(with_nan.bucket == std::vector<double>{0.0, 1.0});
  const Histogram with_inf = make_histogram(tensor({1.0, inf, 1e25}, kFloat64));
  CHECK(with_inf.num == 3.0);
  CHECK(with_inf.min == 1.0);
  CHECK(with_inf.max == inf);
  CHECK(with_inf.sum == inf);
  CHECK(with_inf.bucket == std::vector<double>{0.0, 1.0});  // only 1.0 is within +-1e20
  CHECK_THROWS_WITH_AS(make_histogram(tensor({nan, inf}, kFloat64)), doctest::Contains("no bucket holds one"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(make_histogram(zeros({0})), doctest::Contains("no element"), lucid::Error);
}

TEST_CASE("histogram: any dtype is read as float64 (float32, int64, a strided view)") {
  const Histogram f32 = make_histogram(tensor({0.5, 2.0}));
  const Histogram f64 = make_histogram(tensor({0.5, 2.0}, kFloat64));
  CHECK(f32.bucket == f64.bucket);
  CHECK(f32.bucket_limit == f64.bucket_limit);
  const Histogram i64 = make_histogram(tensor(std::vector<int64_t>{3, 3, 4}));
  CHECK(i64.sum == 10.0);
  CHECK(i64.max == 4.0);
  const Tensor m = tensor({{1.0, 2.0}, {3.0, 4.0}}).t();  // not contiguous
  CHECK(make_histogram(m).sum_squares == 30.0);
}

// ---- SummaryWriter ----------------------------------------------------------------

TEST_CASE("the event file is events.out.tfevents.<%010d seconds>.<host>.<pid>.<n><suffix>, one per writer") {
  TempDir dir;
  const double before = unix_time_now();
  SummaryWriter a(dir / "run", SummaryWriterOptions().filename_suffix(".eval"));
  SummaryWriter b(dir / "run");
  char host[256] = {};
  REQUIRE(::gethostname(host, sizeof host - 1) == 0);
  const std::string name = std::filesystem::path(a.file_path()).filename().string();
  const std::string prefix = "events.out.tfevents.";
  REQUIRE(name.rfind(prefix, 0) == 0);
  const std::string seconds = name.substr(prefix.size(), 10);
  CHECK(seconds.find_first_not_of("0123456789") == std::string::npos);
  CHECK(std::abs(std::stod(seconds) - before) <= 2.0);
  const std::string rest = name.substr(prefix.size() + 10);
  const std::string expect_head = "." + std::string(host) + "." + std::to_string(::getpid()) + ".";
  REQUIRE(rest.rfind(expect_head, 0) == 0);
  const std::string counter_and_suffix = rest.substr(expect_head.size());
  CHECK(counter_and_suffix.size() > 5);
  CHECK(counter_and_suffix.substr(counter_and_suffix.size() - 5) == ".eval");
  CHECK(a.file_path() != b.file_path());
  CHECK(std::filesystem::path(a.file_path()).parent_path() == std::filesystem::path(dir / "run"));
}

TEST_CASE("the first record is Event{wall_time: now, file_version: brain.Event:2}") {
  TempDir dir;
  const double before = unix_time_now();
  SummaryWriter w(dir / "logs");
  const Records r = read_records(read_all(w.file_path()));
  REQUIRE(r.whole);
  REQUIRE(r.payloads.size() == 1);
  const auto event = decode(r.payloads[0]);
  const double wall = std::bit_cast<double>(field(event, 1).num);
  CHECK(wall >= before);
  CHECK(wall <= unix_time_now());
  CHECK(wall != std::floor(wall));  // sub-second precision (1 chance in ~10^6 of a whole second)
  CHECK(field(event, 3).bytes == "brain.Event:2");
  CHECK_FALSE(has_field(event, 2));  // step 0
}

TEST_CASE("purge_step T: after file_version, two Event{step: T, session_log: START}") {
  TempDir dir;
  SummaryWriter w(dir / "logs", SummaryWriterOptions().purge_step(1234));
  const Records r = read_records(read_all(w.file_path()));
  REQUIRE(r.whole);
  REQUIRE(r.payloads.size() == 3);
  for (int i : {1, 2}) {
    const auto event = decode(r.payloads[size_t(i)]);
    CHECK(field(event, 2).num == 1234);
    const auto log = decode(field(event, 7).bytes);
    CHECK(field(log, 1).num == 1);  // START
    CHECK(r.payloads[size_t(i)] ==
          encode_session_start_event(std::bit_cast<double>(field(event, 1).num), 1234));
  }
}

TEST_CASE("each add_* is in the file when it returns, whole, with its step and the given wall_time") {
  TempDir dir;
  SummaryWriter w(dir / "logs");
  w.add_scalar("train/loss", 0.5, 10, 1700000000.25);
  Records r = read_records(read_all(w.file_path()));  // no flush(): write(2) already happened
  REQUIRE(r.whole);
  REQUIRE(r.payloads.size() == 2);
  CHECK(r.payloads[1] == encode_scalar_event(1700000000.25, 10, "train/loss", 0.5));

  data::Image im(3, 5, 3);
  for (size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = uint8_t(i * 7);
  w.add_image("sample", im, 11, 5.0);
  w.add_histogram("weights", tensor({0.5, -0.25, 2.0}), 12, 6.0);
  w.add_text("notes", "hello", 13, 7.0);
  r = read_records(read_all(w.file_path()));
  REQUIRE(r.whole);
  REQUIRE(r.payloads.size() == 5);
  CHECK(r.payloads[2] == encode_image_event(5.0, 11, "sample", data::encode_png(im), 3, 5, 3));
  CHECK(r.payloads[3] == encode_histogram_event(6.0, 12, "weights", make_histogram(tensor({0.5, -0.25, 2.0}))));
  CHECK(r.payloads[4] == encode_text_event(7.0, 13, "notes/text_summary", "hello"));
  w.flush();
  w.close();
  CHECK(read_records(read_all(w.file_path())).payloads.size() == 5);
}

TEST_CASE("after close(), add_* raises, close() and flush() do nothing") {
  TempDir dir;
  SummaryWriter w(dir / "logs");
  w.close();
  CHECK_THROWS_WITH_AS(w.add_scalar("x", 1.0, 1), doctest::Contains("closed"), lucid::Error);
  CHECK_NOTHROW(w.close());
  CHECK_NOTHROW(w.flush());
}

TEST_CASE("two threads logging through one writer: every record lands whole") {
  TempDir dir;
  SummaryWriter w(dir / "logs");
  const auto log = [&](const std::string& tag) {
    for (int i = 0; i < 200; ++i) w.add_scalar(tag, i * 0.5, i);
  };
  std::thread t1(log, "loader/queue"), t2(log, "train/loss");
  t1.join();
  t2.join();
  const Records r = read_records(read_all(w.file_path()));
  REQUIRE(r.whole);
  CHECK(r.payloads.size() == 401);
}

TEST_CASE("SummaryWriter errors name the call, the path and the reason") {
  TempDir dir;
  {
    std::FILE* f = std::fopen((dir / "plain").c_str(), "w");
    REQUIRE(f);
    std::fclose(f);
  }
  // A log dir under a regular file cannot be created (permissions cannot be
  // used: the tests run as root).
  const std::string message = error_of([&] { SummaryWriter w(dir / "plain/logs"); });
  CHECK(message.find(dir / "plain/logs") != std::string::npos);
  CHECK(message.find("Not a directory") != std::string::npos);
  CHECK(error_of([&] { SummaryWriter w(dir / "plain"); }).find(dir / "plain") != std::string::npos);
  CHECK_THROWS_AS(SummaryWriter(dir / "x", SummaryWriterOptions().filename_suffix("a/b")), lucid::Error);

  SummaryWriter w(dir / "logs");
  CHECK_THROWS_WITH_AS(w.add_scalar("", 1.0, 0), doctest::Contains("empty tag"), lucid::Error);
  CHECK_THROWS_WITH_AS(w.add_scalar("bad\xff", 1.0, 0), doctest::Contains("bad\\xff' is not valid UTF-8"),
                       lucid::Error);
  CHECK_THROWS_WITH_AS(w.add_scalar("x", 1.0, 0, std::nan("")), doctest::Contains("not finite"), lucid::Error);
  CHECK_THROWS_WITH_AS(w.add_image_png("im", "raw pixels, not a PNG at all", 2, 2, 1, 0),
                       doctest::Contains("not a PNG"), lucid::Error);
  const std::string png = data::encode_png(data::Image(4, 6, 1));
  CHECK_THROWS_WITH_AS(w.add_image_png("im", png, 6, 4, 1, 0), doctest::Contains("the PNG is 4x6"), lucid::Error);
  CHECK_THROWS_AS(w.add_image_png("im", png, 4, 6, 5, 0), lucid::Error);
  CHECK_THROWS_WITH_AS(w.add_histogram("h", Tensor(), 0), doctest::Contains("add_histogram: tag 'h'"),
                       lucid::Error);
  CHECK_THROWS_AS(w.add_text("t", "\xc3", 0), lucid::Error);
  CHECK_NOTHROW(w.add_image_png("im", png, 4, 6, 1, 0));
  // Nothing refused was written.
  CHECK(read_records(read_all(w.file_path())).payloads.size() == 2);
}

// ---- writes that fail -------------------------------------------------------------

namespace {

// Runs in a forked child with RLIMIT_FSIZE lowered: doctest's checks cannot
// report from there, so each failed expectation prints and returns its own
// exit code.
int fill_past_file_size_limit(const std::string& root) {
  std::signal(SIGXFSZ, SIG_IGN);  // so write(2) fails with EFBIG instead of the signal killing us
  struct rlimit lim {};
  if (::getrlimit(RLIMIT_FSIZE, &lim) != 0) return 9;
  const rlim_t hard = lim.rlim_max;
  lim.rlim_cur = 4096;
  if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 10;
  const auto fail = [](int code, const std::string& why) {
    std::cerr << "child check " << code << " failed: " << why << "\n";
    return code;
  };

  SummaryWriter w(root + "/events");
  std::string message;
  try {
    for (int i = 0; i < 1000; ++i) w.add_scalar("train/loss", i, i);
  } catch (const lucid::Error& e) {
    message = e.what();
  }
  if (message.empty()) return fail(11, "no error past the 4096-byte limit");
  if (message.find(w.file_path()) == std::string::npos) return fail(12, "the error does not name the file: " + message);
  if (message.find("File too large") == std::string::npos) return fail(13, "no system reason: " + message);
  Records r = read_records(read_all(w.file_path()));
  if (!r.whole) return fail(14, "the file does not end on a whole record");
  const size_t before = r.payloads.size();
  lim.rlim_cur = hard;  // room again: the writer continues the same, readable stream
  if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 15;
  w.add_scalar("train/loss", -1.0, 9999);
  r = read_records(read_all(w.file_path()));
  if (!r.whole || r.payloads.size() != before + 1) return fail(16, "the record after the failure is not readable");

  lim.rlim_cur = 4096;
  if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 17;
  ScalarJsonlWriter j(root + "/scalars.jsonl");
  message.clear();
  try {
    for (int i = 0; i < 1000; ++i) j.add_scalar("train/loss", i, i);
  } catch (const lucid::Error& e) {
    message = e.what();
  }
  if (message.find(root + "/scalars.jsonl") == std::string::npos || message.find("File too large") == std::string::npos)
    return fail(18, "JSONL: the error does not name the file and the reason: " + message);
  const std::string text = read_all(root + "/scalars.jsonl");
  if (text.empty() || text.back() != '\n') return fail(19, "JSONL: the file does not end on a whole line");
  return 0;
}

}  // namespace

TEST_CASE("a write past RLIMIT_FSIZE raises naming the file, and the file is cut back to whole records") {
  TempDir dir;
  const std::string root = dir / "fsize";
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 1;
    try {
      code = fill_past_file_size_limit(root);
    } catch (const std::exception& e) {
      std::cerr << "child: unexpected exception: " << e.what() << "\n";
      code = 2;
    } catch (...) {
      code = 3;
    }
    std::_Exit(code);  // no doctest reporting, no atexit handlers in the child
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// ---- JSONL ------------------------------------------------------------------------

TEST_CASE("a JSONL line: step, tag, value, wall_time in that order, doubles in shortest round-trip form") {
  CHECK(format_scalar_line("train/loss", 0.4321, 12, 1765142400.125) ==
        "{\"step\": 12, \"tag\": \"train/loss\", \"value\": 0.4321, \"wall_time\": 1765142400.125}\n");
  CHECK(format_json_double(2.0) == "2.0");
  CHECK(format_json_double(-0.0) == "-0.0");
  CHECK(format_json_double(1e16) == "1e+16");
  CHECK(format_json_double(0.1) == "0.1");
  CHECK(format_json_double(std::nan("")) == "NaN");
  CHECK(format_json_double(std::numeric_limits<double>::infinity()) == "Infinity");
  CHECK(format_json_double(-std::numeric_limits<double>::infinity()) == "-Infinity");
  CHECK(data::text::json::quote("a\"b\\c\nd\te\x01") == "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  CHECK(data::text::json::quote("\xc3\xa9") == "\"\xc3\xa9\"");
}

TEST_CASE("JSONL values read back bit for bit") {
  TempDir dir;
  const std::vector<double> values = {0.1, 1.0 / 3.0, 2.0, -0.0, 5e-324, DBL_MAX, -DBL_MIN, 1e16,
                                      123456789.123456789, 0.30000000000000004};
  {
    ScalarJsonlWriter j(dir / "s.jsonl");
    for (size_t i = 0; i < values.size(); ++i) j.add_scalar("v", values[i], int64_t(i), 1.0);
  }
  const auto lines = lines_of(read_all(dir / "s.jsonl"));
  REQUIRE(lines.size() == values.size());
  for (size_t i = 0; i < values.size(); ++i)
    CHECK(std::bit_cast<uint64_t>(jsonl_value(lines[i])) == std::bit_cast<uint64_t>(values[i]));
}

TEST_CASE("JSONL: reopening appends; purge_step T drops lines with step >= T of every tag") {
  TempDir dir;
  const std::string path = dir / "sub/dir/s.jsonl";  // parents are created
  {
    ScalarJsonlWriter j(path);
    for (int step = 0; step < 10; ++step) {
      j.add_scalar("loss", step, step, 1.0);
      j.add_scalar("lr", step, step, 1.0);
    }
  }
  { ScalarJsonlWriter j(path); }  // no purge: nothing changes
  CHECK(lines_of(read_all(path)).size() == 20);
  {
    ScalarJsonlWriter j(path, 6);  // resumed from the checkpoint of step 6
    CHECK(lines_of(read_all(path)).size() == 12);
    j.add_scalar("loss", 60.0, 6, 2.0);
  }
  const auto lines = lines_of(read_all(path));
  REQUIRE(lines.size() == 13);
  CHECK(lines[11] + "\n" == format_scalar_line("lr", 5.0, 5, 1.0));
  CHECK(lines[12] == "{\"step\": 6, \"tag\": \"loss\", \"value\": 60.0, \"wall_time\": 2.0}");
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("JSONL: a partial last line (killed mid-write) is dropped on open, with or without purge_step") {
  TempDir dir;
  const std::string path = dir / "s.jsonl";
  for (const bool purge : {false, true}) {
    CAPTURE(purge);
    const std::string whole = format_scalar_line("loss", 1.0, 1, 1.0) + format_scalar_line("loss", 2.0, 2, 1.0);
    train::write_file_atomic(path, whole + "{\"step\": 3, \"tag\": \"lo");
    {
      ScalarJsonlWriter j(path, purge ? std::optional<int64_t>(100) : std::nullopt);
      CHECK(read_all(path) == whole);
      j.add_scalar("loss", 3.0, 3, 1.0);
    }
    CHECK(read_all(path) == whole + format_scalar_line("loss", 3.0, 3, 1.0));
  }
}

TEST_CASE("JSONL: purge_step refuses a line it cannot read a step from; without it, such lines are kept") {
  TempDir dir;
  const std::string path = dir / "s.jsonl";
  train::write_file_atomic(path, "{\"tag\": \"x\", \"step\": 1}\n");
  const std::string message = error_of([&] { ScalarJsonlWriter j(path, 0); });
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find("line 1 ") != std::string::npos);
  CHECK(read_all(path) == "{\"tag\": \"x\", \"step\": 1}\n");
  { ScalarJsonlWriter j(path); }
  CHECK(read_all(path) == "{\"tag\": \"x\", \"step\": 1}\n");
}

TEST_CASE("JSONL errors: a path under a regular file, an empty or non-UTF-8 tag, a closed writer") {
  TempDir dir;
  train::write_file_atomic(dir / "plain", "x");
  CHECK_THROWS_WITH_AS(ScalarJsonlWriter(dir / "plain/s.jsonl"), doctest::Contains("Not a directory"),
                       lucid::Error);
  ScalarJsonlWriter j(dir / "s.jsonl");
  CHECK_THROWS_AS(j.add_scalar("", 1.0, 0), lucid::Error);
  CHECK_THROWS_AS(j.add_scalar("\xfe", 1.0, 0), lucid::Error);
  CHECK_THROWS_AS(j.add_scalar("x", 1.0, 0, INFINITY), lucid::Error);
  j.close();
  CHECK_THROWS_WITH_AS(j.add_scalar("x", 1.0, 0), doctest::Contains("closed"), lucid::Error);
  CHECK(read_all(dir / "s.jsonl").empty());
}
