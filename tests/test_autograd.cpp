// The tape: accumulation, retain_graph, freeing and pruning (tape size and
// memory stay flat over training steps), grad mode guards, detach, the
// version-counter check, leaf/non-leaf rules, broadcast and diamond gradients,
// thread-local tapes, dump_tape, and gradcheck catching a wrong backward.
#include <doctest/doctest.h>

#include <cmath>
#include <future>
#include <sstream>
#include <thread>
#include <vector>

#include <lucid/lucid.h>

#include "check_values.h"

using namespace lucid;
using autograd::Context;
using Grads = std::vector<Tensor>;

namespace {

using lucid::testing::values;
using V = std::vector<double>;

// Every test starts and ends with an empty tape on this thread.
struct TapeReset {
  TapeReset() { autograd::clear_tape(); }
  ~TapeReset() { autograd::clear_tape(); }
};

// x^2 with a deliberately wrong backward (g x instead of 2 g x).
Tensor wrong_square(const Tensor& x) {
  Tensor out;
  {
    NoGradGuard ng;
    out = x * x;
  }
  if (autograd::needs_grad({&x}))
    autograd::record("wrong_square", {x}, {&out}, {x}, [](const Context& c, const Grads& g) {
      return Grads{g[0] * c.saved(0)};
    });
  return out;
}

}  // namespace

TEST_CASE("gradients accumulate across backward calls and set_grad(Tensor()) clears them") {
  TapeReset reset;
  Tensor x = tensor({1.0, 2.0}, dtype(kFloat64).requires_grad());
  (x * 3.0).sum().backward();
  CHECK(values(x.grad()) == V{3, 3});
  (x * x).sum().backward();
  CHECK(values(x.grad()) == V{5, 7});  // 3 + 2x
  x.set_grad(Tensor());
  CHECK(!x.grad().defined());
  (x * 3.0).sum().backward();
  CHECK(values(x.grad()) == V{3, 3});
  CHECK_THROWS_WITH_AS(x.set_grad(zeros({3}, kFloat64)),
                       doctest::Contains("set_grad: gradient of shape [3] does not match tensor of shape [2]"), Error);
}

TEST_CASE("the grad of a leaf is its own packed copy, never the caller's gradient tensor") {
  TapeReset reset;
  Tensor x = zeros({2, 2}, requires_grad());
  Tensor g = ones({2, 2});
  x.backward(g);  // a leaf root: g goes straight into .grad
  CHECK(x.grad().storage() != g.storage());
  x.backward(g);
  CHECK(values(g) == V(4, 1.0));  // accumulation did not write into g
  CHECK(values(x.grad()) == V(4, 2.0));
}

TEST_CASE("backward on a leaf with a gradient that requires grad records nothing and keeps accumulating") {
  TapeReset reset;
  Tensor x = ones({2}, requires_grad());
  Tensor g = ones({2}, requires_grad());
  x.backward(g);
  CHECK(!x.grad().requires_grad());
  CHECK(autograd::tape_size() == 0);
  x.backward(g);
  CHECK(values(x.grad()) == V{2, 2});
}

TEST_CASE("retain_graph=true allows a second backward; without it the second one raises") {
  TapeReset reset;
  Tensor x = tensor({1.0, -2.0}, requires_grad());
  Tensor z = (x * x).sum();
  z.backward(Tensor(), /*retain_graph=*/true);
  CHECK(autograd::tape_size() == 2);  // mul and sum are still there
  z.backward();
  CHECK(values(x.grad()) == V{4, -8});
  CHECK(autograd::tape_size() == 0);
  CHECK_THROWS_WITH_AS(z.backward(), doctest::Contains("are no longer on this thread's tape: backward already ran"),
                       Error);
  CHECK(values(x.grad()) == V{4, -8});  // the failed backward added nothing
}

