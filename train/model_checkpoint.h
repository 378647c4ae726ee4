#pragma once
// ModelCheckpoint: when to save, what to keep, and where the last and best
// checkpoints are (PyTorch Lightning's ModelCheckpoint, for lucid's
// checkpoint directories of train/checkpoint.h).
//
//   train::ModelCheckpoint ckpt(logdir, train::ModelCheckpointOptions()
//                                           .every_n_epochs(1).monitor("val/accuracy")
//                                           .mode(train::MonitorMode::Max).save_top_k(2));
//   ... after a step:   if (ckpt.step_due(step)) ckpt.save(objects, state);
//   ... after an epoch: if (ckpt.epoch_due(epochs_done)) ckpt.save(objects, state);
//
// Layout of <logdir>/checkpoints/:
//   step-00000469/, step-00000938/, ...   complete checkpoints
//   last                                  "step-00000938\n": the newest one
//   best                                  "step-00000469\n": the best by `monitor`
//   step-00001000.tmp/                    a save a crash interrupted (removed at start)
//   step-00000100.del/                    a delete a crash interrupted (removed at start)
// The pointer files are small and written atomically (write_file_atomic), so
// the last and best checkpoints are found without opening every directory; if
// a pointer is missing or names a directory that is not complete, latest()
// falls back to the newest complete step-* directory.
//
// Policy (Lightning's meanings):
//   every_n_steps    save after every n-th optimizer step (0: never by steps)
//   every_n_epochs   save after every n-th epoch, after its validation (0: never)
//   monitor, mode    the metric that ranks checkpoints ("val/accuracy", Max); the
//                    value is the latest validation's at save time, so a step
//                    checkpoint before any validation has no score and ranks last
//   save_top_k       keep the k best (by monitor; without one, the k newest);
//                    -1 keeps all, 0 keeps none but `last` (with save_last)
//   save_last        always keep the checkpoint saved last, whatever its rank
// The best score is saved in every checkpoint (trainer_state.json "best") and
// restore_best() puts it back after a resume, so a resumed run does not
// forget which checkpoint was best.
//
// At construction, recover_checkpoints() deals with what a crash left (see
// below) and cleaned() lists what it did, for the caller to report.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <lucid/train/checkpoint.h>

namespace lucid::train {

class ModelCheckpointOptions {
 public:
  ModelCheckpointOptions& every_n_steps(int64_t v) { every_n_steps_ = v; return *this; }
  int64_t every_n_steps() const { return every_n_steps_; }
  ModelCheckpointOptions& every_n_epochs(int64_t v) { every_n_epochs_ = v; return *this; }
  int64_t every_n_epochs() const { return every_n_epochs_; }
  ModelCheckpointOptions& monitor(std::string v) { monitor_ = std::move(v); return *this; }
  const std::string& monitor() const { return monitor_; }
  ModelCheckpointOptions& mode(MonitorMode v) { mode_ = v; return *this; }
  MonitorMode mode() const { return mode_; }
  ModelCheckpointOptions& save_top_k(int64_t v) { save_top_k_ = v; return *this; }
  int64_t save_top_k() const { return save_top_k_; }
  ModelCheckpointOptions& save_last(bool v) { save_last_ = v; return *this; }
  bool save_last() const { return save_last_; }

 private:
  int64_t every_n_steps_ = 0;
  int64_t every_n_epochs_ = 1;
  std::string monitor_;
  MonitorMode mode_ = MonitorMode::Max;
  int64_t save_top_k_ = 1;
  bool save_last_ = true;
};

class ModelCheckpoint {
 public:
  ModelCheckpoint(const std::string& logdir, ModelCheckpointOptions options = {});

  const std::string& dir() const { return dir_; }
  const ModelCheckpointOptions& options() const { return options_; }
  const std::vector<std::string>& cleaned() const { return cleaned_; }

  // Full paths; nullopt when there is none.
  std::optional<std::string> latest() const;
  std::optional<std::string> best_checkpoint() const;
  const BestScore& best() const { return best_; }
  // After a resume: the best score saved in the checkpoint (its metric and
  // mode must be this one's, else it is ignored, as a new monitor starts afresh).
  // Call it after abandon_after.
  void restore_best(const BestScore& best);
  // After resuming from the checkpoint of `step`: the checkpoints of later
  // steps belong to a run that went on past that point, a future this run will
  // not have (as the logs of those steps are purged). They are moved, whole,
  // into abandoned-after-step-XXXXXXXX/ (never deleted: they may be someone's
  // work); `last` points at `step` again. Returns where they went.
  std::vector<std::string> abandon_after(int64_t step);

  bool step_due(int64_t global_step) const;
  bool epoch_due(int64_t epochs_done) const;

  // Saves step_dir_name(state.global_step), updates the best score from
  // state.metrics, writes the pointers, then deletes what save_top_k does not
  // keep. Returns the checkpoint's path. A checkpoint of the same step already
  // there is replaced (atomically: the old one is moved aside until the new
  // one is complete).
  std::string save(const TrainingObjects& objects, TrainerState state, const CaptureOverrides& overrides = {});

 private:
  void apply_retention();
  std::optional<double> score_of(const std::string& name) const;

  std::string dir_;
  ModelCheckpointOptions options_;
  std::vector<std::string> cleaned_;
  BestScore best_;
  std::map<int64_t, std::optional<double>> scores_;  // step -> monitored value, every complete checkpoint
  int64_t last_saved_step_ = -1;  // what save_last keeps: the step this object saved last
};

// The step of a "step-XXXXXXXX" directory name, or nullopt for any other name.
std::optional<int64_t> parse_step_dir(const std::string& name);

// What a crash may leave in a checkpoints directory, dealt with: a save cut
// short (step-X.tmp, nonfinite-step-X.tmp, last.tmp, best.tmp) and a delete
// cut short (step-X.del) are removed; a checkpoint moved aside to be replaced
// (step-X.old) is moved back if its replacement is not complete, else removed.
// Nothing else in the directory is touched. Returns one line per entry.
std::vector<std::string> recover_checkpoints(const std::string& checkpoints_dir);

// The newest complete checkpoint in a checkpoints directory (<logdir>/checkpoints):
// the `last` pointer when it names a complete one, else the newest complete
// step-* directory; nullopt when there is none (or no such directory). Reads
// only; ModelCheckpoint::latest() is this for its own directory.
std::optional<std::string> latest_checkpoint(const std::string& checkpoints_dir);

}  // namespace lucid::train
