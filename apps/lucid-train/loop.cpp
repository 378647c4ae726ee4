#include "loop.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <limits>

#include <lucid/lucid.h>
#include <lucid/train/log/jsonl.h>
#include <lucid/train/log/prediction_grid.h>
#include <lucid/train/log/summary_writer.h>
#include <lucid/train/memory_watch.h>
#include <lucid/train/model_checkpoint.h>
#include <lucid/train/progress.h>

#include "recipes.h"
#include "setup.h"

namespace lucid::apps {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// ---- stopping on a signal ---------------------------------------------------------
// The first SIGINT/SIGTERM (Ctrl-C, a scheduler's preemption) asks the loop to
// stop after the current step and save; a second one ends the process at once.
std::atomic<int> g_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the handler may only touch a lock-free atomic");
extern "C" void on_stop_signal(int sig) {
  g_stop_signal.store(sig);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C (or SIGTERM) ends the process at once
  std::signal(SIGTERM, SIG_DFL);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

struct EvalResult {
  double loss = 0;
  double accuracy = 0;
};

// Mean loss and accuracy over the validation set. eval() switches BatchNorm to
// its running statistics and Dropout off; NoGradGuard records nothing; no
// generator is drawn from, so evaluating never changes what training does next.
EvalResult evaluate(Recipe& r, data::DataLoader& loader) {
  NoGradGuard no_grad;
  r.model->eval();
  double loss_sum = 0;
  int64_t right = 0, counted = 0;
  for (data::Example& batch : loader) {
    const Tensor logits = r.forward(batch.data);
    const auto [ok, n] = r.correct(logits, batch.target);
    loss_sum += r.loss(logits, batch.target).item<double>() * static_cast<double>(n);
    right += ok;
    counted += n;
  }
  r.model->train();
  return {loss_sum / static_cast<double>(std::max<int64_t>(counted, 1)),
          static_cast<double>(right) / static_cast<double>(std::max<int64_t>(counted, 1))};
}

// The first `n` validation samples as one fixed batch: every prediction image
// shows the same inputs, so the pictures show the model changing, not the data.
data::Example fixed_batch(const data::Dataset& set, size_t n) {
  std::vector<data::Example> samples;
  for (size_t i = 0; i < std::min(n, set.size()); ++i) samples.push_back(set.get(i));
  return data::default_collate(samples);
}

// A prediction grid under eval() and no-grad (drawing from no generator, so a
// resumed run stays bit-exact), saved as a PNG and logged to TensorBoard.
void prediction_images(Recipe& r, const data::Example& batch, Device device, const std::string& logdir,
                       int64_t step, train::log::SummaryWriter& writer) {
  NoGradGuard no_grad;
  r.model->eval();
  const Tensor predicted = r.forward(batch.data.to(device)).argmax(1).to(kCPU);
  r.model->train();
  const data::Image grid = train::log::prediction_grid(
      batch.data, predicted, batch.target,
      train::log::PredictionGridOptions().class_names(r.class_names).mean(r.mean).std(r.std));
  fs::create_directories(fs::path(logdir) / "images");
  data::write_png((fs::path(logdir) / "images" / (train::step_dir_name(step) + ".png")).string(), grid);
  writer.add_image("predictions", grid, step);
}

// Per-parameter weight and gradient histograms and gradient norms.
void histograms(const nn::Module& model, int64_t step, train::log::SummaryWriter& writer) {
  NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    const Tensor& p = item.value();
    writer.add_histogram("weights/" + item.key(), p, step);
    if (!p.grad().defined()) continue;
    writer.add_histogram("grads/" + item.key(), p.grad(), step);
    writer.add_scalar("grad_norm/" + item.key(), p.grad().to(kFloat64).pow(2.0).sum().sqrt().item<double>(), step);
  }
}

// ---- when to save --------------------------------------------------------------------
// The rules, in one place. After step S (inside the epoch's loop):
//   - S is the last batch of its epoch: nothing is saved yet. Every save waits
//     for the epoch's validation, so a checkpoint is always taken after all of
//     its step's logging (which is what makes purging the logs from S + 1 on
//     resume exact) and a resume never validates an epoch twice.
//   - else, a signal arrived: save ("interrupted") and exit 128 + signal;
//     S is --stop-at-step: save ("stop") and exit 0;
//     every_n_steps is due: save ("every_n_steps").
// After the epoch's validation (S is its last step): save once if any of
// every_n_steps, every_n_epochs, the last epoch, --stop-at-step or a signal
// asks for it ("end", "epoch_end", "stop", "interrupted"), then exit if a
// signal or --stop-at-step asked.
// A non-finite loss is its own case: the state before the step, saved apart.
struct SavePlan {
  const char* reason = nullptr;  // nullptr: no save
  bool exit = false;
};

SavePlan plan_after_step(int64_t step, bool last_of_epoch, int signal, int64_t stop_at_step,
                         const train::ModelCheckpoint& checkpoints) {
  if (last_of_epoch) return {};
  if (signal) return {"interrupted", true};
  if (step == stop_at_step) return {"stop", true};
  if (checkpoints.step_due(step)) return {"every_n_steps", false};
  return {};
}

SavePlan plan_after_epoch(int64_t step, int64_t epochs_done, int64_t epochs, int signal, int64_t stop_at_step,
                          const train::ModelCheckpoint& checkpoints) {
  if (signal) return {"interrupted", true};
  if (step == stop_at_step) return {epochs_done == epochs ? "end" : "stop", true};
  if (epochs_done == epochs) return {"end", false};
  if (checkpoints.epoch_due(epochs_done)) return {"epoch_end", false};
  if (checkpoints.step_due(step)) return {"every_n_steps", false};
  return {};
}

}  // namespace

