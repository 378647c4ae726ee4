#pragma once
// lucid-train's configuration, in two parts:
//
//   RunConfig   what defines the run's math (recipe, sizes, optimizer, seed, ...).
//               Saved in every checkpoint (trainer_state.json "config");
//               --resume restores it, and refuses a flag that contradicts it.
//   RunFlags    how this process runs it (device, workers, threads, logdir,
//               resume, ...): free to change between a run and its resume.
//
// kConfigFields is the one table of RunConfig's flags: the command line, the
// JSON form and the resume check all loop over it, so a new setting is one row.
// A numeric field left at -1 (or a string left empty) takes the recipe's
// default (recipes.h), filled in before the run starts and before it is saved.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <lucid/data/text/json.h>

namespace lucid::apps {

struct RunConfig {
  std::string recipe = "fashion-cnn";
  int64_t epochs = -1;
  int64_t batch_size = -1;
  double lr = -1;
  std::string optimizer;        // adamw | adam | sgd
  std::string scheduler;        // onecycle | cosine | none
  double weight_decay = -1;
  double grad_clip = -1;        // max gradient norm; 0: no clipping
  int64_t seed = 0;
  bool deterministic = false;   // cuDNN's deterministic algorithms (the CPU always is)
  int64_t train_samples = -1;   // 0: the whole training set
  int64_t val_samples = -1;     // 0: the whole validation set
  std::string data;             // the dataset directory
  int64_t log_every = 50;       // steps between logged train/loss lines
  int64_t image_every = -1;     // batches between prediction images (0: none)
  int64_t histogram_every = 0;  // steps between weight/gradient histograms (0: none)
  int64_t grad_check_every = 0; // steps between gradient-flow checks (the first step always)
  int64_t checkpoint_every_steps = 0;
  int64_t checkpoint_every_epochs = 1;
  int64_t save_top_k = 1;
  // charlm (GPT) only
  int64_t block_size = -1;
  int64_t layers = -1;
  int64_t heads = -1;
  int64_t width = -1;
  int64_t vocab_size = -1;
  double dropout = -1;
  int64_t sample_tokens = -1;
  std::string prompt;
};

struct RunFlags {
  std::string device = "auto";  // auto | cpu | cuda
  int64_t workers = 2;
  int64_t threads = 0;          // 0: lucid's default
  std::string logdir;           // default: runs/<recipe>-<date>-<time>
  std::string resume;           // "" | auto | a checkpoint or log directory
  bool eval_only = false;
  bool print_config = false;
  int64_t stop_at_step = -1;    // save and exit after this step (at an epoch's end: after its validation)
  std::string progress = "auto";  // auto | bar | lines
};

struct ConfigField {
  const char* flag;  // "--lr"; the JSON key is the flag without dashes, '-' -> '_'
  const char* help;
  std::variant<std::string RunConfig::*, int64_t RunConfig::*, double RunConfig::*, bool RunConfig::*> member;
};
const std::vector<ConfigField>& config_fields();
std::string json_key(const ConfigField& field);
// The field's value as text ("0.006", "true", "fashion-cnn"), for messages.
std::string value_text(const RunConfig& config, const ConfigField& field);

data::text::json::Value config_to_json(const RunConfig& config);
// Every field must be present with its type; unknown keys are refused.
RunConfig config_from_json(const data::text::json::Value& doc, const std::string& source);

// The fields named in `given` (flags as typed) whose value in `cli` differs from
// `saved`: "--lr 0.01 (the run has 0.006)", one per line; empty when they agree.
std::string contradictions(const RunConfig& cli, const RunConfig& saved, const std::vector<std::string>& given);

}  // namespace lucid::apps
