#include <lucid/train/checkpoint.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <vector>

#include <sys/stat.h>

#include <lucid/autograd/grad_mode.h>
#include <lucid/kernels/philox.h>
#include <lucid/kernels/version.h>
#include <lucid/train/failpoint.h>
#include <lucid/train/file_io.h>

namespace lucid::train {

namespace fs = std::filesystem;
namespace json = data::text::json;

namespace {


bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

void check_objects(const TrainingObjects& o, const char* who) {
  LUCID_CHECK(o.model && o.optimizer && o.loader, who, ": TrainingObjects needs a model, an optimizer and a loader");
}

// Every key and its shape and dtype, as one line per difference.
std::string model_mismatch(const StateDict& want, const StateDict& got) {
  std::string out;
  for (const auto& item : want) {
    const Tensor* t = got.find(item.key());
    if (!t) out += "\n  missing: " + item.key();
    else if (t->sizes() != item.value().sizes() || t->dtype() != item.value().dtype())
      out += detail::str_cat("\n  ", item.key(), ": checkpoint has ", t->dtype(), " ", t->sizes(), ", the model ",
                             item.value().dtype(), " ", item.value().sizes());
  }
  for (const auto& item : got)
    if (!want.contains(item.key())) out += "\n  unexpected: " + item.key();
  return out;
}

}  // namespace

std::string step_dir_name(int64_t global_step) {
  LUCID_CHECK(global_step >= 0 && global_step <= kMaxCheckpointStep, "step_dir_name: global step ", global_step,
              " is outside 0..", kMaxCheckpointStep, " (8 digits)");
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(global_step));
  return name;
}

void save_checkpoint(const std::string& dir, const TrainingObjects& objects, TrainerState state,
                     const CaptureOverrides& overrides) {
  check_objects(objects, "save_checkpoint");
  const std::string tmp = dir + ".tmp";
  std::error_code ec;
  LUCID_CHECK(!fs::exists(dir, ec), "save_checkpoint: ", dir, " already exists");

  // Capture everything first, in memory: a failure here writes nothing.
  state.format_version = kCheckpointFormatVersion;
  state.lucid_version = version();
  state.wall_time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  StateDict model_state = objects.model->state_dict();
  StateDict optimizer_tensors, hyper;
  state.optimizer_type = objects.optimizer->name();
  for (auto& item : objects.optimizer->state_dict())
    (starts_with(item.key(), "param_groups.") ? hyper : optimizer_tensors).insert(item.key(), item.value());
  state.optimizer_hyper = std::move(hyper);
  if (objects.scheduler) {
    state.scheduler_type = objects.scheduler.type;
    state.scheduler_state = objects.scheduler.state_dict();
  } else {
    state.scheduler_type.clear();
    state.scheduler_state.clear();
  }
  state.loader_state = overrides.loader_state ? *overrides.loader_state : objects.loader->state_dict();
  state.generator = overrides.generator ? *overrides.generator : default_generator().get_state();
  const std::string model_bytes = encode_safetensors(
      model_state, {{"format", "pt"}, {"lucid_version", version()}, {"global_step", std::to_string(state.global_step)}});
  const std::string optimizer_bytes = encode_safetensors(optimizer_tensors, {{"optimizer", state.optimizer_type}});
  const std::string state_text = json::dump(trainer_state_to_json(state));

  // A .tmp left by a crash at this very step is stale: start it over.
  fs::remove_all(tmp, ec);
  LUCID_CHECK(!ec, "save_checkpoint: cannot remove the stale ", tmp, " (", ec.message(), ")");
  LUCID_CHECK(::mkdir(tmp.c_str(), 0755) == 0, "save_checkpoint: cannot create ", tmp, " (", std::strerror(errno), ")");
  try {
    write_file_durable(tmp + "/" + kModelFile, model_bytes);
    failpoint("checkpoint.after_model");
    write_file_durable(tmp + "/" + kOptimizerFile, optimizer_bytes);
    write_file_durable(tmp + "/" + kTrainerStateFile, state_text);
    fsync_dir(tmp);
    failpoint("checkpoint.before_rename");
    LUCID_CHECK(::rename(tmp.c_str(), dir.c_str()) == 0, "save_checkpoint: cannot rename ", tmp, " to ", dir, " (",
                std::strerror(errno), ")");
  } catch (...) {
    fs::remove_all(tmp, ec);  // leave nothing half-written behind
    throw;
  }
  const fs::path parent = fs::path(dir).parent_path();
  fsync_dir(parent.empty() ? "." : parent.string());
}

bool is_complete_checkpoint(const std::string& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::is_regular_file(fs::path(dir) / kModelFile, ec) &&
         fs::is_regular_file(fs::path(dir) / kOptimizerFile, ec) && fs::is_regular_file(fs::path(dir) / kTrainerStateFile, ec);
}

