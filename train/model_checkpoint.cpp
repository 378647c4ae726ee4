#include <lucid/train/model_checkpoint.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <lucid/train/file_io.h>

namespace lucid::train {

namespace fs = std::filesystem;
namespace json = data::text::json;

std::optional<int64_t> parse_step_dir(const std::string& name) {
  constexpr std::string_view prefix = "step-";  // then 8 digits, as step_dir_name writes them
  if (name.size() != prefix.size() + 8 || name.rfind(prefix, 0) != 0) return std::nullopt;
  int64_t step = 0;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
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
    const std::string path = dir + "/" + kTrainerStateFile;
    const TrainerState s = trainer_state_from_json(json::parse(read_file_bytes(path, "ModelCheckpoint", kMaxTrainerStateBytes), path), path);
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

  cleaned_ = recover_checkpoints(dir_);

  for (const auto& entry : fs::directory_iterator(dir_)) {
    const auto step = parse_step_dir(entry.path().filename().string());
    if (step && is_complete_checkpoint(entry.path().string()))
      scores_[*step] = saved_score(entry.path().string(), options_.monitor());
  }
}

std::vector<std::string> recover_checkpoints(const std::string& dir) {
  std::vector<std::string> report;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return report;
  // Only names lucid writes: step-XXXXXXXX.{tmp,old,del}, nonfinite-step-XXXXXXXX.tmp,
  // last.tmp and best.tmp. Anything else in the directory is left alone.
  std::vector<fs::path> leftovers;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "last.tmp" || name == "best.tmp") {
      leftovers.push_back(entry.path());
      continue;
    }
    if (name.size() < 4) continue;
    const std::string stem = name.substr(0, name.size() - 4), suffix = name.substr(name.size() - 4);
    const bool step_stem = parse_step_dir(stem).has_value();
    const bool nonfinite_stem = stem.rfind("nonfinite-", 0) == 0 && parse_step_dir(stem.substr(10)).has_value();
    if ((step_stem && (suffix == ".tmp" || suffix == ".old" || suffix == ".del")) || (nonfinite_stem && suffix == ".tmp"))
      leftovers.push_back(entry.path());
  }
  std::sort(leftovers.begin(), leftovers.end());
  for (const fs::path& p : leftovers) {
    const std::string name = p.filename().string();
    const std::string suffix = name.substr(name.size() - 4);
    const fs::path target = p.parent_path() / name.substr(0, name.size() - 4);
    if (suffix == ".old" && !is_complete_checkpoint(target.string()) && is_complete_checkpoint(p.string())) {
      // A checkpoint moved aside to be replaced, whose replacement never
      // completed: it is still the checkpoint of its step.
      fs::remove_all(target, ec);
      fs::rename(p, target, ec);
      LUCID_CHECK(!ec, "ModelCheckpoint: cannot move ", p.string(), " back to ", target.string(), " (", ec.message(), ")");
      report.push_back("moved " + p.string() + " back: its replacement never completed");
      continue;
    }
    fs::remove_all(p, ec);
    LUCID_CHECK(!ec, "ModelCheckpoint: cannot remove ", p.string(), " (", ec.message(), ")");
    report.push_back(suffix == ".del"   ? "removed " + p.string() + ": a delete was interrupted"
                     : suffix == ".old" ? "removed " + p.string() + ": its replacement is complete"
                                        : "removed a partial checkpoint left by an interrupted save: " + p.string());
  }
  if (!report.empty()) fsync_dir(dir);
  return report;
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
  if (best.metric != best_.metric || best.mode != best_.mode) return;
  best_ = best;
  // The pointer follows the restored score (it may name an abandoned checkpoint).
  if (!best_.checkpoint.empty() && is_complete_checkpoint(dir_ + "/" + best_.checkpoint))
    write_file_atomic(dir_ + "/best", best_.checkpoint + "\n");
}

std::vector<std::string> ModelCheckpoint::abandon_after(int64_t step) {
  std::vector<std::string> moved;
  std::string to;
  for (auto it = scores_.upper_bound(step); it != scores_.end();) {
    if (to.empty()) {  // abandoned-after-step-00000600/, or .1, .2 ... if that exists
      to = dir_ + "/abandoned-after-" + step_dir_name(step);
      for (int n = 1; fs::exists(to); ++n) to = dir_ + "/abandoned-after-" + step_dir_name(step) + "." + std::to_string(n);
      fs::create_directories(to);
    }
    const std::string name = step_dir_name(it->first);
    std::error_code ec;
    fs::rename(dir_ + "/" + name, to + "/" + name, ec);
    LUCID_CHECK(!ec, "ModelCheckpoint: cannot move ", dir_, "/", name, " to ", to, " (", ec.message(), ")");
    moved.push_back(to + "/" + name);
    it = scores_.erase(it);
  }
  if (moved.empty()) return moved;
  fsync_dir(dir_);
  const std::string kept = step_dir_name(step);
  if (is_complete_checkpoint(dir_ + "/" + kept)) write_file_atomic(dir_ + "/last", kept + "\n");
  else std::filesystem::remove(dir_ + "/last");
  if (best_.global_step > step) {  // a best from the abandoned run is not this run's
    best_.score.reset();
    best_.global_step = -1;
    best_.checkpoint.clear();
    std::filesystem::remove(dir_ + "/best");
  }
  return moved;
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
  last_saved_step_ = state.global_step;
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
  if (options_.save_last() && last_saved_step_ >= 0) keep.push_back(last_saved_step_);
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
