// bench_loader: DataLoader throughput on Fashion-MNIST with augmentation, at 0,
// 1 and 2 workers, and how long a training step waits for each batch when the
// step itself takes a fixed time. The loader must not be what a step waits on.
//
// The dataset: data::FashionMNIST (train split; the first --samples images)
// with the pipeline a Fashion-MNIST training run uses:
//   RandomCrop(28, padding 4), RandomHorizontalFlip, ToTensor, Normalize(0.2860, 0.3530).
//
// Table 1, loader alone: samples/s over one epoch (median of 3 epochs after
// one warm-up), batch 64, shuffled. Next to it, PyTorch 1.13's DataLoader on
// the same files and the same augmentation (bench/bench_loader_torch.py, run
// with /usr/bin/python3 when that interpreter has torch; --no-torch skips it).
// Table 2, loader + a simulated 2 ms training step per batch: the mean time
// the step waits in ++it per batch. With workers the next batch should already
// be there (a wait near 0); with 0 workers the step waits for the whole load of
// every batch. Two kinds of step: `cpu` is a busy loop that occupies a core (a
// CPU training step), `idle` sleeps (a step that waits for the GPU). `step ms`
// is the step as measured (a sleep can overrun on a busy machine) and `step
// share` the part of the epoch spent in steps: the rest is waiting for batches
// and the loop's own overhead.
//
//   bench_loader [--root DIR] [--samples N] [--no-torch]
#include <lucid/lucid.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace lucid;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kBatch = 64;
constexpr double kStepSeconds = 0.002;
const char* const kPython = "/usr/bin/python3";

struct Args {
  std::string root = "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist
  size_t samples = 10000;
  bool torch = true;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--root" && i + 1 < argc) a.root = argv[++i];
    else if (arg == "--samples" && i + 1 < argc) a.samples = std::stoul(argv[++i]);
    else if (arg == "--no-torch") a.torch = false;
    else throw Error("bench_loader: unknown argument '" + arg +
                     "' (usage: bench_loader [--root DIR] [--samples N] [--no-torch])");
  }
  return a;
}

// The first `samples` training images, augmented as in a training run.
std::shared_ptr<const data::Dataset> make_dataset(const Args& args) {
  using namespace lucid::data;
  auto train = std::make_shared<FashionMNIST>(
      args.root, Split::Train,
      Compose(RandomCrop({28, 28}, /*padding=*/4), RandomHorizontalFlip(0.5), ToTensor(),
              Normalize({0.2860}, {0.3530})));
  const size_t n = std::min(args.samples, train->size());
  std::vector<size_t> first(n);
  std::iota(first.begin(), first.end(), size_t{0});
  return std::make_shared<Subset>(train, std::move(first));
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

enum class Step { Cpu, Idle };

void simulated_step(Step kind, double seconds) {
  if (kind == Step::Idle) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return;
  }
  const auto t0 = Clock::now();
  while (seconds_since(t0) < seconds) {
  }
}

struct EpochTiming {
  double seconds = 0;     // the whole epoch
  double wait = 0;        // total time spent getting batches
  double step = 0;        // total time in the simulated steps (sleep can overshoot)
  size_t batches = 0;
  size_t samples = 0;
};

EpochTiming time_epoch(data::DataLoader& loader, Step kind, double step_seconds) {
  EpochTiming t;
  const auto t0 = Clock::now();
  auto it = loader.begin();  // starts the workers and waits for the first batch
  t.wait += seconds_since(t0);
  while (it != loader.end()) {
    t.samples += static_cast<size_t>(it->target.numel());
    ++t.batches;
    const auto stepped = Clock::now();
    if (step_seconds > 0) simulated_step(kind, step_seconds);  // the training step
    t.step += seconds_since(stepped);
    const auto asked = Clock::now();
    ++it;
    t.wait += seconds_since(asked);
  }
  t.seconds = seconds_since(t0);
  return t;
}

