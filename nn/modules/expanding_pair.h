// ExpandingPair: a 2-D size option given as one number or as two, like
// LibTorch's ExpandingArray<2>. nn::Conv2d(1, 8, 3) and
// nn::Conv2d(nn::Conv2dOptions(1, 8, {3, 5})) both work.
//
// It remembers which form it was given because PyTorch's repr does: a pool
// built with kernel_size=2 prints "kernel_size=2", one built with (2, 2)
// prints "kernel_size=(2, 2)". Conv2d always prints the tuple (PyTorch
// stores its sizes as tuples).
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

#include <lucid/kernels/error.h>

namespace lucid::nn {

class ExpandingPair {
 public:
  ExpandingPair(int64_t v) : values_{v, v}, scalar_(true) {}  // NOLINT: kernel_size(3)
  ExpandingPair(std::array<int64_t, 2> v) : values_(v) {}     // NOLINT
  ExpandingPair(std::initializer_list<int64_t> v) {           // NOLINT: kernel_size({3, 5})
    LUCID_CHECK(v.size() == 2, "ExpandingPair: expected 2 values (height, width), got ",
                v.size());
    values_ = {*v.begin(), *(v.begin() + 1)};
  }

  int64_t operator[](size_t i) const { return values_[i]; }
  const std::array<int64_t, 2>& values() const { return values_; }
  bool was_scalar() const { return scalar_; }
  bool all_equal(int64_t v) const { return values_[0] == v && values_[1] == v; }

  // "(3, 3)"
  std::string tuple_repr() const {
    std::string s = "(";  // appended piece by piece: g++ 12 warns falsely on "(" + string
    s += std::to_string(values_[0]);
    s += ", ";
    s += std::to_string(values_[1]);
    s += ")";
    return s;
  }
  // "3" when given as one number, else "(3, 5)"
  std::string repr() const { return scalar_ ? std::to_string(values_[0]) : tuple_repr(); }

 private:
  std::array<int64_t, 2> values_;
  bool scalar_ = false;
};

}  // namespace lucid::nn