TEST_CASE("a second backward through a shared subgraph freed by the first raises instead of dropping grads") {
  TapeReset reset;
  Tensor x = ones({2}, requires_grad());
  Tensor y = x * 2.0;  // shared by both losses
  Tensor z = (y * 3.0).sum(), w = (y * 4.0).sum();
  z.backward();
  CHECK_THROWS_WITH_AS(w.backward(), doctest::Contains("backward: trying to backward through the graph a second "
                                                       "time: the ops behind a tensor produced by 'mul' (shape [2])"),
                       Error);
  CHECK(values(x.grad()) == V{6, 6});  // the failed backward added nothing

  // the same with retain_graph on the first backward: both paths reach x
  autograd::clear_tape();
  x.set_grad(Tensor());
  Tensor y2 = x * 2.0;
  Tensor z2 = (y2 * 3.0).sum(), w2 = (y2 * 4.0).sum();
  z2.backward(Tensor(), /*retain_graph=*/true);
  w2.backward();
  CHECK(values(x.grad()) == V{14, 14});

  // detaching the shared part makes the second graph independent
  Tensor y3 = (x * 2.0).detach().requires_grad_();
  (y3 * 3.0).sum().backward();
  (y3 * 4.0).sum().backward();
  CHECK(values(y3.grad()) == V{7, 7});
}

TEST_CASE("the tape is empty after backward and ops under NoGradGuard record nothing") {
  TapeReset reset;
  Tensor x = randn({3, 4}, requires_grad());
  Tensor y = (x.exp() * 2.0 + x).sum(1).mean();
  CHECK(autograd::tape_size() >= 5);  // exp, mul, add, sum, mean
  y.backward();
  CHECK(autograd::tape_size() == 0);
  {
    NoGradGuard ng;
    Tensor z = (x * 2.0).exp();
    CHECK(!z.requires_grad());
    CHECK(z.grad_fn_name() == nullptr);
    CHECK(autograd::tape_size() == 0);
  }
}

TEST_CASE("the tape and memory stay flat over 100 training steps, with and without dropped metrics") {
  TapeReset reset;
  Tensor w = full({4, 3}, 0.1, dtype(kFloat64).requires_grad());
  Tensor x = arange(12, kFloat64).view({3, 4}) / 10.0;
  Tensor target = ones({3, 3}, kFloat64);
  const int64_t baseline = memory_allocated();

  auto step = [&](bool metrics) {
    Tensor pred = (x.unsqueeze(2) * w.unsqueeze(0)).sum(1);  // [3, 3]
    Tensor loss = (pred - target).pow(2.0).mean();
    loss.backward();
    {
      NoGradGuard ng;
      w.sub_(w.grad() * 0.01);
    }
    w.set_grad(Tensor());
    if (metrics) {  // computed with grad mode on and dropped: pruning must reclaim them
      Tensor acc = (pred.detach() * w.sum()).abs().mean();
      (void)acc;
    }
  };

  for (int i = 0; i < 100; ++i) {
    step(false);
    REQUIRE(autograd::tape_size() == 0);
    REQUIRE(memory_allocated() == baseline);
  }
  size_t tape_at_10 = 0;
  int64_t mem_at_10 = 0;
  for (int i = 1; i <= 100; ++i) {
    step(true);
    if (i == 10) {
      tape_at_10 = autograd::tape_size();
      mem_at_10 = memory_allocated();
    }
    REQUIRE(autograd::tape_size() <= 8);  // at most the last step's metric ops
  }
  CHECK(autograd::tape_size() == tape_at_10);
  CHECK(memory_allocated() == mem_at_10);
  autograd::clear_tape();
  CHECK(memory_allocated() == baseline);
}

TEST_CASE("entries whose outputs all died are pruned without any backward") {
  TapeReset reset;
  Tensor x = ones({8}, requires_grad());
  for (int i = 0; i < 2000; ++i) {
    Tensor m = (x * 2.0).sum();  // never backwarded
    (void)m;
  }
  CHECK(autograd::tape_size() < 600);  // pruned whenever the tape doubles (+256)
}

