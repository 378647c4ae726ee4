// Training a CNN on Fashion-MNIST, the whole loop by hand: the tutorial.
// docs/training-loop.md walks through it step by step. (lucid-train runs the
// same loop with every option: apps/lucid-train/loop.cpp.)
//
//   train_fashion_mnist [--epochs 3] [--logdir runs/tutorial] [--workers 2]
//
// Run it again with the same --logdir and it resumes from its last checkpoint.
#include <lucid/lucid.h>
#include <lucid/train/train.h>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace lucid;
namespace F = lucid::nn::functional;

const std::string kRoot = "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist
const float kMean = 0.2860f, kStd = 0.3530f;  // the training pixels' mean and std (data::channel_stats)

// ---- 1. The data: one sample at a time, augmented in get() --------------------------
// The DataLoader calls get(i) from its worker threads and seeds
// data::sample_generator() per (seed, epoch, i), so the same sample gets the
// same flip whichever thread loads it, and a resumed run sees the same flips.
class FashionImages : public data::Dataset {
 public:
  FashionImages(const std::string& prefix, bool augment)
      : images_(data::read_idx(kRoot + "/" + prefix + "-images-idx3-ubyte.gz")),  // uint8 [N, 28, 28]
        labels_(data::read_idx(kRoot + "/" + prefix + "-labels-idx1-ubyte.gz").to(kInt64)),
        augment_(augment) {}
  size_t size() const override { return static_cast<size_t>(images_.size(0)); }
  data::Example get(size_t i) const override {
    bool flip = false;
    if (augment_) {  // a random horizontal flip, half of the time
      float u;
      data::sample_generator().fill_uniform(&u, 1);
      flip = u < 0.5f;
    }
    const uint8_t* src = images_.data_ptr<uint8_t>() + i * 28 * 28;
    Tensor x = empty({1, 28, 28});
    float* dst = x.data_ptr<float>();
    for (int y = 0; y < 28; ++y)
      for (int c = 0; c < 28; ++c)  // to [0, 1], then normalize: the same for training and evaluation
        dst[y * 28 + c] = (src[y * 28 + (flip ? 27 - c : c)] / 255.0f - kMean) / kStd;
    return {x, labels_[static_cast<int64_t>(i)]};
  }

 private:
  Tensor images_, labels_;
  bool augment_;
};

// ---- 2. Validation: eval() and no autograd -------------------------------------------
struct Scores {
  double loss = 0, accuracy = 0;
};
Scores evaluate(nn::SmallCNN& model, data::DataLoader& loader) {
  NoGradGuard no_grad;  // nothing is recorded on the tape
  model->eval();        // BatchNorm uses its running statistics, Dropout is off
  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
  for (data::Example& batch : loader) {
    const Tensor logits = model(batch.data);
    loss_sum += F::cross_entropy(logits, batch.target, {}, -100, F::Reduction::Sum).item<double>();
    correct += (logits.argmax(1) == batch.target).sum().item<int64_t>();
    seen += batch.target.size(0);
  }
  model->train();
  return {loss_sum / static_cast<double>(seen), static_cast<double>(correct) / static_cast<double>(seen)};
}

