#pragma once
// lucid-train's loop: one function, run_training, written to be read top to
// bottom. Everything it uses is a piece of lucid::train (checkpoints, logs,
// images, memory and gradient watch, progress) or of the recipe.
//
// One step:
//   zero_grad -> forward -> loss -> backward
//   -> (first step, and every --grad-check-every: check_grad_flow)
//   -> gradient norm (clipped when --grad-clip > 0); a non-finite loss or norm stops
//      the run here, before the update, and saves the state before the step
//   -> optimizer.step -> scheduler.step
//   -> progress, logs, prediction images, memory watch, step checkpoints
// After each epoch: validation under eval() + NoGradGuard, epoch logs, epoch checkpoint.
//
// Exit codes: 0 done (or stopped as asked), 1 an error, 3 a non-finite loss,
// 128 + signal after SIGINT/SIGTERM (the step finishes, a checkpoint is saved).

#include <optional>
#include <string>

#include <lucid/kernels/device.h>
#include <lucid/train/checkpoint.h>

#include "config.h"

namespace lucid::apps {

struct RunSetup {
  RunConfig config;                              // resolved (recipe defaults filled in)
  RunFlags flags;
  std::string logdir;
  Device device;
  std::optional<train::Checkpoint> resume_from;  // read and validated, not yet applied
};

// Trains (or with flags.eval_only, evaluates the checkpoint) and returns the exit code.
int run_training(const RunSetup& setup);

}  // namespace lucid::apps
