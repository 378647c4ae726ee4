// End to end on CUDA: the same model from the same seed, trained on the same
// batches on CPU and on CUDA, follows the same loss curve; every parameter gets
// a gradient on the GPU; a small CNN (conv + batchnorm + pool + dropout) agrees
// across devices in forward, backward and running statistics; and the caching
// allocator's memory_allocated comes back to where it started (no leak).
//
// Tolerances (see also tests/gpu/cuda_compare.h):
//   float32 loss curve, 50 steps: 1e-4 relative per step. At step 0 the two
//     losses differ by rounding only (~1e-6: reductions in another order, a few
//     ulp in tanh/exp). Each step feeds that difference back through the
//     weights; with a smooth activation (tanh, so no ReLU mask can flip between
//     devices when a pre-activation sits at 0) and small steps the difference
//     does not grow: perturbing the initial weights by 3e-7 relative (float32
//     rounding) moved the CPU loss curve by at most 2e-7 relative over these 50
//     steps, SGD and Adam alike (measured on the CPU), so 1e-4 leaves ~500x room.
//   float64: 1e-9 relative per step, the same argument with eps = 1e-16.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gpu/cuda_compare.h"

using namespace lucid;
namespace F = lucid::nn::functional;
using gputest::expect_close;
using gputest::gpu;
using gputest::Tol;

