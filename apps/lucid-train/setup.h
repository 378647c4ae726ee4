#pragma once
// The optimizer and the LR schedule a RunConfig asks for.
//
//   optimizer   adamw | adam | sgd (momentum 0.9, Nesterov); two parameter groups:
//               weight decay on weights with more than one dimension only (decaying
//               biases and norm scales just fights the normalization)
//   scheduler   onecycle: OneCycleLR (warm-up over 20% of the steps, cosine anneal)
//               cosine:   LinearLR warm-up over 5% of the steps, then CosineAnnealingLR
//               none
// Schedulers step once per optimizer step.

#include <memory>
#include <string>

#include <lucid/nn/module.h>
#include <lucid/optim/optimizer.h>
#include <lucid/optim/schedulers/lr_scheduler.h>

#include "config.h"

namespace lucid::apps {

std::unique_ptr<optim::Optimizer> make_optimizer(const RunConfig& config, const nn::Module& model);
// nullptr for "none". total_steps: optimizer steps in the whole run.
std::unique_ptr<optim::LRScheduler> make_scheduler(const RunConfig& config, optim::Optimizer& optimizer,
                                                   int64_t total_steps);
// The scheduler's type as a checkpoint records it ("OneCycleLR", "SequentialLR").
std::string scheduler_type(const RunConfig& config);

}  // namespace lucid::apps
