// LRScheduler: the base of the epoch-driven learning-rate schedulers (PyTorch's _LRScheduler).
//
//   optim::StepLR sched(opt, /*step_size=*/30, /*gamma=*/0.1);
//   for (epoch ...) { train(...); sched.step(); }
//
// last_epoch semantics (PyTorch 1.13): constructing a scheduler sets each group's initial_lr
// (if unset; with last_epoch != -1 it must be set) and performs the initial step, so
// last_epoch() is 0 and the group lrs hold the epoch-0 values. Each step() increments
// last_epoch and sets every group's lr from get_lr(), PyTorch's chainable form (each lr
// derived from the group's current lr), so schedulers compose and follow manual lr edits.
//
// state_dict keys: last_epoch, step_count (int64 0-dim), base_lrs, last_lr (float64 [groups]),
// and the scheduler's hyper-parameters (restored on load, as PyTorch does).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <lucid/kernels/ordered_dict.h>
#include <lucid/optim/optimizer.h>

namespace lucid::optim {

class SequentialLR;

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  virtual void step();
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  Optimizer& optimizer() const { return optimizer_; }

  virtual StateDict state_dict() const;
  // Validates every entry (and the number of groups) before it changes anything.
  virtual void load_state_dict(const StateDict& dict);

 protected:
  LRScheduler(std::string name, Optimizer& optimizer, int64_t last_epoch);
  // Derived constructors call this last (the base constructor cannot reach get_lr()).
  void initial_step();

  // The lrs of the new last_epoch, from the current ones (chainable form).
  virtual std::vector<double> get_lr() = 0;
  // The lrs of last_epoch straight from base_lrs; used when a SequentialLR restarts this
  // scheduler at epoch 0 (PyTorch's step(epoch)). nullopt: no closed form, use get_lr().
  virtual std::optional<std::vector<double>> closed_form_lr() const { return std::nullopt; }
  // The scheduler's own hyper-parameters in its state_dict.
  virtual void save_hyper(StateDict& dict) const {}
  virtual void load_hyper(const StateDict& dict, const std::string& who) {}

  std::vector<double> group_lrs() const;  // every group's current lr
  size_t num_groups() const { return optimizer_.param_groups().size(); }

  std::string name_;  // "StepLR", ...: names the scheduler in errors
  Optimizer& optimizer_;
  int64_t last_epoch_;
  int64_t step_count_ = 0;  // step() calls, including the initial one
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;

 private:
  friend class SequentialLR;
  void step_to(int64_t epoch);  // last_epoch = epoch, lrs from closed_form_lr()
  void apply(const std::vector<double>& lrs);
};

// dict[key], a 1-D float64 tensor of one value per parameter group (`groups` of them), as the
// schedulers save lrs; otherwise an error naming `who`, the key and what it holds.
std::vector<double> read_group_values(const StateDict& dict, const std::string& key, const std::string& who,
                                      size_t groups);

}  // namespace lucid::optim
