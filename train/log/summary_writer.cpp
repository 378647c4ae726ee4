#include <lucid/train/log/summary_writer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include <fcntl.h>
#include <unistd.h>

#include <lucid/data/image_encode.h>
#include <lucid/kernels/error.h>
#include <lucid/train/log/crc32c.h>
#include <lucid/train/log/protobuf.h>

namespace lucid::train::log {

namespace {

// Field numbers, from TensorBoard's event.proto, summary.proto, tensor.proto
// and tensor_shape.proto (the table in summary_writer.h).
namespace event {
constexpr uint32_t kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5, kSessionLog = 7;
}
namespace session_log {
constexpr uint32_t kStatus = 1;
constexpr int64_t kStart = 1;  // SessionLog.SessionStatus.START
}
namespace summary {
constexpr uint32_t kValue = 1;
}
namespace value {
constexpr uint32_t kTag = 1, kSimpleValue = 2, kImage = 4, kHisto = 5, kTensor = 8, kMetadata = 9;
}
namespace image {
constexpr uint32_t kHeight = 1, kWidth = 2, kColorspace = 3, kEncodedImageString = 4;
}
namespace histo {
constexpr uint32_t kMin = 1, kMax = 2, kNum = 3, kSum = 4, kSumSquares = 5, kBucketLimit = 6, kBucket = 7;
}
namespace metadata {
constexpr uint32_t kPluginData = 1;
constexpr uint32_t kPluginName = 1;  // in SummaryMetadata.PluginData
}
namespace tensor {
constexpr uint32_t kDtype = 1, kTensorShape = 2, kStringVal = 8;
constexpr int64_t kDtString = 7;  // DataType.DT_STRING
constexpr uint32_t kShapeDim = 2;  // in TensorShapeProto
constexpr uint32_t kDimSize = 1;   // in TensorShapeProto.Dim
}

// Event{wall_time, step, summary: Summary{value: [v]}}
std::string summary_event(double wall_time, int64_t step, const ProtoWriter& v) {
  ProtoWriter sum;
  sum.message_field(summary::kValue, v);
  ProtoWriter e;
  e.double_field(event::kWallTime, wall_time).int_field(event::kStep, step).message_field(event::kSummary, sum);
  return e.take();
}

// A tag as it may appear in an error message: bytes that are not printable
// ASCII as \xNN.
std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<uint8_t>(c);
    if (b >= 0x20 && b < 0x7f) {
      out.push_back(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", b);
      out += buf;
    }
  }
  return out;
}

void check_tag(const char* who, const std::string& tag) {
  LUCID_CHECK(!tag.empty(), who, ": empty tag");
  LUCID_CHECK(is_valid_utf8(tag), who, ": tag '", printable(tag),
              "' is not valid UTF-8 (TensorBoard's parser would drop the whole event)");
}

double resolve_wall_time(const char* who, std::optional<double> wall_time) {
  if (!wall_time) return unix_time_now();
  LUCID_CHECK(std::isfinite(*wall_time), who, ": wall_time ", *wall_time, " is not finite");
  return *wall_time;
}

// The <n> of event file names: how many writers this process has opened.
std::atomic<uint64_t> g_writers_opened{0};

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace

// ---- record and event encoding ------------------------------------------------

double unix_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string frame_tfrecord(std::string_view data) {
  std::string length;
  append_fixed64(length, data.size());
  std::string out;
  out.reserve(data.size() + 16);
  out += length;
  append_fixed32(out, masked_crc32c(length));
  out += data;
  append_fixed32(out, masked_crc32c(data));
  return out;
}

std::string encode_file_version_event(double wall_time) {
  ProtoWriter e;
  e.double_field(event::kWallTime, wall_time)
      .bytes_field(event::kFileVersion, "brain.Event:2", Presence::Explicit);  // in Event's oneof `what`
  return e.take();
}

std::string encode_session_start_event(double wall_time, int64_t step) {
  ProtoWriter log;
  log.int_field(session_log::kStatus, session_log::kStart);
  ProtoWriter e;
  e.double_field(event::kWallTime, wall_time).int_field(event::kStep, step).message_field(event::kSessionLog, log);
  return e.take();
}

std::string encode_scalar_event(double wall_time, int64_t step, const std::string& tag, double value) {
  // simple_value is a member of Summary.Value's oneof `value`: written even
  // when 0, or the reader would see a value holding nothing and drop it.
  ProtoWriter v;
  v.bytes_field(value::kTag, tag).float_field(value::kSimpleValue, static_cast<float>(value), Presence::Explicit);
  return summary_event(wall_time, step, v);
}

std::string encode_image_event(double wall_time, int64_t step, const std::string& tag, std::string_view png,
                               int64_t height, int64_t width, int64_t channels) {
  ProtoWriter im;
  im.int_field(image::kHeight, height)
      .int_field(image::kWidth, width)
      .int_field(image::kColorspace, channels)
      .bytes_field(image::kEncodedImageString, png);
  ProtoWriter v;
  v.bytes_field(value::kTag, tag).message_field(value::kImage, im);
  return summary_event(wall_time, step, v);
}

std::string encode_histogram_event(double wall_time, int64_t step, const std::string& tag, const Histogram& h) {
  ProtoWriter hp;
  hp.double_field(histo::kMin, h.min)
      .double_field(histo::kMax, h.max)
      .double_field(histo::kNum, h.num)
      .double_field(histo::kSum, h.sum)
      .double_field(histo::kSumSquares, h.sum_squares)
      .packed_double_field(histo::kBucketLimit, h.bucket_limit)
      .packed_double_field(histo::kBucket, h.bucket);
  ProtoWriter v;
  v.bytes_field(value::kTag, tag).message_field(value::kHisto, hp);
  return summary_event(wall_time, step, v);
}

std::string encode_text_event(double wall_time, int64_t step, const std::string& tag, std::string_view text) {
  // TensorProto{dtype: DT_STRING, tensor_shape: [1], string_val: [text]}
  ProtoWriter dim;
  dim.int_field(tensor::kDimSize, 1);
  ProtoWriter shape;
  shape.message_field(tensor::kShapeDim, dim);
  ProtoWriter t;
  t.int_field(tensor::kDtype, tensor::kDtString)
      .message_field(tensor::kTensorShape, shape)
      .repeated_bytes_field(tensor::kStringVal, text);  // an element: written even when empty
  // SummaryMetadata{plugin_data: {plugin_name: "text"}}: routes the tensor to
  // the text plugin. PyTorch also sets content to TextPluginData{version: 0},
  // which serializes to no bytes, so it is left out here as there.
  ProtoWriter plugin;
  plugin.bytes_field(metadata::kPluginName, "text");
  ProtoWriter md;
  md.message_field(metadata::kPluginData, plugin);
  ProtoWriter v;
  v.bytes_field(value::kTag, tag).message_field(value::kTensor, t).message_field(value::kMetadata, md);
  return summary_event(wall_time, step, v);
}

// ---- histograms ---------------------------------------------------------------

const std::vector<double>& default_histogram_edges() {
  static const std::vector<double> edges = [] {
    // Exponential buckets, 10% wide, from 1e-12 up to 1e20, mirrored for the
    // negatives, and 0: fine resolution near zero and a fixed set of edges
    // for every step, so histograms of different steps line up in
    // TensorBoard's distribution view. The multiplication order is PyTorch's,
    // so every edge is the same double.
    std::vector<double> positive;
    for (double v = 1e-12; v < 1e20; v *= 1.1) positive.push_back(v);
    std::vector<double> all;
    all.reserve(2 * positive.size() + 1);
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) all.push_back(-*it);
    all.push_back(0.0);
    all.insert(all.end(), positive.begin(), positive.end());
    return all;
  }();
  return edges;
}

