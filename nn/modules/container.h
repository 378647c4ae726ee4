// Containers: AnyModule (a type-erased module with a Tensor -> Tensor forward),
// Sequential and ModuleList, as LibTorch's.
//
//   nn::Sequential seq(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 2));
//   seq->push_back(nn::Dropout(0.1));
//   Tensor y = seq->forward(x);            // or seq(x)
//   seq[0]                                 // std::shared_ptr<Module>
//   seq->ptr<nn::LinearImpl>(0)->weight    // typed access
//   nn::Sequential named({{"fc", nn::Linear(4, 8)}, {"act", nn::ReLU()}});
//   A lone Sequential argument copies the handle (nn::Sequential(seq) is seq, as
//   in LibTorch); to nest one, pass it with others or push_back it.
//
//   nn::ModuleList blocks;                 // holds modules; no forward
//   blocks->push_back(nn::Linear(8, 8));
//   for (const auto& m : *blocks) ...
#pragma once
#include <concepts>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <lucid/kernels/error.h>
#include <lucid/nn/module.h>
#include <lucid/nn/module_holder.h>

namespace lucid::nn {

// A module whose forward takes and returns one Tensor.
template <class M>
concept TensorModule = std::derived_from<M, Module> && requires(M& m, const Tensor& x) {
  { m.forward(x) } -> std::convertible_to<Tensor>;
};

// A module handle or a shared_ptr to a module: what ModuleList takes.
template <class M>
concept ModulePointer = requires(const std::remove_cvref_t<M>& m) {
  { m.ptr() } -> std::convertible_to<std::shared_ptr<Module>>;
} || std::convertible_to<M, std::shared_ptr<Module>>;

// ---- AnyModule -----------------------------------------------------------------
// Any TensorModule behind one type: keeps the module alive and remembers how
// to call its forward.
class AnyModule {
 public:
  AnyModule() = default;
  template <TensorModule M>
  AnyModule(std::shared_ptr<M> module)  // NOLINT: implicit, so containers take handles
      : module_(module), forward_([raw = module.get()](const Tensor& x) { return raw->forward(x); }) {
    LUCID_CHECK(module_ != nullptr, "AnyModule: empty module (nullptr)");
  }
  template <TensorModule M>
  AnyModule(const ModuleHolder<M>& holder) : AnyModule(holder.ptr()) {}  // NOLINT

  // `module` with the `forward` that calls it (what replace_module hands a container).
  AnyModule(std::shared_ptr<Module> module, std::function<Tensor(const Tensor&)> forward);

  Tensor forward(const Tensor& x) const;
  bool is_empty() const { return module_ == nullptr; }
  const std::shared_ptr<Module>& ptr() const { return module_; }
  // The module as its own type; an error if it is another one.
  template <class M>
  std::shared_ptr<M> ptr() const {
    auto typed = std::dynamic_pointer_cast<M>(module_);
    LUCID_CHECK(typed != nullptr, "AnyModule: the module is a ",
                module_ ? module_->name() : std::string("(empty)"), ", not the type asked for");
    return typed;
  }

 private:
  std::shared_ptr<Module> module_;
  std::function<Tensor(const Tensor&)> forward_;
};

// A module and the name to register it under.
using NamedAnyModule = std::pair<std::string, AnyModule>;

// ---- Sequential -------------------------------------------------------------------
class SequentialImpl : public Module {
 public:
  SequentialImpl() = default;
  template <class... Ms>
    requires(sizeof...(Ms) > 0 && (std::constructible_from<AnyModule, Ms&&> && ...))
  explicit SequentialImpl(Ms&&... modules) {
    (push_back(AnyModule(std::forward<Ms>(modules))), ...);
  }
  explicit SequentialImpl(std::vector<NamedAnyModule> named_modules);

  // Unnamed modules are registered as "0", "1", ... (their index).
  void push_back(AnyModule module);
  void push_back(std::string name, AnyModule module);
  // Runs the modules in order: x -> m0 -> m1 -> ...
  Tensor forward(const Tensor& input);

  size_t size() const { return modules_.size(); }
  bool is_empty() const { return modules_.empty(); }
  std::shared_ptr<Module> operator[](size_t index) const { return ptr(index); }
  std::shared_ptr<Module> ptr(size_t index) const { return at_any(index).ptr(); }
  template <class M>
  std::shared_ptr<M> ptr(size_t index) const {
    return at_any(index).ptr<M>();
  }
  template <class M>
  M& at(size_t index) const {
    return *ptr<M>(index);
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 protected:
  // replace_module: the new module takes the old one's place in modules_ too.
  void replacing_child(const std::string& name, const std::shared_ptr<Module>& module,
                       const TensorForward& forward) override;

 private:
  const AnyModule& at_any(size_t index) const;
  std::vector<AnyModule> modules_;  // in registration order, as submodules()
};

class Sequential : public ModuleHolder<SequentialImpl> {
 public:
  using ModuleHolder::ModuleHolder;
  Sequential() = default;
  // nn::Sequential({{"fc", nn::Linear(4, 8)}, {"act", nn::ReLU()}})
  Sequential(std::initializer_list<NamedAnyModule> named_modules)
      : ModuleHolder(std::make_shared<SequentialImpl>(std::vector<NamedAnyModule>(named_modules))) {}
};

// ---- ModuleList ------------------------------------------------------------------------
// Holds modules of any kind under "0", "1", ...; has no forward (you loop).
class ModuleListImpl : public Module {
 public:
  ModuleListImpl() = default;
  template <ModulePointer... Ms>
    requires(sizeof...(Ms) > 0)
  explicit ModuleListImpl(Ms&&... modules) {
    (push_back(std::forward<Ms>(modules)), ...);
  }

  void push_back(std::shared_ptr<Module> module);
  template <class M>
  void push_back(const ModuleHolder<M>& holder) {
    push_back(std::shared_ptr<Module>(holder.ptr()));
  }
  template <class M>
    requires std::derived_from<M, Module>
  void push_back(std::shared_ptr<M> module) {
    push_back(std::shared_ptr<Module>(std::move(module)));
  }

  size_t size() const { return modules_.size(); }
  bool is_empty() const { return modules_.empty(); }
  std::shared_ptr<Module> operator[](size_t index) const { return ptr(index); }
  std::shared_ptr<Module> ptr(size_t index) const;
  template <class M>
  std::shared_ptr<M> ptr(size_t index) const {
    auto typed = std::dynamic_pointer_cast<M>(ptr(index));
    LUCID_CHECK(typed != nullptr, "ModuleList: module ", index, " is a ", ptr(index)->name(),
                ", not the type asked for");
    return typed;
  }
  template <class M>
  M& at(size_t index) const {
    return *ptr<M>(index);
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 protected:
  void replacing_child(const std::string& name, const std::shared_ptr<Module>& module,
                       const TensorForward& forward) override;

 private:
  std::vector<std::shared_ptr<Module>> modules_;  // in registration order, as submodules()
};

class ModuleList : public ModuleHolder<ModuleListImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

}  // namespace lucid::nn
