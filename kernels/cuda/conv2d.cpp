// cuDNN convolution (declared in conv2d.h). Host code only: cuDNN launches.
//
// Each pass sets up its descriptors (RAII), picks an algorithm (cached), sizes
// and allocates the workspace, and makes one cuDNN call:
//   forward          y  = conv(x, w)   cudnnConvolutionForward, then y += b (cudnnAddTensor)
//   backward data    dx = conv^T(dy, w) cudnnConvolutionBackwardData
//   backward filter  dw = corr(x, dy)   cudnnConvolutionBackwardFilter
// The bias gradient is a small kernel of ours (conv2d_bias.cu), a fixed-order sum.
//
// Math type, as PyTorch sets it: float32 without backends::cudnn::allow_tf32 runs
// CUDNN_FMA_MATH (FMA kernels only: full float32; note CUDNN_DEFAULT_MATH would
// let cuDNN use TF32 on Ampere and later); with allow_tf32, CUDNN_DEFAULT_MATH,
// which permits TF32 tensor cores; float64 runs CUDNN_DEFAULT_MATH.
//
// Algorithm cache: one entry per (pass, every Conv2dParams field, dtype, device,
// the three switches), filled on the first call under a mutex and read after.
// The list from cuDNN is sorted fastest first; we take the first entry that
// succeeded, is deterministic when backends::cudnn::deterministic asks for it,
// and is not a tensor-op algorithm when TF32 is not allowed.
//
// Cost: 2*(C_in/groups)*kH*kW FLOPs per output element, each backward the same
// per element of its result (kernels/cpu/conv2d.h); bytes depend on the algorithm.
#include <lucid/kernels/cuda/conv2d.h>

#include <algorithm>
#include <array>
#include <climits>
#include <map>
#include <mutex>
#include <vector>

#include <lucid/kernels/backends.h>
#include <lucid/kernels/cuda/check.h>
#include <lucid/kernels/cuda/copy.h>
#include <lucid/kernels/cuda/cudnn_descriptors.h>
#include <lucid/kernels/cuda/handles.h>
#include <lucid/kernels/factory.h>

namespace lucid::cuda {

namespace {

// The switches, read once per call so the key and the choice agree.
struct Switches {
  bool tf32 = backends::cudnn::allow_tf32;
  bool deterministic = backends::cudnn::deterministic;
  bool benchmark = backends::cudnn::benchmark;
};

// Only FMA kernels for float32 unless TF32 is allowed.
bool fma_only(ScalarType t, const Switches& s) { return t == kFloat32 && !s.tf32; }

// cuDNN's legacy descriptors take int sizes and int strides.
int checked_int(const cpu::Conv2dParams& p, const char* what, int64_t v) {
  LUCID_CHECK(v <= INT_MAX, "conv2d: ", what, " has ", v, " elements, more than cuDNN's limit of ", INT_MAX,
              " (input [", p.N, ", ", p.C_in, ", ", p.H, ", ", p.W, "])");
  return static_cast<int>(v);
}

// x [N, C_in, H, W], w [C_out, C_in/groups, kH, kW], y [N, C_out, H_out, W_out] and the convolution.
struct ConvDescriptors {
  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvolutionDescriptor conv;

  ConvDescriptors(const cpu::Conv2dParams& p, ScalarType t, const Switches& s) {
    const cudnnDataType_t type = cudnn_data_type(t);
    checked_int(p, "input", p.input_numel());
    checked_int(p, "output", p.output_numel());
    checked_int(p, "weight", p.weight_numel());
    // Each size is at most its tensor's numel, so it fits too.
    set_nchw(x, type, p.N, p.C_in, p.H, p.W);
    set_nchw(y, type, p.N, p.C_out, p.H_out(), p.W_out());
    LUCID_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w.get(), type, CUDNN_TENSOR_NCHW, int(p.C_out),
                                                 int(p.C_in_per_group()), int(p.kH), int(p.kW)));
    LUCID_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        conv.get(), checked_int(p, "padding", p.pad_h), checked_int(p, "padding", p.pad_w),
        checked_int(p, "stride", p.stride_h), checked_int(p, "stride", p.stride_w),
        checked_int(p, "dilation", p.dilation_h), checked_int(p, "dilation", p.dilation_w),
        CUDNN_CROSS_CORRELATION, type));
    LUCID_CUDNN_CHECK(cudnnSetConvolutionGroupCount(conv.get(), int(p.groups)));
    LUCID_CUDNN_CHECK(cudnnSetConvolutionMathType(conv.get(), fma_only(t, s) ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH));
  }
};

