#pragma once
// lucid::train, table of contents: what makes a training run reproducible,
// recoverable and observable (docs/training-loop.md shows them in a loop).
//
// Checkpoints
#include <lucid/train/checkpoint.h>        // save_checkpoint, read_checkpoint, restore_checkpoint
#include <lucid/train/model_checkpoint.h>  // ModelCheckpoint: when to save, top-k, last and best
#include <lucid/train/trainer_state.h>     // trainer_state.json: counters, best score, config
#include <lucid/train/state_json.h>        // small state_dict entries as exact JSON
#include <lucid/train/safetensors.h>       // safetensors files, written and read by lucid
#include <lucid/train/file_io.h>           // durable and atomic file writes
#include <lucid/train/failpoint.h>         // named places where crash tests stop a process
// Watching a run
#include <lucid/train/memory_watch.h>      // MemoryWatch: leaks of memory or of the autograd tape
#include <lucid/train/progress.h>          // Progress: a bar on a terminal, lines elsewhere
#include <lucid/train/log/log.h>           // TensorBoard events, JSON lines, prediction images