Histogram make_histogram(const Tensor& values) {
  LUCID_CHECK(values.defined(), "make_histogram: undefined tensor");
  LUCID_CHECK(values.numel() > 0, "make_histogram: the tensor has no element (shape ", values.sizes(), ")");
  const Tensor v = values.to(Device(kCPU)).to(kFloat64).contiguous();
  const double* x = v.data_ptr<double>();
  const int64_t n = v.numel();

  const std::vector<double>& edges = default_histogram_edges();
  const size_t bins = edges.size() - 1;
  std::vector<double> counts(bins, 0.0);
  Histogram h;
  h.num = static_cast<double>(n);
  h.min = std::numeric_limits<double>::infinity();
  h.max = -std::numeric_limits<double>::infinity();
  bool any_nan = false;
  for (int64_t i = 0; i < n; ++i) {
    const double xi = x[i];
    h.sum += xi;
    h.sum_squares += xi * xi;
    if (std::isnan(xi)) {
      any_nan = true;  // no bin; min and max become NaN below, as numpy's do
      continue;
    }
    h.min = std::min(h.min, xi);
    h.max = std::max(h.max, xi);
    if (xi < edges.front() || xi > edges.back()) continue;  // outside every bin (+-inf too)
    // Bin i is [edge[i], edge[i+1]): the first edge above x, minus one. x on
    // the last edge belongs to the last bin (numpy closes it on the right).
    size_t bin = static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), xi) - edges.begin()) - 1;
    if (bin == bins) bin = bins - 1;
    counts[bin] += 1;
  }
  if (any_nan) h.min = h.max = std::numeric_limits<double>::quiet_NaN();

  // Bins first..last hold every counted value; the empty ones outside go.
  size_t first = bins, last = 0;
  for (size_t i = 0; i < bins; ++i) {
    if (counts[i] == 0) continue;
    first = std::min(first, i);
    last = i;
  }
  LUCID_CHECK(first < bins, "make_histogram: none of the ", n, " values is finite and within +-1e20, so no bucket ",
              "holds one (min ", h.min, ", max ", h.max, ")");
  // TensorBoard stores only right edges, so the empty bin before `first` is
  // kept: its limit is the left edge of bin `first`. When `first` is bin 0,
  // an empty bucket with the first edge as its limit stands in for it.
  if (first == 0) {
    h.bucket.push_back(0.0);
    h.bucket_limit.push_back(edges[0]);
  }
  for (size_t i = first == 0 ? 0 : first - 1; i <= last; ++i) {
    h.bucket.push_back(counts[i]);
    h.bucket_limit.push_back(edges[i + 1]);  // the right edge of bin i
  }
  return h;
}

