// The main of every GPU test (tests/gpu/test_*.cpp, CTest label "gpu"). Without
// a usable GPU it prints why and exits with 77, which CTest reports as skipped
// (SKIP_RETURN_CODE in tests/CMakeLists.txt), so CI builds these tests and
// skips them cleanly.
//
// With a GPU, every device block the allocator hands out during the run is
// filled with 0xFF bytes first (NaN in every float dtype, -1 in the integer
// ones), so an output element a kernel forgot to write fails the comparison
// with the CPU result instead of passing by luck on zeroed memory.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include <lucid/kernels/cuda/runtime.h>

int main(int argc, char** argv) {
  if (!lucid::cuda::is_available()) {
    std::printf("SKIP: no usable CUDA device (%s); this GPU test needs one\n",
                lucid::cuda::unavailable_reason().c_str());
    return 77;
  }
  lucid::cuda::detail::set_poison_allocations(true);
  doctest::Context context(argc, argv);
  return context.run();
}
