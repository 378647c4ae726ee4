// Checkpoints in one process: the exact JSON forms of small state, the
// trainer_state.json schema, save -> read -> restore into fresh objects (bit
// for bit), every kind of bad checkpoint refused with the file named and
// nothing changed (a restore that fails half way is rolled back), and
// ModelCheckpoint's policy: top-k, last and best pointers, the best score
// surviving a restart, and the cleanup of what a crash left behind.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include <csignal>
#include <sys/resource.h>
#include <unistd.h>

#include <lucid/lucid.h>
#include <lucid/train/checkpoint.h>
#include <lucid/train/file_io.h>
#include <lucid/train/model_checkpoint.h>
#include <lucid/train/state_json.h>

#include "temp_dir.h"

using namespace lucid;
using lucid::testing::TempDir;
namespace fs = std::filesystem;
namespace json = lucid::data::text::json;
namespace F = lucid::nn::functional;

namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.sizes() != b.sizes()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), static_cast<size_t>(ca.numel()) * ca.element_size()) == 0;
}

bool same_dict(const StateDict& a, const StateDict& b) {
  if (a.size() != b.size()) return false;
  for (const auto& item : a) {
    const Tensor* t = b.find(item.key());
    if (!t || !same_bits(item.value(), *t)) return false;
  }
  return true;
}

StateDict cloned(const StateDict& d) {
  StateDict out;
  for (const auto& item : d) out.insert(item.key(), item.value().clone());
  return out;
}

// A small run: MLP with dropout, AdamW in two groups, OneCycleLR, a shuffled loader.
struct Run {
  nn::MLP model;
  optim::AdamW optimizer;
  optim::OneCycleLR scheduler;
  data::DataLoader loader;
  train::TrainingObjects objects() {
    return {model.ptr().get(), &optimizer, train::scheduler_handle(scheduler, "OneCycleLR"), &loader};
  }
  explicit Run(uint64_t seed, int64_t hidden = 16)
      : model([&] {
          manual_seed(seed);
          return nn::MLP(nn::MLPOptions(4, {hidden}, 3).dropout(0.3));
        }()),
        optimizer(model->parameters(), optim::AdamWOptions(1e-2)),
        scheduler(optimizer, optim::OneCycleLROptions({1e-2}, 40)),
        loader(std::make_shared<data::TensorDataset>(
                   [] { manual_seed(99); return randn({40, 4}); }(), [] { manual_seed(98); return randint(0, 3, {40}); }()),
               data::DataLoaderOptions(8).shuffle(true).seed(5)) {}

  // n steps in one go; after(k) runs after step k, inside the loop (leaving a
  // loop early abandons its epoch, so a checkpoint is taken without leaving it).
  void steps(int n, const std::function<void(int)>& after = {}) {
    int done = 0;
    while (done < n)
      for (data::Example& b : loader) {
        optimizer.zero_grad();
        F::cross_entropy(model(b.data), b.target).backward();
        optimizer.step();
        scheduler.step();
        ++done;
        if (after) after(done);
        if (done == n) break;
      }
  }
};