// ---- SummaryWriter ----------------------------------------------------------------

SummaryWriter::SummaryWriter(const std::string& log_dir, SummaryWriterOptions options) : log_dir_(log_dir) {
  LUCID_CHECK(!log_dir.empty(), "SummaryWriter: empty log_dir");
  const std::string& suffix = options.filename_suffix();
  LUCID_CHECK(suffix.find('/') == std::string::npos && suffix.find('\0') == std::string::npos,
              "SummaryWriter: filename_suffix '", printable(suffix), "' may not contain '/' or NUL");
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  LUCID_CHECK(!ec, "SummaryWriter: cannot create the log dir ", log_dir, " (", ec.message(), ")");
  LUCID_CHECK(std::filesystem::is_directory(log_dir, ec), "SummaryWriter: log dir ", log_dir,
              " exists and is not a directory");

  const double now = unix_time_now();
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%010" PRId64, static_cast<int64_t>(now));
  const std::string stem = std::string("events.out.tfevents.") + seconds + "." + host_name() + "." +
                           std::to_string(::getpid()) + ".";
  // A file of that name can only be left by an earlier process that had the
  // same pid in the same second (a container restarted at once, as pid 1):
  // take the next number rather than append to its file.
  do {
    path_ = (std::filesystem::path(log_dir) / (stem + std::to_string(g_writers_opened++) + suffix)).string();
  } while (std::filesystem::exists(path_, ec));
  file_.open(path_, O_EXCL, "SummaryWriter");
  fsync_dir(log_dir);  // the file's name survives a power cut, so flush() means something

  write_event("SummaryWriter", encode_file_version_event(now));
  if (options.purge_step()) {
    // Twice: TensorBoard's Python loader ignores a run's first START (see the
    // header); to the other readers the second one changes nothing.
    const std::string start = encode_session_start_event(now, *options.purge_step());
    write_event("SummaryWriter", start);
    write_event("SummaryWriter", start);
  }
}

