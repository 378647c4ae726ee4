// Factories: make new tensors (LibTorch names and signatures).
#pragma once
#include <functional>
#include <initializer_list>
#include <vector>

#include <lucid/kernels/tensor.h>

namespace lucid {

Tensor empty(const Shape& size, TensorOptions opt = {});
Tensor zeros(const Shape& size, TensorOptions opt = {});
Tensor ones(const Shape& size, TensorOptions opt = {});
Tensor full(const Shape& size, double value, TensorOptions opt = {});
Tensor arange(double end, TensorOptions opt = {});
Tensor arange(double start, double end, double step = 1.0, TensorOptions opt = {});
Tensor linspace(double start, double end, int64_t steps, TensorOptions opt = {});
Tensor eye(int64_t n, TensorOptions opt = {});

// Random (from the default Philox generator; see kernels/philox.h).
Tensor rand(const Shape& size, TensorOptions opt = {});      // U[0, 1)
Tensor randn(const Shape& size, TensorOptions opt = {});     // N(0, 1)
Tensor randint(int64_t low, int64_t high, const Shape& size, TensorOptions opt = kInt64);
Tensor randperm(int64_t n, TensorOptions opt = kInt64);

// Wraps existing memory without copying; the caller keeps it alive (or passes
// a deleter). Strides default to contiguous.
Tensor from_blob(void* data, const Shape& size, TensorOptions opt = {});
Tensor from_blob(void* data, const Shape& size, const Strides& strides, TensorOptions opt = {});
Tensor from_blob(void* data, const Shape& size, std::function<void(void*)> deleter,
                 TensorOptions opt = {});

// lucid::tensor({1.0, 2.0}) and lucid::tensor({{1, 2}, {3, 4}}); float32 unless told.
Tensor tensor(std::initializer_list<double> values, TensorOptions opt = {});
Tensor tensor(std::initializer_list<std::initializer_list<double>> values, TensorOptions opt = {});
Tensor tensor(const std::vector<double>& values, TensorOptions opt = {});
Tensor tensor(const std::vector<float>& values, TensorOptions opt = {});
Tensor tensor(const std::vector<int64_t>& values, TensorOptions opt = kInt64);
Tensor scalar_tensor(double value, TensorOptions opt = {});

Tensor empty_like(const Tensor& t);
Tensor empty_like(const Tensor& t, TensorOptions opt);
Tensor zeros_like(const Tensor& t);
Tensor zeros_like(const Tensor& t, TensorOptions opt);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor rand_like(const Tensor& t);
Tensor randn_like(const Tensor& t);

}  // namespace lucid