Checkpoint read_checkpoint(const std::string& dir) {
  std::error_code ec;
  LUCID_CHECK(fs::is_directory(dir, ec), "read_checkpoint: ", dir, " is not a directory");
  for (const char* f : {kModelFile, kOptimizerFile, kTrainerStateFile})
    LUCID_CHECK(fs::is_regular_file(fs::path(dir) / f, ec), "read_checkpoint: ", dir, " has no ", f,
                " (an incomplete or foreign directory)");
  Checkpoint c;
  c.dir = dir;
  const std::string state_path = (fs::path(dir) / kTrainerStateFile).string();
  c.state = trainer_state_from_json(json::parse(read_file_bytes(state_path, "read_checkpoint", kMaxTrainerStateBytes), state_path),
                                    state_path);
  c.model = load_safetensors((fs::path(dir) / kModelFile).string());
  c.optimizer = load_safetensors((fs::path(dir) / kOptimizerFile).string());
  for (const auto& item : c.optimizer.tensors)
    LUCID_CHECK(starts_with(item.key(), "state."), "read_checkpoint: ", dir, "/", kOptimizerFile, ": entry '",
                item.key(), "' is not an optimizer state entry (state.<i>.<name>)");
  return c;
}

void restore_checkpoint(const Checkpoint& c, const TrainingObjects& objects) {
  check_objects(objects, "restore_checkpoint");
  const std::string who = "restore_checkpoint: " + c.dir;
  // ---- validate what can be checked without touching anything ----
  LUCID_CHECK(c.state.optimizer_type == objects.optimizer->name(), who, ": the checkpoint's optimizer is ",
              c.state.optimizer_type, ", this run's is ", objects.optimizer->name());
  const std::string run_scheduler = objects.scheduler ? objects.scheduler.type : "";
  LUCID_CHECK(c.state.scheduler_type == run_scheduler, who, ": the checkpoint's scheduler is ",
              c.state.scheduler_type.empty() ? "none" : c.state.scheduler_type, ", this run's is ",
              run_scheduler.empty() ? "none" : run_scheduler);
  const StateDict current_model = objects.model->state_dict();
  const std::string mismatch = model_mismatch(current_model, c.model.tensors);
  LUCID_CHECK(mismatch.empty(), who, "/", kModelFile, " does not fit the model:", mismatch);

  // ---- apply in order, keeping an undo step for each piece ----
  // Each piece is snapshotted before it is loaded. If a load fails, every
  // piece is put back, newest first, the failing one included (reloading its
  // own snapshot into an object that refused the load is harmless), so the
  // all-or-nothing promise does not depend on how each load_state_dict fails.
  std::vector<std::function<void()>> undo;
  auto apply = [&](std::function<void()> load, std::function<void()> put_back) {
    undo.push_back(std::move(put_back));
    load();
  };
  // The checkpoint's tensors are CPU tensors: each goes to the device (and
  // stays in the dtype) of the model's entry it replaces.
  StateDict model_state;
  for (const auto& item : c.model.tensors)
    model_state.insert(item.key(), item.value().to(current_model[item.key()].device()));
  StateDict optimizer_state;  // Optimizer::load_state_dict moves buffers to each parameter's device
  for (const auto& item : c.state.optimizer_hyper) optimizer_state.insert(item.key(), item.value());
  for (const auto& item : c.optimizer.tensors) optimizer_state.insert(item.key(), item.value());
  try {
    StateDict model_before;  // 1. model
    for (const auto& item : current_model) model_before.insert(item.key(), item.value().clone());
    apply([&] { objects.model->load_state_dict(model_state); },
          [&, before = std::move(model_before)] { objects.model->load_state_dict(before); });
    apply([&] { objects.optimizer->load_state_dict(optimizer_state); },  // 2. optimizer
          [&, before = objects.optimizer->state_dict()] { objects.optimizer->load_state_dict(before); });
    if (objects.scheduler)  // 3. scheduler
      apply([&] { objects.scheduler.load_state_dict(c.state.scheduler_state); },
            [&, before = objects.scheduler.state_dict()] { objects.scheduler.load_state_dict(before); });
    // 4. the counters (global step, best score) are the caller's: they are in c.state
    apply([&] { objects.loader->load_state_dict(c.state.loader_state); },  // 5. loader position
          [&, before = objects.loader->state_dict()] { objects.loader->load_state_dict(before); });
    apply([&] { default_generator().set_state(c.state.generator); },  // 6. generators
          [before = default_generator().get_state()] { default_generator().set_state(before); });
  } catch (const std::exception& e) {
    std::string failed_undo;
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      try {
        (*it)();
      } catch (const std::exception& u) {
        failed_undo += std::string("; putting a piece back failed too: ") + u.what();
      }
    }
    throw Error(detail::str_cat(who, ": ", e.what(),
                                failed_undo.empty() ? " (nothing was changed)" : failed_undo));
  }
}

}  // namespace lucid::train
