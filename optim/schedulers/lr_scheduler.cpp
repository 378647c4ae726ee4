#include <lucid/optim/schedulers/lr_scheduler.h>

#include <lucid/kernels/factory.h>

namespace lucid::optim {

LRScheduler::LRScheduler(std::string name, Optimizer& optimizer, int64_t last_epoch)
    : name_(std::move(name)), optimizer_(optimizer), last_epoch_(last_epoch) {
  std::vector<OptimizerParamGroup>& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    OptimizerOptions& o = groups[g].options();
    if (last_epoch == -1) {
      if (!o.initial_lr()) o.set_initial_lr(o.lr());
    } else {
      LUCID_CHECK(o.initial_lr().has_value(), name_, ": resuming at last_epoch ", last_epoch,
                  " needs initial_lr in parameter group ", g, " (load the optimizer's state_dict first)");
    }
    base_lrs_.push_back(*o.initial_lr());
  }
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();
}

void LRScheduler::step() {
  ++step_count_;
  ++last_epoch_;
  apply(get_lr());
}

void LRScheduler::step_to(int64_t epoch) {
  ++step_count_;
  last_epoch_ = epoch;
  std::optional<std::vector<double>> lrs = closed_form_lr();
  apply(lrs ? *lrs : get_lr());
}

void LRScheduler::apply(const std::vector<double>& lrs) {
  std::vector<OptimizerParamGroup>& groups = optimizer_.param_groups();
  LUCID_CHECK(lrs.size() == groups.size(), name_, ": computed ", lrs.size(), " lrs for ",
              groups.size(), " parameter groups (were groups added after the scheduler?)");
  for (size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(lrs[g]);
  last_lr_ = lrs;
}

std::vector<double> LRScheduler::group_lrs() const {
  std::vector<double> lrs;
  for (const OptimizerParamGroup& g : optimizer_.param_groups()) lrs.push_back(g.options().lr());
  return lrs;
}

std::vector<double> read_group_values(const StateDict& dict, const std::string& key, const std::string& who,
                                      size_t groups) {
  const Tensor* t = dict.find(key);
  LUCID_CHECK(t != nullptr, who, ": state_dict has no entry '", key, "'");
  LUCID_CHECK(t->dim() == 1 && t->dtype() == kFloat64, who, ": '", key,
              "' should be a 1-D float64 tensor, got ", t->dtype(), " of shape ", t->sizes());
  LUCID_CHECK(static_cast<size_t>(t->numel()) == groups, who, ": '", key, "' has ", t->numel(),
              " values but the optimizer has ", groups, " parameter groups");
  const Tensor c = t->cpu().contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + groups);
}

StateDict LRScheduler::state_dict() const {
  StateDict dict("scheduler state");
  dict.insert("last_epoch", state_int(last_epoch_));
  dict.insert("step_count", state_int(step_count_));
  dict.insert("base_lrs", tensor(base_lrs_, kFloat64));
  dict.insert("last_lr", tensor(last_lr_, kFloat64));
  save_hyper(dict);
  return dict;
}

void LRScheduler::load_state_dict(const StateDict& dict) {
  const std::string who = name_ + ".load_state_dict";
  const int64_t last_epoch = read_int(dict, "last_epoch", who);
  const int64_t step_count = read_int(dict, "step_count", who);
  std::vector<double> base_lrs = read_group_values(dict, "base_lrs", who, num_groups());
  std::vector<double> last_lr = read_group_values(dict, "last_lr", who, num_groups());
  load_hyper(dict, who);  // reads all of its entries before assigning any
  last_epoch_ = last_epoch;
  step_count_ = step_count;
  base_lrs_ = std::move(base_lrs);
  last_lr_ = std::move(last_lr);
}

}  // namespace lucid::optim
