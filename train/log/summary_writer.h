#pragma once
// TensorBoard event files, written without protobuf or TensorFlow: the C++
// counterpart of PyTorch's torch.utils.tensorboard.SummaryWriter.
//
//   SummaryWriterOptions  purge_step, filename_suffix
//   SummaryWriter         add_scalar, add_image, add_image_png, add_histogram,
//                         add_text, flush, close, file_path
//   Histogram             the HistogramProto fields; make_histogram computes
//                         them with PyTorch's default buckets
//   event encoders        the bytes of each kind of Event, and frame_tfrecord
//                         (public so tests can check them byte by byte)
//
// The file. One writer writes one file, never shared:
//   <log_dir>/events.out.tfevents.<%010d unix seconds>.<hostname>.<pid>.<n><suffix>
// as TensorBoard's own EventFileWriter (which PyTorch uses) names it; n counts
// the writers this process has opened (0, 1, ...), so two writers in one
// process and one second still get two files. TensorBoard reads the event
// files of a directory, in name order, as one run (each subdirectory of
// --logdir is another run).
//
// The file is a sequence of TFRecords, one serialized Event proto each:
//   uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes |
//   the Event bytes | uint32 masked CRC-32C of the Event bytes
// (crc32c.h has the mask). The first record is Event{wall_time, file_version:
// "brain.Event:2"}. The proto fields lucid writes (tensorboard/compat/proto):
//   Event          1 wall_time (double), 2 step (int64), 3 file_version,
//                  5 summary (Summary), 7 session_log (SessionLog)
//   SessionLog     1 status (enum; START = 1)
//   Summary        1 value (repeated Summary.Value)
//   Summary.Value  1 tag, 2 simple_value (float), 4 image, 5 histo,
//                  8 tensor (TensorProto), 9 metadata (SummaryMetadata)
//   Summary.Image  1 height, 2 width, 3 colorspace (int32), 4 encoded_image_string
//   HistogramProto 1 min, 2 max, 3 num, 4 sum, 5 sum_squares (double),
//                  6 bucket_limit, 7 bucket (packed repeated double)
//   SummaryMetadata 1 plugin_data { 1 plugin_name }
//   TensorProto    1 dtype (DT_STRING = 7), 2 tensor_shape { 2 dim { 1 size } },
//                  8 string_val (repeated bytes)
//
// Durability. Each add_* writes its whole record with one write(2) before it
// returns: the bytes are in the OS, so a process that is killed (SIGKILL, a
// crash, an OOM kill) loses none of them. flush() also fsyncs, for a power
// cut or a machine that dies. A write that fails (ENOSPC, EFBIG) raises and
// cuts the file back to the last complete record, so the file stays readable
// and a later add_* (once there is space) continues it.
//
// purge_step: resuming a run that was killed. A run killed at step T + X and
// resumed from its checkpoint of step T logs steps T .. T + X a second time.
// Given purge_step T, the writer starts its file with
// Event{step: T, session_log: {status: START}}, and TensorBoard hides the
// killed run's points at step >= T. Precisely, in TensorBoard 2.21, for the
// files of one run directory read in name order (the killed run's file first:
// names start with the creation time; a file made within the same second
// sorts by hostname, then pid as text):
//   - EventAccumulator (tensorboard.backend.event_processing.event_accumulator):
//     once it has read file_version "brain.Event:2", every START event drops
//     every scalar, histogram, image and audio point read so far, of every tag,
//     whose step >= T. Points read after the START are kept whatever their
//     step. Tensor-form data (add_text) is not purged.
//   - `tensorboard --load_fast=false` (plugin_event_accumulator): the same for
//     every kind of data, except that it ignores the first START of a run,
//     taking it for the run's first session start. A killed run that wrote no
//     START (one started without purge_step) makes the resumed run's START
//     that first one, so lucid writes the START event twice: the second one
//     purges. (PyTorch writes it once, which purges nothing there; to the first
//     reader a second START at the same step changes nothing.)
//   - `tensorboard` with its default Rust data server ignores SessionLog. Its
//     rule is per tag: a point at step s drops that tag's points read before it
//     with step >= s. So a resumed run replaces a tag's stale points as soon
//     as it logs that tag again, with or without purge_step.
// ScalarJsonlWriter (jsonl.h) gives its purge_step the same meaning.
//
// Values, as PyTorch's writer stores them:
//   add_scalar     Summary.Value.simple_value, a 32-bit float: the double is
//                  rounded to float (1e40 becomes inf). NaN and inf are
//                  written as they are, as PyTorch does.
//   add_image      the image as PNG (data::encode_png); colorspace = channels
//                  (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA).
//   add_histogram  see make_histogram below.
//   add_text       the text plugin's tensor form, under the tag
//                  "<tag>/text_summary" as PyTorch names it; the text is
//                  Markdown to TensorBoard and must be valid UTF-8 (its
//                  text plugin decodes it strictly).
// wall_time is Unix seconds as a double (microseconds kept), the current time
// unless given; a given one must be finite.
//
// Errors are lucid::Error naming the call and the file or directory, and the
// system's reason: a log_dir that cannot be created (e.g. a path under a
// regular file), a file that cannot be opened or written. Tags must be valid
// UTF-8: protobuf's parser rejects a whole event with a string field that
// is not (in PyTorch, protobuf refuses such a tag when the event is built).
// An empty tag is refused too, which PyTorch does not do (it writes a
// series with no name).
//
// Threads: every write holds one mutex, so a loader thread and the training
// loop may both log through one writer. Records from two threads land whole,
// in the order they took the lock.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <lucid/data/transforms/image.h>
#include <lucid/kernels/tensor.h>
#include <lucid/train/file_io.h>