train::TrainerState state_at(int64_t step, double accuracy = NAN) {
  train::TrainerState s;
  s.reason = "test";
  s.global_step = step;
  if (!std::isnan(accuracy)) s.metrics = {{"val/accuracy", accuracy}};
  s.config = json::Value::of_object({{"recipe", json::Value::of_string("test")}});
  return s;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

// ---- state_json ---------------------------------------------------------------------

TEST_CASE("state_json: every form round-trips with the same dtype, shape and bits") {
  StateDict d;
  d.insert("step", state_int(INT64_MIN));
  d.insert("lr", state_double(0.1));
  d.insert("best", state_double(std::numeric_limits<double>::infinity()));
  d.insert("worst", state_double(-std::numeric_limits<double>::infinity()));
  d.insert("nan", state_double(NAN));
  d.insert("negzero", state_double(-0.0));
  d.insert("ids", tensor(std::vector<int64_t>{3, -1, INT64_MAX}));
  d.insert("lrs", tensor(std::vector<double>{1e-300, 1.0 / 3.0}, kFloat64));
  d.insert("empty", empty({0}, kInt64));
  d.insert("matrix", tensor({{1.5, -2.25}, {1e-7, 3.0}}, kFloat32));
  d.insert("flags", tensor(std::vector<double>{1, 0, 1}).to(kBool));
  d.insert("bytes", tensor(std::vector<double>{0, 255}).to(kUInt8));
  const std::string text = json::dump(train::state_to_json(d, "test"));
  const StateDict back = train::state_from_json(json::parse(text, "t.json"), "x", "t.json");
  CHECK(same_dict(d, back));
  CHECK(text.find("\"best\": \"Infinity\"") != std::string::npos);
  CHECK(text.find("\"lr\": 0.1") != std::string::npos);
  CHECK(text.find("\"ids\": [3, -1, 9223372036854775807]") != std::string::npos);
}

TEST_CASE("state_json: refuses big tensors, and bad JSON forms with the key named") {
  StateDict big;
  big.insert("w", zeros({train::kMaxJsonElements + 1}));
  CHECK_THROWS_WITH_AS(train::state_to_json(big, "who"), doctest::Contains("'w' has 4097 elements"), Error);
  auto fails = [](const std::string& text, const std::string& message) {
    CHECK_THROWS_WITH_AS(train::state_from_json(json::parse(text, "s.json"), "opt", "s.json"),
                         doctest::Contains(message.c_str()), Error);
  };
  fails(R"({"a": []})", "opt.a: an empty list has no dtype");
  fails(R"({"a": [1, 2.5]})", "opt.a[1] must be an integer");
  fails(R"({"a": "Inf"})", "opt.a must be a number");
  fails(R"({"a": {"dtype": "int16", "shape": [1], "values": [1]}})", "unknown dtype \"int16\"");
  fails(R"({"a": {"dtype": "uint8", "shape": [1], "values": [256]}})", "256 is out of the range of uint8");
  fails(R"({"a": {"dtype": "float32", "shape": [2], "values": [0.1]}})", "1 values for shape [2]");
  fails(R"({"a": {"dtype": "float32", "shape": [1], "values": [0.1]}})", "not exactly a float32 value");
  fails(R"({"a": {"dtype": "int64", "shape": [-1], "values": []}})", "shape too large or negative");
  fails(R"({"a": true})", "expected a number, a list or a tensor object");
}

// ---- save, read, restore -------------------------------------------------------------

TEST_CASE("a checkpoint restored into fresh objects continues bit-identically") {
  TempDir dir;
  Run a(1);
  const std::string path = dir / "step-00000013";
  a.steps(22, [&](int step) {  // 13 is mid-epoch: 40 / 8 = 5 batches per epoch
    if (step == 13) train::save_checkpoint(path, a.objects(), state_at(13, 0.5));
  });
  CHECK(train::is_complete_checkpoint(path));
  CHECK_FALSE(fs::exists(path + ".tmp"));

  Run b(2, 16);  // other initial weights: the restore must overwrite them
  const train::Checkpoint c = train::read_checkpoint(path);
  CHECK(c.state.global_step == 13);
  CHECK(c.state.optimizer_type == "AdamW");
  CHECK(c.state.scheduler_type == "OneCycleLR");
  CHECK(*c.state.metric("val/accuracy") == 0.5);
  train::restore_checkpoint(c, b.objects());
  b.steps(9);
  CHECK(same_dict(a.model->state_dict(), b.model->state_dict()));
  CHECK(same_dict(a.optimizer.state_dict(), b.optimizer.state_dict()));
  CHECK(same_dict(a.scheduler.state_dict(), b.scheduler.state_dict()));
  CHECK(same_dict(a.loader.state_dict(), b.loader.state_dict()));
}

TEST_CASE("save_checkpoint refuses an existing target and leaves nothing behind when it fails") {
  TempDir dir;
  Run a(1);
  a.steps(2);
  train::save_checkpoint(dir / "c", a.objects(), state_at(2));
  CHECK_THROWS_WITH_AS(train::save_checkpoint(dir / "c", a.objects(), state_at(2)),
                       doctest::Contains("already exists"), Error);
  CHECK_THROWS_WITH_AS(train::save_checkpoint(dir / "missing/c", a.objects(), state_at(2)),
                       doctest::Contains("cannot create"), Error);
  CHECK_FALSE(fs::exists(dir / "missing"));
  // A state that cannot be written (a huge tensor in the scheduler's JSON) fails before any file.
  train::TrainingObjects o = a.objects();
  o.scheduler = {"Big", [] { StateDict d; d.insert("x", zeros({5000})); return d; }, [](const StateDict&) {}};
  CHECK_THROWS_WITH_AS(train::save_checkpoint(dir / "d", o, state_at(2)), doctest::Contains("safetensors file"), Error);
  CHECK_FALSE(fs::exists(dir / "d"));
  CHECK_FALSE(fs::exists(dir / "d.tmp"));
}

TEST_CASE("bad checkpoints are refused naming the file, and the objects stay as they were") {
  TempDir dir;
  Run a(1);
  a.steps(7);
  const std::string good = dir / "good";
  train::save_checkpoint(good, a.objects(), state_at(7));
  Run wide(3, 32);
  const std::string wide_dir = dir / "wide";
  train::save_checkpoint(wide_dir, wide.objects(), state_at(0));

  Run b(2);
  b.steps(3);
  const StateDict model_before = cloned(b.model->state_dict());
  const StateDict optimizer_before = b.optimizer.state_dict();
  const StateDict scheduler_before = b.scheduler.state_dict();
  const StateDict loader_before = b.loader.state_dict();
  const GeneratorState generator_before = default_generator().get_state();
  auto unchanged = [&] {
    CHECK(same_dict(model_before, b.model->state_dict()));
    CHECK(same_dict(optimizer_before, b.optimizer.state_dict()));
    CHECK(same_dict(scheduler_before, b.scheduler.state_dict()));
    CHECK(same_dict(loader_before, b.loader.state_dict()));
    CHECK(default_generator().get_state().offset == generator_before.offset);
  };
  // A copy of the good checkpoint with one file changed.
  auto variant = [&](const std::string& name, const std::string& file, const std::function<std::string(std::string)>& edit) {
    const std::string d = dir / name;
    fs::copy(good, d, fs::copy_options::recursive);
    const std::string path = d + "/" + file;
    write_text(path, edit(train::read_file_bytes(path, "test")));
    return d;
  };

  SUBCASE("truncated model.safetensors") {
    const std::string d = variant("trunc", "model.safetensors", [](std::string s) { return s.substr(0, s.size() - 5); });
    CHECK_THROWS_WITH_AS(train::read_checkpoint(d), doctest::Contains((d + "/model.safetensors").c_str()), Error);
  }
  SUBCASE("corrupted trainer_state.json") {
    const std::string d = variant("json", "trainer_state.json", [](std::string s) { return s.substr(0, s.size() / 2); });
    CHECK_THROWS_WITH_AS(train::read_checkpoint(d), doctest::Contains((d + "/trainer_state.json: byte").c_str()), Error);
  }
  SUBCASE("a newer format version") {
    const std::string d = variant("newer", "trainer_state.json", [](std::string s) {
      return s.replace(s.find("\"format_version\": 1"), 19, "\"format_version\": 7");
    });
    CHECK_THROWS_WITH_AS(train::read_checkpoint(d), doctest::Contains("format_version 7 was written by lucid"), Error);
  }
  SUBCASE("a missing file") {
    const std::string d = dir / "missing";
    fs::copy(good, d, fs::copy_options::recursive);
    fs::remove(d + "/optimizer.safetensors");
    CHECK_THROWS_WITH_AS(train::read_checkpoint(d), doctest::Contains("has no optimizer.safetensors"), Error);
    CHECK_FALSE(train::is_complete_checkpoint(d));
  }
  SUBCASE("another model: keys and shapes listed") {
    const train::Checkpoint c = train::read_checkpoint(wide_dir);
    CHECK_THROWS_WITH_AS(train::restore_checkpoint(c, b.objects()),
                         doctest::Contains("layers.0.weight: checkpoint has float32 [32, 4], the model float32 [16, 4]"),
                         Error);
  }
  SUBCASE("another optimizer") {
    optim::SGD sgd(b.model->parameters(), optim::SGDOptions(0.1));
    train::TrainingObjects o = b.objects();
    o.optimizer = &sgd;
    CHECK_THROWS_WITH_AS(train::restore_checkpoint(train::read_checkpoint(good), o),
                         doctest::Contains("the checkpoint's optimizer is AdamW, this run's is SGD"), Error);
  }
  SUBCASE("missing optimizer entries: refused after the model was loaded, which is rolled back") {
    train::Checkpoint c = train::read_checkpoint(good);
    c.optimizer.tensors.erase("state.0.exp_avg");
    CHECK_THROWS_WITH_AS(train::restore_checkpoint(c, b.objects()), doctest::Contains("nothing was changed"), Error);
  }
  SUBCASE("a loader position past the end of an epoch: refused after three pieces were applied, all put back") {
    train::Checkpoint c = train::read_checkpoint(good);
    c.state.loader_state.insert_or_assign("batches_served", state_int(99));
    CHECK_THROWS_WITH_AS(train::restore_checkpoint(c, b.objects()), doctest::Contains("batches_served 99"), Error);
  }
  unchanged();
}

TEST_CASE("a full disk during a save: a clear error naming the file, no partial directory, the last checkpoint kept") {
  TempDir dir;
  Run a(1);
  a.steps(2);
  train::ModelCheckpoint ckpt(dir.path().string(), train::ModelCheckpointOptions().save_top_k(-1));
  const std::string previous = ckpt.save(a.objects(), state_at(2));
  // Tests run as root, so permissions cannot make a disk "full": instead this
  // process may not grow a file past 300 bytes for the next save (RLIMIT_FSIZE,
  // with SIGXFSZ ignored, so the write fails with EFBIG).
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 300;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    ckpt.save(a.objects(), state_at(3));
  } catch (const Error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  CHECK(message.find("step-00000003.tmp/model.safetensors") != std::string::npos);
  CHECK(message.find("File too large") != std::string::npos);
  CHECK_FALSE(fs::exists(ckpt.dir() + "/step-00000003.tmp"));
  CHECK_FALSE(fs::exists(ckpt.dir() + "/step-00000003"));
  CHECK(ckpt.latest() == previous);
  CHECK_NOTHROW(train::read_checkpoint(previous));
}

// ---- ModelCheckpoint --------------------------------------------------------------------

TEST_CASE("ModelCheckpoint keeps the top k by the monitor, the newest, and points at last and best") {
  TempDir dir;
  Run a(1);
  train::ModelCheckpoint ckpt(dir.path().string(), train::ModelCheckpointOptions()
                                                      .monitor("val/accuracy")
                                                      .mode(train::MonitorMode::Max)
                                                      .save_top_k(2));
  const double scores[] = {0.5, 0.8, 0.6, 0.7, 0.4};
  for (int i = 0; i < 5; ++i) ckpt.save(a.objects(), state_at(10 * (i + 1), scores[i]));
  auto kept = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(ckpt.dir()))
      if (e.is_directory()) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  };
  // Top 2 by accuracy (0.8 at 20, 0.7 at 40) and the newest (50).
  CHECK(kept() == std::vector<std::string>{"step-00000020", "step-00000040", "step-00000050"});
  CHECK(train::read_file_bytes(ckpt.dir() + "/last", "t") == "step-00000050\n");
  CHECK(train::read_file_bytes(ckpt.dir() + "/best", "t") == "step-00000020\n");
  CHECK(ckpt.latest() == ckpt.dir() + "/step-00000050");
  CHECK(ckpt.best_checkpoint() == ckpt.dir() + "/step-00000020");
  CHECK(*ckpt.best().score == 0.8);
  // The best score travels in each checkpoint, so a restart knows it.
  const train::Checkpoint last = train::read_checkpoint(*ckpt.latest());
  CHECK(*last.state.best.score == 0.8);
  CHECK(last.state.best.checkpoint == "step-00000020");

  train::ModelCheckpoint restarted(dir.path().string(), ckpt.options());
  restarted.restore_best(last.state.best);
  restarted.save(a.objects(), state_at(60, 0.75));  // not better than 0.8
  CHECK(*restarted.best().score == 0.8);
  CHECK(train::read_file_bytes(ckpt.dir() + "/best", "t") == "step-00000020\n");
  CHECK(kept() == std::vector<std::string>{"step-00000020", "step-00000060"});  // 0.8, 0.75 (also the newest)
  restarted.save(a.objects(), state_at(70, 0.9));
  CHECK(train::read_file_bytes(ckpt.dir() + "/best", "t") == "step-00000070\n");
}

