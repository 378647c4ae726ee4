// lucid::nn::init: the weight initializers of torch.nn.init, with PyTorch's
// formulas. Each fills `tensor` in place under no-grad (so it works on a
// parameter that requires grad), draws from the default generator unless a
// Generator is given, and returns the tensor. A tensor with no elements is
// left alone, as PyTorch does.
//
// Fans (calculate_fan_in_and_fan_out): for a weight [out, in, k...],
//   receptive = prod(k...),  fan_in = in * receptive,  fan_out = out * receptive.
// Linear's [out, in] has fan_in = in; Conv2d's [out, in/groups, kh, kw] has
// fan_in = in/groups * kh * kw. Fewer than 2 dims is an error.
//
//   calculate_gain(nonlinearity, param)   linear/conv/sigmoid 1, tanh 5/3,
//                                         relu sqrt(2), leaky_relu sqrt(2 / (1 + slope^2)),
//                                         selu 3/4
//   uniform_(t, a, b)                     U(a, b)
//   normal_(t, mean, std)                 N(mean, std^2)
//   constant_(t, v), zeros_(t), ones_(t)
//   xavier_uniform_(t, gain)              U(-b, b), b = gain sqrt(6 / (fan_in + fan_out))
//   xavier_normal_(t, gain)               N(0, s^2), s = gain sqrt(2 / (fan_in + fan_out))
//   kaiming_uniform_(t, a, mode, nl)      U(-b, b), b = gain sqrt(3 / fan),
//                                         gain = calculate_gain(nl, a), fan by mode
//   kaiming_normal_(t, a, mode, nl)       N(0, s^2), s = gain / sqrt(fan)
//   trunc_normal_(t, mean, std, a, b)     N(mean, std^2) restricted to [a, b]
//                                         (inverse-CDF method, as PyTorch)
#pragma once
#include <cstdint>
#include <utility>

#include <lucid/kernels/philox.h>
#include <lucid/kernels/tensor.h>

namespace lucid::nn::init {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity {
  Linear, Conv1D, Conv2D, Conv3D, ConvTranspose1D, ConvTranspose2D, ConvTranspose3D,
  Sigmoid, Tanh, ReLU, LeakyReLU, SELU
};

// LibTorch's spellings (torch::kFanIn, torch::kReLU, ...).
inline constexpr FanMode kFanIn = FanMode::FanIn, kFanOut = FanMode::FanOut;
inline constexpr Nonlinearity kLinear = Nonlinearity::Linear, kConv1D = Nonlinearity::Conv1D,
                              kConv2D = Nonlinearity::Conv2D, kConv3D = Nonlinearity::Conv3D,
                              kConvTranspose1D = Nonlinearity::ConvTranspose1D,
                              kConvTranspose2D = Nonlinearity::ConvTranspose2D,
                              kConvTranspose3D = Nonlinearity::ConvTranspose3D,
                              kSigmoid = Nonlinearity::Sigmoid, kTanh = Nonlinearity::Tanh,
                              kReLU = Nonlinearity::ReLU, kLeakyReLU = Nonlinearity::LeakyReLU,
                              kSELU = Nonlinearity::SELU;

// `param` is leaky_relu's negative slope (0.01 when not given, as PyTorch).
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);
// {fan_in, fan_out}
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

Tensor uniform_(Tensor tensor, double low = 0.0, double high = 1.0, Generator* generator = nullptr);
Tensor normal_(Tensor tensor, double mean = 0.0, double std = 1.0, Generator* generator = nullptr);
Tensor constant_(Tensor tensor, double value);
Tensor zeros_(Tensor tensor);
Tensor ones_(Tensor tensor);
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0, Generator* generator = nullptr);
Tensor xavier_normal_(Tensor tensor, double gain = 1.0, Generator* generator = nullptr);
Tensor kaiming_uniform_(Tensor tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU,
                        Generator* generator = nullptr);
Tensor kaiming_normal_(Tensor tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyReLU,
                       Generator* generator = nullptr);
Tensor trunc_normal_(Tensor tensor, double mean = 0.0, double std = 1.0, double a = -2.0,
                     double b = 2.0, Generator* generator = nullptr);

}  // namespace lucid::nn::init
