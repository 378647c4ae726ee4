// ModuleHolder<Impl>: the handle type of every module (nn::Linear is a
// ModuleHolder<LinearImpl>), as LibTorch's. It holds a shared_ptr<Impl>, so
// copies of a handle are the same module (a Sequential, an optimizer and your
// code all see one set of parameters).
//
//   nn::Linear fc(784, 10);        builds a LinearImpl(784, 10)
//   nn::Linear fc2 = nullptr;      an empty handle, to be assigned later
//   fc->forward(x), fc(x)          -> and () reach the Impl
//   fc.ptr(), *fc, fc.is_empty()
//
// Declaring a handle for your own module (lucid has no TORCH_MODULE macro):
//   struct NetImpl : nn::Module { ... Tensor forward(const Tensor& x); };
//   class Net : public nn::ModuleHolder<NetImpl> { public: using ModuleHolder::ModuleHolder; };
// Every layer in lucid::nn is declared that way.
#pragma once
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#include <lucid/kernels/error.h>
#include <lucid/nn/module.h>

namespace lucid::nn {

template <class Impl>
class ModuleHolder {
 public:
  using ContainedType = Impl;

  // Default: an Impl built with its default arguments (when it has them).
  ModuleHolder()
    requires std::is_default_constructible_v<Impl>
      : impl_(std::make_shared<Impl>()) {}
  ModuleHolder(std::nullptr_t) {}  // NOLINT: `nn::Linear fc = nullptr;`
  // From an existing module (what register_module returns).
  ModuleHolder(std::shared_ptr<Impl> module) : impl_(std::move(module)) {}  // NOLINT
  // Builds the Impl from the arguments: nn::Linear(4, 8), nn::Dropout(0.2).
  template <class Head, class... Tail>
    requires(!std::is_same_v<std::remove_cvref_t<Head>, std::nullptr_t> &&
             !(sizeof...(Tail) == 0 && std::is_base_of_v<ModuleHolder, std::remove_cvref_t<Head>>) &&
             std::is_constructible_v<Impl, Head&&, Tail&&...>)
  explicit ModuleHolder(Head&& head, Tail&&... tail)
      : impl_(std::make_shared<Impl>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}

  Impl* operator->() const { return get(); }
  Impl& operator*() const { return *get(); }
  Impl* get() const {
    LUCID_CHECK(impl_ != nullptr, "ModuleHolder: accessing an empty module handle (it was "
                "made from nullptr and never assigned)");
    return impl_.get();
  }
  const std::shared_ptr<Impl>& ptr() const { return impl_; }
  bool is_empty() const { return impl_ == nullptr; }
  explicit operator bool() const { return impl_ != nullptr; }

  // fc(x) is fc->forward(x).
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    return get()->forward(std::forward<Args>(args)...);
  }
  // seq[i] is seq->operator[](i) (containers).
  template <class Arg>
  decltype(auto) operator[](Arg&& arg) const {
    return (*get())[std::forward<Arg>(arg)];
  }

 private:
  std::shared_ptr<Impl> impl_;
};

template <class Impl>
std::ostream& operator<<(std::ostream& os, const ModuleHolder<Impl>& holder) {
  return os << *holder;
}

}  // namespace lucid::nn
