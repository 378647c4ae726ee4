// lucid::nn::Module: the base of every layer and model, as torch::nn::Module.
//
// A Module owns three ordered, named collections:
//   parameters   leaf tensors with requires_grad (what an optimizer updates)
//   buffers      state that is saved but not trained (running statistics, ...)
//   submodules   child Modules, so names nest: "features.0.weight"
// and a training flag. Everything else (to(), zero_grad(), state_dict(),
// printing) walks those collections.
//
// Table of contents
//   LoadStrictness, LoadResult       how load_state_dict treats missing/unexpected keys
//   Module
//     registration                   register_parameter / register_buffer / register_module
//     access                         parameters, named_parameters, buffers, children, modules ...
//     modes                          train(on), eval(), is_training()
//     device and dtype               to(device), to(dtype)
//     gradients                      zero_grad(set_to_none)
//     state                          state_dict(), load_state_dict(dict, strictness)
//     printing                       name(), extra_repr(), repr(); operator<<
//   repr_float, repr_bool            Python's spellings of numbers, for extra_repr
//   summary(module)                  the module tree with parameter counts per module
//
// Handles (nn::Linear, nn::Sequential, your own models) are ModuleHolder<Impl>:
// see nn/module_holder.h.
//
// Parameter identity under to(): Module::to(dtype / device) converts each
// parameter, buffer and gradient *in place*: the TensorImpl behind the handle
// gets the converted storage, dtype and strides, but keeps its identity (id,
// requires_grad, leaf status). So every copy of a parameter handle (the
// `weight` member of a layer, the list an optimizer holds, the entry in the
// module's own dict) sees the change, as PyTorch's `param.data = ...` does.
// An optimizer's own state (momentum buffers) is not converted: build the
// optimizer after moving the model, as PyTorch advises.
#pragma once
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <lucid/kernels/device.h>
#include <lucid/kernels/dtype.h>
#include <lucid/kernels/ordered_dict.h>
#include <lucid/kernels/tensor.h>

namespace lucid::nn {

template <class Impl>
class ModuleHolder;

// Strict: every key of the model must be in the dict and every key of the dict
// in the model. NonStrict: missing and unexpected keys are reported in the
// LoadResult instead of raising. Shape and dtype mismatches raise either way.
enum class LoadStrictness { Strict, NonStrict };

struct LoadResult {
  std::vector<std::string> missing_keys;     // in the model, not in the dict
  std::vector<std::string> unexpected_keys;  // in the dict, not in the model
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  // `name` is the type name used when printing ("Linear"). Empty: derived
  // from the C++ type, with namespaces and a trailing "Impl" removed.
  explicit Module(std::string name = "");
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // ---- registration --------------------------------------------------------
  // Names may not be empty or contain '.'. A parameter becomes a leaf that
  // requires grad (unless told otherwise); an undefined tensor registers an
  // absent parameter (Linear's bias with bias=false), skipped by every listing.
  // Both return the registered handle (the same TensorImpl the module keeps).
  Tensor register_parameter(std::string name, Tensor tensor, bool requires_grad = true);
  Tensor register_buffer(std::string name, Tensor tensor);
  // Returns the module, so `fc = register_module("fc", nn::Linear(4, 8));`
  // works with a handle or a shared_ptr member, as in LibTorch.
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    add_child(std::move(name), module);
    return module;
  }
  template <class M>
  std::shared_ptr<M> register_module(std::string name, ModuleHolder<M> holder) {
    return register_module(std::move(name), holder.ptr());
  }
  // Swaps an already registered submodule (e.g. a new classifier head). A container
  // with its own list (Sequential, ModuleList) updates it too, so its forward, indexing
  // and parameters() all see the new module.
  template <class M>
  std::shared_ptr<M> replace_module(const std::string& name, std::shared_ptr<M> module) {
    TensorForward forward;  // what Sequential will call: M's forward, when it is Tensor -> Tensor
    if constexpr (requires(M& m, const Tensor& x) {
                    { m.forward(x) } -> std::convertible_to<Tensor>;
                  }) {
      if (module) forward = [raw = module.get()](const Tensor& x) { return raw->forward(x); };
    }
    replace_child(name, module, std::move(forward));
    return module;
  }
  template <class M>
  std::shared_ptr<M> replace_module(const std::string& name, ModuleHolder<M> holder) {
    return replace_module(name, holder.ptr());
  }