int main(int argc, char** argv) {
  int64_t epochs = 3, workers = 2;
  std::string logdir = "runs/tutorial";
  for (int i = 1; i + 1 < argc; i += 2) {  // --epochs N, --logdir DIR, --workers N
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--epochs") epochs = std::atoll(value.c_str());
    else if (flag == "--logdir") logdir = value;
    else if (flag == "--workers") workers = std::atoll(value.c_str());
  }
  const Device device = cuda::is_available() ? Device(kCUDA, 0) : Device(kCPU);
  manual_seed(0);  // the initial weights and Dropout's masks

  // ---- 3. Loaders, model, optimizer, schedule ----------------------------------------
  data::DataLoader train_loader(FashionImages("train", /*augment=*/true), data::DataLoaderOptions(128)
      .shuffle(true).seed(0).num_workers(static_cast<size_t>(workers)).drop_last(true).device(device));
  data::DataLoader test_loader(FashionImages("t10k", /*augment=*/false),
                               data::DataLoaderOptions(500).num_workers(static_cast<size_t>(workers)).device(device));
  nn::SmallCNN model;
  model->to(device);
  optim::AdamW optimizer(model->parameters(), optim::AdamWOptions(6e-3).weight_decay(5e-4));
  const int64_t total_steps = epochs * static_cast<int64_t>(train_loader.size());
  optim::OneCycleLR scheduler(optimizer, optim::OneCycleLROptions({6e-3}, total_steps).pct_start(0.2));

  // ---- 4. Checkpoints: everything a run is, and resuming it --------------------------
  train::TrainingObjects run{model.ptr().get(), &optimizer, train::scheduler_handle(scheduler, "OneCycleLR"),
                             &train_loader};
  train::ModelCheckpoint checkpoints(logdir, train::ModelCheckpointOptions().monitor("val/accuracy"));
  int64_t step = 0;
  if (auto last = checkpoints.latest()) {  // model, optimizer, scheduler, loader position, generator
    const train::Checkpoint saved = train::read_checkpoint(*last);
    train::restore_checkpoint(saved, run);
    step = saved.state.global_step;
    checkpoints.restore_best(saved.state.best);
    std::printf("resumed from %s at step %lld\n", last->c_str(), static_cast<long long>(step));
  }

  // ---- 5. Observability: TensorBoard, prediction images, memory ----------------------
  train::log::SummaryWriter tensorboard(
      logdir, train::log::SummaryWriterOptions().purge_step(step > 0 ? std::optional<int64_t>(step + 1) : std::nullopt));
  train::MemoryWatch memory_watch(device);
  std::vector<data::Example> first;  // the same 16 test images in every picture
  for (size_t i = 0; i < 16; ++i) first.push_back(test_loader.dataset().get(i));
  const data::Example pictures = data::default_collate(first);

  // ---- 6. The loop: zero_grad -> forward -> loss -> backward -> step ------------------
  while (static_cast<int64_t>(train_loader.epoch()) < epochs) {
    model->train();
    for (data::Example& batch : train_loader) {
      optimizer.zero_grad();                                      // forget the last step's gradients
      Tensor loss = F::cross_entropy(model(batch.data), batch.target);  // forward, recorded on the tape
      loss.backward();                                            // the tape in reverse: every .grad()
      if (step == 0) {  // a parameter without a gradient is a wiring bug: stop before wasting a run
        const auto flow = nn::utils::check_grad_flow(*model);
        if (!flow.missing.empty()) return std::fprintf(stderr, "%s\n", flow.str().c_str()), 1;
      }
      optimizer.step();                                           // p -= lr * (AdamW's update)
      scheduler.step();                                           // the next step's learning rate
      ++step;
      if (auto leak = memory_watch.observe(step)) std::fprintf(stderr, "%s\n", leak->message.c_str());
      if (step % 100 == 0) {  // .item() waits for the device: only when a line is printed
        const double l = loss.item<double>();
        tensorboard.add_scalar("train/loss", l, step);
        std::printf("epoch %lld step %lld  loss %.4f  lr %.2e\n", static_cast<long long>(train_loader.epoch() + 1),
                    static_cast<long long>(step), l, scheduler.get_last_lr()[0]);
      }
      if (step % 200 == 0) {  // what the model predicts, under eval() and no-grad
        NoGradGuard no_grad;
        model->eval();
        const Tensor predicted = model(pictures.data.to(device)).argmax(1).to(kCPU);
        model->train();
        const data::Image grid = train::log::prediction_grid(pictures.data, predicted, pictures.target,
            train::log::PredictionGridOptions().class_names(data::FashionMNIST::classes()).mean({kMean}).std({kStd}));
        tensorboard.add_image("predictions", grid, step);
      }
    }

    // ---- 7. After each epoch: validate, log, save --------------------------------------
    const Scores val = evaluate(model, test_loader);
    tensorboard.add_scalar("val/loss", val.loss, step);
    tensorboard.add_scalar("val/accuracy", val.accuracy, step);
    std::printf("epoch %lld: test loss %.4f  test accuracy %.4f  memory %.1f MiB (peak %.1f MiB)\n",
                static_cast<long long>(train_loader.epoch()), val.loss, val.accuracy,
                memory_allocated(device) / 1048576.0, max_memory_allocated(device) / 1048576.0);
    train::TrainerState state;
    state.reason = "epoch_end";
    state.global_step = step;
    state.epoch = static_cast<int64_t>(train_loader.epoch());
    state.metrics = {{"val/accuracy", val.accuracy}, {"val/loss", val.loss}};
    std::printf("saved %s\n", checkpoints.save(run, state).c_str());
  }
  return 0;
}