TEST_CASE("ModelCheckpoint without a monitor keeps the newest k; -1 keeps all; 0 keeps only the last") {
  Run a(1);
  for (int64_t k : {-1, 0, 2}) {
    CAPTURE(k);
    TempDir dir;
    train::ModelCheckpoint ckpt(dir.path().string(), train::ModelCheckpointOptions().save_top_k(k));
    for (int i = 1; i <= 4; ++i) ckpt.save(a.objects(), state_at(i));
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(ckpt.dir())) n += e.is_directory();
    CHECK(n == (k < 0 ? 4u : k == 0 ? 1u : 2u));
    CHECK(train::is_complete_checkpoint(ckpt.dir() + "/step-00000004"));
  }
}

TEST_CASE("ModelCheckpoint: a minimized metric, due steps and epochs") {
  TempDir dir;
  Run a(1);
  train::ModelCheckpoint ckpt(dir.path().string(), train::ModelCheckpointOptions()
                                                      .every_n_steps(3)
                                                      .every_n_epochs(2)
                                                      .monitor("val/loss")
                                                      .mode(train::MonitorMode::Min)
                                                      .save_top_k(1));
  CHECK_FALSE(ckpt.step_due(0));
  CHECK(ckpt.step_due(6));
  CHECK_FALSE(ckpt.step_due(7));
  CHECK_FALSE(ckpt.epoch_due(1));
  CHECK(ckpt.epoch_due(2));
  train::TrainerState s = state_at(1);
  s.metrics = {{"val/loss", 0.3}};
  ckpt.save(a.objects(), s);
  s = state_at(2);
  s.metrics = {{"val/loss", NAN}};  // a NaN never becomes the best
  ckpt.save(a.objects(), s);
  CHECK(*ckpt.best().score == 0.3);
  CHECK(ckpt.best_checkpoint() == ckpt.dir() + "/step-00000001");
}

