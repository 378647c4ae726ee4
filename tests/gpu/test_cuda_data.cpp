// The DataLoader feeding a GPU: batches collated in pinned memory by worker
// threads and copied to cuda:0 without blocking must equal, bit for bit, the
// batches a CPU loader with the same seed gives.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include <lucid/lucid.h>

using namespace lucid;

TEST_CASE("DataLoader with pin_memory and a CUDA device: the same batches as on the CPU, on the GPU") {
  manual_seed(7);
  auto dataset = std::make_shared<const data::TensorDataset>(randn({203, 3, 5}), randint(0, 10, {203}));
  auto options = [](Device d, bool pin) {
    return data::DataLoaderOptions(16).shuffle(true).seed(11).num_workers(2).device(d).pin_memory(pin);
  };
  data::DataLoader on_cpu(dataset, options(Device(), false));
  data::DataLoader on_gpu(dataset, options(Device(kCUDA, 0), true));
  REQUIRE(on_cpu.size() == on_gpu.size());
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<data::Example> cpu_batches;
    for (data::Example& b : on_cpu) cpu_batches.push_back(b);
    size_t i = 0;
    for (data::Example& b : on_gpu) {
      REQUIRE(i < cpu_batches.size());
      CHECK(b.data.is_cuda());
      CHECK(b.target.is_cuda());
      // the host copy waits for the non-blocking transfer (same stream)
      CHECK(allclose(b.data.cpu(), cpu_batches[i].data, 0, 0));
      CHECK(allclose(b.target.cpu().to(kFloat64), cpu_batches[i].target.to(kFloat64), 0, 0));
      ++i;
    }
    CHECK(i == cpu_batches.size());
  }
}

TEST_CASE("pin_memory without a device: batches come back pinned on the CPU") {
  auto dataset = std::make_shared<const data::TensorDataset>(randn({40, 4}), randint(0, 3, {40}));
  data::DataLoader loader(dataset, data::DataLoaderOptions(8).num_workers(1).pin_memory(true));
  for (data::Example& b : loader) {
    CHECK(b.data.is_cpu());
    CHECK(b.data.is_pinned());
  }
}
