// lucid-train: trains a recipe with checkpoints, logs and pictures.
//
//   lucid-train                                  fashion-cnn on the CPU or a GPU, logs in runs/
//   lucid-train --recipe charlm --epochs 2       a small GPT on fortunes, then a text sample
//   lucid-train --resume auto --logdir runs/x    continue run x from its newest checkpoint
//   lucid-train --print-config                   the resolved configuration, as JSON
//
// This file turns the command line into a RunSetup: the configuration (a new
// one, or the one a checkpoint was made with), the device and the log
// directory. The training itself is loop.cpp.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include <lucid/lucid.h>
#include <lucid/train/file_io.h>
#include <lucid/train/model_checkpoint.h>

#include "config.h"
#include "loop.h"
#include "recipes.h"

using namespace lucid;
using namespace lucid::apps;
namespace fs = std::filesystem;
namespace json = lucid::data::text::json;

namespace {

std::string now_stamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

// The newest runs/<recipe>-* directory that holds a checkpoint ("" if none).
std::string newest_run(const std::string& recipe) {
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("runs", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(recipe + "-", 0) == 0 && name > fs::path(best).filename().string() &&
        train::latest_checkpoint((e.path() / "checkpoints").string()))
      best = e.path().string();
  }
  return best;
}

// A checkpoint directory, or a log directory (its newest checkpoint).
std::optional<std::string> checkpoint_in(const std::string& path) {
  if (train::is_complete_checkpoint(path)) return path;
  return train::latest_checkpoint((fs::path(path) / "checkpoints").string());
}

}  // namespace

