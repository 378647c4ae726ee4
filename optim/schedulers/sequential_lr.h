// SequentialLR: runs schedulers one after another, switching at the milestones; the usual
// use is warmup then decay:
//
//   auto warmup = std::make_shared<optim::LinearLR>(opt, 0.1, 1.0, 10);
//   auto cosine = std::make_shared<optim::CosineAnnealingLR>(opt, 90);
//   optim::SequentialLR sched(opt, {warmup, cosine}, {10});
//
// As PyTorch 1.13: construction resets every group's lr to initial_lr, moves each scheduler
// back one epoch and redoes the first one's initial step; at a milestone the next scheduler
// restarts at epoch 0 from its closed form (lr = base_lr for CosineAnnealingLR).
// state_dict: the base keys, milestones, and each scheduler's under "schedulers.<k>.".
#pragma once
#include <memory>

#include <lucid/optim/schedulers/lr_scheduler.h>

namespace lucid::optim {

class SequentialLR : public LRScheduler {
 public:
  SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<int64_t> milestones, int64_t last_epoch = -1);

  void step() override;
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& dict) override;

 protected:
  std::vector<double> get_lr() override { return group_lrs(); }  // the children compute the lrs

 private:
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
  std::vector<int64_t> milestones_;
};

}  // namespace lucid::optim