TEST_CASE("NoGradGuard nests and restores; EnableGradGuard records inside it") {
  TapeReset reset;
  Tensor x = ones({2}, requires_grad());
  CHECK(GradMode::is_enabled());
  {
    NoGradGuard a;
    {
      NoGradGuard b;
      CHECK(!GradMode::is_enabled());
    }
    CHECK(!GradMode::is_enabled());  // the inner guard restored "off", not "on"
    CHECK(!(x * 2.0).requires_grad());
    {
      EnableGradGuard e;
      CHECK(GradMode::is_enabled());
      Tensor y = x * 2.0;
      CHECK(y.requires_grad());
      CHECK(std::string(y.grad_fn_name()) == "mul");
      y.sum().backward();
    }
    CHECK(!GradMode::is_enabled());
  }
  CHECK(GradMode::is_enabled());
  CHECK(values(x.grad()) == V{2, 2});
}

TEST_CASE("grad mode is per thread: a NoGradGuard here does not switch it off in another thread") {
  NoGradGuard ng;
  bool other = false;
  std::thread t([&] { other = GradMode::is_enabled(); });
  t.join();
  CHECK(other);
  CHECK(!GradMode::is_enabled());
}

TEST_CASE("detach shares storage, has no history and no grad") {
  TapeReset reset;
  Tensor x = ones({3}, requires_grad());
  Tensor y = x * 2.0;
  Tensor d = y.detach();
  CHECK(d.storage() == y.storage());
  CHECK(!d.requires_grad());
  CHECK(d.is_leaf());
  CHECK(d.grad_fn_name() == nullptr);
  CHECK(!d.grad().defined());
  const size_t before = autograd::tape_size();
  Tensor e = d * 3.0;
  CHECK(autograd::tape_size() == before);  // nothing recorded
  CHECK(!e.requires_grad());
  {
    NoGradGuard ng;
    d.fill_(5.0);
  }
  CHECK(values(y) == V{5, 5, 5});  // same memory
}

TEST_CASE("requires_grad_(false) on a non-leaf raises; requires_grad_(true) on it is a no-op") {
  TapeReset reset;
  Tensor x = ones({2}, requires_grad());
  Tensor y = x * 2.0;
  CHECK(!y.is_leaf());
  CHECK_THROWS_WITH_AS(y.requires_grad_(false),
                       doctest::Contains("requires_grad_: you can only change requires_grad flags of leaf tensors"),
                       Error);
  CHECK(y.requires_grad());
  y.requires_grad_(true);
  CHECK(!y.is_leaf());
}

TEST_CASE("an in-place change to a saved tensor between forward and backward raises naming the op") {
  TapeReset reset;
  Tensor x = tensor({0.5, 1.0}, dtype(kFloat64).requires_grad());
  Tensor y = x.exp();  // exp saves its output y
  Tensor loss = y.sum();  // sum saves nothing: only exp holds y
  {
    NoGradGuard ng;
    y.mul_(2.0);
  }
  CHECK_THROWS_WITH_AS(loss.backward(),
                       doctest::Contains("saved by 'exp' was modified by an in-place operation after it was saved "
                                         "(version 1, expected 0)"),
                       Error);
  CHECK(!x.grad().defined());

  // the same through a detached alias, and through a view of the saved input
  autograd::clear_tape();
  Tensor a = tensor({2.0, 3.0}, requires_grad());
  Tensor b = ones({2});
  Tensor c = (a * b).sum();  // mul saves a and b
  b.detach()[0].fill_(7.0);
  CHECK_THROWS_WITH_AS(c.backward(), doctest::Contains("saved by 'mul' was modified"), Error);
}

