// MemoryWatch on real training loops: the classic leak (a running total of the
// loss that keeps the graph) is planted and found, with the op and the fix
// named; the same loop written correctly is left alone; tensors hoarded across
// steps are found through allocated memory; and the rule on given numbers.
#include <doctest/doctest.h>

#include <vector>

#include <lucid/lucid.h>
#include <lucid/train/memory_watch.h>

using namespace lucid;
namespace F = lucid::nn::functional;

namespace {

enum class Loop { Healthy, RunningTotalLeak, HoardedTensors };

// Trains a small MLP for `steps` steps, written as `loop` says; returns the
// first leak report, if any.
std::optional<train::LeakReport> train_with(Loop loop, int steps) {
  autograd::clear_tape();
  manual_seed(0);
  nn::MLP model(nn::MLPOptions(8, {32}, 4));
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.01));
  const Tensor x = randn({64, 8});
  const Tensor y = randint(0, 4, {64});
  train::MemoryWatch watch{Device(kCPU)};
  Tensor total_loss = zeros({});
  double total = 0;
  std::vector<Tensor> hoard;
  std::optional<train::LeakReport> found;
  for (int step = 1; step <= steps; ++step) {
    opt.zero_grad();
    const Tensor logits = model(x);
    Tensor loss = F::cross_entropy(logits, y);
    loss.backward();
    opt.step();
    switch (loop) {
      case Loop::Healthy: total += loss.item<double>(); break;
      case Loop::RunningTotalLeak: total_loss = total_loss + loss; break;  // the bug
      case Loop::HoardedTensors: hoard.push_back(logits.detach().clone()); break;  // 1 KiB a step
    }
    if (auto r = watch.observe(step); r && !found) found = r;
  }
  autograd::clear_tape();
  return found;
}

}  // namespace

TEST_CASE("the running-total leak is found: the tape grows, 'add' is named, and the fix is given") {
  const auto report = train_with(Loop::RunningTotalLeak, 120);
  REQUIRE(report.has_value());
  CHECK(report->kind == train::LeakReport::Kind::Tape);
  // 10 warm-up steps, then 50 of growth: found at step 61, growing since step 12
  // (the step after the first one the watch saw).
  CHECK(report->step == 61);
  CHECK(report->since_step == 12);
  REQUIRE_FALSE(report->tape_ops.empty());
  CHECK(report->tape_ops.front().first == "add");
  INFO(report->message);
  CHECK(report->message.find("since step 12") != std::string::npos);
  CHECK(report->message.find("'add'") != std::string::npos);
  CHECK(report->message.find("total_loss = total_loss + loss") != std::string::npos);
  CHECK(report->message.find("loss.item<double>()") != std::string::npos);
}

TEST_CASE("the same loop accumulating loss.item() is not reported") {
  CHECK_FALSE(train_with(Loop::Healthy, 150).has_value());
}

TEST_CASE("tensors kept across steps are found through allocated memory") {
  train::MemoryWatchOptions o;
  const auto report = train_with(Loop::HoardedTensors, 1200);
  REQUIRE(report.has_value());  // 1 KiB a step: 1 MiB in about 1000 steps
  CHECK(report->kind == train::LeakReport::Kind::Memory);
  CHECK(report->to - report->from >= o.min_bytes);
  CHECK(report->message.find("allocated memory on cpu has grown steadily since step") != std::string::npos);
}

TEST_CASE("the rule: steady growth over the window, not noise; reported once; a drop starts over") {
  train::MemoryWatchOptions o;
  o.warmup_steps = 0;
  o.window = 10;
  o.min_bytes = 100;
  o.min_tape_growth = 5;
  {
    train::MemoryWatch w(Device(kCPU), o);
    int reports = 0;
    for (int s = 0; s < 100; ++s) reports += w.observe(s, 1000 + (s % 2) * 500, 3).has_value();  // up, down: noise
    CHECK(reports == 0);
  }
  {
    train::MemoryWatch w(Device(kCPU), o);
    std::vector<int> at;
    for (int s = 0; s < 40; ++s) {
      const int64_t bytes = s < 25 ? 1000 + 50 * s : 500 + 50 * s;  // grows, drops at 25, grows again
      if (w.observe(s, bytes, 0)) at.push_back(s);
    }
    CHECK(at == std::vector<int>{10, 35});
  }
  {
    train::MemoryWatch w(Device(kCPU), o);
    int reports = 0;
    for (int s = 0; s < 40; ++s) reports += w.observe(s, 1000 + s, 0).has_value();  // grows, but by too little
    CHECK(reports == 0);
  }
  CHECK_THROWS_AS(train::MemoryWatch(Device(kCPU), train::MemoryWatchOptions{.window = 1}), Error);
}