  // ---- access ----------------------------------------------------------------
  // Registration order; with recurse, this module's own entries first, then
  // each child's under "<child>.", depth first (PyTorch's order).
  std::vector<Tensor> parameters(bool recurse = true) const;
  OrderedDict<std::string, Tensor> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  OrderedDict<std::string, Tensor> named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  OrderedDict<std::string, std::shared_ptr<Module>> named_children() const;
  // This module (name "") and all descendants, pre-order. The module itself
  // must be owned by a shared_ptr (any handle is) when include_self is true.
  std::vector<std::shared_ptr<Module>> modules(bool include_self = true);
  OrderedDict<std::string, std::shared_ptr<Module>> named_modules(bool include_self = true);
  // fn(module) on every descendant and then this module, like PyTorch's apply.
  void apply(const std::function<void(Module&)>& fn);

  // ---- modes -----------------------------------------------------------------
  virtual void train(bool on = true);  // sets this module and every descendant
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // ---- device and dtype --------------------------------------------------------
  // In place (see the header comment): handles stay valid. to(dtype) converts
  // only floating-point parameters and buffers (an int64 counter stays int64).
  virtual void to(Device device);
  virtual void to(ScalarType dtype);
  virtual void to(Device device, ScalarType dtype);

  // ---- gradients -----------------------------------------------------------------
  // set_to_none: drop each .grad (the default, as LibTorch); else fill it with 0.
  void zero_grad(bool set_to_none = true);

  // ---- state -------------------------------------------------------------------
  // Parameters then buffers of each module, dotted names, detached (they share
  // storage with the model: clone() them to keep a snapshot).
  StateDict state_dict() const;
  // Validates everything first: missing keys and unexpected keys (when
  // Strict), shape and dtype mismatches, undefined tensors, all listed in one
  // lucid::Error; the model is left unchanged when it raises. Then copies the
  // values in under no-grad (the parameter handles keep their identity).
  LoadResult load_state_dict(const StateDict& dict,
                             LoadStrictness strictness = LoadStrictness::Strict);

  // ---- printing ------------------------------------------------------------------
  const std::string& name() const;
  // The text between the parentheses of a leaf's repr, e.g.
  // "in_features=784, out_features=10, bias=True". Empty by default.
  virtual std::string extra_repr() const { return ""; }
  // PyTorch's repr: "Name(extra)" or, with children,
  // "Name(\n  (child): <child repr, indented>\n)".
  std::string repr() const;

 protected:
  // The modules a subclass registered, for containers.
  const OrderedDict<std::string, std::shared_ptr<Module>>& submodules() const { return children_; }
  // A module's Tensor -> Tensor forward; empty for a module without one.
  using TensorForward = std::function<Tensor(const Tensor&)>;
  // Called by replace_module once `name` is known to be a child and `module` is not null,
  // before the swap: a container updates its own list here, or raises and nothing changes.
  virtual void replacing_child(const std::string& name, const std::shared_ptr<Module>& module,
                               const TensorForward& forward) {}

 private:
  void add_child(std::string name, std::shared_ptr<Module> module);
  void replace_child(const std::string& name, std::shared_ptr<Module> module, const TensorForward& forward);
  void collect_named(const std::string& prefix, bool params, bool recurse,
                     OrderedDict<std::string, Tensor>& out) const;
  void convert(const std::function<Tensor(const Tensor&)>& fn);

  OrderedDict<std::string, Tensor> parameters_{"parameter"};
  OrderedDict<std::string, Tensor> buffers_{"buffer"};
  OrderedDict<std::string, std::shared_ptr<Module>> children_{"submodule"};
  bool training_ = true;
  mutable std::string name_;
};

std::ostream& operator<<(std::ostream& os, const Module& module);

// Python's spellings, for extra_repr(): repr_float(0.5) == "0.5",
// repr_float(1e-5) == "1e-05", repr_float(1.0) == "1.0"; repr_bool(true) == "True".
std::string repr_float(double value);
inline std::string repr_bool(bool value) { return value ? "True" : "False"; }

// The module tree with the parameter count of each module (its own and its
// descendants'), then the totals:
//   module            type        params
//   (root)            Sequential      58
//   0                 Linear          40
//   1                 ReLU             0
//   2                 Linear          18
//   total params: 58 (trainable 58, non-trainable 0), buffers: 0 elements
std::string summary(Module& module);

// Number of elements in the parameters of `module` (recursively).
int64_t parameter_count(const Module& module);

}  // namespace lucid::nn
