// The main of the hostile-input suites (tests/hostile/test_*.cpp, CTest label
// "hostile"). Each case feeds lucid what a careless or hostile user would and
// asserts the exact outcome: a lucid::Error whose message names the op or file
// and the offending values, or PyTorch's result where PyTorch accepts it.
//
// Memory is capped, so a case that makes lucid allocate without bound fails
// (std::bad_alloc, or ASan's report) instead of taking the machine down: the
// process's address space is limited to kAddressSpaceCap. Under ASan, whose
// shadow memory needs terabytes of address space, the cap is ASan's own
// (malloc_limit_mb, set by tests/CMakeLists.txt) instead.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>

#include <sys/resource.h>

namespace {
// 1 GiB for the data a case may allocate, plus room for the program, its
// libraries and thread stacks.
constexpr uint64_t kAddressSpaceCap = uint64_t(3) << 30;
}  // namespace

int main(int argc, char** argv) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  rlimit cap{kAddressSpaceCap, kAddressSpaceCap};
  if (::setrlimit(RLIMIT_AS, &cap) != 0) std::perror("hostile: setrlimit(RLIMIT_AS)");
#endif
  doctest::Context context(argc, argv);
  return context.run();
}
