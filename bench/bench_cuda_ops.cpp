// bench_cuda_ops: lucid's CUDA ops on one GPU, next to PyTorch on the same jobs.
//
// Each case goes through the public API (lucid::matmul, lucid::softmax, F::conv2d,
// a Module and an optimizer), as a user would call it, on float32 N(0, 1) inputs
// (never zeros) drawn on the CPU and copied to cuda:0 (the memory-bound cases
// share two 64M-float inputs, in their own shapes). Sizes fill an H200 and
// exceed its 60 MB L2, so the memory-bound cases measure HBM, not the cache:
//
//   matmul_fp32    [4096, 4096] @ [4096, 4096], full float32 (TF32 off)
//   matmul_tf32    the same with backends::cuda::matmul::allow_tf32 = true
//   add, mul       64M floats each side (256 MB per tensor)
//   gelu           64M floats (erf form)
//   sum_rows       [8192, 8192] summed over dim 1
//   softmax_rows   [8192, 8192] softmax over dim 1
//   cross_entropy  logits [16384, 4096], int64 targets, mean (forward)
//   layer_norm     [16384, 4096] over the last dim, with weight and bias
//   conv2d         [64, 256, 56, 56] * [256, 256, 3, 3], padding 1 (a ResNet layer)
//   mlp_step       one SGD (momentum 0.9) training step of a 1024-4096-4096-1024
//                  GELU MLP on a batch of 4096 with cross_entropy
//
// Timing: --warmup untimed calls (default 3), then --reps calls (default 20),
// each between two CUDA events on the current stream with the host waiting for
// the second; the median in ms. Rates: GB/s of the fewest bytes the op must move
// (each input read once, each output written once), or TFLOP/s of its matrix
// FLOPs (2 per multiply-add; mlp_step counts forward + backward = 3x forward).
//
// The torch columns: bench/bench_cuda_torch.py (the same cases, sizes and timing
// with torch.cuda.Event), run after lucid's cases with `python3` from PATH (or
// --python PATH); `torch/lucid` is torch ms / lucid ms (above 1: lucid is faster).
// An op lucid cannot run yet (no CUDA kernel) shows `n/a` and its error below
// the table; the other cases still run.
//
//   bench_cuda_ops [--warmup N] [--reps N] [--no-torch] [--python PATH]
#include <lucid/lucid.h>

#if __has_include(<lucid/kernels/backends.h>)
#include <lucid/kernels/backends.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace lucid;
namespace F = lucid::nn::functional;

namespace {

struct Args {
  int warmup = 3;
  int reps = 20;
  bool torch = true;
  std::string python = "python3";
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--warmup" && i + 1 < argc) a.warmup = std::stoi(argv[++i]);
    else if (arg == "--reps" && i + 1 < argc) a.reps = std::stoi(argv[++i]);
    else if (arg == "--no-torch") a.torch = false;
    else if (arg == "--python" && i + 1 < argc) a.python = argv[++i];
    else
      throw Error("bench_cuda_ops: unknown argument '" + arg +
                  "' (usage: bench_cuda_ops [--warmup N] [--reps N] [--no-torch] [--python PATH])");
  }
  LUCID_CHECK(a.warmup >= 0 && a.reps >= 1, "bench_cuda_ops: need --warmup >= 0 and --reps >= 1");
  return a;
}

// The switch lands with kernels/backends.h; until then the TF32 case reports n/a.
void set_matmul_tf32(bool on) {
#if __has_include(<lucid/kernels/backends.h>)
  lucid::backends::cuda::matmul::allow_tf32 = on;
#else
  if (on) throw Error("no TF32 switch: kernels/backends.h is not in this tree");
#endif
}

// Restores full float32 matmuls however the case ends.
struct Tf32Scope {
  explicit Tf32Scope(bool on) { set_matmul_tf32(on); }
  ~Tf32Scope() {
    try {
      set_matmul_tf32(false);
    } catch (...) {
    }
  }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;
};

