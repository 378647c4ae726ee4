// lucid: the umbrella header. #include <lucid/lucid.h> and use namespace lucid.
#pragma once

#include <lucid/kernels/backends.h>
#include <lucid/kernels/device.h>
#include <lucid/kernels/dtype.h>
#include <lucid/kernels/error.h>
#include <lucid/kernels/factory.h>
#include <lucid/kernels/ordered_dict.h>
#include <lucid/kernels/cuda/runtime.h>
#include <lucid/kernels/philox.h>
#include <lucid/kernels/storage.h>
#include <lucid/kernels/tensor.h>
#include <lucid/kernels/thread_pool.h>
#include <lucid/kernels/version.h>

#include <lucid/autograd/grad_mode.h>
#include <lucid/autograd/tape.h>
#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/reduce.h>
#include <lucid/autograd/gradcheck.h>
#include <lucid/autograd/ops/attention.h>
#include <lucid/autograd/ops/conv.h>
#include <lucid/autograd/ops/index.h>
#include <lucid/autograd/ops/loss.h>
#include <lucid/autograd/ops/matmul.h>
#include <lucid/autograd/ops/norm.h>
#include <lucid/autograd/ops/functional.h>

#include <lucid/nn/nn.h>
#include <lucid/nn/models/models.h>

#include <lucid/optim/optim.h>

#include <lucid/data/data.h>
