#pragma once
// Recipes: what lucid-train trains. A recipe is data + model + loss + how to
// score it; the loop (loop.h) is the same for all of them.
//
//   fashion-cnn   nn::SmallCNN on Fashion-MNIST (Debian's dataset-fashion-mnist), the default
//   fashion-mlp   an MLP 784-512-256-10 on the same data
//   charlm        nn::GPT on Debian's fortunes, BPE-tokenized; samples text after training
//
// Fashion-MNIST's "val" set is its test split (10000 images, never trained on).
// The eval pipeline is the training pipeline's eval(): the same Normalize,
// without the random steps.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <lucid/data/dataset.h>
#include <lucid/nn/module.h>
#include <lucid/train/trainer_state.h>

#include "config.h"

namespace lucid::train::log {
class SummaryWriter;
}

namespace lucid::apps {

struct Recipe {
  std::string name;
  std::string description;                        // one line, printed at the start
  std::shared_ptr<nn::Module> model;              // parameters, state_dict, train()/eval(), to()
  std::function<Tensor(const Tensor&)> forward;   // batch.data -> logits
  std::shared_ptr<const data::Dataset> train_set, val_set;
  std::function<Tensor(const Tensor& logits, const Tensor& target)> loss;  // mean over the batch
  // (correct predictions, counted targets) in a batch: accuracy = sum / sum.
  std::function<std::pair<int64_t, int64_t>(const Tensor& logits, const Tensor& target)> correct;
  std::string accuracy_name = "test accuracy";    // what the last line calls val/accuracy
  std::string monitor = "val/accuracy";           // what ranks checkpoints
  train::MonitorMode mode = train::MonitorMode::Max;
  // Prediction images: only for recipes with class names (images as inputs).
  std::vector<std::string> class_names;
  std::vector<double> mean, std;                  // Normalize's, to undo it for pictures
  // After the last epoch (charlm: print and log a text sample). May be empty.
  std::function<void(train::log::SummaryWriter& writer, int64_t global_step)> after_training;
};

// The recipe names lucid-train knows, in --help order.
const std::vector<std::string>& recipe_names();
// Fills every field left at its "unset" value with the recipe's default and
// checks the values; raises lucid::Error naming the flag.
void resolve_config(RunConfig& config);
// Builds the recipe's datasets and model (on the CPU, from the seed);
// `logdir` holds files a recipe makes once per run (charlm: its tokenizer).
Recipe make_recipe(const RunConfig& config, const std::string& logdir);

}  // namespace lucid::apps