TEST_CASE("in-place ops on a tensor that requires grad raise while grad mode is on") {
  TapeReset reset;
  Tensor x = ones({2}, requires_grad());
  CHECK_THROWS_WITH_AS(x.add_(1.0),
                       doctest::Contains("add_: a tensor that requires grad (shape [2]) is used in an in-place operation"),
                       Error);
  CHECK_THROWS_WITH_AS(x.zero_(), doctest::Contains("fill_: a tensor that requires grad"), Error);
  CHECK_THROWS_WITH_AS(x.copy_(zeros({2})), doctest::Contains("copy_: a tensor that requires grad"), Error);
  Tensor y = x * 2.0;
  CHECK_THROWS_WITH_AS(y.mul_(2.0), doctest::Contains("mul_: a tensor that requires grad"), Error);
  CHECK(values(x) == V{1, 1});
  {
    NoGradGuard ng;  // an optimizer step
    x.add_(1.0);
  }
  CHECK(values(x) == V{2, 2});
}

TEST_CASE("backward of a non-scalar needs an explicit gradient of the same shape") {
  TapeReset reset;
  Tensor x = tensor({1.0, 2.0, 3.0}, dtype(kFloat64).requires_grad());
  Tensor y = x * x;
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("backward: grad can be implicitly created only for a tensor "
                                                       "with one element, got shape [3]"),
                       Error);
  CHECK_THROWS_WITH_AS(y.backward(ones({2}, kFloat64)),
                       doctest::Contains("backward: gradient has shape [2] but the tensor has shape [3]"), Error);
  y.backward(tensor({1.0, 0.5, -1.0}, kFloat64));
  CHECK(values(x.grad()) == V{2, 2, -6});  // g * 2x
  CHECK_THROWS_WITH_AS(ones({2}).backward(), doctest::Contains("does not require grad and has no grad_fn"), Error);
}

TEST_CASE("retain_grad keeps the gradient of a non-leaf; other non-leaves get none") {
  TapeReset reset;
  Tensor x = tensor({1.0, 2.0}, dtype(kFloat64).requires_grad());
  Tensor y = x * 3.0;
  Tensor u = y + 1.0;
  y.retain_grad();
  (u * u).sum().backward();
  CHECK(values(y.grad()) == V{8, 14});   // 2u
  CHECK(!u.grad().defined());
  CHECK(values(x.grad()) == V{24, 42});  // 3 * 2u
  CHECK_THROWS_WITH_AS(ones({1}).retain_grad(), doctest::Contains("retain_grad: can't retain_grad"), Error);
}

TEST_CASE("a tensor used twice (diamond) receives the sum of both paths' gradients") {
  TapeReset reset;
  Tensor x = tensor({1.0, 2.0}, dtype(kFloat64).requires_grad());
  (x * x).sum().backward();
  CHECK(values(x.grad()) == V{2, 4});
  x.set_grad(Tensor());
  Tensor a = x * 2.0, b = x * 3.0;
  (a * b).sum().backward();  // 6 x^2 -> 12 x
  CHECK(values(x.grad()) == V{12, 24});
  x.set_grad(Tensor());
  Tensor h = x.exp();
  (h * x + h).sum().backward();  // (x + 1) e^x -> (x + 2) e^x
  CHECK(x.grad()[0].item<double>() == doctest::Approx(3 * std::exp(1.0)));
  CHECK(x.grad()[1].item<double>() == doctest::Approx(4 * std::exp(2.0)));
}

TEST_CASE("gradients of broadcast inputs have the inputs' shapes and sum over broadcast dims") {
  TapeReset reset;
  Tensor a = ones({2, 3}, requires_grad());
  Tensor b = tensor({1.0, 2.0, 3.0}, requires_grad());
  Tensor c = ones({2, 1}, requires_grad());
  Tensor s = full({}, 2.0, requires_grad());
  ((a + b) * c * s).sum().backward();
  CHECK(a.grad().sizes() == Shape{2, 3});
  CHECK(values(a.grad()) == V(6, 2.0));
  CHECK(b.grad().sizes() == Shape{3});
  CHECK(values(b.grad()) == V{4, 4, 4});
  CHECK(c.grad().sizes() == Shape{2, 1});
  CHECK(values(c.grad()) == V{18, 18});  // s * sum(a + b) per row = 2 * 9
  CHECK(s.grad().dim() == 0);
  CHECK(s.grad().item<double>() == 18.0);  // sum((a + b) * c) = 2 * 9
  Tensor e = tensor({5.0}, requires_grad());
  e.view({1, 1}).expand({3, 4}).sum().backward();
  CHECK(e.grad().sizes() == Shape{1});
  CHECK(e.grad().item<double>() == 12.0);
}

