// Sequential and ModuleList: ordered submodules registered under their index.
#include <lucid/nn/modules/container.h>

namespace lucid::nn {

namespace {
// The position of child `name` among `children`: the index into a container's own list.
size_t child_index(const OrderedDict<std::string, std::shared_ptr<Module>>& children, const std::string& name) {
  size_t i = 0;
  while (i < children.size() && children[i].key() != name) ++i;
  return i;
}
}  // namespace

AnyModule::AnyModule(std::shared_ptr<Module> module, std::function<Tensor(const Tensor&)> forward)
    : module_(std::move(module)), forward_(std::move(forward)) {
  LUCID_CHECK(module_ != nullptr, "AnyModule: empty module (nullptr)");
  LUCID_CHECK(forward_ != nullptr, "AnyModule: a ", module_->name(), " without a forward");
}

Tensor AnyModule::forward(const Tensor& x) const {
  LUCID_CHECK(forward_ != nullptr, "AnyModule: forward on an empty module");
  return forward_(x);
}

SequentialImpl::SequentialImpl(std::vector<NamedAnyModule> named_modules) {
  for (auto& [name, module] : named_modules) push_back(std::move(name), std::move(module));
}

void SequentialImpl::push_back(AnyModule module) {
  push_back(std::to_string(modules_.size()), std::move(module));
}

void SequentialImpl::push_back(std::string name, AnyModule module) {
  LUCID_CHECK(!module.is_empty(), "Sequential: push_back of an empty module ('", name, "')");
  register_module(std::move(name), module.ptr());
  modules_.push_back(std::move(module));
}

Tensor SequentialImpl::forward(const Tensor& input) {
  Tensor x = input;
  for (const AnyModule& m : modules_) x = m.forward(x);
  return x;
}

void SequentialImpl::replacing_child(const std::string& name, const std::shared_ptr<Module>& module,
                                     const TensorForward& forward) {
  LUCID_CHECK(forward != nullptr, "Sequential: replace_module('", name, "'): a ", module->name(),
              " has no forward taking and returning one Tensor");
  const size_t i = child_index(submodules(), name);
  LUCID_CHECK(i < modules_.size(), "Sequential: replace_module('", name, "'): not one of its modules");
  modules_[i] = AnyModule(module, forward);
}

const AnyModule& SequentialImpl::at_any(size_t index) const {
  LUCID_CHECK(index < modules_.size(), "Sequential: index ", index, " is out of range (size ",
              modules_.size(), ")");
  return modules_[index];
}

void ModuleListImpl::push_back(std::shared_ptr<Module> module) {
  LUCID_CHECK(module != nullptr, "ModuleList: push_back of an empty module (nullptr)");
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

void ModuleListImpl::replacing_child(const std::string& name, const std::shared_ptr<Module>& module,
                                     const TensorForward&) {
  const size_t i = child_index(submodules(), name);
  LUCID_CHECK(i < modules_.size(), "ModuleList: replace_module('", name, "'): not one of its modules");
  modules_[i] = module;
}

std::shared_ptr<Module> ModuleListImpl::ptr(size_t index) const {
  LUCID_CHECK(index < modules_.size(), "ModuleList: index ", index, " is out of range (size ",
              modules_.size(), ")");
  return modules_[index];
}

}  // namespace lucid::nn