namespace {

enum class Opt { SGD, Adam };

struct Data {
  std::vector<Tensor> x, y;  // 50 batches, on the CPU
};

// Three overlapping Gaussian blobs in 16-D, cut into 50 batches of 32 (the
// same batches on both devices). Overlapping, so the loss stays well above 0:
// a loss near 0 is a difference of two nearly equal logsumexps, whose float32
// relative error says nothing about the kernels.
Data make_batches() {
  manual_seed(42);
  const int64_t classes = 3, d = 16, batch = 32;
  const Tensor centers = randn({classes, d}) * 0.5;
  Data data;
  for (int step = 0; step < 50; ++step) {
    const Tensor y = randint(0, classes, {batch});
    data.x.push_back(index_select(centers, 0, y) + randn({batch, d}));
    data.y.push_back(y);
  }
  return data;
}

struct Run {
  std::vector<double> losses;
  std::vector<Tensor> params;  // final values, CPU copies
  int64_t bytes_after_step_2 = -1, bytes_after_last_step = -1;
};

Run train_mlp(Device device, ScalarType dtype, Opt opt, const Data& data) {
  manual_seed(7);  // the same initial weights on both devices
  nn::MLP model(nn::MLPOptions(16, {64, 32}, 3).activation(nn::MLPActivation::Tanh));
  model->to(device, dtype);
  for (const Tensor& p : model->parameters()) {
    REQUIRE(p.device() == device);
    REQUIRE(p.dtype() == dtype);
  }
  std::unique_ptr<optim::Optimizer> optimizer;
  if (opt == Opt::SGD)
    optimizer = std::make_unique<optim::SGD>(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  else
    optimizer = std::make_unique<optim::Adam>(model->parameters(), optim::AdamOptions(1e-2));

  Run run;
  const size_t steps = data.x.size();
  for (size_t step = 0; step < steps; ++step) {
    {  // a scope, so the step's tensors are gone when memory is measured below
      const Tensor xb = data.x[step].to(dtype).to(device), yb = data.y[step].to(device);
      optimizer->zero_grad();
      const Tensor loss = F::cross_entropy(model->forward(xb), yb);
      loss.backward();
      CHECK(autograd::tape_size() == 0);
      for (const auto& item : model->named_parameters()) {
        CAPTURE(item.key());
        const Tensor g = item.value().grad();
        REQUIRE(g.defined());
        CHECK(g.device() == device);
        CHECK(std::isfinite(g.abs().sum().item<double>()));
      }
      optimizer->step();
      run.losses.push_back(loss.item<double>());
    }
    if (device.is_cuda() && step == 1) run.bytes_after_step_2 = cuda::memory_allocated();
    if (device.is_cuda() && step + 1 == steps) run.bytes_after_last_step = cuda::memory_allocated();
  }
  for (const Tensor& p : model->parameters()) run.params.push_back(p.detach().cpu());
  return run;
}

void compare_training(ScalarType dtype, Opt opt, double rtol) {
  const Data data = make_batches();
  const Run cpu = train_mlp(Device(), dtype, opt, data);
  const Run cuda = train_mlp(gpu(), dtype, opt, data);
  REQUIRE(cuda.losses.size() == cpu.losses.size());
  double worst = 0.0;
  for (size_t i = 0; i < cpu.losses.size(); ++i) {
    CAPTURE(i);
    const double rel = std::abs(cuda.losses[i] - cpu.losses[i]) / std::abs(cpu.losses[i]);
    worst = std::max(worst, rel);
    CHECK(rel <= rtol);
  }
  MESSAGE(std::string(dtype_name(dtype)) << std::string(opt == Opt::SGD ? " SGD" : " Adam") << ": loss " << cpu.losses.front()
                            << " -> " << cpu.losses.back() << " (min "
                            << *std::min_element(cpu.losses.begin(), cpu.losses.end())
                            << "), worst relative loss difference " << worst);
  CHECK(cpu.losses.back() < 0.8 * cpu.losses.front());  // it did learn
  // final weights: the same tolerance, relative to each tensor's scale
  REQUIRE(cuda.params.size() == cpu.params.size());
  for (size_t i = 0; i < cpu.params.size(); ++i)
    expect_close(cuda.params[i], cpu.params[i], Tol{rtol, rtol}, "final parameter " + std::to_string(i));
  // steady state: step 50 holds no more device memory than step 2
  CHECK(cuda.bytes_after_last_step == cuda.bytes_after_step_2);
}

}  // namespace

TEST_CASE("MLP trained 50 steps with SGD on CUDA follows the CPU loss curve (float32 1e-4, float64 1e-9)") {
  compare_training(kFloat32, Opt::SGD, 1e-4);
  compare_training(kFloat64, Opt::SGD, 1e-9);
}

TEST_CASE("MLP trained 50 steps with Adam on CUDA follows the CPU loss curve (float32 1e-4, float64 1e-9)") {
  compare_training(kFloat32, Opt::Adam, 1e-4);
  compare_training(kFloat64, Opt::Adam, 1e-9);
}

TEST_CASE("SmallCNN (conv, batchnorm, relu, maxpool, dropout) agrees across devices: forward, backward, buffers") {
  const nn::SmallCNNOptions options = nn::SmallCNNOptions().channels(4, 8).hidden(16).dropout(0.5);
  for (ScalarType dtype : {kFloat64, kFloat32}) {
    CAPTURE(dtype);
    const Tol tol = gputest::tolerance(gputest::Family::Conv, dtype);
    manual_seed(3);
    nn::SmallCNN cpu_model(options);
    manual_seed(3);
    nn::SmallCNN gpu_model(options);
    cpu_model->to(dtype);
    gpu_model->to(gpu(), dtype);

    manual_seed(4);
    const Tensor x = randn({8, 1, 28, 28}, dtype), y = randint(0, 10, {8});
    manual_seed(11);  // the same dropout mask on both devices
    const Tensor logits_c = cpu_model->forward(x);
    manual_seed(11);
    const Tensor logits_g = gpu_model->forward(x.cuda());
    CHECK(logits_g.is_cuda());
    expect_close(logits_g, logits_c, tol, "logits");
    const Tensor loss_c = F::cross_entropy(logits_c, y), loss_g = F::cross_entropy(logits_g, y.cuda());
    expect_close(loss_g, loss_c, tol, "loss");
    loss_c.backward();
    loss_g.backward();

    // Gradients are judged against the model's largest gradient: a conv bias
    // followed by batch norm has a gradient of exactly 0 (the norm removes any
    // per-channel shift), so what both devices compute there is rounding noise.
    const auto pc = cpu_model->named_parameters(), pg = gpu_model->named_parameters();
    REQUIRE(pc.size() == pg.size());
    double grad_scale = 0.0;
    for (const auto& item : pc) grad_scale = std::max(grad_scale, item.value().grad().abs().max().item<double>());
    for (const auto& item : pc) {
      CAPTURE(item.key());
      const Tensor* g = pg.find(item.key());
      REQUIRE(g != nullptr);
      REQUIRE(g->grad().defined());
      CHECK(g->grad().is_cuda());
      expect_close(g->grad(), item.value().grad(), tol, "grad of " + item.key(), grad_scale);
    }
    // batchnorm updated its running statistics in training mode
    const auto bc = cpu_model->named_buffers(), bg = gpu_model->named_buffers();
    for (const auto& item : bc) {
      CAPTURE(item.key());
      const Tensor* b = bg.find(item.key());
      REQUIRE(b != nullptr);
      CHECK(b->is_cuda());
      if (item.value().is_floating_point()) expect_close(*b, item.value(), tol, "buffer " + item.key());
      else CHECK(gputest::same_bits(*b, item.value()));
    }
    // eval mode uses the running statistics
    cpu_model->eval();
    gpu_model->eval();
    {
      NoGradGuard no_grad;
      expect_close(gpu_model->forward(x.cuda()), cpu_model->forward(x), tol, "eval logits");
    }
  }
}

TEST_CASE("training on CUDA leaks nothing: memory_allocated returns to its starting value") {
  // A warm-up run first: the first CUDA call of a kind may create lasting
  // state (library handles); the baseline is taken after it.
  const Data data = make_batches();
  (void)train_mlp(gpu(), kFloat32, Opt::Adam, data);
  cuda::synchronize();
  const int64_t base = cuda::memory_allocated();
  {
    const Run run = train_mlp(gpu(), kFloat32, Opt::Adam, data);
    CHECK(run.bytes_after_last_step == run.bytes_after_step_2);
    nn::SmallCNN cnn(nn::SmallCNNOptions().channels(4, 8).hidden(16));
    cnn->to(gpu());
    optim::SGD sgd(cnn->parameters(), optim::SGDOptions(0.05).momentum(0.9));
    for (int step = 0; step < 5; ++step) {
      sgd.zero_grad();
      const Tensor loss = F::cross_entropy(cnn->forward(randn({4, 1, 28, 28}).cuda()), randint(0, 10, {4}).cuda());
      loss.backward();
      sgd.step();
    }
  }
  cuda::synchronize();
  CHECK(cuda::memory_allocated() == base);
  CHECK(autograd::tape_size() == 0);
}