const Device kGpu(kCUDA, 0);

Tensor gpu_randn(const Shape& shape, double scale = 1.0) {
  Tensor x = randn(shape);  // drawn on the CPU: needs no CUDA random kernel
  if (scale != 1.0) x = x * scale;
  return x.to(kGpu);
}

double median_ms(const std::function<void()>& run, const Args& args) {
  for (int i = 0; i < args.warmup; ++i) run();
  cuda::synchronize();
  cuda::Event start, stop;
  std::vector<double> ms;
  for (int i = 0; i < args.reps; ++i) {
    start.record();
    run();
    stop.record();
    stop.synchronize();
    ms.push_back(start.elapsed_time(stop));
  }
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  return n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);  // as Python's statistics.median
}

enum class Unit { GBps, TFlops };

// One case: the work it does (bytes moved or FLOPs) and how to set it up. make()
// draws the inputs and returns the call to time; the inputs live in its captures.
struct Case {
  const char* name;
  const char* size;
  double work;
  Unit unit;
  std::function<std::function<void()>()> make;
};

constexpr int64_t kElems = int64_t{64} << 20;  // 64M floats
constexpr int64_t kRows = 8192, kCols = 8192;
constexpr int64_t kCeN = 16384, kCeC = 4096;
constexpr int64_t kLnN = 16384, kLnD = 4096;
constexpr int64_t kMm = 4096;
constexpr int64_t kConvN = 64, kConvC = 256, kConvHW = 56;
constexpr int64_t kMlpB = 4096, kMlpIn = 1024, kMlpHidden = 4096, kMlpClasses = 1024;
constexpr double kF = 4.0;  // bytes per float
static_assert(kRows * kCols == kElems && kCeN * kCeC == kElems && kLnN * kLnD == kElems,
              "the memory-bound cases view the shared 64M-float inputs");

// The two 64M-float inputs the memory-bound cases share, viewed in each case's
// shape (8192 x 8192 = 16384 x 4096 = 64M): drawing on the CPU is the slow part
// of this benchmark, so they are drawn once.
const Tensor& shared_input(int k) {
  static const Tensor a = gpu_randn({kElems}), b = gpu_randn({kElems});
  return k == 0 ? a : b;
}

std::function<void()> matmul_case(bool tf32) {
  Tensor a = gpu_randn({kMm, kMm}), b = gpu_randn({kMm, kMm});
  return [a, b, tf32] {
    Tf32Scope scope(tf32);
    (void)matmul(a, b);
  };
}

