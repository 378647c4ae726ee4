#include <lucid/nn/models/mlp.h>

#include <lucid/nn/modules/activation.h>
#include <lucid/nn/modules/dropout.h>
#include <lucid/nn/modules/linear.h>

namespace lucid::nn {

namespace {

AnyModule make_activation(MLPActivation a) {
  switch (a) {
    case MLPActivation::ReLU: return ReLU();
    case MLPActivation::GELU: return GELU();
    case MLPActivation::SiLU: return SiLU();
    case MLPActivation::Tanh: return Tanh();
    case MLPActivation::Sigmoid: return Sigmoid();
  }
  throw Error("MLP: unknown activation");
}

}  // namespace

MLPImpl::MLPImpl(const MLPOptions& options) : options(options) {
  Sequential seq;
  int64_t width = options.in_features();
  for (int64_t h : options.hidden()) {
    seq->push_back(Linear(width, h));
    seq->push_back(make_activation(options.activation()));
    if (options.dropout() > 0.0) seq->push_back(Dropout(options.dropout()));
    width = h;
  }
  seq->push_back(Linear(width, options.out_features()));
  layers = register_module("layers", seq);
}

Tensor MLPImpl::forward(const Tensor& input) { return layers->forward(input); }

}  // namespace lucid::nn
