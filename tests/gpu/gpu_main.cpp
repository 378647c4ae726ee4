// The main of every GPU test (tests/gpu/test_*.cpp, CTest label "gpu"). Without
// a usable GPU it prints why and exits with 77, which CTest reports as skipped
// (SKIP_RETURN_CODE in tests/CMakeLists.txt), so CI builds these tests and
// skips them cleanly.
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
  doctest::Context context(argc, argv);
  return context.run();
}