EpochTiming median_epoch(data::DataLoader& loader, Step kind, double step_seconds) {
  time_epoch(loader, kind, step_seconds);  // warm-up: first touches, thread start-up
  std::vector<EpochTiming> runs;
  for (int i = 0; i < 3; ++i) runs.push_back(time_epoch(loader, kind, step_seconds));
  std::sort(runs.begin(), runs.end(),
            [](const EpochTiming& a, const EpochTiming& b) { return a.seconds < b.seconds; });
  return runs[1];
}

// samples/s of PyTorch's DataLoader per worker count, from bench_loader_torch.py;
// empty (and a line saying why) when it cannot run here.
std::map<size_t, double> torch_samples_per_second(const Args& args) {
  const std::string script = std::string(LUCID_BENCH_DIR) + "/bench_loader_torch.py";
  if (!std::filesystem::exists(kPython) || !std::filesystem::exists(script)) {
    std::printf("torch column skipped: %s or %s is missing\n", kPython, script.c_str());
    return {};
  }
  if (std::system((std::string(kPython) + " -c 'import torch, numpy' 2>/dev/null").c_str()) != 0) {
    std::printf("torch column skipped: %s has no torch (or numpy)\n", kPython);
    return {};
  }
  const std::string command = std::string(kPython) + " " + script + " --root '" + args.root +
                              "' --samples " + std::to_string(args.samples) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::map<size_t, double> rates;
  if (!pipe) return rates;
  char line[512];
  while (std::fgets(line, sizeof line, pipe.get())) {
    std::istringstream in(line);
    std::string tag;
    size_t workers = 0;
    double rate = 0;
    if (in >> tag >> workers >> rate && tag == "torch_loader") rates[workers] = rate;
    else std::printf("bench_loader_torch.py: %s", line);  // its errors, passed on
  }
  return rates;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse_args(argc, argv);
    const auto dataset = make_dataset(args);
    std::printf("Fashion-MNIST train, first %zu samples; RandomCrop(28, padding 4) + "
                "RandomHorizontalFlip + ToTensor + Normalize; batch %zu, shuffled; "
                "%d CPU threads for ops\n", dataset->size(), kBatch, get_num_threads());

    std::vector<double> lucid_rates, lucid_ms;
    for (size_t workers : {0, 1, 2}) {
      data::DataLoader loader(dataset, data::DataLoaderOptions(kBatch).shuffle(true)
                                           .num_workers(workers).seed(0));
      const EpochTiming t = median_epoch(loader, Step::Idle, 0);
      lucid_rates.push_back(t.samples / t.seconds);
      lucid_ms.push_back(1e3 * t.seconds / t.batches);
    }
    // After lucid's runs, so the two never compete for the cores.
    const std::map<size_t, double> torch = args.torch ? torch_samples_per_second(args)
                                                      : std::map<size_t, double>{};

    std::printf("\nloader alone\n%8s %12s %10s %16s %8s\n", "workers", "samples/s", "ms/batch",
                "torch samples/s", "ratio");
    for (size_t workers : {0, 1, 2}) {
      std::printf("%8zu %12.0f %10.3f", workers, lucid_rates[workers], lucid_ms[workers]);
      auto it = torch.find(workers);
      if (it == torch.end()) std::printf(" %16s %8s\n", "n/a", "n/a");
      else std::printf(" %16.0f %8.1f\n", it->second, lucid_rates[workers] / it->second);
    }

    std::printf("\nloader + a %.0f ms training step per batch\n%6s %8s %16s %9s %10s %12s\n",
                kStepSeconds * 1e3, "step", "workers", "wait/batch ms", "step ms", "epoch s",
                "step share");
    for (Step kind : {Step::Cpu, Step::Idle}) {
      for (size_t workers : {0, 1, 2}) {
        data::DataLoader loader(dataset, data::DataLoaderOptions(kBatch).shuffle(true)
                                             .num_workers(workers).seed(0));
        const EpochTiming t = median_epoch(loader, kind, kStepSeconds);
        std::printf("%6s %8zu %16.3f %9.3f %10.3f %11.0f%%\n", kind == Step::Cpu ? "cpu" : "idle",
                    workers, 1e3 * t.wait / t.batches, 1e3 * t.step / t.batches, t.seconds,
                    100.0 * t.step / t.seconds);
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
