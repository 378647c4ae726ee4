// BatchNorm1d and BatchNorm2d, with LibTorch's options and PyTorch's
// behaviour. The math and its gradient live in nn::functional::batch_norm
// (autograd/ops/norm.h).
//
//   nn::BatchNorm2d bn(32);
//   nn::BatchNorm1d bn1(nn::BatchNormOptions(64).momentum(0.01).affine(false));
//
// Training mode: normalize with the batch's mean and biased variance, and
// (with track_running_stats) update running_mean / running_var in place:
//   running = (1 - momentum) running + momentum batch_stat   (unbiased variance)
// and add 1 to num_batches_tracked. momentum = std::nullopt (Python's None)
// uses the cumulative average, momentum = 1 / num_batches_tracked.
// Eval mode: normalize with the running statistics (batch statistics when
// track_running_stats is false, as PyTorch).
//
// Parameters weight [C] (ones) and bias [C] (zeros) when affine; buffers
// running_mean [C] (zeros), running_var [C] (ones) and num_batches_tracked
// (0-dim int64) when track_running_stats: the names of PyTorch's state_dict.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>

namespace lucid::nn {

struct BatchNormOptions {
  BatchNormOptions(int64_t num_features) : num_features_(num_features) {}  // NOLINT
  BatchNormOptions& num_features(int64_t v) { num_features_ = v; return *this; }
  BatchNormOptions& eps(double v) { eps_ = v; return *this; }
  BatchNormOptions& momentum(std::optional<double> v) { momentum_ = v; return *this; }
  BatchNormOptions& affine(bool v) { affine_ = v; return *this; }
  BatchNormOptions& track_running_stats(bool v) { track_running_stats_ = v; return *this; }
  int64_t num_features() const { return num_features_; }
  double eps() const { return eps_; }
  std::optional<double> momentum() const { return momentum_; }
  bool affine() const { return affine_; }
  bool track_running_stats() const { return track_running_stats_; }

 private:
  int64_t num_features_;
  double eps_ = 1e-5;
  std::optional<double> momentum_ = 0.1;
  bool affine_ = true;
  bool track_running_stats_ = true;
};

// What BatchNorm1d and BatchNorm2d share; they differ only in the input
// ranks they accept.
class BatchNormImplBase : public Module {
 public:
  void reset_running_stats();  // running_mean 0, running_var 1, num_batches_tracked 0
  void reset_parameters();     // reset_running_stats(), weight 1, bias 0
  Tensor forward(const Tensor& input);
  // 32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True
  std::string extra_repr() const override;

  BatchNormOptions options;
  Tensor weight, bias;                                  // parameters (affine)
  Tensor running_mean, running_var, num_batches_tracked;  // buffers (track_running_stats)

 protected:
  BatchNormImplBase(const BatchNormOptions& options, std::string name);
  // Throws unless input.dim() is accepted (named in the message).
  virtual void check_input_dim(const Tensor& input) const = 0;
};

// input [N, C] or [N, C, L]
class BatchNorm1dImpl : public BatchNormImplBase {
 public:
  explicit BatchNorm1dImpl(const BatchNormOptions& options)
      : BatchNormImplBase(options, "BatchNorm1d") {}

 protected:
  void check_input_dim(const Tensor& input) const override;
};

// input [N, C, H, W]
class BatchNorm2dImpl : public BatchNormImplBase {
 public:
  explicit BatchNorm2dImpl(const BatchNormOptions& options)
      : BatchNormImplBase(options, "BatchNorm2d") {}

 protected:
  void check_input_dim(const Tensor& input) const override;
};

class BatchNorm1d : public ModuleHolder<BatchNorm1dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};
class BatchNorm2d : public ModuleHolder<BatchNorm2dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
