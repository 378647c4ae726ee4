// The main job for now: train a 2-layer MLP on a synthetic 3-class spiral with
// a hand-written loop, printing the loss curve. Every step is plain lucid code:
//
//   zero grads -> forward -> loss -> backward -> SGD step (under NoGradGuard)
//
// Usage: train_mlp [epochs=1000] [hidden=64] [lr=0.5]
#include <lucid/lucid.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace lucid;
namespace F = lucid::nn::functional;

// Three interleaved spiral arms in 2-D, `per_class` points each, with noise.
static std::pair<Tensor, Tensor> make_spirals(int64_t per_class) {
  const int64_t classes = 3, n = per_class * classes;
  Tensor x = empty({n, 2});
  Tensor y = empty({n}, kInt64);
  Tensor noise = randn({n}) * 0.2;
  float* xp = x.data_ptr<float>();
  int64_t* yp = y.data_ptr<int64_t>();
  const float* np = noise.data_ptr<float>();
  for (int64_t c = 0; c < classes; ++c) {
    for (int64_t i = 0; i < per_class; ++i) {
      const int64_t k = c * per_class + i;
      const float r = static_cast<float>(i) / per_class;
      const float t = c * 4.0f + r * 4.0f + np[k];
      xp[2 * k] = r * std::sin(t);
      xp[2 * k + 1] = r * std::cos(t);
      yp[k] = c;
    }
  }
  return {x, y};
}

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int64_t hidden = argc > 2 ? std::atoll(argv[2]) : 64;
  const double lr = argc > 3 ? std::atof(argv[3]) : 0.5;
  manual_seed(0);
  auto [x, y] = make_spirals(200);

  // Parameters with PyTorch's default Linear init: U(-1/sqrt(in), 1/sqrt(in)).
  auto uniform = [](Shape s, double bound) {
    return (rand(s) * (2 * bound) - bound).requires_grad_(true);
  };
  Tensor w1 = uniform({hidden, 2}, 1 / std::sqrt(2.0)), b1 = uniform({hidden}, 1 / std::sqrt(2.0));
  Tensor w2 = uniform({3, hidden}, 1 / std::sqrt(double(hidden)));
  Tensor b2 = uniform({3}, 1 / std::sqrt(double(hidden)));
  std::vector<Tensor> params = {w1, b1, w2, b2};

  std::printf("training a 2-%lld-3 MLP on %lld spiral points for %d epochs (cpu)\n",
              static_cast<long long>(hidden), static_cast<long long>(x.size(0)), epochs);
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    for (Tensor& p : params) p.set_grad(Tensor());                  // zero_grad
    Tensor logits = F::linear(F::relu(F::linear(x, w1, b1)), w2, b2);  // forward
    Tensor loss = F::cross_entropy(logits, y);                     // loss
    loss.backward();                                               // backward
    {
      NoGradGuard no_grad;                                         // step
      for (Tensor& p : params) p.sub_(p.grad(), lr);
    }
    if (epoch == 1 || epoch % 100 == 0) {
      NoGradGuard no_grad;
      double acc = (argmax(logits, 1) == y).to(kFloat32).mean().item<double>();
      std::printf("epoch %4d  loss %.4f  accuracy %.3f  tape %zu\n", epoch, loss.item<double>(), acc,
                  autograd::tape_size());
    }
  }
  return 0;
}
