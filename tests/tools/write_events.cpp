// write_events <out_dir>: writes every kind of record lucid's loggers produce,
// for tests/py/test_tensorboard_events.py to read back with TensorBoard and
// Python's json module. What it writes (the Python test restates these rules):
//
//   <out_dir>/run/  two event files, as a run killed at step 9 and resumed
//                   from its checkpoint of step 6 would leave them:
//     1st writer: train/loss = 1 / (step + 1) and train/acc = step / 10 at
//                 steps 0..9, wall_time = 1765142400 + 1.5 * step + 0.123456;
//                 image "samples" (12 x 20 RGB, pixel (y, x, c) =
//                 (7 * y + 3 * x + 50 * c) % 256) at step 3 and step 8;
//                 histogram "weights" of (i - 500) / 64, i = 0..999, as
//                 float32, at step 4 and step 7; text "notes" (kText) at step 5.
//     2nd writer: purge_step 6; train/loss = 100 + step at steps 6..8, same
//                 wall_time rule plus 1000.
//   <out_dir>/scalars.jsonl  the same killed run's train/loss (steps 0..9),
//                   a partial line as a kill mid-write leaves it, then the
//                   resumed run (purge_step 6) logging 100 + step at 6..8.
//   <out_dir>/edge.jsonl  hard values (kEdgeValues) at steps 0.., one per
//                   line, under tags that need JSON escapes.
#include <cstdio>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include <fcntl.h>

#include <lucid/lucid.h>
#include <lucid/train/file_io.h>
#include <lucid/train/log/log.h>

using namespace lucid;
using namespace lucid::train::log;

namespace {

constexpr const char* kText = "**lucid** logs \xc3\xa9t\xc3\xa9\n\n| a | b |\n|---|---|\n| 1 | 2 |";

double wall(int64_t step) { return 1765142400.0 + 1.5 * double(step) + 0.123456; }

data::Image sample_image() {
  data::Image im(12, 20, 3);
  for (int64_t y = 0; y < 12; ++y)
    for (int64_t x = 0; x < 20; ++x)
      for (int64_t c = 0; c < 3; ++c) im.at(y, x, c) = uint8_t((7 * y + 3 * x + 50 * c) % 256);
  return im;
}

Tensor weights() {
  std::vector<float> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = (float(i) - 500.0f) / 64.0f;
  return tensor(v);
}

void write_run(const std::string& dir) {
  {
    SummaryWriter killed(dir);
    for (int64_t step = 0; step < 10; ++step) {
      killed.add_scalar("train/loss", 1.0 / double(step + 1), step, wall(step));
      killed.add_scalar("train/acc", double(step) / 10.0, step, wall(step));
      if (step == 3 || step == 8) killed.add_image("samples", sample_image(), step, wall(step));
      if (step == 4 || step == 7) killed.add_histogram("weights", weights(), step, wall(step));
      if (step == 5) killed.add_text("notes", kText, step, wall(step));
    }
  }
  SummaryWriter resumed(dir, SummaryWriterOptions().purge_step(6));
  for (int64_t step = 6; step < 9; ++step)
    resumed.add_scalar("train/loss", 100.0 + double(step), step, wall(step) + 1000);
}

void write_jsonl(const std::string& out) {
  const std::string path = out + "/scalars.jsonl";
  {
    ScalarJsonlWriter killed(path);
    for (int64_t step = 0; step < 10; ++step)
      killed.add_scalar("train/loss", 1.0 / double(step + 1), step, wall(step));
  }
  {
    train::FileHandle file(path, O_WRONLY | O_APPEND, "write_events");
    file.write_all("{\"step\": 10, \"tag\": \"train/lo", "write_events");  // killed mid-write
  }
  ScalarJsonlWriter resumed(path, 6);
  for (int64_t step = 6; step < 9; ++step)
    resumed.add_scalar("train/loss", 100.0 + double(step), step, wall(step) + 1000);

  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> kEdgeValues = {0.1, 1.0 / 3.0, -0.0, 5e-324, 1.7976931348623157e308,
                                           2.0, 1e16, std::numeric_limits<double>::quiet_NaN(), inf, -inf};
  ScalarJsonlWriter edge(out + "/edge.jsonl");
  for (size_t i = 0; i < kEdgeValues.size(); ++i)
    edge.add_scalar(i % 2 ? "quote\"back\\slash\nnew\tline" : "\xc3\xa9t\xc3\xa9/\x01", kEdgeValues[i], int64_t(i),
                    wall(int64_t(i)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <out_dir>\n", argv[0]);
    return 2;
  }
  try {
    const std::string out = argv[1];
    write_run(out + "/run");
    write_jsonl(out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_events: %s\n", e.what());
    return 1;
  }
  return 0;
}
