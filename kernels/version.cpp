#include <lucid/kernels/version.h>

#ifndef LUCID_VERSION_STRING
#error "LUCID_VERSION_STRING is set by CMakeLists.txt from project(lucid VERSION ...)"
#endif

namespace lucid {
const char* version() { return LUCID_VERSION_STRING; }
}  // namespace lucid