TEST_CASE("ModelCheckpoint cleans up after crashes: partial saves and deletes go, a replaced checkpoint comes back") {
  TempDir dir;
  Run a(1);
  const std::string ckdir = dir / "checkpoints";
  {
    train::ModelCheckpoint ckpt(dir.path().string(), train::ModelCheckpointOptions().save_top_k(-1));
    ckpt.save(a.objects(), state_at(5));
    ckpt.save(a.objects(), state_at(9));
  }
  // A save killed half way, a delete killed half way, and a replacement killed
  // after the old one was moved aside.
  fs::create_directories(ckdir + "/step-00000012.tmp");
  write_text(ckdir + "/step-00000012.tmp/model.safetensors", "partial");
  fs::copy(ckdir + "/step-00000005", ckdir + "/step-00000003.del", fs::copy_options::recursive);
  fs::rename(ckdir + "/step-00000009", ckdir + "/step-00000009.old");
  write_text(ckdir + "/last", "garbage");

  train::ModelCheckpoint again(dir.path().string(), train::ModelCheckpointOptions().save_top_k(-1));
  CHECK(again.cleaned().size() == 3);
  CHECK_FALSE(fs::exists(ckdir + "/step-00000012.tmp"));
  CHECK_FALSE(fs::exists(ckdir + "/step-00000003.del"));
  CHECK(train::is_complete_checkpoint(ckdir + "/step-00000009"));
  CHECK(again.latest() == ckdir + "/step-00000009");  // the pointer is garbage: found by the scan
  CHECK_NOTHROW(train::read_checkpoint(*again.latest()));
}

