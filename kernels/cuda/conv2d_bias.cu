// The bias gradient of conv2d (declared in conv2d.h): grad_bias[c] = the sum of
// grad_output[n, c, h, w] over n, h, w. Our own kernel rather than
// cudnnConvolutionBackwardBias, so the summation order is ours and fixed.
//
// geometry: one block of kThreads (256) threads per channel c. Thread t adds the
//   elements t, t + 256, t + 512, ... of the channel's N*H_out*W_out values
//   (n-major, so neighbouring threads read neighbouring addresses), then the
//   block adds its 256 partial sums as a fixed binary tree in shared memory.
//   Same input, same bits: no atomics, and the order depends only on the shape.
// cost per grad_output element: reads sizeof(T), 1 add; writes sizeof(T) per channel.
#include <lucid/kernels/cuda/conv2d.h>
#include <lucid/kernels/cuda/launch.cuh>

namespace lucid::cuda {

namespace {

template <class T>
__global__ void bias_grad_kernel(const T* grad_output, T* grad_bias, int64_t N, int64_t C, int64_t P) {
  static_assert((kThreads & (kThreads - 1)) == 0, "the tree below halves a power of two");
  __shared__ T partial[kThreads];
  const int64_t c = blockIdx.x;
  T sum = 0;
  for (int64_t j = threadIdx.x; j < N * P; j += kThreads) {
    const int64_t n = j / P, q = j % P;
    sum += grad_output[(n * C + c) * P + q];
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (unsigned half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) grad_bias[c] = partial[0];
}

}  // namespace

void conv2d_backward_bias(const cpu::Conv2dParams& p, const Tensor& grad_output, const Tensor& grad_bias) {
  if (p.C_out == 0) return;
  LUCID_CHECK(p.C_out <= INT32_MAX, "conv2d_backward_bias: C_out = ", p.C_out, " exceeds the grid limit");
  const int64_t P = p.H_out() * p.W_out();
  visit_float_dtype("conv2d_backward_bias", grad_output.dtype(), [&](auto tag) {
    using T = decltype(tag);
    bias_grad_kernel<T><<<static_cast<unsigned>(p.C_out), kThreads, 0, stream()>>>(
        grad_output.data_ptr<T>(), grad_bias.data_ptr<T>(), p.N, p.C_out, P);
    LUCID_CUDA_CHECK_LAUNCH("bias_grad_kernel");
  });
}

}  // namespace lucid::cuda