TEST_CASE("gradients flow through views back to the base's layout") {
  TapeReset reset;
  Tensor x = arange(6, kFloat64).view({2, 3}).detach().requires_grad_();
  Tensor y = x.t().slice(0, 0, 3, 2).select(1, 1);  // x[1][0], x[1][2]
  (y * tensor({10.0, 20.0}, kFloat64)).sum().backward();
  CHECK(values(x.grad()) == V{0, 0, 0, 10, 0, 20});
}

TEST_CASE("two threads train their own graphs at once on thread-local tapes") {
  auto worker = [](double k, std::vector<double>* grad, size_t* tape_left) {
    Tensor x = full({3}, k, dtype(kFloat64).requires_grad());
    for (int i = 0; i < 200; ++i) (x * x * 0.5).sum().backward();  // d/dx = x, 200 times
    *grad = values(x.grad());
    *tape_left = autograd::tape_size();
  };
  std::vector<double> g1, g2;
  size_t t1 = 99, t2 = 99;
  std::thread a(worker, 1.0, &g1, &t1), b(worker, -2.0, &g2, &t2);
  a.join();
  b.join();
  CHECK(g1 == V(3, 200.0));
  CHECK(g2 == V(3, -400.0));
  CHECK(t1 == 0);
  CHECK(t2 == 0);
  CHECK(autograd::tape_size() == 0);  // nothing landed on the main thread's tape
}

TEST_CASE("backward of a tensor recorded on another thread raises instead of using that tape") {
  TapeReset reset;
  Tensor x = ones({2}, requires_grad());
  Tensor y;
  std::promise<void> recorded, done;
  std::shared_future<void> done_f = done.get_future().share();
  std::thread a([&] {
    y = (x * 2.0).sum();
    recorded.set_value();
    done_f.wait();  // keep thread A (and its tape) alive during B's backward
  });
  recorded.get_future().wait();
  CHECK(autograd::tape_size() == 0);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("or they were recorded on another thread"), Error);
  done.set_value();
  a.join();
  CHECK(!x.grad().defined());
}

TEST_CASE("dump_tape lists each op with input shapes, (leaf)/(const) markers, outputs and saved shapes") {
  TapeReset reset;
  Tensor x = ones({2, 3}, requires_grad());
  Tensor c = ones({3});
  Tensor y = (x * c).exp();
  std::ostringstream os;
  autograd::dump_tape(os);
  CHECK(os.str() ==
        "tape: 2 entries\n"
        "  #0 mul  inputs: [2, 3] (leaf), [3] (const)  outputs: [2, 3]  saved: [2, 3], [3]\n"
        "  #1 exp  inputs: [2, 3]  outputs: [2, 3]  saved: [2, 3]\n");
  CHECK(autograd::tape_size() == 2);
}

TEST_CASE("gradcheck accepts a correct backward and rejects a deliberately wrong one") {
  TapeReset reset;
  Tensor x = tensor({0.5, -1.0, 2.0}, dtype(kFloat64).requires_grad());
  CHECK(autograd::gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {x}));
  CHECK_THROWS_WITH_AS(autograd::gradcheck([](const std::vector<Tensor>& in) { return wrong_square(in[0]); }, {x}),
                       doctest::Contains("gradcheck: input 0 (shape [3]) element 0: analytic"), Error);
  CHECK_THROWS_WITH_AS(autograd::gradcheck([](const std::vector<Tensor>& in) { return in[0] * 2.0; },
                                           {ones({2}, requires_grad())}),
                       doctest::Contains("finite differences need float64 inputs"), Error);
}
