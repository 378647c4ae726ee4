// Exact resume, on disk, in fresh processes: lucid-train run for N steps gives
// bit for bit the same parameters and optimizer state as a run stopped at step
// k (saved, process exits) and resumed by a new process, for k = 0, mid-epoch,
// an epoch boundary and the last step, with 0 and 2 loader workers. Then the
// crashes: a child SIGKILLed mid-run, and one SIGKILLed in the middle of
// writing a checkpoint (a failpoint holds it there): the previous checkpoint
// stays intact and loadable, the next start removes the partial directory, and
// the resumed run still ends bit-identical to the run that was never killed.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
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
using lucid::testing::ChildProcess;
using lucid::testing::run_child;
using lucid::testing::TempDir;
namespace fs = std::filesystem;

#ifdef LUCID_TRAIN_EXE

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// 320 training images in batches of 32: 10 steps per epoch, 2 epochs. The
// SmallCNN has BatchNorm (running statistics are buffers) and Dropout (draws
// from the default generator); the training transform flips at random (the
// per-sample generator the loader seeds): everything a resume must restore.
constexpr int kStepsPerEpoch = 10, kEpochs = 2, kSteps = kStepsPerEpoch * kEpochs;
// The runs a test kills or interrupts: long enough that the signal lands before the end.
constexpr int kLongEpochs = kSanitized ? 3 : 6;

std::vector<std::string> train_args(const std::string& logdir, int workers, int epochs = kEpochs) {
  return {LUCID_TRAIN_EXE, "--recipe", "fashion-cnn", "--train-samples", "320", "--val-samples", "100",
          "--batch-size", "32", "--epochs", std::to_string(epochs), "--seed", "3", "--workers",
          std::to_string(workers), "--threads", "2", "--image-every", "7", "--log-every", "3",
          "--logdir", logdir, "--progress", "lines"};
}

std::vector<std::string> with(std::vector<std::string> args, std::initializer_list<std::string> more) {
  args.insert(args.end(), more);
  return args;
}

// Runs lucid-train; fails the test with its output unless it exits with `code`.
std::string run_ok(const std::vector<std::string>& args, const std::string& log, int code = 0,
                   std::vector<std::string> env = {}) {
  const int rc = run_child(args, log, std::move(env));
  std::ifstream in(log);
  std::stringstream out;
  out << in.rdbuf();
  INFO(out.str());
  REQUIRE(rc == code);
  return out.str();
}

std::string read(const std::string& path) { return train::read_file_bytes(path, "test"); }

// Same dtype, shape and bytes.
bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.sizes() != b.sizes()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), static_cast<size_t>(ca.numel()) * ca.element_size()) == 0;
}

// What must be equal after N steps, however they were reached: the model and
// optimizer files byte for byte (safetensors output is deterministic), and
// the scheduler, loader, generator and step counters.
struct Final {
  std::string model, optimizer;
  train::TrainerState state;
};
Final final_state(const std::string& logdir, int step = kSteps) {
  const std::string dir = logdir + "/checkpoints/" + train::step_dir_name(step);
  INFO(dir);
  REQUIRE(train::is_complete_checkpoint(dir));
  return {read(dir + "/model.safetensors"), read(dir + "/optimizer.safetensors"), train::read_checkpoint(dir).state};
}

void check_same(const Final& a, const Final& b) {
  CHECK(a.model == b.model);
  CHECK(a.optimizer == b.optimizer);
  CHECK(a.state.global_step == b.state.global_step);
  CHECK(a.state.epoch == b.state.epoch);
  CHECK(a.state.generator.seed == b.state.generator.seed);
  CHECK(a.state.generator.offset == b.state.generator.offset);
  CHECK(read_int(a.state.loader_state, "epoch", "t") == read_int(b.state.loader_state, "epoch", "t"));
  CHECK(read_int(a.state.loader_state, "batches_served", "t") ==
        read_int(b.state.loader_state, "batches_served", "t"));
  REQUIRE(a.state.scheduler_state.size() == b.state.scheduler_state.size());
  for (const auto& item : a.state.scheduler_state) {
    INFO(item.key());
    CHECK(same_bits(item.value(), b.state.scheduler_state[item.key()]));
  }
  CHECK(a.state.metrics == b.state.metrics);  // validation after the last epoch, same model: same numbers
}

// The uninterrupted run, once per worker count (and the two must agree).
const Final& reference(int workers) {
  static std::map<int, Final> done;
  static TempDir dir;
  if (!done.count(workers)) {
    const std::string logdir = dir / ("full-" + std::to_string(workers));
    run_ok(train_args(logdir, workers), dir / ("full-" + std::to_string(workers) + ".log"));
    done[workers] = final_state(logdir);
  }
  return done.at(workers);
}

}  // namespace

