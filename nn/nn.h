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