int main(int argc, char** argv) {
  RunConfig cli;  // the config flags as given (unset ones keep their "use the default" values)
  RunFlags flags;
  CLI::App app("lucid-train: trains a recipe (" + [] {
    std::string s;
    for (const auto& n : recipe_names()) s += (s.empty() ? "" : ", ") + n;
    return s;
  }() + ") with checkpoints, TensorBoard logs and prediction images.\nRecipe defaults: --print-config.");
  app.get_formatter()->column_width(34);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // a later flag overrides
  for (const ConfigField& f : config_fields())
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(cli.*member)>;
          if constexpr (std::is_same_v<T, bool>) app.add_flag(f.flag, cli.*member, f.help)->group("Run (saved in checkpoints)");
          else app.add_option(f.flag, cli.*member, f.help)->group("Run (saved in checkpoints)");
        },
        f.member);
  app.add_option("--device", flags.device, "auto (a GPU if usable), cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--workers", flags.workers, "DataLoader worker threads (0: load in the training thread)")
      ->check(CLI::Range(0, 64));
  app.add_option("--threads", flags.threads, "CPU kernel threads (0: lucid's default)")->check(CLI::Range(0, 1024));
  app.add_option("--logdir", flags.logdir, "where logs, checkpoints and images go (default runs/<recipe>-<date>-<time>)");
  app.add_option("--resume", flags.resume, "auto (the newest checkpoint in --logdir; a new run if none), or a checkpoint or log directory");
  app.add_flag("--eval-only", flags.eval_only, "evaluate the --resume checkpoint on the validation set and exit");
  app.add_flag("--print-config", flags.print_config, "print the resolved configuration as JSON and exit");
  app.add_option("--stop-at-step", flags.stop_at_step, "save a checkpoint and exit after this step (a preemption drill)");
  app.add_option("--progress", flags.progress, "auto, bar or lines")->check(CLI::IsMember({"auto", "bar", "lines"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "lucid-train: %s (see --help)\n", e.what());
    return 2;
  }

  try {
    RunSetup setup;
    setup.flags = flags;
    std::vector<std::string> given;
    for (const ConfigField& f : config_fields())
      if (app.get_option(f.flag)->count() > 0) given.push_back(f.flag);

    // ---- a new run, or the one a checkpoint continues ---------------------------------
    // Training takes the log directory's lock first (one process per
    // directory), then recovers what a crash left in its checkpoints, then
    // picks the checkpoint: so a replacement cut short by a kill is moved
    // back before `--resume auto` looks for the newest checkpoint.
    const bool training = !flags.eval_only && !flags.print_config;
    std::vector<std::unique_ptr<train::DirLock>> locks;
    std::vector<fs::path> locked;
    auto prepare = [&](const std::string& dir) {
      if (!training) return;
      fs::create_directories(dir);
      const fs::path canonical = fs::canonical(dir);
      if (std::find(locked.begin(), locked.end(), canonical) != locked.end()) return;
      locks.push_back(std::make_unique<train::DirLock>(dir, "lucid-train"));
      locked.push_back(canonical);
      for (const std::string& line : train::recover_checkpoints((fs::path(dir) / "checkpoints").string()))
        std::printf("%s\n", line.c_str());
    };
    std::string logdir = flags.logdir;
    std::optional<std::string> ckpt;
    if (flags.resume == "auto") {
      if (logdir.empty()) logdir = newest_run(cli.recipe);
      if (!logdir.empty()) {
        prepare(logdir);
        ckpt = train::latest_checkpoint((fs::path(logdir) / "checkpoints").string());
      }
      if (!ckpt) std::printf("--resume auto: no checkpoint in %s; starting a new run\n",
                             logdir.empty() ? ("runs/" + cli.recipe + "-*").c_str() : logdir.c_str());
    } else if (!flags.resume.empty()) {
      if (fs::is_directory(flags.resume) && !train::is_complete_checkpoint(flags.resume))
        prepare(flags.resume);  // a log directory: recover it before looking for its newest checkpoint
      ckpt = checkpoint_in(flags.resume);
      LUCID_CHECK(ckpt.has_value(), "--resume ", flags.resume, ": no complete checkpoint there (a checkpoint "
                  "directory with model.safetensors, optimizer.safetensors and trainer_state.json, or a log "
                  "directory with checkpoints/)");
      const fs::path own = fs::path(*ckpt).parent_path();  // <logdir>/checkpoints, for checkpoints lucid made
      if (logdir.empty()) logdir = own.filename() == "checkpoints" ? own.parent_path().string() : own.string();
      if (training) {
        // A resumed run writes into its log directory: the checkpoint's own, or one without a run.
        std::error_code ec;
        const fs::path dir = fs::path(logdir) / "checkpoints";
        const auto other = train::latest_checkpoint(dir.string());
        LUCID_CHECK(!other || fs::equivalent(own, dir, ec), "--resume ", *ckpt, " --logdir ", logdir,
                    ": that log directory holds another run (", *other,
                    "); resume into the checkpoint's own log directory, or into a new one");
      }
    }
    LUCID_CHECK(!flags.eval_only || ckpt, "--eval-only needs a checkpoint: --resume PATH or --resume auto");

    if (ckpt) {
      setup.resume_from = train::read_checkpoint(*ckpt);
      const std::string source = *ckpt + "/" + train::kTrainerStateFile;
      setup.config = config_from_json(setup.resume_from->state.config, source);
      resolve_config(setup.config);  // nothing left to fill in: checks the values a hand edit may have broken
      const std::string clash = contradictions(cli, setup.config, given);
      LUCID_CHECK(clash.empty(), "--resume: ", *ckpt, " was made with other settings than these flags:\n", clash,
                  "Drop them to continue that run, or start a new run in another --logdir.");
      // A file the recipe made once for the run (charlm's tokenizer) follows it into a new log directory.
      const fs::path run_dir = fs::path(*ckpt).parent_path().parent_path();
      std::error_code ec;
      if (training && fs::exists(run_dir / "tokenizer.json") && !fs::exists(fs::path(logdir) / "tokenizer.json")) {
        fs::create_directories(logdir);
        fs::copy_file(run_dir / "tokenizer.json", fs::path(logdir) / "tokenizer.json", ec);
      }
    } else {
      setup.config = cli;
      resolve_config(setup.config);
      if (logdir.empty()) logdir = "runs/" + setup.config.recipe + "-" + now_stamp();
      const auto existing = train::latest_checkpoint((fs::path(logdir) / "checkpoints").string());
      LUCID_CHECK(!existing || !training, "--logdir ", logdir, " already holds a run (", *existing,
                  "): continue it with --resume auto, or choose another --logdir");
    }
    setup.logdir = logdir;
    if (flags.print_config) {
      std::fputs(json::dump(config_to_json(setup.config)).c_str(), stdout);
      return 0;
    }

    // ---- where it runs ------------------------------------------------------------------
    if (flags.threads > 0) set_num_threads(static_cast<int>(flags.threads));
    LUCID_CHECK(flags.device != "cuda" || cuda::is_available(), "--device cuda: no usable GPU (",
                cuda::unavailable_reason(), ")");
    setup.device = flags.device == "cpu" || (flags.device == "auto" && !cuda::is_available()) ? Device(kCPU)
                                                                                               : Device(kCUDA, 0);
    std::printf("device: %s%s, %d threads, %lld loader workers\n", setup.device.str().c_str(),
                setup.device.is_cpu() && flags.device == "auto" ? (" (no GPU: " + cuda::unavailable_reason() + ")").c_str() : "",
                get_num_threads(), static_cast<long long>(flags.workers));
    if (!flags.eval_only) {
      prepare(logdir);  // the directory this run writes to: locked (and recovered) if not yet
      json::write_file((fs::path(logdir) / "config.json").string(), config_to_json(setup.config));
    }
    return run_training(setup);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lucid-train: error: %s\n", e.what());
    return 1;
  }
}