int run_training(const RunSetup& s) {
  const RunConfig& c = s.config;
  const auto start = Clock::now();
  if (c.deterministic) {
    backends::cudnn::deterministic = true;
    backends::cudnn::benchmark = false;
  }

  // ---- the recipe: data, model, loss ------------------------------------------------
  Recipe r = make_recipe(c, s.logdir);
  r.model->to(s.device);  // initialized on the CPU (the same weights on every device), then moved
  std::printf("recipe %s: %s\n%lld parameters on %s\n", r.name.c_str(), r.description.c_str(),
              static_cast<long long>(nn::parameter_count(*r.model)), s.device.str().c_str());

  const bool on_gpu = s.device.is_cuda();
  data::DataLoader train_loader(r.train_set, data::DataLoaderOptions(static_cast<size_t>(c.batch_size))
                                                 .shuffle(true)
                                                 .seed(static_cast<uint64_t>(c.seed))
                                                 .num_workers(static_cast<size_t>(s.flags.workers))
                                                 .drop_last(true)
                                                 .device(s.device)
                                                 .pin_memory(on_gpu));
  data::DataLoader val_loader(r.val_set, data::DataLoaderOptions(c.recipe == "charlm" ? 64 : 500)
                                             .num_workers(static_cast<size_t>(s.flags.workers))
                                             .device(s.device)
                                             .pin_memory(on_gpu));
  LUCID_CHECK(train_loader.size() > 0, "lucid-train: ", r.train_set->size(), " training samples make no batch of ",
              c.batch_size, " (drop_last)");
  const int64_t steps_per_epoch = static_cast<int64_t>(train_loader.size());
  LUCID_CHECK(c.epochs <= train::kMaxCheckpointStep / steps_per_epoch, "lucid-train: ", c.epochs, " epochs of ",
              steps_per_epoch, " steps are more than the ", train::kMaxCheckpointStep,
              " steps a checkpoint name holds");
  const int64_t total_steps = c.epochs * steps_per_epoch;

  // ---- optimizer, schedule, and what a checkpoint holds -------------------------------
  std::unique_ptr<optim::Optimizer> optimizer = make_optimizer(c, *r.model);
  std::unique_ptr<optim::LRScheduler> scheduler = make_scheduler(c, *optimizer, total_steps);
  train::TrainingObjects objects{r.model.get(), optimizer.get(), {}, &train_loader};
  if (scheduler) objects.scheduler = train::scheduler_handle(*scheduler, scheduler_type(c));

  // ---- resume: model, optimizer, scheduler, counters, loader, generators --------------
  int64_t global_step = 0;
  std::vector<std::pair<std::string, double>> metrics;  // the latest validation
  if (s.resume_from) {
    train::restore_checkpoint(*s.resume_from, objects);
    global_step = s.resume_from->state.global_step;
    metrics = s.resume_from->state.metrics;
    const int64_t served = read_int(train_loader.state_dict(), "batches_served", "resume");
    if (static_cast<int64_t>(train_loader.epoch()) >= c.epochs)
      std::printf("resumed from %s: step %lld, the run is complete\n", s.resume_from->dir.c_str(),
                  static_cast<long long>(global_step));
    else
      std::printf("resumed from %s: step %lld, epoch %lld, %lld of %lld batches done\n", s.resume_from->dir.c_str(),
                  static_cast<long long>(global_step), static_cast<long long>(train_loader.epoch() + 1),
                  static_cast<long long>(served), static_cast<long long>(steps_per_epoch));
  }
  if (s.flags.eval_only) {  // reads only: no checkpoint, log or image is written
    const EvalResult e = evaluate(r, val_loader);
    std::printf("eval-only at step %lld: val loss %.4f  val accuracy %.4f\n", static_cast<long long>(global_step),
                e.loss, e.accuracy);
    return 0;
  }

  train::ModelCheckpoint checkpoints(s.logdir, train::ModelCheckpointOptions()
                                                   .every_n_steps(c.checkpoint_every_steps)
                                                   .every_n_epochs(c.checkpoint_every_epochs)
                                                   .monitor(r.monitor)
                                                   .mode(r.mode)
                                                   .save_top_k(c.save_top_k)
                                                   .save_last(true));
  for (const std::string& line : checkpoints.cleaned()) std::printf("%s\n", line.c_str());
  if (s.resume_from) {
    for (const std::string& moved : checkpoints.abandon_after(global_step))
      std::printf("moved a checkpoint of the run's abandoned future (after step %lld) aside: %s\n",
                  static_cast<long long>(global_step), moved.c_str());
    checkpoints.restore_best(s.resume_from->state.best);
  }
  auto checkpoint_state = [&](const char* reason) {
    train::TrainerState st;
    st.reason = reason;
    st.global_step = global_step;
    st.epoch = static_cast<int64_t>(train_loader.epoch());
    st.metrics = metrics;
    st.best = checkpoints.best();
    st.config = config_to_json(c);
    return st;
  };

  // ---- observability ----------------------------------------------------------------
  // The logs are purged (TensorBoard's purge_step, and the JSONL likewise):
  // a resumed run from its checkpoint's step T + 1 on, hiding what the killed
  // run logged after the checkpoint (the points at T were logged before it,
  // see "when to save"); a new run from step 0, hiding what a run killed
  // before its first checkpoint left in this directory.
  const int64_t purge = s.resume_from ? global_step + 1 : 0;
  train::log::SummaryWriter writer(s.logdir, train::log::SummaryWriterOptions().purge_step(purge));
  train::log::ScalarJsonlWriter jsonl((fs::path(s.logdir) / "scalars.jsonl").string(), purge);
  auto log_scalar = [&](const std::string& tag, double value) {
    writer.add_scalar(tag, value, global_step);
    jsonl.add_scalar(tag, value, global_step);
  };
  std::printf("logs: %s (tensorboard --logdir %s; scalars also in scalars.jsonl)\ncheckpoints: %s\n",
              s.logdir.c_str(), s.logdir.c_str(), checkpoints.dir().c_str());
  const bool images = c.image_every > 0 && !r.class_names.empty();
  if (images) std::printf("prediction images: %s/images (every %lld batches)\n", s.logdir.c_str(),
                          static_cast<long long>(c.image_every));
  const data::Example image_batch = images ? fixed_batch(*r.val_set, 32) : data::Example{};
  train::MemoryWatch memory_watch(s.device);
  train::ProgressStyle style = s.flags.progress == "bar"     ? train::ProgressStyle::Bar
                               : s.flags.progress == "lines" ? train::ProgressStyle::Lines
                                                             : train::ProgressStyle::Auto;
  train::Progress progress(stdout, {.epochs = c.epochs, .steps_per_epoch = steps_per_epoch,
                                    .log_every = c.log_every, .style = style});
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  const std::vector<Tensor> params = r.model->parameters();
  const Tensor padding = scalar_tensor(-100, kInt64).to(s.device);  // targets that are not scored (charlm)
  EvalResult last_eval{NAN, NAN};
  int64_t trained_samples = 0;
  double train_seconds = 0;
  // Saves as `plan` says; true when the run must stop now.
  auto follow = [&](const SavePlan& plan, int signal) {
    if (!plan.reason) return false;
    const std::string dir = checkpoints.save(objects, checkpoint_state(plan.reason));
    if (!plan.exit) return false;
    const char* why = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "--stop-at-step";
    progress.line(detail::str_cat("stopped after step ", global_step, " (", why, "); saved ", dir,
                                  "\ncontinue with: --resume auto --logdir ", s.logdir));
    return true;
  };
  if (s.flags.stop_at_step >= 0 && global_step >= s.flags.stop_at_step) {
    follow({"stop", true}, 0);
    return 0;
  }

  // ---- training ---------------------------------------------------------------------
  r.model->train();
  while (static_cast<int64_t>(train_loader.epoch()) < c.epochs) {
    const int64_t epoch = static_cast<int64_t>(train_loader.epoch());
    int64_t batch_index = read_int(train_loader.state_dict(), "batches_served", "loop");
    // After a mid-epoch resume, the epoch's loss, accuracy and rate cover the
    // batches this process trained (the model's bits do not depend on it).
    progress.start_epoch(epoch, batch_index);
    const auto epoch_start = Clock::now();
    int64_t epoch_samples = 0;
    Tensor epoch_right, epoch_counted;  // training accuracy, counted on the device (no sync per step)
    for (data::Example& batch : train_loader) {
      // What "the state before the step" needs besides the optimizer and
      // parameters, which this step changes only at optimizer->step(): the
      // generator (Dropout draws in the forward pass) and the buffers
      // (BatchNorm updates its running statistics in the forward pass).
      const GeneratorState generator_before = default_generator().get_state();
      StateDict buffers_before;
      for (const auto& item : r.model->named_buffers()) buffers_before.insert(item.key(), item.value().clone());

      optimizer->zero_grad();
      const Tensor logits = r.forward(batch.data);
      const Tensor loss = r.loss(logits, batch.target);
      loss.backward();
      if (global_step == 0 || (c.grad_check_every > 0 && global_step % c.grad_check_every == 0)) {
        // A parameter without a gradient is a wiring bug (a layer not registered,
        // a detach() too many): stop before wasting a run on it.
        const nn::utils::GradFlowReport report = nn::utils::check_grad_flow(*r.model);
        if (!report.missing.empty()) {
          progress.line("gradient flow broken at step " + std::to_string(global_step + 1) + ":\n" + report.str());
          return 1;
        }
        if (global_step == 0)
          progress.line(detail::str_cat("grad flow ok: ", report.healthy.size(), " of ", params.size(),
                                        " parameters got finite non-zero gradients"));
        if (!report.all_zero.empty()) progress.line("warning: some gradients are exactly zero:\n" + report.str());
      }
      const double grad_norm = nn::utils::clip_grad_norm_(
          params, c.grad_clip > 0 ? c.grad_clip : std::numeric_limits<double>::infinity());
      const double loss_value = loss.item<double>();  // the device is idle here: the norm has been read
      if (!std::isfinite(loss_value) || !std::isfinite(grad_norm)) {
        // Save the state *before* this step: buffers put back, the loader
        // giving this batch again, the generator drawing the same masks; so
        // --resume on it reproduces the step.
        {
          NoGradGuard no_grad;
          for (auto& item : r.model->named_buffers()) Tensor(item.value()).copy_(buffers_before[item.key()]);
        }
        StateDict loader_state = train_loader.state_dict();
        loader_state.insert_or_assign("batches_served", state_int(batch_index));
        const std::string dir = checkpoints.dir() + "/nonfinite-" + train::step_dir_name(global_step);
        fs::remove_all(dir);
        train::save_checkpoint(dir, objects, checkpoint_state("non_finite_loss"), {loader_state, generator_before});
        std::string indices;
        for (size_t i : train_loader.batch_indices(static_cast<uint64_t>(epoch), static_cast<size_t>(batch_index)))
          indices += (indices.empty() ? "" : ", ") + std::to_string(i);
        progress.line(detail::str_cat("non-finite loss ", loss_value, " (gradient norm ", grad_norm, ") at step ",
                                      global_step + 1, " (epoch ", epoch + 1, ", batch ", batch_index + 1,
                                      "); training sample indices [", indices, "].\nThe state before this step is in ",
                                      dir, "; --resume ", dir, " reproduces the step."));
        return 3;
      }
      if (c.histogram_every > 0 && (global_step + 1) % c.histogram_every == 0) histograms(*r.model, global_step + 1, writer);
      optimizer->step();
      if (scheduler) scheduler->step();
      ++global_step;
      ++batch_index;

      const int64_t n = batch.target.size(0);
      epoch_samples += n;
      {
        NoGradGuard no_grad;
        const Tensor right = (logits.argmax(-1) == batch.target).sum();
        const Tensor counted = (batch.target != padding).sum();
        epoch_right = epoch_right.defined() ? epoch_right + right : right;
        epoch_counted = epoch_counted.defined() ? epoch_counted + counted : counted;
      }
      progress.step(loss, n, optimizer->param_groups()[0].options().lr());
      if (global_step % c.log_every == 0) {
        log_scalar("train/loss", loss_value);
        log_scalar("train/lr", optimizer->param_groups()[0].options().lr());
        log_scalar("train/grad_norm", grad_norm);
      }
      if (images && global_step % c.image_every == 0)
        prediction_images(r, image_batch, s.device, s.logdir, global_step, writer);
      if (auto leak = memory_watch.observe(global_step)) {
        progress.line(leak->message);
        writer.add_text("memory/leak", leak->message, global_step);
      }
      const int signal = g_stop_signal.load();
      if (follow(plan_after_step(global_step, batch_index == steps_per_epoch, signal, s.flags.stop_at_step, checkpoints),
                 signal))
        return signal ? 128 + signal : 0;
    }

    // ---- end of epoch: validation, logs, checkpoint --------------------------------
    const double epoch_seconds = seconds_since(epoch_start);
    train_seconds += epoch_seconds;
    trained_samples += epoch_samples;
    const double train_loss = progress.end_epoch();
    last_eval = evaluate(r, val_loader);
    metrics = {{"val/accuracy", last_eval.accuracy}, {"val/loss", last_eval.loss}};
    const double rate = epoch_seconds > 0 ? static_cast<double>(epoch_samples) / epoch_seconds : 0;
    if (epoch_samples > 0) {  // a resume right at an epoch's end trained nothing of it here
      log_scalar("train/loss_epoch", train_loss);
      // with dropout and augmentation on, as it was trained
      log_scalar("train/accuracy", static_cast<double>(epoch_right.item<int64_t>()) /
                                       static_cast<double>(std::max<int64_t>(1, epoch_counted.item<int64_t>())));
      log_scalar("perf/samples_per_sec", rate);
    }
    log_scalar("val/loss", last_eval.loss);
    log_scalar("val/accuracy", last_eval.accuracy);
    log_scalar("memory/allocated_mib", mib(memory_allocated(s.device)));
    log_scalar("memory/peak_mib", mib(max_memory_allocated(s.device)));
    log_scalar("memory/reserved_mib", mib(memory_reserved(s.device)));
    char summary[256];
    std::snprintf(summary, sizeof summary,
                  "epoch %lld/%lld: train loss %.4f  val loss %.4f  val accuracy %.4f  %.0f samples/s  "
                  "memory %.1f MiB (peak %.1f MiB)  elapsed %s",
                  static_cast<long long>(epoch + 1), static_cast<long long>(c.epochs), train_loss, last_eval.loss,
                  last_eval.accuracy, rate, mib(memory_allocated(s.device)), mib(max_memory_allocated(s.device)),
                  train::format_duration(seconds_since(start)).c_str());
    progress.line(summary);
    writer.flush();
    jsonl.flush();
    const int signal = g_stop_signal.load();
    if (follow(plan_after_epoch(global_step, epoch + 1, c.epochs, signal, s.flags.stop_at_step, checkpoints), signal))
      return signal ? 128 + signal : 0;
  }

  // ---- the end ----------------------------------------------------------------------
  if (r.after_training) r.after_training(writer, global_step);
  const train::BestScore& best = checkpoints.best();
  std::printf("done: %lld steps in %s", static_cast<long long>(global_step),
              train::format_duration(seconds_since(start)).c_str());
  if (train_seconds > 0)
    std::printf(", %.0f samples/s while training", static_cast<double>(trained_samples) / train_seconds);
  std::printf("\n");
  if (const auto path = checkpoints.best_checkpoint(); best.score && path)
    std::printf("best %s %.4f at step %lld (%s)\n", best.metric.c_str(), *best.score,
                static_cast<long long>(best.global_step), path->c_str());
  if (!std::isnan(last_eval.accuracy))
    std::printf("%s %.4f (val loss %.4f) after %lld epochs\n", r.accuracy_name.c_str(), last_eval.accuracy,
                last_eval.loss, static_cast<long long>(c.epochs));
  return 0;
}

}  // namespace lucid::apps