std::vector<Case> cases() {
  const double mlp_fwd_flops =
      2.0 * kMlpB * (kMlpIn * kMlpHidden + kMlpHidden * kMlpHidden + kMlpHidden * kMlpClasses);
  return {
      {"matmul_fp32", "4096^3 fp32", 2.0 * kMm * kMm * kMm, Unit::TFlops, [] { return matmul_case(false); }},
      {"matmul_tf32", "4096^3 tf32", 2.0 * kMm * kMm * kMm, Unit::TFlops, [] { return matmul_case(true); }},
      {"add", "64M", 3 * kF * kElems, Unit::GBps,
       [] {
         Tensor a = shared_input(0), b = shared_input(1);
         return std::function<void()>([a, b] { (void)add(a, b); });
       }},
      {"mul", "64M", 3 * kF * kElems, Unit::GBps,
       [] {
         Tensor a = shared_input(0), b = shared_input(1);
         return std::function<void()>([a, b] { (void)mul(a, b); });
       }},
      {"gelu", "64M", 2 * kF * kElems, Unit::GBps,
       [] {
         Tensor x = shared_input(0);
         return std::function<void()>([x] { (void)gelu(x); });
       }},
      {"sum_rows", "8192x8192", kF * (kRows * kCols + kRows), Unit::GBps,
       [] {
         Tensor x = shared_input(0).view({kRows, kCols});
         return std::function<void()>([x] { (void)sum(x, {1}); });
       }},
      {"softmax_rows", "8192x8192", 2 * kF * kRows * kCols, Unit::GBps,
       [] {
         Tensor x = shared_input(1).view({kRows, kCols});
         return std::function<void()>([x] { (void)softmax(x, 1); });
       }},
      {"cross_entropy", "16384x4096", kF * kCeN * kCeC + 8.0 * kCeN, Unit::GBps,
       [] {
         Tensor logits = shared_input(0).view({kCeN, kCeC});
         Tensor target = randint(0, kCeC, {kCeN}).to(kGpu);
         return std::function<void()>([logits, target] { (void)F::cross_entropy(logits, target); });
       }},
      {"layer_norm", "16384x4096", kF * (2.0 * kLnN * kLnD + 2 * kLnD), Unit::GBps,
       [] {
         Tensor x = shared_input(1).view({kLnN, kLnD}), w = gpu_randn({kLnD}), b = gpu_randn({kLnD});
         return std::function<void()>([x, w, b] { (void)F::layer_norm(x, {kLnD}, w, b); });
       }},
      {"conv2d", "64x256x56x56 3x3", 2.0 * kConvN * kConvC * kConvC * 9 * kConvHW * kConvHW, Unit::TFlops,
       [] {
         Tensor x = gpu_randn({kConvN, kConvC, kConvHW, kConvHW});
         Tensor w = gpu_randn({kConvC, kConvC, 3, 3}, 1.0 / std::sqrt(kConvC * 9.0));
         return std::function<void()>([x, w] { (void)F::conv2d(x, w, Tensor(), {1, 1}, {1, 1}); });
       }},
      {"mlp_step", "4096x1024-4096-4096-1024", 3.0 * mlp_fwd_flops, Unit::TFlops,
       [] {
         nn::Sequential model(nn::Linear(kMlpIn, kMlpHidden), nn::GELU(), nn::Linear(kMlpHidden, kMlpHidden),
                              nn::GELU(), nn::Linear(kMlpHidden, kMlpClasses));
         model->to(kGpu);
         auto opt = std::make_shared<optim::SGD>(model->parameters(), optim::SGDOptions(0.01).momentum(0.9));
         Tensor x = gpu_randn({kMlpB, kMlpIn});
         Tensor y = randint(0, kMlpClasses, {kMlpB}).to(kGpu);
         return std::function<void()>([model, opt, x, y]() mutable {
           opt->zero_grad();
           Tensor loss = F::cross_entropy(model->forward(x), y);
           loss.backward();
           opt->step();
         });
       }},
  };
}