TEST_CASE("recover_checkpoints: a completed replacement drops the old copy; files lucid did not write stay") {
  TempDir dir;
  Run a(1);
  train::ModelCheckpoint ckpt(dir.path().string(), train::ModelCheckpointOptions().save_top_k(-1));
  ckpt.save(a.objects(), state_at(4));
  const std::string d = ckpt.dir();
  fs::copy(d + "/step-00000004", d + "/step-00000004.old", fs::copy_options::recursive);  // the new one is complete
  write_text(d + "/notes.tmp", "mine");
  fs::create_directories(d + "/keep.old");
  write_text(d + "/last.tmp", "step-000");
  const auto report = train::recover_checkpoints(d);
  CHECK(report.size() == 2);
  CHECK_FALSE(fs::exists(d + "/step-00000004.old"));
  CHECK_FALSE(fs::exists(d + "/last.tmp"));
  CHECK(train::is_complete_checkpoint(d + "/step-00000004"));
  CHECK(fs::exists(d + "/notes.tmp"));
  CHECK(fs::exists(d + "/keep.old"));
}

TEST_CASE("ModelCheckpoint: saving a step again replaces it; save_last keeps the one saved last") {
  TempDir dir;
  Run a(1);
  train::ModelCheckpoint ckpt(dir.path().string(), train::ModelCheckpointOptions()
                                                      .monitor("val/accuracy")
                                                      .save_top_k(1));
  ckpt.save(a.objects(), state_at(10));                // before validation: no score
  const std::string path = ckpt.save(a.objects(), state_at(10, 0.7));  // after it: the same step again
  CHECK(*train::read_checkpoint(path).state.metric("val/accuracy") == 0.7);
  CHECK_FALSE(fs::exists(path + ".old"));
  ckpt.save(a.objects(), state_at(20, 0.9));
  ckpt.save(a.objects(), state_at(5, 0.1));  // a lower step, saved last (a resumed older run): kept
  CHECK(train::is_complete_checkpoint(ckpt.dir() + "/step-00000005"));
  CHECK(train::is_complete_checkpoint(ckpt.dir() + "/step-00000020"));  // the best
  CHECK_FALSE(fs::exists(ckpt.dir() + "/step-00000010"));
}

