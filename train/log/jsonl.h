#pragma once
// A scalar log as JSON lines, for plotting with anything but TensorBoard
// (pandas.read_json(path, lines=True), jq, a spreadsheet, a ten-line script).
//
//   ScalarJsonlWriter   add_scalar, flush, close, path
//   format_scalar_line  one line, as the writer writes it
//   format_json_double  a double as JSON, reading back as the same double
//
// One line per scalar, keys always in this order:
//   {"step": 12, "tag": "train/loss", "value": 0.4321, "wall_time": 1765142400.123456}
// step is an integer; value and wall_time (Unix seconds) are doubles printed
// in the shortest form that reads back as the same double (std::to_chars),
// with ".0" added to an integral one so Python reads a float (2.0, not 2).
// Unlike TensorBoard's simple_value, the value is not rounded to a float.
// NaN, inf and -inf are written NaN, Infinity and -Infinity, as Python's json
// module writes and reads them. That is not standard JSON: Python and pandas
// read it, JavaScript's JSON.parse and jq do not. Tags are JSON-escaped
// (quote, backslash, control characters) and must be non-empty, valid UTF-8.
//
// The file is opened for appending, so a resumed run continues its log.
// Opening also repairs and trims it:
//   - a partial last line (no final newline: the process was killed in the
//     middle of a write) is dropped;
//   - with purge_step T, every line whose step >= T is dropped: what a run
//     killed after step T and resumed from its checkpoint of step T logged
//     past T, the same rule as the SummaryWriter's purge_step (summary_writer.h),
//     so the log holds each step once. Every line must then start with
//     {"step": <integer>, or opening raises.
// When a line is dropped, the file is rewritten atomically (write_file_atomic:
// the old file or the new one survives a crash, never half of one).
//
// Each line is written with one write(2) and is in the OS when add_scalar
// returns (a killed process loses nothing); flush() fsyncs. A write that
// fails (ENOSPC, EFBIG) raises lucid::Error naming the file and the reason,
// and the file is cut back to its last complete line.
//
// Threads: one mutex, as SummaryWriter; lines land whole.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <lucid/train/file_io.h>

namespace lucid::train::log {

class ScalarJsonlWriter {
 public:
  // Creates the parent directories if needed.
  explicit ScalarJsonlWriter(const std::string& path, std::optional<int64_t> purge_step = {});
  ~ScalarJsonlWriter();  // close(); never throws
  ScalarJsonlWriter(const ScalarJsonlWriter&) = delete;
  ScalarJsonlWriter& operator=(const ScalarJsonlWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step, std::optional<double> wall_time = {});
  void flush();  // fsync; a no-op once closed
  void close();  // flush, then close; add_scalar afterwards raises

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  RecordFile file_;      // whole lines only, even after a failed write
};

// {"step": ..., "tag": ..., "value": ..., "wall_time": ...} and a newline.
std::string format_scalar_line(const std::string& tag, double value, int64_t step, double wall_time);
std::string format_json_double(double value);

}  // namespace lucid::train::log