// Device scratch memory from the caching allocator.
Tensor workspace(size_t bytes, Device device) {
  return empty({static_cast<int64_t>(bytes)}, TensorOptions(kUInt8).device(device));
}

// ---- algorithm choice and cache ------------------------------------------------------

enum class Pass { Forward, BackwardData, BackwardFilter };
const char* pass_name(Pass pass) {
  return pass == Pass::Forward ? "forward" : pass == Pass::BackwardData ? "backward data" : "backward filter";
}

struct Choice {
  int algo;
  cudnnMathType_t math;
};

using Key = std::array<int64_t, 20>;

Key key_of(Pass pass, const cpu::Conv2dParams& p, ScalarType t, int device, const Switches& s) {
  return {static_cast<int64_t>(pass), p.N, p.C_in, p.H, p.W, p.C_out, p.kH, p.kW, p.stride_h, p.stride_w,
          p.pad_h, p.pad_w, p.dilation_h, p.dilation_w, p.groups, static_cast<int64_t>(t), device,
          s.tf32, s.deterministic, s.benchmark};
}

std::mutex cache_mutex;
std::map<Key, Choice> algorithm_cache;

// The most workspace an algorithm may ask for: 1 GiB, and at most half of what
// the device has free (or cached) now, so that an FFT algorithm wanting gigabytes is passed
// over for one that fits instead of failing with out of memory (and being cached).
size_t workspace_limit() {
  size_t free_b = 0, total_b = 0;
  LUCID_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  // Blocks cached by lucid's allocator count as free: the allocator gives them
  // back when a request does not fit (and the choice must not depend on how
  // full the cache happens to be).
  const int d = current_device();
  const size_t cached = static_cast<size_t>(memory_reserved(d) - memory_allocated(d));
  return std::min<size_t>(size_t(1) << 30, (free_b + cached) / 2);
}

// The first usable entry of a perf list (cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t),
// fastest first as cuDNN orders them.
template <class Perf>
Choice first_usable(const std::vector<Perf>& perfs, int returned, Pass pass, const cpu::Conv2dParams& p,
                    ScalarType t, const Switches& s) {
  const size_t max_workspace = workspace_limit();
  for (int i = 0; i < returned; ++i) {
    const Perf& r = perfs[i];
    if (r.status != CUDNN_STATUS_SUCCESS) continue;
    if (s.deterministic && r.determinism != CUDNN_DETERMINISTIC) continue;
    if (r.memory > max_workspace) continue;
    // ALLOW_CONVERSION may compute float32 in fp16: below even TF32's precision.
    if (t == kFloat32 && r.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) continue;
    const bool tensor_op = r.mathType == CUDNN_TENSOR_OP_MATH || r.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
    if (fma_only(t, s) && tensor_op) continue;
    return {static_cast<int>(r.algo), fma_only(t, s) ? CUDNN_FMA_MATH : r.mathType};
  }
  throw Error(std::string("conv2d: cuDNN has no usable ") + pass_name(pass) + " algorithm for input [" +
              std::to_string(p.N) + ", " + std::to_string(p.C_in) + ", " + std::to_string(p.H) + ", " +
              std::to_string(p.W) + "], weight [" + std::to_string(p.C_out) + ", " +
              std::to_string(p.C_in_per_group()) + ", " + std::to_string(p.kH) + ", " + std::to_string(p.kW) +
              "], " + dtype_name(t) + (s.deterministic ? " (deterministic)" : ""));
}

