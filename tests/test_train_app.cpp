// lucid-train as a user meets it: bad flags, an unknown recipe, a missing
// dataset, an unusable log directory, a second run into a used one, a resume
// that contradicts the run's settings, a corrupted or newer checkpoint: each a
// clear message naming the flag or file, a non-zero exit, and no checkpoint
// touched. Then --print-config, --eval-only, and a non-finite loss stopping
// the run with the batch's sample indices and the state before the step.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <lucid/lucid.h>
#include <lucid/train/checkpoint.h>
#include <lucid/train/file_io.h>
#include <lucid/train/model_checkpoint.h>

#include "child_process.h"
#include "temp_dir.h"

using namespace lucid;
using lucid::testing::run_child;
using lucid::testing::TempDir;
namespace fs = std::filesystem;

#ifdef LUCID_TRAIN_EXE

namespace {

struct Result {
  int code;
  std::string out;
};

Result run(std::vector<std::string> args, const TempDir& dir, const std::string& name = "run.log") {
  args.insert(args.begin(), LUCID_TRAIN_EXE);
  const std::string log = dir / name;
  const int code = run_child(args, log);
  return {code, train::read_file_bytes(log, "test")};
}

// A small fashion-mlp run: 4 steps of 32 images.
std::vector<std::string> small(const std::string& logdir) {
  return {"--recipe", "fashion-mlp", "--train-samples", "128", "--val-samples", "64", "--batch-size", "32",
          "--epochs", "1", "--workers", "0", "--logdir", logdir, "--progress", "lines"};
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

bool has(const Result& r, const std::string& text) { return r.out.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("bad flags and values are refused with the flag named") {
  TempDir dir;
  Result r = run({"--bogus"}, dir);
  CHECK(r.code == 2);
  CHECK(has(r, "--bogus"));
  r = run({"--lr", "abc"}, dir);
  CHECK(r.code == 2);
  CHECK(has(r, "--lr"));
  r = run({"--recipe", "resnet9000", "--logdir", dir / "x"}, dir);
  CHECK(r.code == 1);
  CHECK(has(r, "--recipe 'resnet9000' is not a recipe (fashion-cnn, fashion-mlp, charlm)"));
  r = run(plus(small(dir / "y"), {"--batch-size", "0"}), dir);
  CHECK(r.code == 1);
  CHECK(has(r, "--batch-size must be at least 1"));
  r = run({"--device", "tpu"}, dir);
  CHECK(r.code == 2);
  CHECK(has(r, "--device"));
  r = run({"--help"}, dir);
  CHECK(r.code == 0);
  CHECK(has(r, "--resume"));
  CHECK(has(r, "--checkpoint-every-steps"));
}

TEST_CASE("a missing dataset and an unusable log directory are named") {
  TempDir dir;
  Result r = run(plus(small(dir / "a"), {"--data", "/nonexistent/fashion"}), dir);
  CHECK(r.code == 1);
  CHECK(has(r, "/nonexistent/fashion"));
  std::ofstream(dir / "file") << "x";
  r = run(small(dir / "file/logs"), dir);
  CHECK(r.code == 1);
  CHECK(has(r, (dir / "file/logs").c_str()));
}

TEST_CASE("a used log directory, contradicting flags, and bad checkpoints: refused, nothing touched") {
  TempDir dir;
  const std::string logdir = dir / "run";
  REQUIRE(run(small(logdir), dir).code == 0);
  const auto ckpt = train::latest_checkpoint(logdir + "/checkpoints");
  REQUIRE(ckpt.has_value());
  const std::string model_before = train::read_file_bytes(*ckpt + "/model.safetensors", "t");

  Result r = run(small(logdir), dir);  // the same command again, without --resume
  CHECK(r.code == 1);
  CHECK(has(r, "already holds a run"));
  CHECK(has(r, "--resume auto"));

  r = run({"--resume", "auto", "--logdir", logdir, "--lr", "0.5", "--epochs", "4", "--batch-size", "32"}, dir);
  CHECK(r.code == 1);
  CHECK(has(r, "--lr 0.5 (the run has 0.002)"));
  CHECK(has(r, "--epochs 4 (the run has 1)"));
  CHECK_FALSE(has(r, "--batch-size"));  // agrees with the run: not a contradiction

  r = run({"--resume", dir / "nowhere"}, dir);
  CHECK(r.code == 1);
  CHECK(has(r, "no complete checkpoint there"));

  // A truncated model file, then a checkpoint from a newer lucid.
  const std::string bad = dir / "bad";
  fs::copy(*ckpt, bad, fs::copy_options::recursive);
  fs::resize_file(bad + "/model.safetensors", 100);
  r = run({"--resume", bad, "--logdir", dir / "other"}, dir);
  CHECK(r.code == 1);
  CHECK(has(r, bad + "/model.safetensors"));
  const std::string newer = dir / "newer";
  fs::copy(*ckpt, newer, fs::copy_options::recursive);
  std::string state = train::read_file_bytes(newer + "/trainer_state.json", "t");
  state.replace(state.find("\"format_version\": 1"), 19, "\"format_version\": 2");
  std::ofstream(newer + "/trainer_state.json", std::ios::trunc) << state;
  r = run({"--resume", newer, "--logdir", dir / "other"}, dir);
  CHECK(r.code == 1);
  CHECK(has(r, "format_version 2 was written by lucid"));

  CHECK(train::read_file_bytes(*ckpt + "/model.safetensors", "t") == model_before);
  CHECK(train::latest_checkpoint(logdir + "/checkpoints") == ckpt);
}

TEST_CASE("--print-config shows the resolved settings; --eval-only reproduces the saved validation") {
  TempDir dir;
  Result r = run({"--print-config", "--recipe", "fashion-cnn", "--lr", "0.01"}, dir);
  CHECK(r.code == 0);
  const auto config = data::text::json::parse(r.out, "stdout");
  CHECK(config.find("lr")->number == 0.01);
  CHECK(config.find("epochs")->integer == 3);  // the recipe's default, filled in
  CHECK(config.find("optimizer")->string == "adamw");

  const std::string logdir = dir / "run";
  REQUIRE(run(small(logdir), dir).code == 0);
  const auto ckpt = train::latest_checkpoint(logdir + "/checkpoints");
  REQUIRE(ckpt.has_value());
  const double saved = *train::read_checkpoint(*ckpt).state.metric("val/accuracy");
  r = run({"--resume", *ckpt, "--eval-only"}, dir);
  CHECK(r.code == 0);
  char expected[64];
  std::snprintf(expected, sizeof expected, "val accuracy %.4f", saved);
  INFO(r.out);
  CHECK(has(r, expected));
  r = run({"--eval-only", "--logdir", logdir}, dir);
  CHECK(r.code == 1);
  CHECK(has(r, "--eval-only needs a checkpoint"));
}

TEST_CASE("a non-finite loss stops the run before the update, with the sample indices and the state before") {
  TempDir dir;
  const std::string logdir = dir / "run";
  // SGD at an absurd learning rate without clipping: the loss overflows within
  // a few steps. fashion-cnn, so BatchNorm's buffers (which the failing forward
  // pass changes) are part of "the state before"; a checkpoint after every step
  // gives that state to compare with.
  const std::vector<std::string> args = {"--recipe", "fashion-cnn", "--train-samples", "256", "--val-samples", "64",
                                         "--batch-size", "32", "--epochs", "2", "--workers", "0", "--logdir", logdir,
                                         "--progress", "lines", "--optimizer", "sgd", "--lr", "1e12", "--grad-clip",
                                         "0", "--checkpoint-every-steps", "1", "--save-top-k", "-1"};
  Result r = run(args, dir);
  INFO(r.out);
  CHECK(r.code == 3);
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex("non-finite loss .* at step (\\d+) .*training sample indices \\[([0-9, ]+)\\]")));
  const std::string step = m[1], indices = m[2];
  CHECK(std::count(indices.begin(), indices.end(), ',') == 31);  // a batch of 32
  const int64_t before = std::stoll(step) - 1;
  REQUIRE(before >= 1);
  const std::string saved = logdir + "/checkpoints/nonfinite-" + train::step_dir_name(before);
  const std::string regular = logdir + "/checkpoints/" + train::step_dir_name(before);
  REQUIRE(train::is_complete_checkpoint(saved));
  REQUIRE(train::is_complete_checkpoint(regular));
  // The same state as the checkpoint saved after the previous step: every
  // parameter, buffer and optimizer buffer, the loader position and the generator.
  CHECK(train::read_file_bytes(saved + "/model.safetensors", "t") ==
        train::read_file_bytes(regular + "/model.safetensors", "t"));
  CHECK(train::read_file_bytes(saved + "/optimizer.safetensors", "t") ==
        train::read_file_bytes(regular + "/optimizer.safetensors", "t"));
  const train::TrainerState a = train::read_checkpoint(saved).state, b = train::read_checkpoint(regular).state;
  CHECK(a.reason == "non_finite_loss");
  CHECK(a.generator.offset == b.generator.offset);
  CHECK(read_int(a.loader_state, "batches_served", "t") == read_int(b.loader_state, "batches_served", "t"));
  CHECK(read_int(a.loader_state, "epoch", "t") == read_int(b.loader_state, "epoch", "t"));
  // Resumed, it reproduces the same failure at the same step with the same samples.
  const Result again = run({"--resume", saved, "--logdir", dir / "again"}, dir, "again.log");
  INFO(again.out);
  CHECK(again.code == 3);
  CHECK(has(again, "at step " + step + " "));
  CHECK(has(again, "[" + indices + "]"));
}

#else
TEST_CASE("lucid-train was not built (CLI11 missing): the app tests cannot run") {
  MESSAGE("skipped: build lucid-train (apt-get install libcli11-dev) to run the app tests");
}
#endif
