#pragma once
// Combinators: Compose (a checked chain of steps) and Lambda (a step from a function).
//
//   auto train = Compose(RandomCrop({32, 32}, 4), RandomHorizontalFlip(0.5),
//                        ToTensor(), Normalize({0.49, 0.48, 0.45}, {0.25, 0.24, 0.26}));
//   auto eval  = train.eval();   // Compose(CenterCrop({32, 32}), ToTensor(), Normalize(...)):
//                                // the same Normalize object, no random steps
//   Tensor x = train(image);     // Image in, Tensor out
//
// Compose checks when it is built that each step accepts what the previous one
// gives (so every image step precedes ToTensor), and names the first mismatch.

#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <lucid/data/transforms/transform.h>

namespace lucid::data {

class Compose : public Transform {
 public:
  explicit Compose(std::vector<TransformPtr> steps);
  // Compose(ToTensor(), Normalize(...)): each argument is a concrete transform
  // (copied into a shared_ptr) or a TransformPtr.
  template <class... Ts>
    requires(sizeof...(Ts) > 0 &&
             ((std::derived_from<std::decay_t<Ts>, Transform> ||
               std::is_convertible_v<Ts, TransformPtr>) && ...) &&
             !(sizeof...(Ts) == 1 && (std::is_same_v<std::decay_t<Ts>, Compose> && ...)))
  explicit Compose(Ts&&... steps) : Compose(std::vector<TransformPtr>{to_ptr(std::forward<Ts>(steps))...}) {}

  std::string name() const override;  // "Compose(RandomCrop, ToTensor, ...)"
  Kind input_kind() const override { return input_; }
  Kind output_kind() const override { return output_; }
  Randomness randomness() const override;
  Sample apply(Sample x) const override;

  // Image in, Tensor out: the usual call from a dataset's get().
  Tensor operator()(Image image) const;

  // The same chain without its random steps (nested Composes included); the
  // steps kept are shared, so train and eval pipelines normalize identically.
  // A random step is dropped unless it names deterministic eval_steps()
  // (transform.h): RandomCrop(size) becomes CenterCrop(size) and
  // RandomResizedCrop(size) becomes Resize(max side) + CenterCrop(size), so the
  // eval chain still gives one image size. Other random geometric steps (your
  // own Lambdas) are simply dropped: with images of varying sizes the eval
  // chain then gives varying sizes, which default_collate refuses to stack.
  // Write such an eval pipeline by hand (Resize + CenterCrop, as torchvision's
  // users do), or give the step eval_steps().
  Compose eval() const;

  const std::vector<TransformPtr>& steps() const { return steps_; }

 private:
  template <class T>
  static TransformPtr to_ptr(T&& t) {
    if constexpr (std::is_convertible_v<T, TransformPtr>)
      return TransformPtr(std::forward<T>(t));
    else
      return std::make_shared<const std::decay_t<T>>(std::forward<T>(t));
  }

  std::vector<TransformPtr> steps_;
  Kind input_ = Kind::Image;
  Kind output_ = Kind::Image;
};

// A step from a plain function. For a random lambda, pass Randomness::Random
// (so eval() drops it) and draw only from data::sample_generator().
class Lambda : public Transform {
 public:
  Lambda(std::string name, std::function<Image(Image)> fn,
         Randomness randomness = Randomness::Deterministic);
  Lambda(std::string name, std::function<Tensor(Tensor)> fn,
         Randomness randomness = Randomness::Deterministic);

  std::string name() const override { return name_; }
  Kind input_kind() const override { return kind_; }
  Kind output_kind() const override { return kind_; }
  Randomness randomness() const override { return randomness_; }
  Sample apply(Sample x) const override;

 private:
  std::string name_;
  Kind kind_;
  Randomness randomness_;
  std::function<Image(Image)> image_fn_;
  std::function<Tensor(Tensor)> tensor_fn_;
};

}  // namespace lucid::data