TEST_CASE("the full run does not depend on the number of loader workers") {
  check_same(reference(0), reference(2));
}

TEST_CASE("stopped at step k, saved, resumed in a new process: bit-identical to the full run") {
  const std::vector<int> ks = kSanitized ? std::vector<int>{6} : std::vector<int>{0, 6, kStepsPerEpoch, kSteps};
  const std::vector<int> workers = kSanitized ? std::vector<int>{2} : std::vector<int>{0, 2};
  for (int w : workers) {
    for (int k : ks) {
      CAPTURE(w);
      CAPTURE(k);
      TempDir dir;
      const std::string logdir = dir / "run";
      const std::string stopped = run_ok(with(train_args(logdir, w), {"--stop-at-step", std::to_string(k)}),
                                         dir / "stop.log");
      CHECK(stopped.find("stopped after step " + std::to_string(k)) != std::string::npos);
      const std::string ckpt = logdir + "/checkpoints/" + train::step_dir_name(k);
      REQUIRE(train::is_complete_checkpoint(ckpt));
      // A checkpoint at an epoch boundary resumes at the next epoch's first
      // batch; one taken mid-epoch at the first unseen batch.
      const train::Checkpoint c = train::read_checkpoint(ckpt);
      CHECK(c.state.global_step == k);
      CHECK(read_int(c.state.loader_state, "epoch", "t") * kStepsPerEpoch +
                read_int(c.state.loader_state, "batches_served", "t") ==
            k);
      if (k % kStepsPerEpoch == 0 && k > 0)
        CHECK(read_int(c.state.loader_state, "batches_served", "t") == 0);

      // The resumed process may use another worker count: it changes no result.
      const std::string resumed = run_ok({LUCID_TRAIN_EXE, "--resume", "auto", "--logdir", logdir, "--workers",
                                          std::to_string(2 - w), "--progress", "lines"},
                                         dir / "resume.log");
      CHECK(resumed.find("resumed from") != std::string::npos);
      check_same(final_state(logdir), reference(w));
    }
  }
}

TEST_CASE("SIGKILL mid-run: --resume auto continues from the last checkpoint to the same end") {
  TempDir dir;
  const std::string logdir = dir / "run";
  // Longer than the reference so the kill lands well before the end (the
  // sanitized build is slow enough with fewer).
  const auto args = with(train_args(logdir, 2, kLongEpochs), {"--checkpoint-every-steps", "4"});
  {
    ChildProcess child(args, dir / "killed.log");
    const bool saved = child.wait_until([&] { return fs::exists(logdir + "/checkpoints/last"); },
                                        std::chrono::seconds(600));
    INFO(child.log());
    REQUIRE(saved);
    REQUIRE_FALSE(child.exited());
    child.kill(SIGKILL);
    const int status = child.wait();
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
  }
  const auto last = train::latest_checkpoint(logdir + "/checkpoints");
  REQUIRE(last.has_value());
  CHECK_NOTHROW(train::read_checkpoint(*last));
  run_ok({LUCID_TRAIN_EXE, "--resume", "auto", "--logdir", logdir, "--progress", "lines"}, dir / "resume.log");

  const std::string full = dir / "full";
  run_ok(with(train_args(full, 0, kLongEpochs), {"--checkpoint-every-steps", "4"}), dir / "full.log");
  check_same(final_state(logdir, kLongEpochs * kStepsPerEpoch), final_state(full, kLongEpochs * kStepsPerEpoch));
}

