#include "setup.h"

#include <algorithm>

#include <lucid/optim/optim.h>

namespace lucid::apps {

std::unique_ptr<optim::Optimizer> make_optimizer(const RunConfig& c, const nn::Module& model) {
  std::vector<Tensor> decay, no_decay;
  for (const auto& item : model.named_parameters()) (item.value().dim() > 1 ? decay : no_decay).push_back(item.value());
  auto groups = [&](auto options) {
    std::vector<optim::OptimizerParamGroup> g;
    g.emplace_back(decay, std::make_unique<decltype(options)>(decltype(options)(options).weight_decay(c.weight_decay)));
    g.emplace_back(no_decay, std::make_unique<decltype(options)>(decltype(options)(options).weight_decay(0.0)));
    return g;
  };
  if (c.optimizer == "adamw") return std::make_unique<optim::AdamW>(groups(optim::AdamWOptions(c.lr)), optim::AdamWOptions(c.lr));
  if (c.optimizer == "adam") return std::make_unique<optim::Adam>(groups(optim::AdamOptions(c.lr)), optim::AdamOptions(c.lr));
  const auto sgd = optim::SGDOptions(c.lr).momentum(0.9).nesterov(true);
  return std::make_unique<optim::SGD>(groups(sgd), sgd);
}

std::unique_ptr<optim::LRScheduler> make_scheduler(const RunConfig& c, optim::Optimizer& optimizer, int64_t total_steps) {
  if (c.scheduler == "onecycle")
    return std::make_unique<optim::OneCycleLR>(optimizer, optim::OneCycleLROptions({c.lr}, total_steps).pct_start(0.2));
  if (c.scheduler == "cosine") {
    const int64_t warmup = std::max<int64_t>(1, total_steps / 20);
    auto warm = std::make_shared<optim::LinearLR>(optimizer, 0.01, 1.0, warmup);
    auto cosine = std::make_shared<optim::CosineAnnealingLR>(optimizer, std::max<int64_t>(1, total_steps - warmup));
    return std::make_unique<optim::SequentialLR>(optimizer, std::vector<std::shared_ptr<optim::LRScheduler>>{warm, cosine},
                                                 std::vector<int64_t>{warmup});
  }
  return nullptr;
}

std::string scheduler_type(const RunConfig& c) {
  if (c.scheduler == "onecycle") return "OneCycleLR";
  if (c.scheduler == "cosine") return "SequentialLR";
  return "";
}

}  // namespace lucid::apps
