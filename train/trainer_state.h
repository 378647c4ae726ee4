#pragma once
// trainer_state.json: the part of a checkpoint that is not a big tensor, in a
// form a person can read. Format version kCheckpointFormatVersion:
//
//   {
//     "format_version": 1,
//     "lucid_version": "0.1.0",
//     "reason": "epoch_end",              why it was saved: every_n_steps, epoch_end, end,
//                                         stop, interrupted, non_finite_loss (for people;
//                                         nothing reads it back)
//     "wall_time": 1765142400.25,         when (Unix seconds)
//     "global_step": 938,                 optimizer steps taken
//     "epoch": 2,                         the loader's epoch, running or next (0-based)
//     "metrics": {"val/accuracy": 0.9012, "val/loss": 0.27},   the latest validation
//     "best": {"metric": "val/accuracy", "mode": "max", "score": 0.9012,
//              "global_step": 938, "checkpoint": "step-00000938"},
//     "optimizer": {"type": "AdamW", "param_groups": {"param_groups.0.lr": 0.006, ...}},
//     "scheduler": {"type": "OneCycleLR", "state": {"last_epoch": 938, ...}},   or null
//     "dataloader": {"epoch": 2, "batches_served": 0, "seed": 0},
//     "generators": {"default": {"seed": "67280421310721", "offset": "5120"}},
//     "config": {...}                     the run's full configuration, as given
//   }
//
// The optimizer's per-parameter state (exp_avg, step, ...) lives in
// optimizer.safetensors; its hyper-parameters (the state_dict entries under
// "param_groups.") live here, under the same names, in state_json.h's exact
// forms. lucid has one default generator for every device (CUDA draws are made
// from it too: see the README), so "generators" holds one; its seed and offset
// are decimal strings because they are unsigned 64-bit numbers.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <lucid/data/text/json.h>
#include <lucid/kernels/ordered_dict.h>
#include <lucid/kernels/philox.h>

namespace lucid::train {

inline constexpr int64_t kCheckpointFormatVersion = 1;

enum class MonitorMode { Min, Max };
const char* monitor_mode_name(MonitorMode mode);  // "min", "max"

// The best value of the monitored metric so far (ModelCheckpoint keeps it).
struct BestScore {
  std::string metric;                // "" when nothing is monitored
  MonitorMode mode = MonitorMode::Max;
  std::optional<double> score;       // none before the first validation
  int64_t global_step = -1;          // where it was reached
  std::string checkpoint;            // the directory name holding it ("step-00000938")

  // Whether `candidate` beats the best so far (a NaN never does).
  bool improved_by(double candidate) const;
};

struct TrainerState {
  int64_t format_version = kCheckpointFormatVersion;
  std::string lucid_version;
  std::string reason;
  double wall_time = 0;
  int64_t global_step = 0;
  int64_t epoch = 0;
  std::vector<std::pair<std::string, double>> metrics;
  BestScore best;
  std::string optimizer_type;
  StateDict optimizer_hyper;         // the optimizer's "param_groups.*" entries
  std::string scheduler_type;        // "" when the run has no scheduler
  StateDict scheduler_state;
  StateDict loader_state;            // DataLoader::state_dict()
  GeneratorState generator;          // default_generator()
  data::text::json::Value config = data::text::json::Value::of_object({});

  const double* metric(const std::string& name) const;  // nullptr if absent
};

data::text::json::Value trainer_state_to_json(const TrainerState& state);
// Validates every field; a newer format_version is refused with a message
// saying which lucid wrote it.
TrainerState trainer_state_from_json(const data::text::json::Value& doc, const std::string& source);

}  // namespace lucid::train
