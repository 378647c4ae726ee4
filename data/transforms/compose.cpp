#include <lucid/data/transforms/compose.h>

#include <lucid/kernels/error.h>

namespace lucid::data {

Compose::Compose(std::vector<TransformPtr> steps) : steps_(std::move(steps)) {
  LUCID_CHECK(!steps_.empty(), "Compose: needs at least one step");
  for (size_t i = 0; i < steps_.size(); ++i) {
    LUCID_CHECK(steps_[i] != nullptr, "Compose: step ", i, " is null");
    if (i == 0) continue;
    const Transform& prev = *steps_[i - 1];
    const Transform& next = *steps_[i];
    LUCID_CHECK(prev.output_kind() == next.input_kind(), "Compose: step ", i, " (", next.name(),
                ") expects an ", kind_name(next.input_kind()), " but step ", i - 1, " (",
                prev.name(), ") gives a ", kind_name(prev.output_kind()),
                "; image steps go before ToTensor, tensor steps after it");
  }
  input_ = steps_.front()->input_kind();
  output_ = steps_.back()->output_kind();
}

std::string Compose::name() const {
  std::string s = "Compose(";
  for (size_t i = 0; i < steps_.size(); ++i) s += (i ? ", " : "") + steps_[i]->name();
  return s + ")";
}

Randomness Compose::randomness() const {
  for (const auto& s : steps_)
    if (s->randomness() == Randomness::Random) return Randomness::Random;
  return Randomness::Deterministic;
}

Sample Compose::apply(Sample x) const {
  for (const auto& s : steps_) x = s->apply(std::move(x));
  return x;
}

Tensor Compose::operator()(Image image) const {
  LUCID_CHECK(input_ == Kind::Image && output_ == Kind::Tensor, name(),
              ": called with an Image to give a Tensor, but the chain takes an ",
              kind_name(input_), " and gives an ", kind_name(output_), " (end it with ToTensor?)");
  return std::get<Tensor>(apply(std::move(image)));
}

namespace {
// The deterministic steps of `steps`, each random one replaced by its eval_steps()
// (none: dropped), recursing into nested Composes (one that keeps nothing is dropped).
std::vector<TransformPtr> deterministic_steps(const std::vector<TransformPtr>& steps) {
  std::vector<TransformPtr> kept;
  for (const auto& s : steps) {
    if (s->randomness() == Randomness::Deterministic) {
      kept.push_back(s);
    } else if (auto nested = std::dynamic_pointer_cast<const Compose>(s)) {
      auto inner = deterministic_steps(nested->steps());
      if (!inner.empty()) kept.push_back(std::make_shared<const Compose>(std::move(inner)));
    } else {
      for (auto& e : s->eval_steps()) kept.push_back(std::move(e));
    }
  }
  return kept;
}
}  // namespace

Compose Compose::eval() const {
  auto kept = deterministic_steps(steps_);
  LUCID_CHECK(!kept.empty(), name(), ".eval(): every step is random, nothing is left");
  return Compose(std::move(kept));
}

Lambda::Lambda(std::string name, std::function<Image(Image)> fn, Randomness randomness)
    : name_(std::move(name)), kind_(Kind::Image), randomness_(randomness), image_fn_(std::move(fn)) {
  LUCID_CHECK(image_fn_ != nullptr, "Lambda ", name_, ": empty function");
}

Lambda::Lambda(std::string name, std::function<Tensor(Tensor)> fn, Randomness randomness)
    : name_(std::move(name)), kind_(Kind::Tensor), randomness_(randomness),
      tensor_fn_(std::move(fn)) {
  LUCID_CHECK(tensor_fn_ != nullptr, "Lambda ", name_, ": empty function");
}

Sample Lambda::apply(Sample x) const {
  if (kind_ == Kind::Image) return image_fn_(take_image(std::move(x), name_));
  return tensor_fn_(take_tensor(std::move(x), name_));
}

}  // namespace lucid::data