std::string rate(double work, Unit unit, double ms) {
  if (!(ms > 0)) return "n/a";
  char buf[32];
  if (unit == Unit::GBps) std::snprintf(buf, sizeof buf, "%.0f GB/s", work / (ms * 1e-3) * 1e-9);
  else std::snprintf(buf, sizeof buf, "%.1f TFLOP/s", work / (ms * 1e-3) * 1e-12);
  return buf;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

struct TorchResults {
  std::string version;  // "2.11.0+cu130 NVIDIA H200"; empty when torch did not run
  std::map<std::string, double> ms;  // NaN: the case failed in torch
  std::vector<std::string> notes;
};

// Runs bench_cuda_torch.py with the same warm-up and repetitions.
TorchResults run_torch(const Args& args) {
  TorchResults r;
  const std::string script = std::string(LUCID_BENCH_DIR) + "/bench_cuda_torch.py";
  if (!std::filesystem::exists(script)) {
    r.notes.push_back("torch columns skipped: " + script + " is missing");
    return r;
  }
  if (std::system((args.python + " -c 'import torch' >/dev/null 2>&1").c_str()) != 0) {
    r.notes.push_back("torch columns skipped: " + args.python + " cannot import torch");
    return r;
  }
  const std::string command = args.python + " " + script + " --warmup " + std::to_string(args.warmup) +
                              " --reps " + std::to_string(args.reps) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) {
    r.notes.push_back("torch columns skipped: could not start " + args.python);
    return r;
  }
  char line[1024];
  while (std::fgets(line, sizeof line, pipe.get())) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    std::istringstream in(text);
    std::string tag, name, ms;
    in >> tag;
    if (tag == "torch_version") {
      std::getline(in >> std::ws, r.version);
    } else if (tag == "torch_case" && (in >> name >> ms)) {
      r.ms[name] = ms == "nan" ? NAN : std::stod(ms);
      std::string why;
      std::getline(in >> std::ws, why);
      if (!why.empty()) r.notes.push_back("torch " + name + ": " + why);
    } else {
      r.notes.push_back("bench_cuda_torch.py: " + text);  // its errors, passed on
    }
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse_args(argc, argv);
    if (!cuda::is_available()) {
      std::printf("bench_cuda_ops: no GPU visible (%s)\n", cuda::unavailable_reason().c_str());
      return 2;
    }
    set_matmul_tf32(false);

    struct Result {
      double ms = NAN;
      std::string error;
    };
    const std::vector<Case> all = cases();
    std::vector<Result> lucid_results;
    for (const Case& c : all) {
      Result r;
      try {
        const std::function<void()> run = c.make();
        r.ms = median_ms(run, args);
      } catch (const std::exception& e) {
        r.error = first_line(e.what());
      }
      lucid_results.push_back(r);
      std::printf("lucid_case %s %.6f\n", c.name, r.ms);
      std::fflush(stdout);
      cuda::empty_cache();  // each case starts with the memory the last one held given back
    }
    // After lucid's cases, so the two never share the GPU.
    const TorchResults torch = args.torch ? run_torch(args) : TorchResults{};

    std::printf("\nlucid CUDA ops on cuda:0; CUDA events, median of %d after %d warm-up calls; float32\n",
                args.reps, args.warmup);
    std::printf("torch: %s\n\n", torch.version.empty() ? "not run" : torch.version.c_str());
    std::printf("%-14s %-26s %10s %14s %10s %14s %12s\n", "op", "size", "lucid ms", "lucid rate",
                "torch ms", "torch rate", "torch/lucid");
    for (size_t i = 0; i < all.size(); ++i) {
      const Case& c = all[i];
      const double lms = lucid_results[i].ms;
      auto it = torch.ms.find(c.name);
      const double tms = it == torch.ms.end() ? NAN : it->second;
      char lbuf[32] = "n/a", tbuf[32] = "n/a", ratio[32] = "n/a";
      if (std::isfinite(lms)) std::snprintf(lbuf, sizeof lbuf, "%.3f", lms);
      if (std::isfinite(tms)) std::snprintf(tbuf, sizeof tbuf, "%.3f", tms);
      if (std::isfinite(lms) && std::isfinite(tms)) std::snprintf(ratio, sizeof ratio, "%.2f", tms / lms);
      std::printf("%-14s %-26s %10s %14s %10s %14s %12s\n", c.name, c.size, lbuf,
                  rate(c.work, c.unit, lms).c_str(), tbuf, rate(c.work, c.unit, tms).c_str(), ratio);
    }
    bool any_error = false;
    for (size_t i = 0; i < all.size(); ++i) {
      if (lucid_results[i].error.empty()) continue;
      if (!any_error) std::printf("\n");
      any_error = true;
      std::printf("lucid %s: %s\n", all[i].name, lucid_results[i].error.c_str());
    }
    for (const std::string& note : torch.notes) std::printf("%s\n", note.c_str());
    // Exit status 1 when a lucid case failed: scripts/gpu-check reports it.
    return any_error ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda_ops: %s\n", e.what());
    return 2;
  }
}