namespace lucid::train::log {

// Chained setters: SummaryWriterOptions().purge_step(1000).filename_suffix(".eval").
class SummaryWriterOptions {
 public:
  // Hide an earlier, killed run's points at step >= this (see above).
  SummaryWriterOptions& purge_step(std::optional<int64_t> v) { purge_step_ = v; return *this; }
  const std::optional<int64_t>& purge_step() const { return purge_step_; }
  // Appended to the file name, e.g. ".eval"; no '/'.
  SummaryWriterOptions& filename_suffix(std::string v) { filename_suffix_ = std::move(v); return *this; }
  const std::string& filename_suffix() const { return filename_suffix_; }

 private:
  std::optional<int64_t> purge_step_;
  std::string filename_suffix_;
};

class SummaryWriter {
 public:
  // Creates log_dir (and its parents) if needed and a new event file in it.
  explicit SummaryWriter(const std::string& log_dir, SummaryWriterOptions options = {});
  ~SummaryWriter();  // close(); never throws
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step,
                  std::optional<double> wall_time = {});
  void add_image(const std::string& tag, const data::Image& image, int64_t step,
                 std::optional<double> wall_time = {});
  // An image already encoded as PNG, with its size and channel count.
  void add_image_png(const std::string& tag, std::string png, int64_t height, int64_t width,
                     int64_t channels, int64_t step, std::optional<double> wall_time = {});
  // Any dtype, any device (read as float64 on the CPU), at least one element.
  void add_histogram(const std::string& tag, const Tensor& values, int64_t step,
                     std::optional<double> wall_time = {});
  void add_text(const std::string& tag, const std::string& text, int64_t step,
                std::optional<double> wall_time = {});

  // fsync: what was written survives a power cut. A no-op once closed.
  void flush();
  // flush(), then close the file. add_* after close() raises; close() again
  // does nothing.
  void close();

  const std::string& log_dir() const { return log_dir_; }
  const std::string& file_path() const { return path_; }

 private:
  void write_event(const char* who, std::string_view event);

  std::string log_dir_;
  std::string path_;
  RecordFile file_;        // whole TFRecords only, even after a failed write
};

// ---- histograms ---------------------------------------------------------------
// HistogramProto's fields. bucket[i] counts the values in
// [bucket_limit[i - 1], bucket_limit[i]): TensorBoard reads each limit as the
// right edge of its bucket, the left edge being the limit before it.
struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit;
  std::vector<double> bucket;
};

// PyTorch's bins="tensorflow" (its default): edges at 0 and at +-1e-12 * 1.1^k
// for every k with 1e-12 * 1.1^k < 1e20, computed by repeated multiplication
// as PyTorch does, so the doubles are the same: 1549 edges, ascending.
const std::vector<double>& default_histogram_edges();

// The histogram PyTorch's add_histogram writes for `values` (numpy's
// np.histogram over the edges above, then trimmed):
//   - a value x falls in bin i when edge[i] <= x < edge[i + 1]; the last bin
//     also takes x == its right edge. A value below the first edge or above the
//     last (|x| >= ~1e20, +-inf) or NaN falls in no bin.
//   - the bins before the first non-empty bin and after the last one are
//     dropped, keeping one empty bin on the left, so that the left edge of the
//     first non-empty bin appears as a limit; empty bins between are kept.
//   - min, max, num, sum, sum_squares are over every value, counted or not,
//     as numpy computes them: one NaN makes min, max, sum and sum_squares NaN;
//     an inf makes max (or min) and the sums inf. num counts every value.
// Raises when `values` is empty or when no value falls in a bin (all NaN, for
// instance), as PyTorch does.
Histogram make_histogram(const Tensor& values);

// ---- event encoders -------------------------------------------------------------
// Each returns one serialized Event proto, fields in field-number order and
// proto3 defaults left out, byte for byte what protobuf writes for it. Tags
// are stored as given (add_text appends "/text_summary" before calling
// encode_text_event).
std::string encode_file_version_event(double wall_time);
std::string encode_session_start_event(double wall_time, int64_t step);
std::string encode_scalar_event(double wall_time, int64_t step, const std::string& tag, double value);
std::string encode_image_event(double wall_time, int64_t step, const std::string& tag,
                               std::string_view png, int64_t height, int64_t width, int64_t channels);
std::string encode_histogram_event(double wall_time, int64_t step, const std::string& tag,
                                   const Histogram& histogram);
std::string encode_text_event(double wall_time, int64_t step, const std::string& tag,
                              std::string_view text);

// One TFRecord: length, masked CRC of the length, data, masked CRC of the data.
std::string frame_tfrecord(std::string_view data);

// Unix time in seconds, with sub-second precision.
double unix_time_now();

}  // namespace lucid::train::log
