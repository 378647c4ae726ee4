#include <lucid/optim/schedulers/sequential_lr.h>

#include <algorithm>

#include <lucid/kernels/factory.h>

namespace lucid::optim {

SequentialLR::SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<int64_t> milestones, int64_t last_epoch)
    : LRScheduler("SequentialLR", optimizer, last_epoch),
      schedulers_(std::move(schedulers)),
      milestones_(std::move(milestones)) {
  LUCID_CHECK(!schedulers_.empty(), name_, ": needs at least one scheduler");
  LUCID_CHECK(milestones_.size() + 1 == schedulers_.size(), name_, ": expects one milestone fewer than "
              "schedulers, got ", schedulers_.size(), " schedulers and ", milestones_.size(), " milestones");
  LUCID_CHECK(std::is_sorted(milestones_.begin(), milestones_.end()), name_, ": milestones must be increasing");
  for (size_t k = 0; k < schedulers_.size(); ++k)
    LUCID_CHECK(schedulers_[k] && &schedulers_[k]->optimizer() == &optimizer, name_, ": scheduler ", k,
                " belongs to another optimizer");
  last_epoch_ = last_epoch + 1;
  for (OptimizerParamGroup& g : optimizer.param_groups()) g.options().set_lr(*g.options().initial_lr());
  for (const auto& s : schedulers_) s->last_epoch_ -= 1;
  schedulers_[0]->initial_step();
  last_lr_ = schedulers_[0]->get_last_lr();
}

void SequentialLR::step() {
  ++last_epoch_;
  const size_t k = std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin();
  LRScheduler& s = *schedulers_[k];
  if (k > 0 && milestones_[k - 1] == last_epoch_)
    s.step_to(0);  // the next scheduler starts over
  else
    s.step();
  last_lr_ = s.get_last_lr();
}

StateDict SequentialLR::state_dict() const {
  StateDict dict = LRScheduler::state_dict();
  dict.insert("milestones", tensor(milestones_));
  for (size_t k = 0; k < schedulers_.size(); ++k)
    for (const auto& item : schedulers_[k]->state_dict())
      dict.insert("schedulers." + std::to_string(k) + "." + item.key(), item.value());
  return dict;
}

void SequentialLR::load_state_dict(const StateDict& dict) {
  const std::string who = name_ + ".load_state_dict";
  const Tensor* m = dict.find("milestones");
  LUCID_CHECK(m != nullptr && m->dim() == 1 && m->dtype() == kInt64 &&
                  static_cast<size_t>(m->numel()) == milestones_.size(),
              who, ": state_dict needs 'milestones', an int64 tensor of ", milestones_.size(), " values");
  std::vector<StateDict> parts(schedulers_.size(), StateDict("scheduler state"));
  StateDict own("scheduler state");
  for (const auto& item : dict) {
    const std::string& key = item.key();
    if (key.rfind("schedulers.", 0) != 0) {
      own.insert(key, item.value());
      continue;
    }
    const size_t dot = key.find('.', 11);
    const std::string index = key.substr(11, dot == std::string::npos ? 0 : dot - 11);
    const bool ok = dot != std::string::npos && !index.empty() && index.size() < 9 &&
                    index.find_first_not_of("0123456789") == std::string::npos &&
                    std::stoul(index) < schedulers_.size();
    LUCID_CHECK(ok, who, ": unexpected key '", key, "' (this SequentialLR has ", schedulers_.size(),
                " schedulers)");
    parts[std::stoul(index)].insert(key.substr(dot + 1), item.value());
  }
  // Load the children, restoring all of them if one fails, then our own counters.
  std::vector<StateDict> before;
  for (const auto& s : schedulers_) before.push_back(s->state_dict());
  try {
    for (size_t k = 0; k < schedulers_.size(); ++k) schedulers_[k]->load_state_dict(parts[k]);
    LRScheduler::load_state_dict(own);
  } catch (...) {
    for (size_t k = 0; k < schedulers_.size(); ++k) schedulers_[k]->load_state_dict(before[k]);
    throw;
  }
  const Tensor c = m->cpu().contiguous();
  milestones_.assign(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

}  // namespace lucid::optim
