// nn::init: every initializer draws into a packed float32/float64 buffer and
// copies it into the tensor under no-grad (so strided views and parameters
// that require grad both work).
#include <lucid/nn/init.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <lucid/autograd/grad_mode.h>
#include <lucid/kernels/factory.h>

namespace lucid::nn::init {

namespace {

Generator& pick(Generator* generator) { return generator ? *generator : default_generator(); }

// Checks `tensor`, then (when it has elements) fills a packed buffer of its
// float dtype with fill(float* or double*, n) and copies it in.
template <class Fill>
Tensor draw_into(Tensor tensor, const char* op, Fill fill) {
  LUCID_CHECK(tensor.defined(), "init::", op, ": undefined tensor");
  LUCID_CHECK(tensor.is_floating_point(), "init::", op,
              ": expected a floating-point tensor, got ", dtype_name(tensor.dtype()));
  if (tensor.numel() == 0) return tensor;  // nothing to fill (PyTorch warns and returns)
  NoGradGuard no_grad;
  Tensor buffer = empty(tensor.sizes(), tensor.dtype() == kFloat64 ? kFloat64 : kFloat32);
  if (buffer.dtype() == kFloat64)
    fill(buffer.data_ptr<double>(), buffer.numel());
  else
    fill(buffer.data_ptr<float>(), buffer.numel());
  tensor.copy_(buffer);
  return tensor;
}

Tensor fill_uniform(Tensor tensor, const char* op, double low, double high, Generator* generator) {
  return draw_into(std::move(tensor), op, [&](auto* out, int64_t n) {
    using T = std::remove_pointer_t<decltype(out)>;
    pick(generator).fill_uniform(out, n, static_cast<T>(low), static_cast<T>(high));
  });
}

Tensor fill_normal(Tensor tensor, const char* op, double mean, double std, Generator* generator) {
  return draw_into(std::move(tensor), op, [&](auto* out, int64_t n) {
    using T = std::remove_pointer_t<decltype(out)>;
    pick(generator).fill_normal(out, n, static_cast<T>(mean), static_cast<T>(std));
  });
}

int64_t fan(const Tensor& tensor, FanMode mode) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  return mode == FanMode::FanIn ? fan_in : fan_out;
}

// Inverse of erf on (-1, 1): a rational first guess (Giles, "Approximating
// the erfinv function", 2010), then two Newton steps on erf(x) - y, whose
// derivative is 2/sqrt(pi) exp(-x^2); accurate to a few ulps in double.
double erfinv(double y) {
  if (y <= -1.0) return -std::numeric_limits<double>::infinity();
  if (y >= 1.0) return std::numeric_limits<double>::infinity();
  double w = -std::log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    double p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                     -0.00125372503, -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
    x = p * y;
  } else {
    w = std::sqrt(w) - 3.0;
    double p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                     -0.0076224613, 0.00943887047, 1.00167406, 2.83297682})
      p = c + p * w;
    x = p * y;
  }
  const double two_over_sqrt_pi = 1.1283791670955126;
  for (int i = 0; i < 2; ++i) x -= (std::erf(x) - y) / (two_over_sqrt_pi * std::exp(-x * x));
  return x;
}

double norm_cdf(double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; }

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv1D:
    case Nonlinearity::Conv2D:
    case Nonlinearity::Conv3D:
    case Nonlinearity::ConvTranspose1D:
    case Nonlinearity::ConvTranspose2D:
    case Nonlinearity::ConvTranspose3D:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::SELU: return 3.0 / 4.0;
  }
  return 1.0;
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  LUCID_CHECK(tensor.defined(), "init: undefined tensor");
  LUCID_CHECK(tensor.dim() >= 2, "init: fan in and fan out can not be computed for a tensor "
              "with fewer than 2 dimensions (shape ", tensor.sizes(), ")");
  int64_t receptive = 1;
  for (int64_t d = 2; d < tensor.dim(); ++d) receptive *= tensor.size(d);
  return {tensor.size(1) * receptive, tensor.size(0) * receptive};
}

Tensor uniform_(Tensor tensor, double low, double high, Generator* generator) {
  LUCID_CHECK(low <= high, "init::uniform_: expected low <= high, got low=", low, " high=", high);
  return fill_uniform(std::move(tensor), "uniform_", low, high, generator);
}

Tensor normal_(Tensor tensor, double mean, double std, Generator* generator) {
  LUCID_CHECK(std >= 0, "init::normal_: expected std >= 0, got ", std);
  return fill_normal(std::move(tensor), "normal_", mean, std, generator);
}

Tensor constant_(Tensor tensor, double value) {
  LUCID_CHECK(tensor.defined(), "init::constant_: undefined tensor");
  NoGradGuard no_grad;
  tensor.fill_(value);
  return tensor;
}

Tensor zeros_(Tensor tensor) { return constant_(std::move(tensor), 0.0); }
Tensor ones_(Tensor tensor) { return constant_(std::move(tensor), 1.0); }

Tensor xavier_uniform_(Tensor tensor, double gain, Generator* generator) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  const double bound = std::sqrt(3.0) * std;  // U(-b, b) has variance b^2 / 3
  return fill_uniform(std::move(tensor), "xavier_uniform_", -bound, bound, generator);
}

Tensor xavier_normal_(Tensor tensor, double gain, Generator* generator) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  return fill_normal(std::move(tensor), "xavier_normal_", 0.0, std, generator);
}

Tensor kaiming_uniform_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity,
                        Generator* generator) {
  if (tensor.defined() && tensor.numel() == 0) return tensor;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan(tensor, mode)));
  const double bound = std::sqrt(3.0) * std;
  return fill_uniform(std::move(tensor), "kaiming_uniform_", -bound, bound, generator);
}

Tensor kaiming_normal_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity,
                       Generator* generator) {
  if (tensor.defined() && tensor.numel() == 0) return tensor;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan(tensor, mode)));
  return fill_normal(std::move(tensor), "kaiming_normal_", 0.0, std, generator);
}

Tensor trunc_normal_(Tensor tensor, double mean, double std, double a, double b,
                     Generator* generator) {
  LUCID_CHECK(a < b, "init::trunc_normal_: expected a < b, got a=", a, " b=", b);
  LUCID_CHECK(std > 0, "init::trunc_normal_: expected std > 0, got ", std);
  // u ~ U(2 cdf(a') - 1, 2 cdf(b') - 1) with a' = (a - mean) / std; then
  // x = mean + std sqrt(2) erfinv(u) is N(mean, std^2) conditioned on [a, b].
  const double lo = 2.0 * norm_cdf((a - mean) / std) - 1.0;
  const double hi = 2.0 * norm_cdf((b - mean) / std) - 1.0;
  return draw_into(std::move(tensor), "trunc_normal_", [&](auto* out, int64_t n) {
    using T = std::remove_pointer_t<decltype(out)>;
    std::vector<double> u(static_cast<size_t>(n));
    pick(generator).fill_uniform(u.data(), n, lo, hi);
    for (int64_t i = 0; i < n; ++i) {
      const double x = mean + std * std::sqrt(2.0) * erfinv(u[static_cast<size_t>(i)]);
      out[i] = static_cast<T>(std::clamp(x, a, b));
    }
  });
}

}  // namespace lucid::nn::init
