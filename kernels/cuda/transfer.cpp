// Copies between devices: CPU <-> GPU and GPU <-> GPU (cudaMemcpyAsync).
//
// The bytes cross as one packed block, so the source is first made contiguous
// and converted to the destination's dtype on its own device; a destination
// that is not contiguous receives a packed copy which is then scattered into
// it by the same-device copy kernel.
//
// Waiting: a copy to the CPU waits for the GPU unless non_blocking and the
// destination is pinned; a copy from the CPU waits too unless non_blocking and
// the source is pinned (pageable memory is staged by the driver anyway).
#include <lucid/kernels/cuda/check.h>
#include <lucid/kernels/factory.h>
#include <lucid/kernels/tensor.h>

namespace lucid::cuda::detail {

void copy_between_devices(const Tensor& dst, const Tensor& src_in, bool non_blocking) {
  LUCID_CHECK(src_in.sizes() == dst.sizes(), "copy_: copying between devices needs equal shapes, got ",
              src_in.sizes(), " to ", dst.sizes(), " (broadcast on one device first)");
  if (dst.numel() == 0) return;
  const Tensor src = src_in.to(dst.dtype()).contiguous();  // on the source's device
  const bool scatter = !dst.is_contiguous();
  Tensor packed = scatter ? empty(dst.sizes(), dst.options()) : dst;
  const size_t nbytes = static_cast<size_t>(dst.numel()) * dst.element_size();

  const Device gpu = dst.is_cuda() ? dst.device() : src.device();
  DeviceGuard guard(gpu.index);
  cudaStream_t s = static_cast<cudaStream_t>(current_stream_handle(gpu.index));
  bool may_skip_wait = false;
  if (dst.is_cuda() && src.is_cuda()) {
    // The copy runs on the destination's stream, which does not wait for the
    // source GPU's kernels: let the source's stream finish first.
    {
      DeviceGuard on_src(src.device().index);
      LUCID_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(current_stream_handle(src.device().index))));
    }
    LUCID_CUDA_CHECK(cudaMemcpyPeerAsync(packed.raw_data(), dst.device().index, src.raw_data(),
                                         src.device().index, nbytes, s));
    // ... and the source's GPU must not reuse or overwrite the source before
    // the copy has read it: GPU-to-GPU copies wait (simple and rare; PyTorch
    // orders the two streams with events instead).
    may_skip_wait = false;
  } else if (dst.is_cuda()) {
    LUCID_CUDA_CHECK(cudaMemcpyAsync(packed.raw_data(), src.raw_data(), nbytes, cudaMemcpyHostToDevice, s));
    may_skip_wait = non_blocking && src.storage()->is_pinned();
  } else {
    LUCID_CUDA_CHECK(cudaMemcpyAsync(packed.raw_data(), src.raw_data(), nbytes, cudaMemcpyDeviceToHost, s));
    may_skip_wait = non_blocking && dst.storage()->is_pinned();
  }
  if (may_skip_wait) {
    // The pinned block may die before the copy has used it: the pinned cache
    // does not hand it out again until then. If the event cannot be recorded,
    // wait for the copy instead, so the block is never unguarded.
    void* pinned_block = dst.is_cuda() ? src.storage()->data() : dst.storage()->data();
    try {
      record_pinned_use(pinned_block, s);
    } catch (...) {
      (void)cudaStreamSynchronize(s);
      throw;
    }
  }
  // Temporaries die when this function returns, and a packed CPU copy is read
  // just below: in those cases the copy must have finished.
  const bool temp_source = src.storage() != src_in.storage();
  if (!may_skip_wait || temp_source || (scatter && dst.is_cpu())) LUCID_CUDA_CHECK(cudaStreamSynchronize(s));
  if (scatter) {
    Tensor d = dst;
    d.copy_(packed);  // same device now
  }
}

}  // namespace lucid::cuda::detail