// The cached choice for `key`, or a new one from ask(max_count, &returned, perfs)
// (cudnnGet*_v7 or cudnnFind*Ex). Two threads may both ask on a miss; the first
// answer stays.
template <class Perf, class Ask>
Choice choose(const Key& key, int max_count, Pass pass, const cpu::Conv2dParams& p, ScalarType t,
              const Switches& s, Ask&& ask) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    const auto it = algorithm_cache.find(key);
    if (it != algorithm_cache.end()) return it->second;
  }
  std::vector<Perf> perfs(std::max(max_count, 1));
  int returned = 0;
  ask(max_count, &returned, perfs.data());
  const Choice c = first_usable(perfs, returned, pass, p, t, s);
  std::lock_guard<std::mutex> lock(cache_mutex);
  return algorithm_cache.emplace(key, c).first->second;
}

// Workspace for cudnnFind*Ex: the largest any algorithm asks for, up to
// workspace_limit() (Find skips algorithms that need more than it is given).
template <class SizeOf>
Tensor find_workspace(int algo_count, Device device, SizeOf&& size_of) {
  const size_t kMaxBytes = workspace_limit();
  size_t most = 0;
  for (int algo = 0; algo < algo_count; ++algo) {
    size_t bytes = 0;
    // An algorithm that does not support this problem reports an error: skip it.
    if (size_of(algo, &bytes) == CUDNN_STATUS_SUCCESS && bytes <= kMaxBytes) most = std::max(most, bytes);
  }
  return workspace(most, device);
}

}  // namespace

// ---- the three passes --------------------------------------------------------------------

void conv2d_forward(const cpu::Conv2dParams& p, const Tensor& input, const Tensor& weight, const Tensor& bias,
                    const Tensor& output) {
  if (output.numel() == 0) return;  // N == 0
  const ScalarType t = input.dtype();
  const Switches s;
  const ConvDescriptors d(p, t, s);
  const cudnnHandle_t h = cudnn_handle();
  int max_count = 0;
  LUCID_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max_count));
  const Choice c = choose<cudnnConvolutionFwdAlgoPerf_t>(
      key_of(Pass::Forward, p, t, input.device().index, s), max_count, Pass::Forward, p, t, s,
      [&](int n, int* returned, cudnnConvolutionFwdAlgoPerf_t* perfs) {
        if (!s.benchmark) {
          LUCID_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x.get(), d.w.get(), d.conv.get(),
                                                                   d.y.get(), n, returned, perfs));
          return;
        }
        const Tensor ws = find_workspace(CUDNN_CONVOLUTION_FWD_ALGO_COUNT, input.device(), [&](int a, size_t* b) {
          return cudnnGetConvolutionForwardWorkspaceSize(h, d.x.get(), d.w.get(), d.conv.get(), d.y.get(),
                                                         static_cast<cudnnConvolutionFwdAlgo_t>(a), b);
        });
        // Times every algorithm on the real tensors; output is overwritten below.
        LUCID_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
            h, d.x.get(), input.raw_data(), d.w.get(), weight.raw_data(), d.conv.get(), d.y.get(),
            output.raw_data(), n, returned, perfs, ws.raw_data(), static_cast<size_t>(ws.numel())));
      });
  const auto algo = static_cast<cudnnConvolutionFwdAlgo_t>(c.algo);
  LUCID_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv.get(), c.math));
  size_t bytes = 0;
  LUCID_CUDNN_CHECK(
      cudnnGetConvolutionForwardWorkspaceSize(h, d.x.get(), d.w.get(), d.conv.get(), d.y.get(), algo, &bytes));
  const Tensor ws = workspace(bytes, input.device());
  LUCID_CUDNN_CHECK(cudnnConvolutionForward(h, one(t), d.x.get(), input.raw_data(), d.w.get(), weight.raw_data(),
                                            d.conv.get(), algo, ws.raw_data(), bytes, zero(t), d.y.get(),
                                            output.raw_data()));
  if (bias.defined()) {
    // y += b, with b read as [1, C_out, 1, 1] and broadcast.
    TensorDescriptor b;
    set_nchw(b, cudnn_data_type(t), 1, p.C_out, 1, 1);
    LUCID_CUDNN_CHECK(cudnnAddTensor(h, one(t), b.get(), bias.raw_data(), one(t), d.y.get(), output.raw_data()));
  }
}

