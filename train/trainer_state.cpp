#include <lucid/train/trainer_state.h>

#include <charconv>
#include <cmath>

#include <lucid/kernels/version.h>
#include <lucid/train/state_json.h>

namespace lucid::train {

namespace json = data::text::json;
using json::Kind;
using json::Value;

const char* monitor_mode_name(MonitorMode mode) { return mode == MonitorMode::Min ? "min" : "max"; }

bool BestScore::improved_by(double candidate) const {
  if (std::isnan(candidate)) return false;
  if (!score) return true;
  return mode == MonitorMode::Min ? candidate < *score : candidate > *score;
}

const double* TrainerState::metric(const std::string& name) const {
  for (const auto& [k, v] : metrics)
    if (k == name) return &v;
  return nullptr;
}

namespace {

Value best_to_json(const BestScore& b) {
  return Value::of_object({{"metric", Value::of_string(b.metric)},
                           {"mode", Value::of_string(monitor_mode_name(b.mode))},
                           {"score", b.score ? double_to_json(*b.score) : Value::of_null()},
                           {"global_step", Value::of_integer(b.global_step)},
                           {"checkpoint", Value::of_string(b.checkpoint)}});
}

BestScore best_from_json(const Value& v, const std::string& source) {
  BestScore b;
  b.metric = json::member(v, "metric", Kind::String, source).string;
  const Value& mode = json::member(v, "mode", Kind::String, source);
  if (mode.string != "min" && mode.string != "max")
    json::fail(source, mode, "best.mode must be \"min\" or \"max\", not \"" + mode.string + "\"");
  b.mode = mode.string == "min" ? MonitorMode::Min : MonitorMode::Max;
  const Value* score = v.find("score");
  if (!score) json::fail(source, v, "best: missing key \"score\"");
  if (score->kind != Kind::Null) b.score = double_from_json(*score, "best.score", source);
  b.global_step = json::member(v, "global_step", Kind::Integer, source).integer;
  b.checkpoint = json::member(v, "checkpoint", Kind::String, source).string;
  return b;
}

int64_t non_negative(const Value& object, const char* key, const std::string& source) {
  const Value& v = json::member(object, key, Kind::Integer, source);
  if (v.integer < 0) json::fail(source, v, detail::str_cat("\"", key, "\" must not be negative"));
  return v.integer;
}

}  // namespace

Value trainer_state_to_json(const TrainerState& s) {
  // Every part that can throw (state_to_json refuses big tensors) is made
  // first, then the members are added one by one: an exception thrown while a
  // braced list of members is being built is mishandled by GCC 12 (its
  // cleanup destroys list elements out of scope, as ASan reports).
  std::vector<std::pair<std::string, Value>> metrics;
  for (const auto& [k, v] : s.metrics) metrics.emplace_back(k, double_to_json(v));
  Value hyper = state_to_json(s.optimizer_hyper, "trainer_state: optimizer");
  Value scheduler = Value::of_null();
  if (!s.scheduler_type.empty()) {
    Value state = state_to_json(s.scheduler_state, "trainer_state: scheduler");
    scheduler = Value::of_object({});
    scheduler.object.emplace_back("type", Value::of_string(s.scheduler_type));
    scheduler.object.emplace_back("state", std::move(state));
  }
  Value loader = state_to_json(s.loader_state, "trainer_state: dataloader");
  Value optimizer = Value::of_object({});
  optimizer.object.emplace_back("type", Value::of_string(s.optimizer_type));
  optimizer.object.emplace_back("param_groups", std::move(hyper));
  Value generator = Value::of_object({});
  generator.object.emplace_back("seed", Value::of_string(std::to_string(s.generator.seed)));
  generator.object.emplace_back("offset", Value::of_string(std::to_string(s.generator.offset)));
  Value generators = Value::of_object({});
  generators.object.emplace_back("default", std::move(generator));

  Value doc = Value::of_object({});
  auto add = [&](const char* key, Value v) { doc.object.emplace_back(key, std::move(v)); };
  add("format_version", Value::of_integer(s.format_version));
  add("lucid_version", Value::of_string(s.lucid_version.empty() ? version() : s.lucid_version));
  add("reason", Value::of_string(s.reason));
  add("wall_time", Value::of_number(s.wall_time));
  add("global_step", Value::of_integer(s.global_step));
  add("epoch", Value::of_integer(s.epoch));
  add("metrics", Value::of_object(std::move(metrics)));
  add("best", best_to_json(s.best));
  add("optimizer", std::move(optimizer));
  add("scheduler", std::move(scheduler));
  add("dataloader", std::move(loader));
  add("generators", std::move(generators));
  add("config", s.config);
  return doc;
}

TrainerState trainer_state_from_json(const Value& doc, const std::string& source) {
  json::expect(doc, Kind::Object, "trainer_state", source);
  TrainerState s;
  const Value& version_v = json::member(doc, "format_version", Kind::Integer, source);
  s.lucid_version = json::member(doc, "lucid_version", Kind::String, source).string;
  if (version_v.integer > kCheckpointFormatVersion)
    json::fail(source, version_v,
               detail::str_cat("format_version ", version_v.integer, " was written by lucid ", s.lucid_version,
                               "; this lucid (", version(), ") reads format_version ", kCheckpointFormatVersion,
                               " and older"));
  if (version_v.integer < 1) json::fail(source, version_v, "format_version must be at least 1");
  s.format_version = version_v.integer;
  s.reason = json::member(doc, "reason", Kind::String, source).string;
  s.wall_time = json::member(doc, "wall_time", Kind::Number, source).number;
  s.global_step = non_negative(doc, "global_step", source);
  s.epoch = non_negative(doc, "epoch", source);
  for (const auto& [k, v] : json::member(doc, "metrics", Kind::Object, source).object)
    s.metrics.emplace_back(k, double_from_json(v, "metrics." + k, source));
  s.best = best_from_json(json::member(doc, "best", Kind::Object, source), source);

  const Value& opt = json::member(doc, "optimizer", Kind::Object, source);
  s.optimizer_type = json::member(opt, "type", Kind::String, source).string;
  s.optimizer_hyper = state_from_json(json::member(opt, "param_groups", Kind::Object, source), "optimizer", source);
  for (const auto& item : s.optimizer_hyper)
    if (item.key().rfind("param_groups.", 0) != 0)
      json::fail(source, opt, "optimizer.param_groups: entry '" + item.key() + "' is not a param_groups.* entry");

  const Value* sched = doc.find("scheduler");
  if (!sched) json::fail(source, doc, "missing key \"scheduler\"");
  if (sched->kind != Kind::Null) {
    json::expect(*sched, Kind::Object, "\"scheduler\"", source);
    s.scheduler_type = json::member(*sched, "type", Kind::String, source).string;
    if (s.scheduler_type.empty()) json::fail(source, *sched, "scheduler.type is empty");
    s.scheduler_state = state_from_json(json::member(*sched, "state", Kind::Object, source), "scheduler", source);
  }
  s.loader_state = state_from_json(json::member(doc, "dataloader", Kind::Object, source), "dataloader", source);

  const Value& gens = json::member(doc, "generators", Kind::Object, source);
  const Value& gen = json::member(gens, "default", Kind::Object, source);
  auto u64 = [&](const char* key) {
    const Value& v = json::member(gen, key, Kind::String, source);
    uint64_t out = 0;
    const char* end = v.string.data() + v.string.size();
    const auto [p, ec] = std::from_chars(v.string.data(), end, out);
    if (ec != std::errc() || p != end || v.string.empty())
      json::fail(source, v, detail::str_cat("generators.default.", key, " must be an unsigned 64-bit decimal string"));
    return out;
  };
  s.generator.seed = u64("seed");
  s.generator.offset = u64("offset");
  s.config = json::member(doc, "config", Kind::Object, source);
  return s;
}

}  // namespace lucid::train
