#include <lucid/train/log/jsonl.h>

#include <lucid/data/text/json.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

#include <lucid/kernels/error.h>
#include <lucid/train/log/protobuf.h>
#include <lucid/train/log/summary_writer.h>

namespace lucid::train::log {

namespace {

constexpr std::string_view kStepPrefix = "{\"step\": ";

// The step of one of our lines ({"step": <integer>, ...), or nullopt.
std::optional<int64_t> line_step(std::string_view line) {
  if (line.substr(0, kStepPrefix.size()) != kStepPrefix) return std::nullopt;
  const char* begin = line.data() + kStepPrefix.size();
  const char* end = line.data() + line.size();
  int64_t step = 0;
  const auto [p, ec] = std::from_chars(begin, end, step);
  if (ec != std::errc() || p == end || *p != ',') return std::nullopt;
  return step;
}

// What to keep of an existing log: complete lines only, and with purge_step
// only those whose step < purge_step.
std::string kept_lines(const std::string& path, const std::string& bytes, std::optional<int64_t> purge_step) {
  const size_t last_newline = bytes.rfind('\n');
  const size_t complete = last_newline == std::string::npos ? 0 : last_newline + 1;
  if (!purge_step) return bytes.substr(0, complete);
  std::string kept;
  size_t line_no = 0;
  for (size_t begin = 0; begin < complete;) {
    const size_t end = bytes.find('\n', begin);  // < complete: every line up to there ends in one
    const std::string_view line(bytes.data() + begin, end - begin);
    ++line_no;
    const std::optional<int64_t> step = line_step(line);
    LUCID_CHECK(step.has_value(), "ScalarJsonlWriter: ", path, ": line ", line_no, " does not start with ",
                kStepPrefix, "<integer>, so purge_step cannot tell its step");
    if (*step < *purge_step) kept.append(bytes, begin, end + 1 - begin);
    begin = end + 1;
  }
  return kept;
}

}  // namespace

std::string format_json_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return data::text::json::format_number(value);  // shortest round-trip form, "2.0" not "2"
}


std::string format_scalar_line(const std::string& tag, double value, int64_t step, double wall_time) {
  return std::string(kStepPrefix) + std::to_string(step) + ", \"tag\": " + data::text::json::quote(tag) +
         ", \"value\": " + format_json_double(value) + ", \"wall_time\": " + format_json_double(wall_time) +
         "}\n";
}

ScalarJsonlWriter::ScalarJsonlWriter(const std::string& path, std::optional<int64_t> purge_step) : path_(path) {
  LUCID_CHECK(!path.empty(), "ScalarJsonlWriter: empty path");
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    LUCID_CHECK(!ec, "ScalarJsonlWriter: cannot create the directory ", parent.string(), " (", ec.message(), ")");
  }
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    const std::string bytes = read_file_bytes(path, "ScalarJsonlWriter");
    const std::string kept = kept_lines(path, bytes, purge_step);
    if (kept.size() != bytes.size()) write_file_atomic(path, kept);
  }
  file_.open(path, 0, "ScalarJsonlWriter");
}

ScalarJsonlWriter::~ScalarJsonlWriter() {
  try {
    close();  // a failed final fsync has nowhere to go from a destructor
  } catch (...) {
  }
}

void ScalarJsonlWriter::add_scalar(const std::string& tag, double value, int64_t step,
                                   std::optional<double> wall_time) {
  const char* who = "ScalarJsonlWriter::add_scalar";
  LUCID_CHECK(!tag.empty(), who, ": ", path_, ": empty tag");
  LUCID_CHECK(is_valid_utf8(tag), who, ": ", path_, ": the tag (", tag.size(), " bytes) is not valid UTF-8");
  LUCID_CHECK(!wall_time || std::isfinite(*wall_time), who, ": ", path_, ": wall_time ", *wall_time,
              " is not finite");
  const std::string line = format_scalar_line(tag, value, step, wall_time ? *wall_time : unix_time_now());

  file_.append(line, who);
}

void ScalarJsonlWriter::flush() { file_.flush("ScalarJsonlWriter::flush"); }

void ScalarJsonlWriter::close() { file_.close("ScalarJsonlWriter::close"); }

}  // namespace lucid::train::log
