// The float32 / float64 visitor that the float kernels are reached through, and
// the raw pointer of an optional tensor argument (nullptr when undefined).
//
// CPU float math runs in float32 and float64 only; callers check that first
// with check_float_math, so anything not float32 here is float64.
#pragma once
#include <lucid/kernels/tensor.h>

namespace lucid::cpu {

// Runs fn(float{}) for float32, fn(double{}) otherwise (float64).
template <class Fn>
void visit_float(ScalarType t, Fn&& fn) {
  if (t == kFloat32)
    fn(float{});
  else
    fn(double{});
}

// t's data as T*, or nullptr for an undefined (optional) tensor.
template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

template <class T>
T* ptr_or_null_mut(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

}  // namespace lucid::cpu
