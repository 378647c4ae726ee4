// RAII cuDNN descriptors and the typed blend factors, for the host code that
// calls cuDNN (conv2d.cpp, batch_norm.cpp).
//
//   TensorDescriptor, FilterDescriptor, ConvolutionDescriptor
//                         created on construction, destroyed with their owner
//   set_nchw(d, type, n, c, h, w)   a 4-d NCHW tensor descriptor
//   cudnn_data_type(t)    CUDNN_DATA_FLOAT for float32, CUDNN_DATA_DOUBLE for float64
//   one(t), zero(t)       alpha / beta = 1 or 0, typed as cuDNN reads them for t
#pragma once
#include <cudnn.h>

#include <cstdint>

#include <lucid/kernels/cuda/check.h>
#include <lucid/kernels/dtype.h>

namespace lucid::cuda {

template <class D, cudnnStatus_t (*Create)(D*), cudnnStatus_t (*Destroy)(D)>
class Descriptor {
 public:
  Descriptor() { LUCID_CUDNN_CHECK(Create(&d_)); }
  ~Descriptor() { (void)Destroy(d_); }  // never throws
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  D get() const { return d_; }

 private:
  D d_ = nullptr;
};

using TensorDescriptor =
    Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor = Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                                         cudnnDestroyConvolutionDescriptor>;

// The caller checks that each size fits in an int (cuDNN's legacy descriptors
// take int sizes).
inline void set_nchw(const TensorDescriptor& d, cudnnDataType_t type, int64_t n, int64_t c, int64_t h, int64_t w) {
  LUCID_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.get(), CUDNN_TENSOR_NCHW, type, static_cast<int>(n),
                                               static_cast<int>(c), static_cast<int>(h), static_cast<int>(w)));
}

// cuDNN kernels here take float32 and float64 only.
inline cudnnDataType_t cudnn_data_type(ScalarType t) { return t == kFloat32 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE; }

// alpha = 1 and beta = 0 or 1, typed as cuDNN wants them: double for float64 data, else float.
inline const void* one(ScalarType t) {
  static constexpr float f = 1;
  static constexpr double d = 1;
  return t == kFloat64 ? static_cast<const void*>(&d) : &f;
}
inline const void* zero(ScalarType t) {
  static constexpr float f = 0;
  static constexpr double d = 0;
  return t == kFloat64 ? static_cast<const void*>(&d) : &f;
}

}  // namespace lucid::cuda
