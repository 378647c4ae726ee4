#include "config.h"

#include <charconv>

#include <lucid/kernels/error.h>

namespace lucid::apps {

namespace json = data::text::json;
using json::Kind;
using json::Value;

const std::vector<ConfigField>& config_fields() {
  static const std::vector<ConfigField> fields = {
      {"--recipe", "fashion-cnn (default), fashion-mlp or charlm", &RunConfig::recipe},
      {"--epochs", "passes over the training set", &RunConfig::epochs},
      {"--batch-size", "samples per optimizer step", &RunConfig::batch_size},
      {"--lr", "learning rate (OneCycleLR's peak)", &RunConfig::lr},
      {"--optimizer", "adamw, adam or sgd (momentum 0.9, Nesterov)", &RunConfig::optimizer},
      {"--scheduler", "onecycle, cosine (linear warm-up, then cosine) or none", &RunConfig::scheduler},
      {"--weight-decay", "on weights with more than one dimension (not on biases and norms)", &RunConfig::weight_decay},
      {"--grad-clip", "max total gradient norm; 0 turns clipping off", &RunConfig::grad_clip},
      {"--seed", "seeds the initial weights, the data order and the augmentation", &RunConfig::seed},
      {"--deterministic", "cuDNN's deterministic algorithms on a GPU (the CPU always is)", &RunConfig::deterministic},
      {"--train-samples", "use the first N training samples (0: all)", &RunConfig::train_samples},
      {"--val-samples", "use the first N validation samples (0: all)", &RunConfig::val_samples},
      {"--data", "dataset directory", &RunConfig::data},
      {"--log-every", "steps between train/loss points in the logs", &RunConfig::log_every},
      {"--image-every", "training batches between prediction images (0: none)", &RunConfig::image_every},
      {"--histogram-every", "steps between weight and gradient histograms (0: none)", &RunConfig::histogram_every},
      {"--grad-check-every", "steps between gradient-flow checks besides the first (0: first only)",
       &RunConfig::grad_check_every},
      {"--checkpoint-every-steps", "save a checkpoint every N steps (0: not by steps)",
       &RunConfig::checkpoint_every_steps},
      {"--checkpoint-every-epochs", "save a checkpoint every N epochs, after validation (0: not by epochs)",
       &RunConfig::checkpoint_every_epochs},
      {"--save-top-k", "keep the K best checkpoints by the recipe's metric (-1: all); the newest is always kept",
       &RunConfig::save_top_k},
      {"--block-size", "charlm: context length in tokens", &RunConfig::block_size},
      {"--layers", "charlm: transformer blocks", &RunConfig::layers},
      {"--heads", "charlm: attention heads", &RunConfig::heads},
      {"--width", "charlm: embedding width", &RunConfig::width},
      {"--vocab-size", "charlm: BPE vocabulary size (bytes + merges + <|endoftext|>)", &RunConfig::vocab_size},
      {"--dropout", "charlm: dropout probability", &RunConfig::dropout},
      {"--sample-tokens", "charlm: tokens sampled after training", &RunConfig::sample_tokens},
      {"--prompt", "charlm: the text the sample continues", &RunConfig::prompt},
  };
  return fields;
}

std::string json_key(const ConfigField& field) {
  std::string key = std::string(field.flag).substr(2);
  for (char& c : key)
    if (c == '-') c = '_';
  return key;
}

namespace {
std::string double_text(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}
}  // namespace

std::string value_text(const RunConfig& c, const ConfigField& f) {
  return std::visit(
      [&](auto member) -> std::string {
        const auto& v = c.*member;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) return v.empty() ? "\"\"" : v;
        else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        else if constexpr (std::is_same_v<T, double>) return double_text(v);
        else return std::to_string(v);
      },
      f.member);
}

Value config_to_json(const RunConfig& c) {
  std::vector<std::pair<std::string, Value>> members;
  for (const ConfigField& f : config_fields()) {
    Value v = std::visit(
        [&](auto member) -> Value {
          const auto& x = c.*member;
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) return Value::of_string(x);
          else if constexpr (std::is_same_v<T, bool>) return Value::of_bool(x);
          else if constexpr (std::is_same_v<T, double>) return Value::of_number(x);
          else return Value::of_integer(x);
        },
        f.member);
    members.emplace_back(json_key(f), std::move(v));
  }
  return Value::of_object(std::move(members));
}

RunConfig config_from_json(const Value& doc, const std::string& source) {
  json::expect(doc, Kind::Object, "config", source);
  RunConfig c;
  for (const ConfigField& f : config_fields()) {
    const std::string key = json_key(f);
    std::visit(
        [&](auto member) {
          auto& x = c.*member;
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) x = json::member(doc, key, Kind::String, source).string;
          else if constexpr (std::is_same_v<T, bool>) x = json::member(doc, key, Kind::Bool, source).boolean;
          else if constexpr (std::is_same_v<T, double>) x = json::member(doc, key, Kind::Number, source).number;
          else x = json::member(doc, key, Kind::Integer, source).integer;
        },
        f.member);
  }
  for (const auto& [key, v] : doc.object) {
    bool known = false;
    for (const ConfigField& f : config_fields()) known = known || json_key(f) == key;
    if (!known) json::fail(source, v, "config: unknown setting \"" + key + "\" (written by another lucid-train?)");
  }
  return c;
}

std::string contradictions(const RunConfig& cli, const RunConfig& saved, const std::vector<std::string>& given) {
  std::string out;
  for (const ConfigField& f : config_fields()) {
    bool named = false;
    for (const std::string& g : given) named = named || g == f.flag;
    if (!named) continue;
    const std::string mine = value_text(cli, f), theirs = value_text(saved, f);
    if (mine != theirs) out += detail::str_cat("  ", f.flag, " ", mine, " (the run has ", theirs, ")\n");
  }
  return out;
}

}  // namespace lucid::apps
