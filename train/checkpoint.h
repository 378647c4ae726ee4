#pragma once
// Checkpoints: one directory per save, holding everything a run needs to go on
// exactly where it stopped.
//
//   <logdir>/checkpoints/step-00000938/
//     model.safetensors      the model's state_dict under its PyTorch names
//                            (safetensors.torch.load_file + load_state_dict loads it
//                            into the equivalent PyTorch module)
//     optimizer.safetensors  the optimizer's per-parameter state ("state.3.exp_avg", ...)
//     trainer_state.json     everything else (train/trainer_state.h)
//
// Table of contents
//   TrainingObjects      the live objects a checkpoint saves and restores
//   SchedulerHandle      any scheduler with state_dict/load_state_dict, by type name
//   save_checkpoint      writes one directory atomically (see below)
//   Checkpoint           a checkpoint read from disk and validated, not yet applied
//   read_checkpoint      parse and validate the three files
//   restore_checkpoint   apply, all or nothing, in the order below
//   is_complete_checkpoint, step_dir_name
//
// Atomic save. The files are written into "step-00000938.tmp/", each fsynced,
// then the directory is fsynced and renamed to "step-00000938", then the parent
// is fsynced. A process killed at any point leaves either no new checkpoint
// (a .tmp directory that ModelCheckpoint reports and removes at the next
// start) or a complete one; the previous checkpoints are never touched.
//
// Restore order: model, optimizer, scheduler, counters, loader position,
// generators (each later piece may depend on the earlier ones, e.g. the
// optimizer's state on the model's parameters). Everything is read and
// validated first (file format, format version, optimizer and scheduler
// types, the model's keys, shapes and dtypes); if applying still fails part
// way (a shape the optimizer refuses), every object is put back as it was, so
// a failed restore changes nothing. Tensors go to the device of what they
// replace: a checkpoint saved on a GPU restores on the CPU and the other way.

#include <functional>
#include <string>

#include <lucid/data/dataloader.h>
#include <lucid/nn/module.h>
#include <lucid/optim/optimizer.h>
#include <lucid/train/safetensors.h>
#include <lucid/train/trainer_state.h>

namespace lucid::train {

struct SchedulerHandle {
  std::string type;  // "OneCycleLR", ...: must match on restore
  std::function<StateDict()> state_dict;
  std::function<void(const StateDict&)> load_state_dict;
  explicit operator bool() const { return static_cast<bool>(state_dict); }
};

// SchedulerHandle for any scheduler class (LRScheduler or ReduceLROnPlateau).
template <class Scheduler>
SchedulerHandle scheduler_handle(Scheduler& scheduler, std::string type) {
  return {std::move(type), [&scheduler] { return scheduler.state_dict(); },
          [&scheduler](const StateDict& d) { scheduler.load_state_dict(d); }};
}

struct TrainingObjects {
  nn::Module* model = nullptr;
  optim::Optimizer* optimizer = nullptr;
  SchedulerHandle scheduler;            // empty: the run has none
  data::DataLoader* loader = nullptr;   // the training loader
};

// The files of a checkpoint directory.
inline constexpr const char* kModelFile = "model.safetensors";
inline constexpr const char* kOptimizerFile = "optimizer.safetensors";
inline constexpr const char* kTrainerStateFile = "trainer_state.json";
inline constexpr uint64_t kMaxTrainerStateBytes = uint64_t(64) << 20;  // a larger one is not lucid's

// The largest step a checkpoint name holds: 8 digits.
inline constexpr int64_t kMaxCheckpointStep = 99999999;
// "step-00000938": the directory name of a checkpoint taken after global_step steps.
std::string step_dir_name(int64_t global_step);

// What save_checkpoint takes from somewhere other than the live objects: the
// loader position and generator state as they were before a step, to save
// "the state before the step" once that step has started.
struct CaptureOverrides {
  std::optional<StateDict> loader_state;
  std::optional<GeneratorState> generator;
};

// Writes the checkpoint of `objects` into directory `dir` (which must not
// exist yet; its parent must), atomically as described above. `state` gives
// the run's counters, metrics, best score and config; its optimizer, scheduler,
// loader and generator fields are filled in from `objects` and
// default_generator(), or from `overrides` where those are set.
void save_checkpoint(const std::string& dir, const TrainingObjects& objects, TrainerState state,
                     const CaptureOverrides& overrides = {});

struct Checkpoint {
  std::string dir;
  SafetensorsFile model;
  SafetensorsFile optimizer;
  TrainerState state;
};

// Reads and validates all three files; raises lucid::Error naming the file.
Checkpoint read_checkpoint(const std::string& dir);

// Applies `checkpoint` to `objects` in the restore order. Raises (changing
// nothing) when it does not fit: another optimizer or scheduler type, missing
// or unexpected model keys, wrong shapes or dtypes, a loader position past
// the end of an epoch.
void restore_checkpoint(const Checkpoint& checkpoint, const TrainingObjects& objects);

// The three files are there (trainer_state.json is written last).
bool is_complete_checkpoint(const std::string& dir);

}  // namespace lucid::train