TEST_CASE("SIGKILL in the middle of a checkpoint save: the previous one survives, the partial one is removed") {
  for (const char* point : {"checkpoint.after_model", "checkpoint.before_rename"}) {
    CAPTURE(point);
    TempDir dir;
    const std::string logdir = dir / "run";
    const auto args = with(train_args(logdir, 2), {"--checkpoint-every-steps", "4"});
    run_ok(with(args, {"--stop-at-step", "4"}), dir / "first.log");
    const std::string before = logdir + "/checkpoints/" + train::step_dir_name(4);
    REQUIRE(train::is_complete_checkpoint(before));
    const std::string model_before = read(before + "/model.safetensors");

    // The next save (step 8) stops at the failpoint; it is killed there.
    const std::string partial = logdir + "/checkpoints/" + train::step_dir_name(8) + ".tmp";
    {
      ChildProcess child({LUCID_TRAIN_EXE, "--resume", "auto", "--logdir", logdir, "--progress", "lines"},
                         dir / "killed.log", {std::string("LUCID_FAILPOINT=") + point});
      const bool reached = child.wait_until(
          [&] { return child.log().find(std::string("failpoint ") + point + " reached") != std::string::npos; },
          std::chrono::seconds(600));
      INFO(child.log());
      REQUIRE(reached);
      child.kill(SIGKILL);
      CHECK(WIFSIGNALED(child.wait()));
    }
    CHECK(fs::is_directory(partial));
    CHECK(fs::exists(partial + "/model.safetensors"));
    CHECK_FALSE(fs::exists(logdir + "/checkpoints/" + train::step_dir_name(8)));
    // The previous checkpoint: untouched, still the latest, and loadable.
    CHECK(read(before + "/model.safetensors") == model_before);
    CHECK(train::latest_checkpoint(logdir + "/checkpoints") == before);
    CHECK_NOTHROW(train::read_checkpoint(before));

    const std::string resumed = run_ok({LUCID_TRAIN_EXE, "--resume", "auto", "--logdir", logdir, "--progress", "lines"},
                                       dir / "resume.log");
    CHECK(resumed.find("removed a partial checkpoint left by an interrupted save: " + partial) != std::string::npos);
    CHECK_FALSE(fs::exists(partial));
    check_same(final_state(logdir), reference(2));
  }
}

TEST_CASE("SIGTERM: the step finishes, a checkpoint is saved, exit 143; the resume ends bit-identical") {
  TempDir dir;
  const std::string logdir = dir / "run";
  const auto args = with(train_args(logdir, 2, kLongEpochs), {"--checkpoint-every-steps", "3"});
  {
    ChildProcess child(args, dir / "term.log");
    REQUIRE(child.wait_until([&] { return fs::exists(logdir + "/checkpoints/last"); }, std::chrono::seconds(600)));
    child.kill(SIGTERM);
    const int status = child.wait();
    INFO(child.log());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
    CHECK(child.log().find("(SIGTERM); saved") != std::string::npos);
  }
  const std::string resumed =
      run_ok({LUCID_TRAIN_EXE, "--resume", "auto", "--logdir", logdir, "--progress", "lines"}, dir / "resume.log");
  const std::string full = dir / "full";
  run_ok(with(train_args(full, 0, kLongEpochs), {"--checkpoint-every-steps", "3"}), dir / "full.log");
  check_same(final_state(logdir, kLongEpochs * kStepsPerEpoch), final_state(full, kLongEpochs * kStepsPerEpoch));

  // The logs hold every (tag, step) once: the killed run's points after its
  // checkpoint were purged, and nothing was logged twice.
  std::ifstream jsonl(logdir + "/scalars.jsonl");
  std::set<std::pair<std::string, int64_t>> seen;
  size_t lines = 0;
  for (std::string line; std::getline(jsonl, line); ++lines) {
    const auto v = data::text::json::parse(line, "scalars.jsonl");
    CHECK(seen.insert({v.find("tag")->string, v.find("step")->integer}).second);
  }
  CHECK(lines == seen.size());
  std::ifstream full_jsonl(full + "/scalars.jsonl");
  size_t full_lines = 0;
  for (std::string line; std::getline(full_jsonl, line);) ++full_lines;
  CHECK(seen.size() == full_lines);  // the same points as the uninterrupted run
}

TEST_CASE("resuming an older checkpoint moves the newer ones aside and still ends bit-identical") {
  TempDir dir;
  const std::string logdir = dir / "run";
  run_ok(with(train_args(logdir, 2), {"--checkpoint-every-steps", "4", "--save-top-k", "-1", "--stop-at-step", "16"}),
         dir / "first.log");
  const std::string old = logdir + "/checkpoints/" + train::step_dir_name(8);
  REQUIRE(train::is_complete_checkpoint(old));
  const std::string out = run_ok({LUCID_TRAIN_EXE, "--resume", old, "--progress", "lines"}, dir / "resume.log");
  CHECK(out.find("moved a checkpoint of the run's abandoned future (after step 8) aside") != std::string::npos);
  CHECK(train::is_complete_checkpoint(logdir + "/checkpoints/abandoned-after-" + train::step_dir_name(8) + "/" +
                                      train::step_dir_name(12)));
  check_same(final_state(logdir), reference(2));
}

#else
TEST_CASE("lucid-train was not built (CLI11 missing): the resume tests cannot run") {
  MESSAGE("skipped: build lucid-train (apt-get install libcli11-dev) to run the exact-resume tests");
}
#endif
