// Exact resume on a GPU: lucid-train with --device cuda --deterministic
// (cuDNN's deterministic algorithms; lucid's own kernels always are), stopped
// mid-epoch and at an epoch boundary, each resumed in a new process, ends with
// the same model and optimizer files as the run that never stopped. (Small, so
// that the CPU emulation of the GPU, scripts/test.sh --emulate-gpu, runs it too.)
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <lucid/train/checkpoint.h>
#include <lucid/train/file_io.h>

#include "child_process.h"
#include "temp_dir.h"

using lucid::testing::run_child;
using lucid::testing::TempDir;
namespace train = lucid::train;

#ifdef LUCID_TRAIN_EXE

namespace {
std::vector<std::string> args(const std::string& logdir, std::vector<std::string> more = {}) {
  std::vector<std::string> a = {LUCID_TRAIN_EXE, "--device", "cuda", "--deterministic", "--recipe", "fashion-cnn",
                                "--train-samples", "192", "--val-samples", "64", "--batch-size", "32",
                                "--epochs", "2", "--seed", "3", "--workers", "2", "--logdir", logdir,
                                "--progress", "lines"};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}
std::string file(const std::string& logdir, const char* name) {
  return train::read_file_bytes(logdir + "/checkpoints/" + train::step_dir_name(12) + "/" + name, "test");
}
}  // namespace

TEST_CASE("on cuda:0, stopped at step k and resumed: the same bits as the full run") {
  TempDir dir;
  const std::string full = dir / "full";
  REQUIRE(run_child(args(full), dir / "full.log") == 0);
  for (int k : {4, 6}) {  // 6 steps per epoch: mid-epoch, and the epoch boundary
    CAPTURE(k);
    const std::string logdir = dir / ("k" + std::to_string(k));
    REQUIRE(run_child(args(logdir, {"--stop-at-step", std::to_string(k)}), dir / "stop.log") == 0);
    REQUIRE(run_child({LUCID_TRAIN_EXE, "--resume", "auto", "--logdir", logdir, "--progress", "lines"},
                      dir / "resume.log") == 0);
    CHECK(file(logdir, "model.safetensors") == file(full, "model.safetensors"));
    CHECK(file(logdir, "optimizer.safetensors") == file(full, "optimizer.safetensors"));
  }
}

#else
TEST_CASE("lucid-train was not built (CLI11 missing)") { MESSAGE("skipped: lucid-train is not built"); }
#endif
