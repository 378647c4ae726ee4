// lucid::nn: modules, layers, initializers and gradient utilities.
#pragma once
#include <lucid/nn/module.h>          // Module: parameters, buffers, submodules, state_dict
#include <lucid/nn/module_holder.h>   // ModuleHolder<Impl>: the handle type (nn::Linear, ...)
#include <lucid/nn/modules/container.h>   // AnyModule, Sequential, ModuleList
#include <lucid/nn/modules/linear.h>      // Linear, Identity, Flatten
#include <lucid/nn/modules/activation.h>  // ReLU, GELU, SiLU, Tanh, Sigmoid
#include <lucid/nn/modules/dropout.h>     // Dropout
#include <lucid/nn/init.h>            // nn::init: kaiming_*, xavier_*, normal_, ...
#include <lucid/nn/utils.h>           // nn::utils: clip_grad_norm_, check_grad_flow
#include <lucid/autograd/ops/functional.h>  // nn::functional
// Layers (nn/modules, beyond the core):
#include <lucid/nn/modules/expanding_pair.h>  // ExpandingPair: a size given as 3 or {3, 5}
#include <lucid/nn/modules/conv.h>            // Conv2d
#include <lucid/nn/modules/batchnorm.h>       // BatchNorm1d, BatchNorm2d
#include <lucid/nn/modules/normalization.h>   // LayerNorm
#include <lucid/nn/modules/pooling.h>         // MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
#include <lucid/nn/modules/embedding.h>       // Embedding
#include <lucid/nn/modules/attention.h>       // MultiheadAttention
#include <lucid/nn/modules/loss.h>            // CrossEntropyLoss, NLLLoss, MSELoss, BCEWithLogitsLoss
