// lucid::optim: optimizers and learning-rate schedulers (LibTorch's names, PyTorch 1.13's math).
//
//   optimizer.h                       Optimizer, OptimizerOptions, OptimizerParamGroup, state_dict keys
//   sgd.h  adam.h  adamw.h  rmsprop.h the optimizers and their chained options
//   adam_options.h                    the options Adam and AdamW share (fields, setters, save/load)
//   schedulers/lr_scheduler.h         LRScheduler base: step(), get_last_lr(), last_epoch semantics
//   schedulers/step_lr.h              StepLR, MultiStepLR, ExponentialLR
//   schedulers/cosine_annealing_lr.h  CosineAnnealingLR
//   schedulers/linear_lr.h            LinearLR (warmup)
//   schedulers/one_cycle_lr.h         OneCycleLR (cycles momentum / beta1 too)
//   schedulers/sequential_lr.h        SequentialLR (e.g. warmup then cosine)
//   schedulers/reduce_lr_on_plateau.h ReduceLROnPlateau (stepped with a metric)
// Tests: tests/test_optim_goldens.cpp (PyTorch goldens), test_lr_scheduler.cpp, test_optim_state.cpp.
#pragma once

#include <lucid/optim/optimizer.h>
#include <lucid/optim/sgd.h>
#include <lucid/optim/adam.h>
#include <lucid/optim/adamw.h>
#include <lucid/optim/rmsprop.h>
#include <lucid/optim/schedulers/lr_scheduler.h>
#include <lucid/optim/schedulers/step_lr.h>
#include <lucid/optim/schedulers/cosine_annealing_lr.h>
#include <lucid/optim/schedulers/linear_lr.h>
#include <lucid/optim/schedulers/one_cycle_lr.h>
#include <lucid/optim/schedulers/sequential_lr.h>
#include <lucid/optim/schedulers/reduce_lr_on_plateau.h>
