// Built against the installed package: a gradient through the public API.
#include <lucid/lucid.h>

#include <cmath>
#include <iostream>

int main() {
  using namespace lucid;
  Tensor w = tensor({{1.0, 2.0}, {3.0, 4.0}}, requires_grad());
  Tensor x = tensor({0.5, -1.0});
  Tensor loss = matmul(w, x).pow(2.0).sum();  // (0.5-2)^2 + (1.5-4)^2 = 8.5
  loss.backward();
  // d/dw sum((w x)^2) = 2 (w x) x^T
  const double expect = 2 * (-1.5) * 0.5;
  const bool ok = std::fabs(loss.item<double>() - 8.5) < 1e-6 &&
                  std::fabs(w.grad()[0][0].item<double>() - expect) < 1e-6;
  std::cout << "loss " << loss.item<double>() << " grad " << w.grad() << (ok ? " ok" : " WRONG") << "\n";
  return ok ? 0 : 1;
}