void conv2d_backward_input(const cpu::Conv2dParams& p, const Tensor& grad_output, const Tensor& weight,
                           const Tensor& grad_input) {
  if (grad_input.numel() == 0) return;  // N == 0
  const ScalarType t = grad_output.dtype();
  const Switches s;
  const ConvDescriptors d(p, t, s);
  const cudnnHandle_t h = cudnn_handle();
  int max_count = 0;
  LUCID_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max_count));
  const Choice c = choose<cudnnConvolutionBwdDataAlgoPerf_t>(
      key_of(Pass::BackwardData, p, t, grad_output.device().index, s), max_count, Pass::BackwardData, p, t, s,
      [&](int n, int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perfs) {
        if (!s.benchmark) {
          LUCID_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w.get(), d.y.get(), d.conv.get(),
                                                                        d.x.get(), n, returned, perfs));
          return;
        }
        const Tensor ws =
            find_workspace(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, grad_output.device(), [&](int a, size_t* b) {
              return cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w.get(), d.y.get(), d.conv.get(), d.x.get(),
                                                                  static_cast<cudnnConvolutionBwdDataAlgo_t>(a), b);
            });
        LUCID_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
            h, d.w.get(), weight.raw_data(), d.y.get(), grad_output.raw_data(), d.conv.get(), d.x.get(),
            grad_input.raw_data(), n, returned, perfs, ws.raw_data(), static_cast<size_t>(ws.numel())));
      });
  const auto algo = static_cast<cudnnConvolutionBwdDataAlgo_t>(c.algo);
  LUCID_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv.get(), c.math));
  size_t bytes = 0;
  LUCID_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w.get(), d.y.get(), d.conv.get(), d.x.get(),
                                                                 algo, &bytes));
  const Tensor ws = workspace(bytes, grad_output.device());
  LUCID_CUDNN_CHECK(cudnnConvolutionBackwardData(h, one(t), d.w.get(), weight.raw_data(), d.y.get(),
                                                 grad_output.raw_data(), d.conv.get(), algo, ws.raw_data(), bytes,
                                                 zero(t), d.x.get(), grad_input.raw_data()));
}

void conv2d_backward_weight(const cpu::Conv2dParams& p, const Tensor& grad_output, const Tensor& input,
                            const Tensor& grad_weight) {
  if (p.N == 0) {  // an empty sum; cuDNN takes no empty tensors
    fill(grad_weight, 0.0);
    return;
  }
  const ScalarType t = grad_output.dtype();
  const Switches s;
  const ConvDescriptors d(p, t, s);
  const cudnnHandle_t h = cudnn_handle();
  int max_count = 0;
  LUCID_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max_count));
  const Choice c = choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
      key_of(Pass::BackwardFilter, p, t, grad_output.device().index, s), max_count, Pass::BackwardFilter, p, t,
      s, [&](int n, int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perfs) {
        if (!s.benchmark) {
          LUCID_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x.get(), d.y.get(), d.conv.get(),
                                                                          d.w.get(), n, returned, perfs));
          return;
        }
        const Tensor ws = find_workspace(
            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, grad_output.device(), [&](int a, size_t* b) {
              return cudnnGetConvolutionBackwardFilterWorkspaceSize(
                  h, d.x.get(), d.y.get(), d.conv.get(), d.w.get(), static_cast<cudnnConvolutionBwdFilterAlgo_t>(a),
                  b);
            });
        LUCID_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
            h, d.x.get(), input.raw_data(), d.y.get(), grad_output.raw_data(), d.conv.get(), d.w.get(),
            grad_weight.raw_data(), n, returned, perfs, ws.raw_data(), static_cast<size_t>(ws.numel())));
      });
  const auto algo = static_cast<cudnnConvolutionBwdFilterAlgo_t>(c.algo);
  LUCID_CUDNN_CHECK(cudnnSetConvolutionMathType(d.conv.get(), c.math));
  size_t bytes = 0;
  LUCID_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x.get(), d.y.get(), d.conv.get(),
                                                                   d.w.get(), algo, &bytes));
  const Tensor ws = workspace(bytes, grad_output.device());
  LUCID_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, one(t), d.x.get(), input.raw_data(), d.y.get(),
                                                   grad_output.raw_data(), d.conv.get(), algo, ws.raw_data(),
                                                   bytes, zero(t), d.w.get(), grad_weight.raw_data()));
}

}  // namespace lucid::cuda
