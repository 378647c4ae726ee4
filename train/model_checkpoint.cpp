#include <lucid/train/model_checkpoint.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <lucid/train/file_io.h>

namespace lucid::train {

namespace fs = std::filesystem;
namespace json = data::text::json;

std::optional<int64_t> parse_step_dir(const std::string& name) {
  if (name.size() != 13 || name.rfind("step-", 0) != 0) return std::nullopt;
  int64_t step = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

namespace {

std::string read_pointer(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return "";
  std::string text;
  try {
    text = read_file_bytes(path, "ModelCheckpoint", 4096);
  } catch (const Error&) {
    return "";  // an unreadable pointer is as good as none: latest() scans instead
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return parse_step_dir(text) ? text : "";
}

// The monitored metric of a saved checkpoint (nullopt: none or unreadable).
std::optional<double> saved_score(const std::string& dir, const std::string& monitor) {
  if (monitor.empty()) return std::nullopt;
  try {
    const std::string path = dir + "/trainer_state.json";
    const TrainerState s = trainer_state_from_json(json::parse(read_file_bytes(path, "ModelCheckpoint", 64 << 20), path), path);
    if (const double* v = s.metric(monitor)) return *v;
  } catch (const Error&) {
  }
  return std::nullopt;
}

}  // namespace

ModelCheckpoint::ModelCheckpoint(const std::string& logdir, ModelCheckpointOptions options)
    : dir_((fs::path(logdir) / "checkpoints").string()), options_(std::move(options)) {
  LUCID_CHECK(options_.every_n_steps() >= 0 && options_.every_n_epochs() >= 0, "ModelCheckpoint: every_n_steps (",
              options_.every_n_steps(), ") and every_n_epochs (", options_.every_n_epochs(), ") must be >= 0");
  LUCID_CHECK(options_.save_top_k() >= -1, "ModelCheckpoint: save_top_k must be -1 (keep all), 0 or more, got ",
              options_.save_top_k());
  best_.metric = options_.monitor();
  best_.mode = options_.mode();
  std::error_code ec;
  fs::create_directories(dir_, ec);
  LUCID_CHECK(!ec && fs::is_directory(dir_, ec), "ModelCheckpoint: cannot create ", dir_, " (",
              ec ? ec.message() : "not a directory", ")");

  // Crash leftovers: a .old directory whose replacement never completed goes
  // back; then every .tmp and .old directory is removed.
  std::vector<fs::path> leftovers;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    for (const char* suffix : {".tmp", ".old", ".del"})
      if (name.size() > 4 && name.ends_with(suffix)) leftovers.push_back(entry.path());
  }
  std::sort(leftovers.begin(), leftovers.end());
  for (const fs::path& p : leftovers) {
    const std::string name = p.filename().string();
    const fs::path target = p.parent_path() / name.substr(0, name.size() - 4);
    if (name.ends_with(".old") && !is_complete_checkpoint(target.string()) && is_complete_checkpoint(p.string())) {
      fs::remove_all(target, ec);
      fs::rename(p, target, ec);
      LUCID_CHECK(!ec, "ModelCheckpoint: cannot move ", p.string(), " back to ", target.string(), " (", ec.message(), ")");
      cleaned_.push_back(p.string() + " (moved back: its replacement never completed)");
      continue;
    }
    fs::remove_all(p, ec);
    LUCID_CHECK(!ec, "ModelCheckpoint: cannot remove the partial checkpoint ", p.string(), " (", ec.message(), ")");
    cleaned_.push_back(p.string());
  }
  if (!cleaned_.empty()) fsync_dir(dir_);

  for (const auto& entry : fs::directory_iterator(dir_)) {
    const auto step = parse_step_dir(entry.path().filename().string());
    if (step && is_complete_checkpoint(entry.path().string()))
      scores_[*step] = saved_score(entry.path().string(), options_.monitor());
  }
}

std::optional<std::string> latest_checkpoint(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  const std::string name = read_pointer(dir + "/last");
  if (!name.empty() && is_complete_checkpoint(dir + "/" + name)) return dir + "/" + name;
  std::optional<int64_t> newest;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto step = parse_step_dir(entry.path().filename().string());
    if (step && (!newest || *step > *newest) && is_complete_checkpoint(entry.path().string())) newest = step;
  }
  if (!newest) return std::nullopt;
  return dir + "/" + step_dir_name(*newest);
}

std::optional<std::string> ModelCheckpoint::latest() const { return latest_checkpoint(dir_); }

std::optional<std::string> ModelCheckpoint::best_checkpoint() const {
  const std::string name = read_pointer(dir_ + "/best");
  if (!name.empty() && is_complete_checkpoint(dir_ + "/" + name)) return dir_ + "/" + name;
  return std::nullopt;
}

void ModelCheckpoint::restore_best(const BestScore& best) {
  if (best.metric == best_.metric && best.mode == best_.mode) best_ = best;
}

bool ModelCheckpoint::step_due(int64_t global_step) const {
  return options_.every_n_steps() > 0 && global_step > 0 && global_step % options_.every_n_steps() == 0;
}

bool ModelCheckpoint::epoch_due(int64_t epochs_done) const {
  return options_.every_n_epochs() > 0 && epochs_done > 0 && epochs_done % options_.every_n_epochs() == 0;
}

std::optional<double> ModelCheckpoint::score_of(const std::string& name) const {
  const auto step = parse_step_dir(name);
  if (!step) return std::nullopt;
  auto it = scores_.find(*step);
  return it == scores_.end() ? std::nullopt : it->second;
}

std::string ModelCheckpoint::save(const TrainingObjects& objects, TrainerState state, const CaptureOverrides& overrides) {
  const std::string name = step_dir_name(state.global_step);
  const std::string path = dir_ + "/" + name;

  std::optional<double> score;
  if (!options_.monitor().empty())
    if (const double* v = state.metric(options_.monitor())) score = *v;
  BestScore best = best_;
  if (score && best.improved_by(*score)) {
    best.score = score;
    best.global_step = state.global_step;
    best.checkpoint = name;
  }
  state.best = best;

  // An older checkpoint of this step (saved earlier in this run, before the
  // epoch's validation, or by a run that went on past the point this one
  // resumed from) is moved aside, and removed once the new one is in.
  std::error_code ec;
  const std::string old = path + ".old";
  const bool replacing = fs::exists(path, ec);
  if (replacing) {
    fs::remove_all(old, ec);
    fs::rename(path, old, ec);
    LUCID_CHECK(!ec, "ModelCheckpoint: cannot move the older ", path, " aside (", ec.message(), ")");
  }
  try {
    save_checkpoint(path, objects, state, overrides);
  } catch (...) {
    if (replacing) fs::rename(old, path, ec);  // put the older one back
    throw;
  }
  if (replacing) fs::remove_all(old, ec);

  best_ = best;
  scores_[state.global_step] = score;
  write_file_atomic(dir_ + "/last", name + "\n");
  if (best_.checkpoint == name) write_file_atomic(dir_ + "/best", name + "\n");
  apply_retention();
  return path;
}

void ModelCheckpoint::apply_retention() {
  const int64_t k = options_.save_top_k();
  if (k < 0) return;
  std::vector<int64_t> steps;
  for (const auto& [step, score] : scores_) steps.push_back(step);
  std::vector<int64_t> ranked = steps;
  if (options_.monitor().empty()) {
    std::sort(ranked.begin(), ranked.end(), std::greater<>());
  } else {
    // Best first; no score (or NaN) last; ties: the newer first.
    const bool min = options_.mode() == MonitorMode::Min;
    std::stable_sort(ranked.begin(), ranked.end(), [&](int64_t a, int64_t b) {
      const auto& sa = scores_.at(a);
      const auto& sb = scores_.at(b);
      const bool ha = sa && !std::isnan(*sa), hb = sb && !std::isnan(*sb);
      if (ha != hb) return ha;
      if (ha && *sa != *sb) return min ? *sa < *sb : *sa > *sb;
      return a > b;
    });
  }
  std::vector<int64_t> keep(ranked.begin(), ranked.begin() + std::min<int64_t>(k, int64_t(ranked.size())));
  if (options_.save_last() && !steps.empty()) keep.push_back(*std::max_element(steps.begin(), steps.end()));
  if (k > 0 && best_.global_step >= 0 && scores_.count(best_.global_step)) keep.push_back(best_.global_step);
  bool removed = false;
  for (int64_t step : steps) {
    if (std::find(keep.begin(), keep.end(), step) != keep.end()) continue;
    // Renamed first (atomic), then deleted: a crash half way through the
    // delete leaves a .del directory that the next start removes, never a
    // step-* directory with some files missing.
    const std::string path = dir_ + "/" + step_dir_name(step);
    std::error_code ec;
    fs::rename(path, path + ".del", ec);
    LUCID_CHECK(!ec, "ModelCheckpoint: cannot remove ", path, " (", ec.message(), ")");
    fs::remove_all(path + ".del", ec);
    scores_.erase(step);
    removed = true;
  }
  if (removed) fsync_dir(dir_);
}

}  // namespace lucid::train
