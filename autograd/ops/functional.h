// lucid::nn::functional: the functional forms of every layer (as torch::nn::functional).
#pragma once
#include <lucid/autograd/ops/attention.h>
#include <lucid/autograd/ops/conv.h>
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/index.h>
#include <lucid/autograd/ops/loss.h>
#include <lucid/autograd/ops/matmul.h>
#include <lucid/autograd/ops/norm.h>
#include <lucid/autograd/ops/reduce.h>

namespace lucid::nn::functional {
// The elementwise activations and softmax under their functional names.
using lucid::gelu;
using lucid::leaky_relu;
using lucid::log_softmax;
using lucid::relu;
using lucid::sigmoid;
using lucid::silu;
using lucid::softmax;
using lucid::softplus;
using lucid::tanh;
}  // namespace lucid::nn::functional