TEST_CASE("ModelCheckpoint::abandon_after moves later checkpoints aside, whole, and forgets their best") {
  TempDir dir;
  Run a(1);
  train::ModelCheckpoint first(dir.path().string(), train::ModelCheckpointOptions()
                                                       .monitor("val/accuracy")
                                                       .save_top_k(-1));
  for (int s = 1; s <= 4; ++s) first.save(a.objects(), state_at(10 * s, 0.1 * s));
  const train::BestScore best_at_20 = train::read_checkpoint(first.dir() + "/step-00000020").state.best;
  train::ModelCheckpoint resumed(dir.path().string(), first.options());
  const auto moved = resumed.abandon_after(20);
  CHECK(moved.size() == 2);
  const std::string aside = resumed.dir() + "/abandoned-after-step-00000020";
  CHECK(train::is_complete_checkpoint(aside + "/step-00000030"));
  CHECK(train::is_complete_checkpoint(aside + "/step-00000040"));
  CHECK(train::latest_checkpoint(resumed.dir()) == resumed.dir() + "/step-00000020");
  CHECK_FALSE(resumed.best().score.has_value());  // 0.4 at step 40 belonged to the abandoned run
  resumed.restore_best(best_at_20);
  CHECK(*resumed.best().score == doctest::Approx(0.2));
  CHECK(resumed.best_checkpoint() == resumed.dir() + "/step-00000020");
}

TEST_CASE("ModelCheckpoint: a log directory that cannot be created is a clear error") {
  TempDir dir;
  write_text(dir / "file", "x");
  CHECK_THROWS_WITH_AS(train::ModelCheckpoint(dir / "file", {}), doctest::Contains((dir / "file/checkpoints").c_str()),
                       Error);
  CHECK_THROWS_WITH_AS(train::ModelCheckpoint(dir.path().string(), train::ModelCheckpointOptions().save_top_k(-2)),
                       doctest::Contains("save_top_k"), Error);
}