SummaryWriter::~SummaryWriter() {
  // A destructor that throws while an exception unwinds ends the program; a
  // final fsync that fails has nowhere to go. close() reports it to callers
  // who ask.
  try {
    close();
  } catch (...) {
  }
}

void SummaryWriter::write_event(const char* who, std::string_view event) {
  file_.append(frame_tfrecord(event), who);
}

void SummaryWriter::add_scalar(const std::string& tag, double value, int64_t step, std::optional<double> wall_time) {
  const char* who = "SummaryWriter::add_scalar";
  check_tag(who, tag);
  write_event(who, encode_scalar_event(resolve_wall_time(who, wall_time), step, tag, value));
}

void SummaryWriter::add_image(const std::string& tag, const data::Image& image, int64_t step,
                              std::optional<double> wall_time) {
  add_image_png(tag, data::encode_png(image), image.height, image.width, image.channels, step, wall_time);
}

void SummaryWriter::add_image_png(const std::string& tag, std::string png, int64_t height, int64_t width,
                                  int64_t channels, int64_t step, std::optional<double> wall_time) {
  const char* who = "SummaryWriter::add_image_png";
  check_tag(who, tag);
  LUCID_CHECK(height > 0 && width > 0 && height <= INT32_MAX && width <= INT32_MAX && channels >= 1 && channels <= 4,
              who, ": tag '", printable(tag), "': a ", height, "x", width, "x", channels,
              " image (needs a positive size and 1 to 4 channels)");
  // The PNG signature, then the IHDR chunk with width and height (big-endian)
  // at bytes 16..23: catches raw pixels passed as PNG, or a wrong size.
  static constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
  LUCID_CHECK(png.size() >= 24 && std::string_view(png).substr(0, 8) == kSignature, who, ": tag '",
              printable(tag), "': the ", png.size(), " bytes are not a PNG (no PNG signature)");
  const auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(png[at + i]);
    return int64_t(v);
  };
  LUCID_CHECK(be32(16) == width && be32(20) == height, who, ": tag '", printable(tag), "': the PNG is ",
              be32(20), "x", be32(16), " (height x width), not ", height, "x", width);
  write_event(who, encode_image_event(resolve_wall_time(who, wall_time), step, tag, png, height, width, channels));
}

void SummaryWriter::add_histogram(const std::string& tag, const Tensor& values, int64_t step,
                                  std::optional<double> wall_time) {
  const char* who = "SummaryWriter::add_histogram";
  check_tag(who, tag);
  const double t = resolve_wall_time(who, wall_time);
  Histogram h;
  try {
    h = make_histogram(values);
  } catch (const Error& e) {
    LUCID_CHECK(false, who, ": tag '", printable(tag), "': ", e.what());
  }
  write_event(who, encode_histogram_event(t, step, tag, h));
}

void SummaryWriter::add_text(const std::string& tag, const std::string& text, int64_t step,
                             std::optional<double> wall_time) {
  const char* who = "SummaryWriter::add_text";
  check_tag(who, tag);
  // string_val is `bytes`, so any bytes would be stored, but the text plugin
  // decodes them as UTF-8 (strictly) to render them as Markdown.
  LUCID_CHECK(is_valid_utf8(text), who, ": tag '", printable(tag), "': the text (", text.size(),
              " bytes) is not valid UTF-8, which TensorBoard's text plugin cannot show");
  write_event(who, encode_text_event(resolve_wall_time(who, wall_time), step, tag + "/text_summary", text));
}

void SummaryWriter::flush() { file_.flush("SummaryWriter::flush"); }

void SummaryWriter::close() { file_.close("SummaryWriter::close"); }

}  // namespace lucid::train::log
