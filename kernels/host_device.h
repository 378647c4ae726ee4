// LUCID_HOST_DEVICE: the one annotation that makes a function callable from
// CUDA kernels as well as from host code (kernels/elementwise_math.h,
// kernels/convert.h); empty in the host compiler.
#pragma once

#ifdef __CUDACC__
#define LUCID_HOST_DEVICE __host__ __device__
#else
#define LUCID_HOST_DEVICE
#endif
